//! `back_populates` is checked through the target's marker type, resolved like any type: two
//! models of the same name, one module seeing the other's (nested, glob import), and models
//! inside a function body compile.

use orm_postgres::prelude::*;

#[derive(Model)]
#[model(table = "users")]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    #[relationship(has_many = Order, foreign_key = "user_id", back_populates = "user")]
    pub orders: Related<Vec<Order>>,
}

#[derive(Model)]
#[model(table = "orders")]
pub struct Order {
    #[model(primary_key)]
    pub id: i64,
    pub user_id: i64,
    #[relationship(belongs_to = User, foreign_key = "user_id", back_populates = "orders")]
    pub user: Related<User>,
}

mod inner {
    use super::*;

    #[derive(Model)]
    #[model(table = "users2")]
    pub struct User {
        #[model(primary_key)]
        pub id: i64,
        #[relationship(has_many = Order, foreign_key = "user_id", back_populates = "user")]
        pub orders: Related<Vec<Order>>,
    }

    #[derive(Model)]
    #[model(table = "orders2")]
    pub struct Order {
        #[model(primary_key)]
        pub id: i64,
        pub user_id: i64,
        #[relationship(belongs_to = User, foreign_key = "user_id", back_populates = "orders")]
        pub user: Related<User>,
    }
}

fn in_a_function() {
    #[derive(Model)]
    #[model(table = "users3")]
    pub struct Emp {
        #[model(primary_key)]
        pub id: i64,
        pub boss_id: Option<i64>,
        #[relationship(belongs_to = Self, foreign_key = "boss_id", back_populates = "reports")]
        pub boss: Related<Option<Emp>>,
        #[relationship(has_many = Self, foreign_key = "boss_id", back_populates = "boss")]
        pub reports: Related<Vec<Emp>>,
    }
}

fn main() {
    in_a_function();
}
