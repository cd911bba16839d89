// `rollback` hands the test a transaction; a `Database` argument cannot take it.
use orm_postgres::Database;

#[orm_postgres::test(rollback)]
async fn wants_a_database(_db: Database) {}

fn main() {}
