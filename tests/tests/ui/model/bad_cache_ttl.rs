use orm_postgres::prelude::*;

// A unit the derive does not know.
#[derive(Model)]
#[model(table = "rates", cache_ttl = "60 seconds")]
pub struct Rate {
    #[model(primary_key)]
    pub id: i64,
}

// Zero would cache nothing.
#[derive(Model)]
#[model(table = "fees", cache_ttl = 0)]
pub struct Fee {
    #[model(primary_key)]
    pub id: i64,
}

// Not a number.
#[derive(Model)]
#[model(table = "taxes", cache_ttl = true)]
pub struct Tax {
    #[model(primary_key)]
    pub id: i64,
}

fn main() {}
