use orm_postgres::prelude::*;

#[derive(FromRow)]
pub struct Pair(String, i64);

fn main() {
    // The stub impl keeps uses of the struct free of follow-on errors.
    let _ = select::<orm_tests::User>()
        .columns((orm_tests::User::name, orm_tests::User::id))
        .into_rows::<Pair>();
}
