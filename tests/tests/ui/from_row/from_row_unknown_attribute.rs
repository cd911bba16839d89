use orm_postgres::prelude::*;

#[derive(FromRow)]
#[from_row(table = "totals")]
pub struct Total {
    #[from_row(column = "user_name")]
    pub name: String,
    #[from_row(flaten)]
    pub amount: i64,
    #[from_row(skip, flatten)]
    pub extra: Option<i32>,
}

fn main() {}
