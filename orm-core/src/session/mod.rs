//! The unit of work behind the session: identity map, change tracking, cascades and the flush
//! plan. It does no IO: `orm-postgres`'s `Session` runs what it plans.
//!
//! - [`Tracked<T>`]: the handle to an object in a session (shared, with interior mutability).
//!   [`Tracked::write`] marks the object dirty; nothing else is compared at flush, so the cost
//!   of a flush grows with the changed objects, not with the tracked ones.
//! - [`UnitOfWork`]: the identity map (one object per table and primary key), the new, dirty and
//!   deleted objects, relationship links between objects, and the undo log that lets a
//!   rollback (of the transaction or of a savepoint) restore the objects' state.
//! - [`Persist`]: what the session needs of a model beyond its metadata (column access by
//!   position, snapshots, validators, version column, relationships), implemented by the derive.
//! - [`Hooks`] / [`HookContext`]: lifecycle hooks of a model.
//!
//! # Files, lowest first
//!
//! Each file imports only files listed before it (`tests/tests/layers.rs` checks that there is
//! no cycle). Typed code (per model, per relationship) and untyped code (the unit of work's
//! lists and maps) call each other through type-erased interfaces, spelled `Erased*`; their
//! typed implementations are `TypedModel<T>` and [`TypedRelation<R>`].
//!
//! 1. `columns`, `fxhash`, `status`, `positions` (a relationship's key columns as positions),
//!    `job` (one statement of a flush, [`FlushJob`]), `undo` (the undo log's frames, generic
//!    over its records), `guard` (the bounded locking of an object: never waits for ever on a
//!    guard the caller holds): small parts that know nothing of the unit of work.
//! 2. `unit`: the [`UnitOfWork`] type (its fields) and the erased interfaces it stores objects
//!    and relationships through (`ErasedEntry`, `ErasedModel`, `ErasedRelation`, `ErasedMap`),
//!    with [`HookContext`]. The typed code behind those interfaces calls back into the unit of
//!    work (a hook adds an object, a relationship registers its children), so these types name
//!    each other and live in one file; everything they do is in the files above.
//! 3. `hooks` ([`Hooks`]), `persist` ([`Persist`], [`RelationOps`], [`TypedRelation`]),
//!    `variant` ([`PersistVariant`]: a variant of an inheritance enum, persisted through it).
//! 4. `state`: one object's state under its lock (`Entry<T>`, `ObjectState<T>`) and the
//!    session's bookkeeping of it beside the lock (status, dirty flag, expiry, key, foreign
//!    keys), which the session reads without waiting on a guard.
//! 5. `identity`: the identity map.
//! 6. `tracked`: [`Tracked<T>`], and the undo records that save an object before a change.
//! 7. `savepoint`: transactions and savepoints ([`SavepointToken`]), and operations that
//!    change nothing when they fail.
//! 8. `cascade`: delete, expunge and expire, along relationships; foreign keys between objects.
//! 9. `collections`: relationship collections (`related`, `set_related`, `append`, `remove`).
//! 10. `objects`: adding objects and registering loaded rows.
//! 11. `relations`: a relationship's children taken from and linked to their parent.
//! 12. `flush`: the flush — its order, SQL, per-model and per-relationship statements, steps.
//!
//! The methods of [`UnitOfWork`] are defined by concept in the files of levels 5 to 12; a
//! file calls methods of its own level or below, and reaches higher ones only through the
//! erased interfaces.

mod cascade;
mod collections;
mod column_rows;
mod columns;
mod expire_links;
mod flush;
use crate::fxhash;
mod guard;
mod hooks;
mod identity;
mod job;
mod merge;
mod objects;
mod persist;
mod positions;
mod relations;
mod savepoint;
mod shard_keys;
mod state;
mod status;
mod tracked;
mod undo;
mod unit;
mod variant;

pub use column_rows::ColumnRows;
#[doc(hidden)]
pub use column_rows::column_rows;
pub use columns::ColumnSet;
#[doc(hidden)]
pub use flush::FlushPlan;
pub use flush::FlushStep;
pub use hooks::Hooks;
pub use job::{FlushJob, Outcome};
pub use merge::Merge;
pub use persist::{MergeBatch, Merged, Persist, RelationOps, TypedRelation};
pub use savepoint::SavepointToken;
pub use status::Status;
pub use tracked::{Mut, Ref, Tracked};
#[doc(hidden)]
pub use unit::{ErasedEntry, ErasedModel, ErasedRelation};
pub use unit::{HookContext, UnitOfWork};
pub use variant::PersistVariant;
#[doc(hidden)]
pub use variant::{
    changed_variant_columns, decode_variant_column, enum_column_array, enum_insert_arrays,
    set_variant_null, set_variant_value, unknown_variant, validate_variant, variant_column_rows,
    variant_columns, variant_insert_params, variant_insert_values, variant_param,
    variant_update_params, variant_value,
};
