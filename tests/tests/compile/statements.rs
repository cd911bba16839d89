//! Snapshots of the compiled SQL and parameters of every construct (no database needed).
//! Review changes with `cargo insta review`.

use insta::assert_snapshot;
use orm_postgres::ddl;
use orm_postgres::expr;
use orm_postgres::prelude::*;
use orm_tests::{Enrollment, Everything, Order, User};

use crate::sql;

/// Reserved words, spaces, capitals and an embedded quote in every identifier position.
#[derive(Model, Debug, Clone)]
#[model(table = "user", schema = "My App")]
struct Weird {
    #[model(primary_key, column = "order")]
    order: i32,
    #[model(column = "Quote\"d Name")]
    quoted: String,
    #[model(column = "select")]
    select: Option<i64>,
}

/// Precision, scale, collation and comments, with a quote to escape and a quoted table.
#[derive(Model, Debug, Clone)]
#[model(table = "Invoice", comment = "Bills; 'sent'")]
struct Declared {
    #[model(primary_key)]
    id: i32,
    #[model(precision = 10, scale = 2, comment = "In euros")]
    total: rust_decimal::Decimal,
    #[model(precision = 6)]
    rates: Vec<rust_decimal::Decimal>,
    #[model(precision = 3)]
    at: chrono::DateTime<chrono::Utc>,
    #[model(collation = "C", len = 8)]
    code: Option<String>,
}

/// Array columns make multi-row inserts fall back to VALUES.
#[derive(Model, Debug, Clone)]
#[model(table = "tagged", index(a, b), unique(b, c))]
struct Tagged {
    #[model(primary_key, generated)]
    id: i32,
    tags: Vec<String>,
    a: i32,
    b: i32,
    c: i32,
}

/// Indexes with every option: a method, key options, a predicate, storage parameters, a unique
/// index, `NULLS NOT DISTINCT` and names. (Clippy's `duplicated_attributes` reads two lists
/// naming one column as a repeated attribute: its known false positive, rust-clippy#13238.)
#[allow(clippy::duplicated_attributes)]
#[derive(Model, Debug, Clone)]
#[model(
    table = "indexed",
    index(tags, using = "gin"),
    unique(b, c, nulls_not_distinct)
)]
#[model(index(a = "desc nulls last", b = "int4_ops", with = "fillfactor = 70"))]
#[model(index(
    c,
    unique,
    nulls_not_distinct,
    where = "a > 0",
    name = "indexed_live_c"
))]
#[model(unique(a, c, name = "indexed_a_c"))]
#[model(index(b, include(c, a), unique))]
#[model(index(
    a,
    expr = "lower(tags[1]) desc",
    expr = "(b + c)",
    name = "indexed_a_expr"
))]
struct Indexed {
    #[model(primary_key, generated)]
    id: i32,
    tags: Vec<String>,
    a: i32,
    b: i32,
    c: Option<i32>,
}

#[test]
fn select_all_columns() {
    assert_snapshot!(sql(select::<User>()));
}

#[test]
fn select_comparisons() {
    assert_snapshot!(sql(select::<User>().filter(
        User::id.eq(1)
            & User::id.ne(2)
            & User::age.lt(3)
            & User::age.le(4)
            & User::age.gt(5)
            & User::age.ge(6)
    )));
}

#[test]
fn select_boolean_combinations() {
    assert_snapshot!(sql(select::<User>().filter(
        (User::name.eq("a") | User::name.eq("b")).and(!User::age.gt(10))
    )));
}

#[test]
fn select_in_and_not_in() {
    assert_snapshot!(sql(select::<User>()
        .filter(User::id.is_in([1, 2, 3]))
        .filter(User::name.not_in(["x", "y"]))));
}

#[test]
fn in_list_sql_does_not_depend_on_length() {
    let one = select::<User>()
        .filter(User::id.is_in([1]))
        .compile()
        .unwrap();
    let many = select::<User>()
        .filter(User::id.is_in(1..=1000))
        .compile()
        .unwrap();
    assert_eq!(one.sql, many.sql);
    assert_eq!(one.params.len(), 1);
    assert_eq!(many.params.len(), 1);
}

