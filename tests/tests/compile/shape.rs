//! Snapshots of the shape of models and loads: stored generated columns, deferred columns,
//! column properties, hybrids and keyset pages.

use insta::assert_snapshot;
use orm_postgres::prelude::*;
use orm_postgres::stmt::Desc;
use orm_tests::User;

use crate::sql;

#[derive(Model, Debug, Clone, Default)]
#[model(table = "article")]
struct Article {
    #[model(primary_key, generated)]
    id: i64,
    title: String,
    #[model(computed = "lower(title)")]
    slug: String,
    #[model(deferred)]
    body: Deferred<String>,
    #[model(column_property = Article::title_length)]
    title_length: i32,
}

impl Article {
    fn title_length() -> Expr<i32> {
        func::length(Article::title)
    }
}

orm_postgres::hybrid! {
    impl Article as ArticleHybrids {
        fn shouting(title, slug) -> bool {
            title.ne(slug)
        }
    }
}

#[test]
fn generated_deferred_and_property_columns() {
    let a = Article::default();
    assert_snapshot!(sql(insert(&a)));
    assert_snapshot!(sql(update_model(&a)));
    assert_snapshot!(sql(select::<Article>().filter(Article::shouting())));
    assert_snapshot!(sql(select::<Article>().undefer(Article::body)));
    assert_snapshot!(sql(select::<Article>().load_only(Article::title)));
}

#[test]
fn keyset_pages() {
    // First page: no condition, one row more than the page.
    assert_snapshot!(sql(select::<User>().keyset(User::id).limit(20)));
    // One direction: a row comparison.
    assert_snapshot!(sql(select::<User>()
        .keyset((User::name, User::id))
        .after(Some(("m".to_string(), 10_i64)))
        .limit(20)));
    assert_snapshot!(sql(select::<User>()
        .keyset((Desc(User::age), Desc(User::id)))
        .after(Some((30, 10_i64)))));
    // Mixed directions: spelled out.
    assert_snapshot!(sql(select::<User>()
        .filter(User::email.is_not_null())
        .keyset((Desc(User::age), User::name, User::id))
        .after(Some((30, "m".to_string(), 10_i64)))
        .limit(5)));
}
