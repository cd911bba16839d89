use orm_postgres::prelude::*;
use orm_tests::User;

fn main() {
    // `email` is nullable: rows whose key is NULL would drop out of every page.
    let _ = select::<User>().keyset((User::email, User::id));
}
