//! `#[derive(FromRow)]`: plain, skipped and flattened fields, in a crate that denies missing
//! docs and warnings.
#![deny(missing_docs, warnings)]

use orm_postgres::prelude::*;
use orm_tests::{Order, User};

/// A report row.
#[derive(Debug, FromRow)]
pub struct TopCustomer {
    /// Name.
    pub name: String,
    /// Orders.
    pub orders: i64,
    /// Not in the row.
    #[from_row(skip)]
    pub rank: u32,
}

/// An order with its buyer (a model) and a nested report row.
#[derive(Debug, FromRow)]
pub struct OrderWithBuyer {
    /// Key.
    pub r#id: i64,
    /// The buyer, all of its columns.
    #[from_row(flatten)]
    pub buyer: User,
    /// Nested.
    #[from_row(flatten)]
    pub top: TopCustomer,
    /// Nullable.
    pub note: Option<String>,
}

fn main() {
    assert_eq!(
        <OrderWithBuyer as orm_postgres::FromRow>::WIDTH,
        1 + 4 + 2 + 1
    );
    let q = select::<Order>()
        .join::<User>(User::id.eq(Order::user_id))
        .columns((
            Order::id,
            User::star(),
            User::name,
            func::count_star(),
            Order::note,
        ))
        .group_by((Order::id, User::id))
        .into_rows::<OrderWithBuyer>();
    q.compile().unwrap();
    let _ = orm_postgres::raw::query::<TopCustomer>("SELECT 'a', 1::int8")
        .compile()
        .unwrap();
}
