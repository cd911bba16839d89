//! `index(...)` and `unique(...)` on the struct: the options, the mistakes reported for them,
//! and the metadata they expand to.

use super::*;

#[test]
fn index_options_are_accepted() {
    let errors = model_errors(parse_quote! {
        #[model(index(tags, using = "GIN"), index(doc = "jsonb_path_ops", using = "gin"))]
        #[model(index(email, unique, where = "deleted_at IS NULL", name = "users_live_email"))]
        #[model(index(created_at = "desc nulls last", email = "text_pattern_ops", with = "fillfactor = 70"))]
        #[model(index(team, email, unique, nulls_not_distinct, name = "users_team_email"))]
        #[model(unique(team, r#name, nulls_not_distinct, name = "users_team_name_key"))]
        #[model(index(r#name = "desc", r#unique))]
        struct User {
            #[model(primary_key)]
            id: i64,
            tags: Vec<String>,
            doc: String,
            email: String,
            team: Option<i64>,
            name: String,
            unique: bool,
            created_at: String,
            deleted_at: Option<String>,
        }
    });
    assert_eq!(errors, Vec::<String>::new());
}

#[test]
fn index_option_mistakes_are_reported_each() {
    let errors = model_errors(parse_quote! {
        #[model(index(a, usign = "gin"), index(a, using = "ginn", name = "i1"))]
        #[model(index(a, using = "postgres", name = "i2"), index(a, where = "", name = "i3"))]
        #[model(index(a, where = "x", where = "y", name = "i4"))]
        #[model(index(a, nulls_not_distinct, name = "i5"), index(b = "descending", name = "i6"))]
        #[model(index(b = "desc", using = "gin", name = "i7"), index(b, unique, using = "hash", name = "i8"))]
        #[model(index(a, with = "fillfactor", name = "i9"), index(a, b, name = "desc"), index(a, using))]
        #[model(unique(a, where = "a > 0"), unique(a = "desc"), unique(a, unique))]
        #[model(index(b, where = "b > 0"), index(b, where = "b < 0"), index(b, name = "i1"))]
        struct T {
            #[model(primary_key)]
            id: i64,
            a: i32,
            b: i32,
        }
    });
    assert_eq!(
        errors,
        [
            "unknown index method `ginn`; did you mean `gin`?",
            "unknown index method `postgres`; expected `btree`, `hash`, `gist`, `spgist`, `gin`, `brin`, `bloom`, `rum`, `hnsw` or `ivfflat`",
            "`where` needs an SQL expression",
            "duplicate `where` in `index(...)`",
            "`nulls_not_distinct` needs a unique index: add `unique`, or write a unique constraint, `unique(a, b, nulls_not_distinct)`",
            "a `gin` index keeps no order: `asc`, `desc` and `nulls first | last` need a btree index",
            "only a btree index can be unique, not a `hash` one",
            "`fillfactor` has no value; expected storage parameters like `with = \"fillfactor = 70\"` or `with = \"fillfactor = 70, deduplicate_items = off\"`",
            "`name` names the index, and `desc` looks like a field's ordering or operator class: for a field called `name`, write `r#name = \"desc\"`",
            "a unique constraint takes only `name` and `nulls_not_distinct`; write a unique index instead: `index(a, b, unique, where = \"...\")`",
            "a unique constraint's columns take no operator class or ordering: write a unique index, `index(a, b = \"desc\", unique)`",
            "a unique constraint takes only `name` and `nulls_not_distinct`; `unique(...)` is unique already",
            "unknown field `usign` in `index(...)`; did you mean the option `using`?",
            "`descending` is neither an ordering nor an operator class (whose name ends in `_ops`); expected an operator class and/or an ordering, in this order, as `CREATE INDEX` takes them: `\"desc\"`, `\"nulls first\"`, `\"desc nulls last\"`, `\"text_pattern_ops\"`, `\"jsonb_path_ops\"`",
            "`using` takes a value: `using = \"...\"` in `index(...)`",
            "two indexes of table `t` are named `ix_t_b`; give one of them a name: `index(..., name = \"...\")`",
            "two indexes of table `t` are named `i1`; give it another `name`",
        ]
    );
}

