//! The column constants in `select::<M>().filter(...)`, compiled to SQL.

use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
#[model(table = "users")]
pub struct User {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(len = 80, unique)]
    pub name: String,
    #[model(column = "e_mail")]
    pub email: Option<String>,
    #[model(skip)]
    pub session: Option<String>,
    // Raw identifiers name the column without `r#`; the constant keeps the field's visibility.
    pub(crate) r#type: i16,
}

fn main() {
    let q = select::<User>()
        .filter(User::name.eq("Jane").and(User::email.is_not_null()))
        .filter(User::id.is_in([1, 2, 3]))
        .compile()
        .unwrap();
    assert_eq!(
        q.sql,
        r#"SELECT "users"."id", "users"."name", "users"."e_mail", "users"."type" FROM "users" WHERE ("users"."name" = $1) AND ("users"."e_mail" IS NOT NULL) AND ("users"."id" = ANY($2))"#
    );
    assert_eq!(q.params.len(), 2);

    // `Option<String>` columns compare with `&str`.
    let q = select::<User>()
        .filter(User::email.eq("a@b.c"))
        .compile()
        .unwrap();
    assert!(q.sql.ends_with(r#"WHERE "users"."e_mail" = $1"#));

    let q = select::<User>()
        .filter(User::r#type.ge(2))
        .compile()
        .unwrap();
    assert!(q.sql.ends_with(r#"WHERE "users"."type" >= $1"#));
}
