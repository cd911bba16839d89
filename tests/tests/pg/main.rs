//! Integration tests against a real PostgreSQL: `DATABASE_URL` when set, otherwise a throwaway
//! local cluster started for this test binary. Every test gets a fresh database.
//!
//! One binary for everything that talks to the server (linking orm-postgres once), one module
//! per topic; `compile` holds the SQL snapshots that need no server, `datasets` the runs over
//! real datasets.

mod advisory;
mod begin;
mod cache;
mod cache_ttl;
mod call_site;
mod connection;
mod copy;
mod crud;
mod errors;
mod explain;
mod functions;
mod inheritance;
mod joined_flat;
mod lossless;
mod notify;
mod queries;
mod readme;
mod relations;
mod schema;
mod session;
mod shape;
mod statement_modes;
mod stream_memory;
mod test_kit;
mod tracing;
mod transactions;
mod types;
mod writes;

use orm_postgres::prelude::*;
use orm_testing::{TestDatabase, test_database};
use orm_tests::{Order, User};

/// A fresh database with the users and orders tables.
pub async fn users_db() -> TestDatabase {
    let t = test_database().await.expect("test database");
    t.db.create_all(&[User::TABLE, Order::TABLE])
        .await
        .expect("create_all");
    t
}

/// Inserts users with the given names, returning them with their keys.
pub async fn add_users(db: &impl Executor, names: &[&str]) -> Vec<User> {
    let users: Vec<User> = names.iter().map(|n| User::new(n)).collect();
    db.fetch_all(insert_many(&users))
        .await
        .expect("insert users")
}