#[test]
fn index_options_expand_to_the_metadata_builders() {
    let out = expansion(derive::model(&parse_quote! {
        #[model(crate = "orm_core")]
        #[model(index(email, unique, where = "deleted_at IS NULL", name = "users_live_email"))]
        #[model(index(created_at = "Desc Nulls Last", with = "FillFactor = 70", using = "btree"))]
        #[model(unique(team, email, nulls_not_distinct))]
        struct User {
            #[model(primary_key)]
            id: i64,
            email: String,
            team: Option<i64>,
            created_at: String,
            deleted_at: Option<String>,
        }
    }));
    for snippet in [
        r#"orm_core :: __private :: Index :: new (& ["email"] , false) . unique_index () . name ("users_live_email") . predicate ("deleted_at IS NULL")"#,
        r#"orm_core :: __private :: Index :: new (& ["created_at"] , false) . using ("btree") . key_options (& ["DESC NULLS LAST"]) . with (& ["fillfactor=70"])"#,
        r#"orm_core :: __private :: Index :: new (& ["team" , "email"] , true) . nulls_not_distinct ()"#,
    ] {
        assert!(out.contains(snippet), "missing `{snippet}` in:\n{out}");
    }
    assert!(!out.contains("compile_error"), "{out}");
}

#[test]
fn include_and_expression_keys_expand_in_key_order() {
    let out = expansion(derive::model(&parse_quote! {
        #[model(crate = "orm_core")]
        #[model(index(email, include(team, created_at)))]
        #[model(index(team, expr = "lower(email) desc", unique, name = "users_team_email_lower"))]
        #[model(index(expr = "(team + 1)", include(email), name = "users_team_next"))]
        struct User {
            #[model(primary_key)]
            id: i64,
            email: String,
            team: Option<i64>,
            #[model(column = "created")]
            created_at: String,
        }
    }));
    for snippet in [
        r#"orm_core :: __private :: Index :: new (& ["email"] , false) . include (& ["team" , "created"])"#,
        r#"orm_core :: __private :: Index :: new (& ["team" , ""] , false) . unique_index () . name ("users_team_email_lower") . expressions (& ["" , "lower(email)"]) . key_options (& ["" , "DESC"])"#,
        r#"orm_core :: __private :: Index :: new (& [""] , false) . name ("users_team_next") . expressions (& ["(team + 1)"]) . include (& ["email"])"#,
    ] {
        assert!(out.contains(snippet), "missing `{snippet}` in:\n{out}");
    }
    assert!(!out.contains("compile_error"), "{out}");
}

#[test]
fn include_and_expression_key_mistakes_are_reported_each() {
    let errors = model_errors(parse_quote! {
        #[model(index(a, include(c), name = "i1"), index(a, include(id, id, a), name = "i2"))]
        #[model(index(a, include(b = "desc"), name = "i3"), index(a, include(), name = "i4"))]
        #[model(index(a, include(b), include(id), name = "i5"), unique(a, include(b)))]
        #[model(index(a, using = "gin", include(b), name = "i6"))]
        #[model(index(expr = "lower(a)"), index(expr = "a + b", name = "i7"))]
        #[model(index(expr = "lower(a) sideways", name = "i8"), unique(expr = "lower(a)"))]
        #[model(index(expr = "(a + b) desc", using = "hash", name = "i9"))]
        struct T {
            #[model(primary_key)]
            id: i64,
            a: i32,
            b: i32,
        }
    });
    assert_eq!(
        errors,
        [
            "`include(...)` lists fields by name, without options: `index(a, include(b, c))`",
            "`include(...)` needs at least one field",
            "duplicate `include` in `index(...)`",
            "a unique constraint takes no `include`: write a unique index instead, `index(a, b, unique, include(c))`",
            "a `gin` index cannot `include` columns; only `btree`, `gist` and `spgist` indexes can",
            "an index on an expression needs a `name`, as there is no column to name it after: `index(expr = \"...\", name = \"...\")`",
            "`a + b` is not a function call or parenthesized; an expression key is written as `CREATE INDEX` takes it: a function call, `expr = \"lower(email)\"`, or an expression in parentheses, `expr = \"(a + b)\"`, then optionally its operator class and ordering, `expr = \"lower(email) desc\"`",
            "`sideways` is neither an ordering nor an operator class (whose name ends in `_ops`); expected an operator class and/or an ordering, in this order, as `CREATE INDEX` takes them: `\"desc\"`, `\"nulls first\"`, `\"desc nulls last\"`, `\"text_pattern_ops\"`, `\"jsonb_path_ops\"`",
            "a unique constraint's keys are columns: for an expression, write a unique index, `index(expr = \"lower(email)\", unique, name = \"...\")`",
            "a `hash` index keeps no order: `asc`, `desc` and `nulls first | last` need a btree index",
            "unknown field `c` in `include(...)`; the columns are `id`, `a` and `b`",
            "field `id` is listed twice in `include(...)`",
            "field `a` is a key of the index already: `include(...)` adds columns that are not keys",
        ]
    );
}
