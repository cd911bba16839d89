//! Snapshots of the SQL of every function and operator of the expression language: aggregates,
//! window functions, CASE and conditional functions, casts and arithmetic, text, date/time,
//! JSONB, arrays and full-text search. Review changes with `cargo insta review`.

use insta::assert_snapshot;
use orm_postgres::expr::Over;
use orm_postgres::prelude::*;
use orm_postgres::types::{Interval, TsVector};
use orm_tests::{Everything, Order, User};

use crate::sql;

/// Columns of the types only the function tests need.
#[derive(Model, Debug, Clone)]
#[model(table = "docs")]
struct Doc {
    #[model(primary_key, generated)]
    id: i64,
    body: String,
    search: TsVector,
    span: Interval,
    maybe_span: Option<Interval>,
}

// --- aggregates ---------------------------------------------------------------------------

#[test]
fn aggregates_of_each_kind() {
    assert_snapshot!(
        "aggregates_of_each_kind",
        sql(select::<Everything>().columns((
            func::count(Everything::maybe_int),
            func::count_distinct(Everything::i4),
            func::count_all(),
            func::sum(Everything::i2),
            func::sum(Everything::i4),
            func::sum(Everything::i8),
            func::sum(Everything::f4),
            func::sum(Everything::f8),
            func::sum(Everything::amount),
        )))
    );
    assert_snapshot!(
        "aggregates_avg_min_max_bool",
        sql(select::<Everything>().columns((
            func::avg(Everything::i4),
            func::avg(Everything::f4),
            func::avg(Everything::amount),
            func::min(Everything::text),
            func::max(Everything::maybe_int),
            func::bool_and(Everything::b),
            func::bool_or(Everything::b),
            func::array_agg(Everything::i4),
            func::string_agg(Everything::text, ", "),
        )))
    );
}

#[test]
fn aggregate_builders_distinct_filter_order() {
    assert_snapshot!(
        "aggregate_builders_distinct_filter_order",
        sql(select::<Order>().columns((
            func::string_agg(Order::note, "; ")
                .distinct()
                .order_by(Order::note.desc()),
            func::array_agg(Order::total)
                .order_by(Order::total)
                .order_by(Order::id.desc()),
            func::count_all()
                .filter(Order::total.gt(100))
                .filter(Order::note.is_not_null()),
            func::sum(Order::total)
                .distinct()
                .filter(Order::total.lt(50)),
        )))
    );
}

#[test]
fn aggregates_with_group_by_having_and_order() {
    assert_snapshot!(
        "aggregates_with_group_by_having_and_order",
        sql(select::<Order>()
            .join::<User>(Order::user_id.eq(User::id))
            .group_by(User::name)
            .having(func::count_all().gt(1_i64))
            .having(
                func::sum(Order::total)
                    .filter(Order::note.is_null())
                    .ge(10_i64)
            )
            .order_by(func::sum(Order::total).desc())
            .columns((User::name, func::label(func::sum(Order::total), "spent"))))
    );
}

#[test]
fn sum_of_interval_and_aggregates_as_values() {
    assert_snapshot!(
        "sum_of_interval_and_aggregates_as_values",
        sql(select::<Doc>().columns((
            func::sum(Doc::span),
            func::avg(Doc::maybe_span),
            func::coalesce(func::max(Doc::id), 0_i64),
            func::count(Doc::id).mul(2_i64),
        )))
    );
}

// --- window functions ---------------------------------------------------------------------

#[test]
fn ranking_functions() {
    let w = || {
        func::window()
            .partition_by(Order::user_id)
            .order_by(Order::total.desc())
    };
    assert_snapshot!(
        "ranking_functions",
        sql(select::<Order>().columns((
            func::row_number().over(w()),
            func::rank().over(w()),
            func::dense_rank().over(w()),
            func::percent_rank().over(w()),
            func::cume_dist().over(w()),
            func::ntile(4).over(func::window().order_by(Order::id)),
        )))
    );
}

#[test]
fn offset_and_value_functions() {
    let w = || func::window().order_by(Order::id);
    assert_snapshot!(
        "offset_and_value_functions",
        sql(select::<Order>().columns((
            func::lag(Order::total, 1, 0).over(w()),
            func::lead(Order::note, 2, None::<String>).over(w()),
            func::first_value(Order::total).over(w()),
            func::last_value(Order::total)
                .over(w().rows_between(func::unbounded_preceding(), func::unbounded_following())),
            func::nth_value(Order::total, 2).over(w()),
        )))
    );
}

