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

mod columns;
mod flush;
mod fxhash;
mod hooks;
mod persist;
mod relations;
mod tracked;
mod unit;

pub use columns::ColumnSet;
pub use flush::{FlushJob, FlushStep, Outcome};
#[doc(hidden)]
pub use flush::{FlushPlan, TableOps};
pub use hooks::{HookContext, Hooks};
pub use persist::Persist;
#[doc(hidden)]
pub use relations::AnyRelation;
pub use relations::{RelOps, RelationOps};
#[doc(hidden)]
pub use tracked::ErasedEntry;
pub use tracked::{Mut, Ref, Status, Tracked};
pub use unit::{SavepointToken, UnitOfWork};
