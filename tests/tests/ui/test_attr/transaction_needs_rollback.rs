// A transaction argument only comes with `rollback`.
use orm_postgres::Transaction;

#[orm_postgres::test]
async fn wants_a_transaction(_tx: &mut Transaction<'_>) {}

fn main() {}
