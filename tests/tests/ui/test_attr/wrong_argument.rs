// The argument is a Database, TestDatabase, Session or (with rollback) &mut Transaction.
#[orm_postgres::test]
async fn takes_a_string(_name: String) {}

fn main() {}
