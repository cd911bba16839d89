//! The flush: new, changed and deleted objects become statements, ordered by foreign-key
//! dependency and batched per table and column set.
//!
//! The plan runs in steps; the statements of one step are independent of each other (the
//! driver pipelines them), and each step may depend on the previous ones (a child's `INSERT`
//! needs its parent's generated key):
//!
//! 1. loads needed to cascade deletes (children of deleted parents, unless passive);
//! 2. `INSERT`s, one step per dependency level: objects whose parents are inserted in the same
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
//! statements and state changes of one model's objects), `read_back.rs` (computed columns read
//! back after an update), `links.rs` (those of a relationship),
//! `steps.rs` (the steps and the flush API of [`UnitOfWork`](super::UnitOfWork)).

mod copy;
mod insert;
mod joined;
mod links;
mod ops;
mod plan;
mod read_back;
mod sql;
mod steps;

pub use steps::{FlushPlan, FlushStep};

pub(crate) use copy::sequence_key_column;
pub(crate) use insert::InsertStep;
pub(crate) use sql::select_by_keys;

/// The operation an error of the flush's own locks names. The flush checks every object it
/// locks before it starts (`UnitOfWork::check_guards`), so such an error means a guard was
/// taken since, by another thread.
const FLUSH: &str = "flush";