#[test]
fn select_between_and_nulls() {
    assert_snapshot!(sql(select::<User>()
        .filter(User::age.between(18, 65))
        .filter(User::age.not_between(30, 40))
        .filter(User::email.is_null())
        .filter(User::email.is_not_null())));
}

/// `IS [NOT] DISTINCT FROM` take what `eq` takes: an `Option` (its `None` a typed `NULL`
/// parameter), a plain value, another column.
#[test]
fn select_distinct_from() {
    let none: Option<&str> = None;
    assert_snapshot!(sql(select::<User>()
        .filter(User::email.is_distinct_from(none))
        .filter(User::email.is_not_distinct_from(Some("a@example.com".to_string())))
        .filter(User::name.is_distinct_from(User::email))
        .filter(User::age.is_not_distinct_from(7))));
}

#[test]
fn select_like_family() {
    assert_snapshot!(sql(select::<User>().filter(func::all([
        User::name.like("J%"),
        User::name.not_like("%x"),
        User::name.ilike("j%"),
        User::name.not_ilike("%X"),
        User::name.contains("50%_off"),
        User::name.starts_with(r"C:\"),
        User::email.ends_with("@example.com"),
    ]))));
}

#[test]
fn select_order_limit_offset_distinct() {
    assert_snapshot!(sql(select::<User>()
        .distinct()
        .order_by(User::name)
        .order_by(User::age.desc().nulls_last())
        .order_by(User::email.asc().nulls_first())
        .limit(10)
        .offset(20)));
}

#[test]
fn select_columns_and_expressions() {
    assert_snapshot!(sql(select::<User>().columns((
        User::id,
        User::name.concat("!"),
        User::age.add(1).mul(2),
        expr::func::<String>("upper", [User::name.into_node()]),
    ))));
}

#[test]
fn count_and_exists() {
    assert_snapshot!(sql(select::<User>().filter(User::age.gt(18)).count()));
}

#[test]
fn count_over_limited_query_uses_a_subquery() {
    assert_snapshot!(sql(select::<User>()
        .columns(User::age)
        .distinct()
        .limit(5)
        .count()));
}

#[test]
fn exists_method_and_subquery_filter() {
    assert_snapshot!(sql(select::<User>().filter(User::name.eq("a")).exists()));
}

#[test]
fn exists_subquery_in_filter() {
    assert_snapshot!(sql(
        select::<User>().filter(exists(select::<Order>().filter(Order::total.gt(100))))
    ));
}

#[test]
fn select_values_without_from() {
    assert_snapshot!(sql(select_values((func::value(1_i32), func::count_star()))));
}

#[test]
fn empty_filters_combine_to_constants() {
    assert_snapshot!(sql(select::<User>()
        .filter(func::all([]))
        .filter(func::any([]))));
}

#[test]
fn select_by_composite_key() {
    assert_snapshot!(sql(select::<Enrollment>().by_pk((7, "math".to_string()))));
}

#[test]
fn quoted_identifiers_everywhere() {
    assert_snapshot!(sql(select::<Weird>()
        .filter(Weird::quoted.eq("x"))
        .order_by(Weird::select.desc())));
}

#[test]
fn insert_one_leaves_out_generated_columns() {
    assert_snapshot!(sql(insert(&User::new("Jane"))));
}

#[test]
fn insert_returning_chosen_columns_or_nothing() {
    assert_snapshot!(sql(insert(&User::new("Jane")).returning(User::id)));
    assert_snapshot!(sql(insert(&User::new("Jane")).no_returning()));
}

#[test]
fn insert_many_uses_unnest() {
    assert_snapshot!(sql(insert_many(&[User::new("a"), User::new("b")])));
}

#[test]
fn insert_many_with_array_columns_is_shape_stable() {
    let rows = vec![
        Tagged {
            id: 0,
            tags: vec!["x".into()],
            a: 1,
            b: 2,
            c: 3,
        },
        Tagged {
            id: 0,
            tags: vec![],
            a: 4,
            b: 5,
            c: 6,
        },
    ];
    assert_snapshot!(sql(insert_many(&rows)));
    // The same text and parameter count for any number of rows and array lengths: an array
    // column travels flattened (lengths, row numbers, elements).
    let two = insert_many(&rows).compile().unwrap();
    let many: Vec<Tagged> = (0..1_000)
        .map(|i| Tagged {
            id: 0,
            tags: vec!["t".into(); i % 5],
            a: 1,
            b: 2,
            c: 3,
        })
        .collect();
    let thousand = insert_many(&many).compile().unwrap();
    assert_eq!(two.sql, thousand.sql);
    assert_eq!((two.params.len(), thousand.params.len()), (6, 6));
}

#[test]
fn insert_into_quoted_table() {
    assert_snapshot!(sql(insert(&Weird {
        order: 1,
        quoted: "q".into(),
        select: None
    })));
}

#[test]
fn update_set_filter_returning() {
    assert_snapshot!(sql(update::<User>()
        .set(User::name, "new")
        .set(User::email, None::<String>)
        .set(User::age, User::age.add(1))
        .filter(User::id.eq(3))
        .returning((User::id, User::age))));
}

#[test]
fn update_model_sets_every_non_key_column() {
    let mut u = User::new("Jane");
    u.id = 5;
    assert_snapshot!(sql(update_model(&u)));
}

#[test]
fn update_without_set_is_an_error() {
    let err = update::<User>()
        .filter(User::id.eq(1))
        .compile()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid statement: an UPDATE needs at least one SET column"
    );
}

