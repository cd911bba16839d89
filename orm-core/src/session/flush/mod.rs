//! The flush: new, changed and deleted objects become statements, ordered by foreign-key
//! dependency and batched per table and column set.
//!
//! The plan runs in steps; the statements of one step are independent of each other (the
//! driver pipelines them), and each step may depend on the previous ones (a child's `INSERT`
//! needs its parent's generated key):
//!
//! 1. loads needed to cascade deletes (children of deleted parents, unless passive);
//! 2. `INSERT`s, one step per dependency level (a new object whose key a deleted object holds
//!    takes over its row instead, and is updated: `row_switch.rs`): objects whose parents are inserted in the same
//!    flush come one level later; a cycle (two rows pointing at each other) is broken by
//!    inserting one side with a `NULL` key and setting it afterwards (a post-update). One
//!    statement per table and level: `INSERT ... SELECT * FROM unnest($1, $2, ...) RETURNING`
//!    the generated columns; or, for objects that need nothing back (no generated column)
//!    when the batch is large enough or `COPY` was asked for, a binary `COPY ... FROM STDIN`
//!    (`copy.rs`, [`CopyPolicy`](super::job::CopyPolicy)), after a `SELECT nextval(...)` of
//!    their keys when only an identity or `serial` key comes from the server;
//! 3. `UPDATE`s, one statement per table and set of changed columns:
//!    `UPDATE t SET a = v.a FROM unnest(...) AS v WHERE t.id = v.k`, checked against the
//!    number of objects (and the version column) so a lost update is a `StaleData` error;
//! 4. many-to-many association rows deleted and inserted;
//! 5. `DELETE`s, children before parents.
//!
//! A joined-table model's objects write one statement per table they touch (`joined.rs`).
//!
//! Files: `plan.rs` (the order), `sql.rs` (the SQL text and its cache), `ops.rs` (the
//! statements and state changes of one model's objects), `insert.rs` (their inserts),
//! `copy.rs` (by `COPY`), `read_back.rs` (computed columns read back), `fk_sync.rs` (parents'
//! keys copied in before a statement), `flight.rs` (an object changed while its statement was
//! at the server), `typed.rs` (an erased group as its model's entries), `links.rs` (the
//! statements of a relationship), `steps.rs` (the steps and the flush API of
//! [`UnitOfWork`](super::UnitOfWork)).

mod copy;
mod fk_sync;
mod flight;
mod insert;
mod joined;
mod links;
mod ops;
mod plan;
mod read_back;
mod row_switch;
mod sql;
mod steps;
mod typed;

pub use steps::{FlushPlan, FlushStep};

pub(crate) use copy::sequence_key_column;
pub(crate) use sql::select_by_keys;

/// The operation an error of the flush's own locks names. The flush checks every object it
/// locks before it starts (`UnitOfWork::check_guards_before_flush`, then the changed objects
/// as `flush_begin_as` takes them, under the caller's operation), so such an error means a
/// guard was taken since, by another thread.
const FLUSH: &str = "flush";

/// The typed entries of a group of new objects, shared by its statements (a `COPY`'s rows, the
/// sinks of what the server returns) and by what runs after them (`insert.rs`).
type Shared<T> = std::sync::Arc<Vec<std::sync::Arc<crate::session::state::Entry<T>>>>;