#[test]
fn running_sum_with_frames() {
    assert_snapshot!(
        "running_sum_with_frames",
        sql(select::<Order>().columns((
            Order::id,
            func::sum(Order::total).over(
                func::window()
                    .partition_by(Order::user_id)
                    .order_by(Order::id)
                    .rows_between(func::unbounded_preceding(), func::current_row())
            ),
            func::avg(Order::total).over(
                func::window()
                    .order_by(Order::id)
                    .rows_between(func::preceding(2_i64), func::following(1_i64))
            ),
            func::count_all().over(
                func::window()
                    .order_by(Order::total)
                    .range_between(func::preceding(10), func::current_row())
            ),
            func::max(Order::total).over(
                func::window()
                    .order_by(Order::total)
                    .groups_between(func::current_row(), func::following(1))
            ),
            func::min(Order::total).over(
                func::window()
                    .order_by(Order::id)
                    .rows(func::preceding(3_i64))
            ),
        )))
    );
}

#[test]
fn range_frame_over_dates_takes_an_interval() {
    assert_snapshot!(
        "range_frame_over_dates_takes_an_interval",
        sql(select::<Everything>().columns(
            func::count_all().over(
                func::window()
                    .order_by(Everything::ts)
                    .range_between(func::preceding(Interval::days(7)), func::current_row())
            )
        ))
    );
}

#[test]
fn named_windows_and_partition_by_tuple() {
    assert_snapshot!(
        "named_windows_and_partition_by_tuple",
        sql(select::<Order>()
            .window(
                "w",
                func::window()
                    .partition_by((Order::user_id, Order::note))
                    .order_by(Order::id)
            )
            .columns((
                func::row_number().over_named("w"),
                func::sum(Order::total).over_named("w"),
                func::sum(Order::total).filter(Order::total.gt(0)).over(
                    Over::named("w").rows_between(func::preceding(1_i64), func::current_row())
                ),
                func::count_all().over(func::window()),
            )))
    );
}

// --- CASE and conditional functions -------------------------------------------------------

#[test]
fn searched_and_simple_case() {
    assert_snapshot!(
        "searched_and_simple_case",
        sql(select::<User>().columns((
            func::case_when(User::age.lt(13), "child")
                .when(User::age.lt(20), "teen")
                .otherwise("adult"),
            func::case_when(User::email.is_null(), User::name).end(),
            func::case(User::age)
                .when(0, 1.5_f64)
                .when(1, 2.5_f64)
                .otherwise(0.0),
            func::case(User::name).when("root", true).end(),
            func::case_when(User::age.gt(1), User::age).otherwise(0),
        )))
    );
}

#[test]
fn coalesce_nullif_greatest_least() {
    assert_snapshot!(
        "coalesce_nullif_greatest_least",
        sql(select::<Everything>().columns((
            func::coalesce(Everything::maybe_text, "none"),
            func::coalesce(func::coalesce(Everything::maybe_int, Everything::i4), 0),
            func::coalesce(func::sum(Everything::i4), 0_i64),
            func::nullif(Everything::i4, 0),
            func::greatest(func::greatest(Everything::i4, Everything::maybe_int), 10),
            func::least(Everything::f8, 1.5),
        )))
    );
}

// --- casts and arithmetic -----------------------------------------------------------------

#[test]
fn casts_and_arithmetic() {
    assert_snapshot!(
        "casts_and_arithmetic",
        sql(select::<Everything>().columns((
            Everything::i4.cast::<i64>(),
            Everything::i8.cast::<String>(),
            Everything::maybe_int.cast::<Option<rust_decimal::Decimal>>(),
            Everything::text.cast::<Vec<String>>(),
            Everything::i4.neg(),
            Everything::i8.rem(7_i64),
            Everything::i4.pow(2.0),
            Everything::maybe_int.pow(0.5),
            Everything::amount.pow(rust_decimal::Decimal::new(2, 0)),
            Everything::i4.add(1).neg().mul(3),
        )))
    );
}

// --- text -----------------------------------------------------------------------------------

#[test]
fn text_functions() {
    assert_snapshot!(
        "text_functions",
        sql(select::<User>()
            .filter(func::lower(User::name).eq("jane"))
            .columns((
                func::upper(User::name),
                func::trim(User::email),
                func::length(User::name),
                func::length(User::email),
                func::substring(User::name, 2, 3),
                func::concat_ws(" / ", (User::name, User::email, "x")),
            )))
    );
}

// --- dates, times, intervals ----------------------------------------------------------------

#[test]
fn date_trunc_extract_and_date_part() {
    assert_snapshot!(
        "date_trunc_extract_and_date_part",
        sql(select::<Everything>().columns((
            func::date_trunc(func::DatePart::Month, Everything::ts),
            func::date_trunc(func::DatePart::Week, Everything::tstz),
            func::date_trunc(func::DatePart::Year, Everything::date),
            func::date_trunc(func::DatePart::Hour, func::value(Interval::minutes(150))),
            func::extract(func::DatePart::Year, Everything::date),
            func::extract(func::ExtractField::Epoch, Everything::tstz),
            func::extract(func::DatePart::Minute, Everything::time),
            func::date_part(func::ExtractField::DayOfWeek, Everything::ts),
            func::extract(func::DatePart::Quarter, Everything::date).cast::<i32>(),
        )))
    );
}

