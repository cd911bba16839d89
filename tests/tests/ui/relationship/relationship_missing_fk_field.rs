use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
}

#[derive(Model, Debug, Clone)]
pub struct Order {
    #[model(primary_key)]
    pub id: i64,
    pub user_id: i64,
    // `belongs_to` names a field of this struct.
    #[relationship(belongs_to = User, foreign_key = "usr_id")]
    pub user: Related<User>,
}

fn main() {}
