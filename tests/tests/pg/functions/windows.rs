//! Window functions.

use super::*;

#[tokio::test]
async fn ranking_window_functions() {
    let t = sales().await;
    let by_amount = || func::window().order_by(Sale::amount.desc());
    let rows = same(
        &t,
        select::<Sale>().order_by(Sale::id).columns((
            Sale::id,
            func::row_number().over(
                func::window()
                    .partition_by(Sale::region)
                    .order_by(Sale::amount.desc())
                    .order_by(Sale::id),
            ),
            func::rank().over(by_amount()),
            func::dense_rank().over(by_amount()),
            func::percent_rank().over(by_amount()),
            func::cume_dist().over(by_amount()),
            func::ntile(3).over(func::window().order_by(Sale::id)),
        )),
        "SELECT id, row_number() OVER (PARTITION BY region ORDER BY amount DESC, id), \
         rank() OVER (ORDER BY amount DESC), dense_rank() OVER (ORDER BY amount DESC), \
         percent_rank() OVER (ORDER BY amount DESC), cume_dist() OVER (ORDER BY amount DESC), \
         ntile(3) OVER (ORDER BY id) FROM sales ORDER BY id",
    )
    .await;
    let ranks: Vec<(i32, i64, i64)> = rows.iter().map(|r| (r.0, r.2, r.3)).collect();
    // amounts: 300 (4), 300 (6), 200 (2), 150 (3), 100 (1), 75 (7), 50 (5)
    assert_eq!(
        ranks,
        vec![
            (1, 5, 4),
            (2, 3, 2),
            (3, 4, 3),
            (4, 1, 1),
            (5, 7, 6),
            (6, 1, 1),
            (7, 6, 5)
        ]
    );
    assert_eq!(rows[3].1, 1, "sale 4 is first in west");
    assert_eq!(rows[4].1, 3);
    assert_eq!(
        rows.iter().map(|r| r.6).collect::<Vec<_>>(),
        vec![1, 1, 1, 2, 2, 3, 3]
    );
}

#[tokio::test]
async fn offset_and_value_window_functions() {
    let t = sales().await;
    let by_id = || func::window().order_by(Sale::id);
    let rows = same(
        &t,
        select::<Sale>().order_by(Sale::id).columns((
            Sale::id,
            func::lag(Sale::amount, 1, 0).over(by_id()),
            func::lead(Sale::amount, 2, -1).over(by_id()),
            func::lag(Sale::note, 1, None::<String>).over(by_id()),
            func::first_value(Sale::rep)
                .over(func::window().partition_by(Sale::region).order_by(Sale::id)),
            func::last_value(Sale::amount).over(
                func::window()
                    .partition_by(Sale::region)
                    .order_by(Sale::id)
                    .rows_between(func::unbounded_preceding(), func::unbounded_following()),
            ),
            func::nth_value(Sale::amount, 2).over(by_id()),
        )),
        "SELECT id, lag(amount, 1, 0) OVER (ORDER BY id), lead(amount, 2, -1) OVER (ORDER BY id), \
         lag(note, 1, NULL) OVER (ORDER BY id), \
         first_value(rep) OVER (PARTITION BY region ORDER BY id), \
         last_value(amount) OVER (PARTITION BY region ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING), \
         nth_value(amount, 2) OVER (ORDER BY id) FROM sales ORDER BY id",
    )
    .await;
    assert_eq!(rows[0].1, Some(0), "the default before the first row");
    assert_eq!(rows[1].1, Some(100));
    assert_eq!(rows[5].2, Some(-1), "the default after the last row");
    assert_eq!(rows[1].3, Some("a".into()));
    assert_eq!(rows[2].3, None, "sale 2's note is NULL");
    assert_eq!(rows[4].4, Some("cid".into()));
    assert_eq!(rows[4].5, Some(300), "west's last sale is 6");
    assert_eq!(rows[0].6, None, "no second row yet in the default frame");
    assert_eq!(rows[1].6, Some(200));
}

#[tokio::test]
async fn running_sums_frames_and_named_windows() {
    let t = sales().await;
    let rows = same(
        &t,
        select::<Sale>()
            .window("w", func::window().partition_by(Sale::region).order_by(Sale::id))
            .order_by(Sale::id)
            .columns((
                Sale::id,
                func::sum(Sale::amount).over(
                    func::window()
                        .partition_by(Sale::region)
                        .order_by(Sale::id)
                        .rows_between(func::unbounded_preceding(), func::current_row()),
                ),
                func::sum(Sale::amount).over(
                    func::window()
                        .order_by(Sale::id)
                        .rows_between(func::preceding(1_i64), func::following(1_i64)),
                ),
                func::count_all().over(
                    func::window()
                        .order_by(Sale::day)
                        .range_between(func::preceding(Interval::days(10)), func::current_row()),
                ),
                func::count_all().over(
                    func::window()
                        .order_by(Sale::amount)
                        .range_between(func::preceding(100), func::following(0)),
                ),
                func::max(Sale::amount).over(
                    func::window()
                        .order_by(Sale::amount)
                        .groups_between(func::preceding(1_i64), func::current_row()),
                ),
                func::row_number().over_named("w"),
                func::sum(Sale::amount).over_named("w"),
                func::avg(Sale::price)
                    .over(Over::named("w").rows_between(func::preceding(1), func::current_row())),
                func::sum(Sale::amount).filter(Sale::paid.expr()).over(func::window()),
            )),
        "SELECT id, \
         sum(amount) OVER (PARTITION BY region ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), \
         sum(amount) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING), \
         count(*) OVER (ORDER BY day RANGE BETWEEN '10 days' PRECEDING AND CURRENT ROW), \
         count(*) OVER (ORDER BY amount RANGE BETWEEN 100 PRECEDING AND 0 FOLLOWING), \
         max(amount) OVER (ORDER BY amount GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW), \
         row_number() OVER w, sum(amount) OVER w, \
         avg(price) OVER (w ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), \
         sum(amount) FILTER (WHERE paid) OVER () \
         FROM sales WINDOW w AS (PARTITION BY region ORDER BY id) ORDER BY id",
    )
    .await;
    let running: Vec<Option<i64>> = rows.iter().map(|r| r.1).collect();
    assert_eq!(
        running,
        [100, 300, 450, 300, 350, 650, 75].map(Some).to_vec(),
        "running totals per region"
    );
    assert_eq!(rows[0].2, Some(300), "rows 1 and 2");
    assert_eq!(
        rows[1].3, 2,
        "sales within 10 days before 2024-01-20: 1 and 2"
    );
    assert_eq!(rows[6].6, 1, "north's first sale in window w");
    assert_eq!(rows[0].9, Some(675), "the paid sales' total on every row");
}
