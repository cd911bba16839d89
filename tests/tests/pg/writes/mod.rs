//! Write paths against a real PostgreSQL: upserts, `UPDATE ... FROM`, `DELETE ... USING`, CTEs
//! feeding DML, `RETURNING` expressions, row locks, raw SQL, `FromRow` result structs, an
//! injection corpus through every value path, and hostile identifiers.
//!
//! `DATABASE_URL` when set, otherwise a throwaway local cluster; every test gets a fresh database.

mod array_columns;
mod execute;
mod hostile_identifiers;
mod injection;
mod locks;
mod raw_sql;
mod update_delete_from;
mod upsert;

use orm_postgres::ErrorKind;
use orm_postgres::expr::escape_like;
use orm_postgres::prelude::*;
use orm_postgres::raw::{query, text};
use orm_testing::test_database;
use orm_tests::{Order, User};

use crate::users_db;

orm_postgres::alias!(Other = User);

fn user(name: &str, age: i32) -> User {
    User {
        id: 0,
        name: name.into(),
        email: None,
        age,
    }
}

async fn add_users(db: &impl Executor, users: &[(&str, i32)]) -> Vec<User> {
    let rows: Vec<User> = users.iter().map(|(n, a)| user(n, *a)).collect();
    db.fetch_all(insert_many(&rows))
        .await
        .expect("insert users")
}

async fn add_order(db: &impl Executor, user_id: i64, total: i32) -> Order {
    db.fetch_one(insert(&Order {
        id: 0,
        user_id,
        total,
        note: None,
    }))
    .await
    .expect("insert order")
}

async fn count_users(db: &impl Executor) -> i64 {
    db.fetch_one(select::<User>().count()).await.unwrap()
}

async fn ages(db: &impl Executor) -> Vec<(String, i32)> {
    db.fetch_all(
        select::<User>()
            .columns((User::name, User::age))
            .order_by(User::name),
    )
    .await
    .unwrap()
}

fn owned(rows: &[(&str, i32)]) -> Vec<(String, i32)> {
    rows.iter().map(|(n, a)| ((*n).to_owned(), *a)).collect()
}
