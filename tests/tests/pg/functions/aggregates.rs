//! Aggregates.

use super::*;

#[tokio::test]
async fn aggregates_with_group_by_having_and_filter() {
    let t = sales().await;
    let rows = same(
        &t,
        select::<Sale>()
            .group_by(Sale::region)
            .having(func::count_all().gt(1_i64))
            .order_by(Sale::region)
            .columns((
                Sale::region,
                func::count_all(),
                func::count(Sale::note),
                func::count_distinct(Sale::rep),
                func::count_all().filter(Sale::paid.expr()),
                func::sum(Sale::amount),
                func::sum(Sale::units),
                func::sum(Sale::big),
                func::sum(Sale::price),
                func::sum(Sale::ratio),
                func::sum(Sale::cost),
                func::avg(Sale::amount),
            )),
        "SELECT region, count(*), count(note), count(DISTINCT rep), count(*) FILTER (WHERE paid), \
         sum(amount), sum(units), sum(big), sum(price), sum(ratio), sum(cost), avg(amount) \
         FROM sales GROUP BY region HAVING count(*) > 1 ORDER BY region",
    )
    .await;
    assert_eq!(
        rows.len(),
        2,
        "north has one sale and is filtered out by HAVING"
    );
    let east = &rows[0];
    assert_eq!(east.0, "east");
    assert_eq!((east.1, east.2, east.3, east.4), (3, 2, 2, 2));
    assert_eq!((east.5, east.6), (Some(450), Some(6)));
    assert_eq!(east.7, Some(Decimal::from(30_000_000_005_i64)));
    assert_eq!((east.8, east.9), (Some(7.0), Some(1.5)));
    assert_eq!(east.10, Some(dec("35.75")));
    assert_eq!(east.11.map(|d| d.round_dp(2)), Some(dec("150.00")));

    let rows = same(
        &t,
        select::<Sale>()
            .group_by(Sale::region)
            .order_by(Sale::region)
            .columns((
                func::avg(Sale::price),
                func::avg(Sale::ratio),
                func::avg(Sale::cost),
                func::avg(Sale::big),
                func::min(Sale::day),
                func::max(Sale::at),
                func::min(Sale::rep),
                func::max(Sale::note),
                func::bool_and(Sale::paid),
                func::bool_or(Sale::paid),
                func::array_agg(Sale::id).order_by(Sale::id.desc()),
                func::sum(Sale::amount).filter(Sale::paid.expr() & Sale::amount.gt(60)),
            )),
        "SELECT avg(price), avg(ratio), avg(cost), avg(big), min(day), max(at), min(rep), \
         max(note), bool_and(paid), bool_or(paid), array_agg(id ORDER BY id DESC), \
         sum(amount) FILTER (WHERE paid AND amount > 60) FROM sales GROUP BY region ORDER BY region",
    )
    .await;
    let north = &rows[1];
    assert_eq!(north.4, Some(date(2024, 4, 1)));
    assert_eq!(north.7, None, "max of only NULLs");
    assert_eq!((north.8, north.9), (Some(true), Some(true)));
    let west = &rows[2];
    assert_eq!(west.10, Some(vec![6, 5, 4]));
    assert_eq!(west.11, Some(300), "only sale 4 is paid and over 60");
    assert_eq!((west.8, west.9), (Some(false), Some(true)));
}

#[tokio::test]
async fn string_agg_with_order_and_distinct() {
    let t = sales().await;
    let rows = same(
        &t,
        select::<Sale>()
            .group_by(Sale::region)
            .order_by(Sale::region)
            .columns((
                Sale::region,
                func::string_agg(Sale::rep, ", ").distinct().order_by(Sale::rep),
                func::string_agg(Sale::note, "|").order_by(Sale::id.desc()),
                func::string_agg(func::upper(Sale::rep), "")
                    .order_by(Sale::amount.desc())
                    .order_by(Sale::id),
            )),
        "SELECT region, string_agg(DISTINCT rep, ', ' ORDER BY rep), \
         string_agg(note, '|' ORDER BY id DESC), string_agg(upper(rep), '' ORDER BY amount DESC, id) \
         FROM sales GROUP BY region ORDER BY region",
    )
    .await;
    assert_eq!(
        rows,
        vec![
            (
                "east".into(),
                Some("ann, bob".into()),
                Some("c|a".into()),
                Some("BOBANNANN".into())
            ),
            ("north".into(), Some("eve".into()), None, Some("EVE".into())),
            (
                "west".into(),
                Some("cid, dan".into()),
                Some("f|d".into()),
                Some("CIDDANCID".into())
            ),
        ]
    );
}

#[tokio::test]
async fn aggregates_over_no_rows() {
    let t = sales().await;
    let row = t
        .fetch_one(select::<Sale>().filter(Sale::id.lt(0)).columns((
            func::count_all(),
            func::count(Sale::id),
            func::sum(Sale::amount),
            func::avg(Sale::price),
            func::max(Sale::day),
            func::string_agg(Sale::rep, ","),
            func::array_agg(Sale::id),
            func::bool_and(Sale::paid),
            func::coalesce(func::sum(Sale::amount), 0_i64),
        )))
        .await
        .unwrap();
    assert_eq!(row, (0, 0, None, None, None, None, None, None, 0));
}

#[tokio::test]
async fn aggregate_in_a_subquery_and_order_by() {
    let t = sales().await;
    // The region with the biggest total, through an ORDER BY on the aggregate.
    same(
        &t,
        select::<Sale>()
            .group_by(Sale::region)
            .order_by(func::sum(Sale::amount).desc())
            .limit(1)
            .columns((Sale::region, func::label(func::sum(Sale::amount), "total"))),
        "SELECT region, sum(amount) AS total FROM sales GROUP BY region ORDER BY sum(amount) DESC LIMIT 1",
    )
    .await;
}
