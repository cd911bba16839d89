// `#[orm_postgres::test]` needs an async function.
use orm_postgres::Database;

#[orm_postgres::test]
fn not_async(_db: Database) {}

fn main() {}
