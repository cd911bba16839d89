// An unknown option is named, with the list of known ones.
use orm_postgres::Database;

#[orm_postgres::test(table(User))]
async fn misspelled(_db: Database) {}

fn main() {}
