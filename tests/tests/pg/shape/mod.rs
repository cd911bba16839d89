//! The shape of a model's columns and of what a query loads: stored generated columns,
//! deferred columns, column properties, hybrids, keyset pagination and outer-join typing.

mod deferred;
mod generated;
mod hybrid;
mod keyset;
mod property;
mod readme;