#[test]
fn delete_filter_returning() {
    assert_snapshot!(sql(delete::<Order>()
        .filter(Order::total.lt(0))
        .returning(Order::id)));
}

#[test]
fn delete_model_by_composite_key() {
    let e = Enrollment {
        student: 1,
        course: "art".into(),
        grade: None,
    };
    assert_snapshot!(sql(delete_model(&e)));
}

#[test]
fn delete_everything_returning_model() {
    assert_snapshot!(sql(delete::<User>().returning_model()));
}

#[test]
fn hostile_values_are_parameters() {
    let hostile = [
        "'; DROP TABLE users; --",
        "\\",
        "$1 OR 1=1",
        "\"quoted\"",
        "Ａ",
    ];
    for h in hostile {
        let q = select::<User>()
            .filter(User::name.eq(h).or(User::name.contains(h)))
            .compile()
            .unwrap();
        assert!(!q.sql.contains(h), "{h} leaked into {}", q.sql);
        assert_eq!(q.params.len(), 2);
    }
}

fn ddl_of(table: &'static orm_postgres::Table) -> String {
    ddl::create_table(table).unwrap().join(";\n")
}

#[test]
fn ddl_users() {
    assert_snapshot!(ddl_of(User::TABLE));
}

#[test]
fn ddl_orders_with_foreign_key_and_index() {
    assert_snapshot!(ddl_of(Order::TABLE));
}

#[test]
fn ddl_composite_key() {
    assert_snapshot!(ddl_of(Enrollment::TABLE));
}

#[test]
fn ddl_precision_collation_and_comments() {
    assert_snapshot!(ddl_of(Declared::TABLE));
}

#[test]
fn ddl_every_type() {
    assert_snapshot!(ddl_of(Everything::TABLE));
}

#[test]
fn ddl_quoted_schema_and_struct_level_indexes() {
    assert_snapshot!(ddl_of(Weird::TABLE));
    assert_snapshot!(ddl_of(Tagged::TABLE));
}

#[test]
fn ddl_index_options() {
    assert_snapshot!(ddl_of(Indexed::TABLE));
}

#[test]
fn ddl_enum_type() {
    let e = <Everything as Model>::TABLE
        .column("mood")
        .unwrap()
        .ty
        .enum_type()
        .unwrap();
    assert_snapshot!(ddl::create_enum(e).unwrap());
}

#[test]
fn long_index_names_are_shortened_stably() {
    let name = ddl::index_name(
        "a_rather_long_table_name_for_an_index",
        &["first_long_column_name", "second_long_column_name"],
    );
    assert!(name.len() <= 63, "{name}");
    assert_eq!(
        name,
        ddl::index_name(
            "a_rather_long_table_name_for_an_index",
            &["first_long_column_name", "second_long_column_name"],
        )
    );
    assert_snapshot!(name);
}

#[test]
fn tables_sort_by_foreign_key() {
    let sorted = ddl::sort_by_dependency(&[Order::TABLE, User::TABLE]).unwrap();
    let names: Vec<&str> = sorted.iter().map(|t| t.name).collect();
    assert_eq!(names, ["users", "orders"]);
}
