//! Snapshots of the SQL the compiler writes, without a database: one test binary, one module
//! per topic. Review changes with `cargo insta review`.
//!
//! The snapshots live in `snapshots/`, named `compile__<module>__<test>.snap`.

mod criteria;
mod functions;
mod inheritance;
mod joined;
mod queries;
mod session;
mod shape;
mod sharding;
mod statements;
mod templates;
mod writes;

use orm_postgres::Statement;

/// The compiled SQL and parameters of a statement that must compile.
pub fn sql(s: impl Statement) -> String {
    s.compile().unwrap().to_string()
}
