use orm_postgres::prelude::*;
use orm_tests::User;

fn main() {
    let jane = User::new("jane");
    // `age` is an integer column: the proposed name is text.
    let _ = insert(&jane)
        .on_conflict(User::name)
        .do_update(|u| u.set(User::age, excluded(User::name)));
}