#[test]
fn interval_arithmetic_age_now() {
    assert_snapshot!(
        "interval_arithmetic_age_now",
        sql(select::<Everything>()
            .filter(Everything::tstz.lt(func::now().sub_interval(Interval::days(1))))
            .filter(Everything::date.le(func::current_date()))
            .columns((
                Everything::date.add_interval(Interval::months(1)),
                Everything::ts.sub_interval(Interval::hours(2)),
                Everything::tstz.add_interval(Interval::new(1, 2, 3)),
                Everything::time.add_interval(Interval::minutes(30)),
                func::age(Everything::ts, Everything::ts),
                func::age(
                    Everything::date,
                    chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()
                ),
            )))
    );
}

// --- JSONB ----------------------------------------------------------------------------------

#[test]
fn jsonb_operators() {
    assert_snapshot!(
        "jsonb_operators",
        sql(select::<Everything>()
            .filter(Everything::doc.has_key("a"))
            .filter(Everything::doc.contains_json(serde_json::json!({"kind": "x"})))
            .filter(Everything::doc.contained_in_json(serde_json::json!({"kind": "x", "a": 1})))
            .columns((
                Everything::doc.get("a"),
                Everything::doc.get("a").get_index(0),
                Everything::doc.get_text("kind"),
                Everything::doc.path(["a", "b", "0"]),
                Everything::doc.path_text(["a", "b"]),
                Everything::settings.get_text("theme"),
            )))
    );
}

// --- arrays ---------------------------------------------------------------------------------

#[test]
fn array_operators() {
    assert_snapshot!(
        "array_operators",
        sql(select::<Everything>()
            .filter(Everything::ints.contains_all(vec![1, 2]))
            .filter(Everything::tags.contained_by(vec!["a".to_string(), "b".to_string()]))
            .filter(Everything::tags.overlaps(vec!["x".to_string()]))
            .filter(Everything::tags.has_element("a"))
            .filter(Everything::ints.has_element(Everything::i4))
            .columns((
                func::array_length(Everything::ints, 1),
                func::cardinality(Everything::tags),
            )))
    );
}

// --- full-text search -----------------------------------------------------------------------

#[test]
fn full_text_search() {
    let q = || func::websearch_to_tsquery("english", "fat -cat");
    assert_snapshot!(
        "full_text_search",
        sql(select::<Doc>()
            .filter(Doc::search.matches(func::to_tsquery("english", "fat & rat")))
            .filter(
                func::to_tsvector("simple", Doc::body)
                    .matches(func::plainto_tsquery("simple", "a b"))
            )
            .filter(Doc::search.matches(q()))
            .order_by(func::ts_rank(Doc::search, q()).desc())
            .columns((
                Doc::id,
                func::ts_rank(Doc::search, func::phraseto_tsquery("english", "fat rat"))
            )))
    );
}

#[test]
fn ddl_of_interval_and_tsvector_columns() {
    assert_snapshot!(
        "ddl_of_interval_and_tsvector_columns",
        orm_postgres::ddl::create_table(Doc::TABLE)
            .unwrap()
            .join(";\n")
    );
}

// --- the SQL depends only on shape ----------------------------------------------------------

#[test]
fn sql_does_not_depend_on_values() {
    let a = select::<Order>()
        .columns((
            func::sum(Order::total).filter(Order::total.gt(1)),
            func::lag(Order::total, 1, 0).over(func::window().order_by(Order::id)),
            func::case_when(Order::total.gt(5), "x").otherwise("y"),
        ))
        .compile()
        .unwrap();
    let b = select::<Order>()
        .columns((
            func::sum(Order::total).filter(Order::total.gt(1000)),
            func::lag(Order::total, 3, 42).over(func::window().order_by(Order::id)),
            func::case_when(Order::total.gt(7), "zz").otherwise("w"),
        ))
        .compile()
        .unwrap();
    assert_eq!(a.sql, b.sql);
    assert_eq!(a.params.len(), b.params.len());
}

#[test]
fn aggregates_are_selectable_and_comparable() {
    // `AggregateExpr` converts into `Expr`, sorts, and decodes into its typed output.
    let total: Expr<Option<i64>> = func::sum(Order::total).into();
    let q: Select<(Option<i64>, i64, Option<String>), _> =
        select::<Order>().columns((total, func::count_all(), func::string_agg(Order::note, ",")));
    assert_snapshot!("aggregates_are_selectable_and_comparable", sql(q));
}
