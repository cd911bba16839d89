//! Compiled SQL kept per statement shape (`orm-core/src/compile/shape.rs`): a statement built
//! only by `select::<M>()`, `by_pk`, `limit` and `offset` compiles once per thread; later ones
//! of the same shape take their text from the first. Each check compares a statement served
//! from its shape's template with the same tree built by a step that keeps no shape
//! (`filter`), which the writer compiles every time.

use orm_postgres::prelude::*;
use orm_postgres::stmt::Criteria;
use orm_tests::User;
use orm_tests::criteria::Project;

/// Compiles the statement twice more than once: the later compiles are served from the
/// template of its shape.
fn twice(s: impl Fn(i64) -> String) -> (String, String) {
    (s(1), s(2))
}

#[test]
fn a_select_by_key_from_its_template_is_the_writers_text_with_the_new_values() {
    let (first, again) = twice(|k| select::<User>().by_pk(k).compile().unwrap().to_string());
    let written = select::<User>()
        .filter(User::id.eq(2))
        .compile()
        .unwrap()
        .to_string();
    insta::assert_snapshot!(again, @r#"
    SELECT "users"."id", "users"."name", "users"."email", "users"."age" FROM "users" WHERE "users"."id" = $1
    -- params: [2]
    "#);
    assert_eq!(again, written);
    assert_eq!(first.replace("[1]", "[2]"), again);
}

#[test]
fn limit_and_offset_keep_the_shape_and_their_values() {
    for n in 1..4 {
        let q = select::<User>().by_pk(n).limit(n + 10).offset(n + 20);
        let written = select::<User>()
            .filter(User::id.eq(n))
            .limit(n + 10)
            .offset(n + 20);
        assert_eq!(
            q.compile().unwrap().to_string(),
            written.compile().unwrap().to_string()
        );
        assert!(q.compile().unwrap().to_string().ends_with(&format!(
            "-- params: [{n}, {}, {}]",
            n + 10,
            n + 20
        )));
    }
}

#[test]
fn a_session_s_criteria_reach_a_statement_served_from_a_template() {
    let mut criteria = Criteria::new();
    criteria
        .add::<Project>(Project::deleted_at.is_null())
        .unwrap();
    for k in 1..4 {
        // Warm the template without criteria, then compile with them.
        select::<Project>().by_pk(k).compile().unwrap();
        let q = select::<Project>()
            .by_pk(k)
            .compile_with(&criteria)
            .unwrap();
        let written = select::<Project>()
            .filter(Project::id.eq(k))
            .compile_with(&criteria)
            .unwrap();
        assert_eq!(q.to_string(), written.to_string());
        assert!(
            q.sql.contains(r#""cr_project"."deleted_at" IS NULL"#),
            "{}",
            q.sql
        );
    }
}
