//! Dates, times, intervals.

use super::*;

#[tokio::test]
async fn date_trunc_extract_and_interval_arithmetic() {
    let t = sales().await;
    let rows = same(
        &t,
        select::<Sale>().order_by(Sale::id).columns((
            func::date_trunc(func::DatePart::Month, Sale::day),
            func::date_trunc(func::DatePart::Hour, Sale::at),
            func::date_trunc(func::DatePart::Quarter, Sale::at),
            func::extract(func::DatePart::Year, Sale::day),
            func::extract(func::ExtractField::Epoch, Sale::at),
            func::extract(func::ExtractField::DayOfWeek, Sale::day).cast::<i32>(),
            func::date_part(func::DatePart::Month, Sale::at),
            Sale::day.add_interval(Interval::months(1)),
            Sale::at.sub_interval(Interval::hours(36)),
            func::age(Sale::at, at(2023, 1, 1, 0, 0, 0)),
            func::age(
                Sale::day,
                Sale::day
                    .sub_interval(Interval::days(40))
                    .cast::<NaiveDate>(),
            ),
        )),
        "SELECT CAST(date_trunc('month', CAST(day AS TIMESTAMP)) AS DATE), date_trunc('hour', at), \
         date_trunc('quarter', at), EXTRACT(YEAR FROM day), EXTRACT(EPOCH FROM at), \
         CAST(EXTRACT(DOW FROM day) AS INTEGER), date_part('month', at), day + interval '1 month', \
         at - interval '36 hours', age(at, '2023-01-01 00:00:00'), \
         age(day, CAST(day - interval '40 days' AS DATE)) FROM sales ORDER BY id",
    )
    .await;
    let first = &rows[0];
    assert_eq!(first.0, date(2024, 1, 1));
    assert_eq!(first.1, at(2024, 1, 15, 9, 0, 0));
    assert_eq!(first.2, at(2024, 1, 1, 0, 0, 0));
    assert_eq!(first.3, Decimal::from(2024));
    assert_eq!(first.4, Decimal::from(1_705_311_000));
    assert_eq!(first.5, 1, "2024-01-15 is a Monday");
    assert_eq!(first.6, 1.0);
    assert_eq!(first.7, at(2024, 2, 15, 0, 0, 0));
    assert_eq!(first.8, at(2024, 1, 13, 21, 30, 0));
    assert_eq!(
        first.9,
        Interval::months(12) + Interval::days(14) + Interval::minutes(9 * 60 + 30)
    );
    assert_eq!(first.10, Interval::months(1) + Interval::days(9));
    let third = &rows[2];
    assert_eq!(third.4, dec("1706948130"), "exact epoch, no float rounding");
}

#[tokio::test]
async fn timestamptz_date_functions_and_now() {
    let t = test_database().await.unwrap();
    let moment: DateTime<Utc> = "2024-05-17T13:45:12.250Z".parse().unwrap();
    let row = same(
        &t,
        select_values((
            func::date_trunc(func::DatePart::Day, func::value(moment)),
            func::extract(func::ExtractField::Epoch, func::value(moment)),
            func::value(moment).add_interval(Interval::new(1, 2, 3_000_000)),
            func::date_trunc(func::DatePart::Hour, func::value(Interval::minutes(150))),
            func::extract(func::DatePart::Minute, func::value(Interval::minutes(150))),
            func::value(Interval::days(1)).add_interval(Interval::hours(1)),
        )),
        "SELECT date_trunc('day', CAST('2024-05-17T13:45:12.250Z' AS TIMESTAMPTZ)), \
         EXTRACT(EPOCH FROM CAST('2024-05-17T13:45:12.250Z' AS TIMESTAMPTZ)), \
         CAST('2024-05-17T13:45:12.250Z' AS TIMESTAMPTZ) + interval '1 month 2 days 3 seconds', \
         date_trunc('hour', interval '150 minutes'), EXTRACT(MINUTE FROM interval '150 minutes'), \
         interval '1 day' + interval '1 hour'",
    )
    .await;
    assert_eq!(row[0].1, dec("1715953512.250000"));
    assert_eq!(row[0].3, Interval::hours(2));
    assert_eq!(row[0].4, Decimal::from(30));
    // now() and CURRENT_DATE against the server's own clock.
    let (now_ours, today_ours, check) = t
        .fetch_one(select_values((
            func::now(),
            func::current_date(),
            func::now()
                .sub_interval(Interval::seconds(1))
                .lt(func::now()),
        )))
        .await
        .unwrap();
    let (now_raw, today_raw) = t
        .fetch_one(query::<(DateTime<Utc>, NaiveDate)>(
            "SELECT now(), CURRENT_DATE",
        ))
        .await
        .unwrap();
    assert!(check);
    assert!((now_raw - now_ours).num_seconds().abs() < 60);
    assert!((today_raw - today_ours).num_days().abs() <= 1);
}

#[tokio::test]
async fn interval_round_trips() {
    let t = test_database().await.unwrap();
    t.create_all(&[Doc::TABLE]).await.unwrap();
    let samples = [
        Interval::default(),
        Interval::new(14, 3, 4 * 3_600_000_000 + 5_000_000 + 6),
        Interval::new(-13, 1, 0),
        Interval::days(-1) + Interval::hours(2),
        Interval::micros(-1_500_000),
        Interval::new(i32::MAX, i32::MIN, i64::MAX),
    ];
    for i in samples {
        let (back, text) = t
            .fetch_one(select_values((
                func::value(i),
                func::value(i).cast::<String>(),
            )))
            .await
            .unwrap();
        assert_eq!(back, i);
        assert_eq!(text, i.to_string(), "Display matches the server's output");
    }
    // Parsed by the server, decoded by us.
    let parsed = t
        .fetch_one(query::<Interval>(
            "SELECT interval '1 year 2 months 3 days 04:05:06.789'",
        ))
        .await
        .unwrap();
    assert_eq!(parsed, Interval::new(14, 3, 14_706_789_000));
    // As a column, through insert and select; aggregates of intervals.
    let docs: Vec<Doc> = (1..=3)
        .map(|id| Doc {
            id,
            body: String::new(),
            search: TsVector::new(),
            span: Interval::new(id, id * 2, i64::from(id) * 1_000_000),
            maybe_span: (id != 2).then(|| Interval::hours(i64::from(id))),
        })
        .collect();
    t.execute(insert_many(&docs)).await.unwrap();
    let back = t
        .fetch_all(select::<Doc>().order_by(Doc::id))
        .await
        .unwrap();
    assert_eq!(back, docs);
    let row = same(
        &t,
        select::<Doc>().columns((
            func::sum(Doc::span),
            func::avg(Doc::span),
            func::sum(Doc::maybe_span),
            func::max(Doc::maybe_span),
        )),
        "SELECT sum(span), avg(span), sum(maybe_span), max(maybe_span) FROM docs",
    )
    .await;
    assert_eq!(row[0].0, Some(Interval::new(6, 12, 6_000_000)));
    assert_eq!(row[0].2, Some(Interval::hours(4)));
    let hits = same(
        &t,
        select::<Doc>()
            .filter(Doc::span.gt(Interval::months(1)))
            .filter(Doc::maybe_span.is_not_null())
            .order_by(Doc::id)
            .columns(Doc::id),
        "SELECT id FROM docs WHERE span > interval '1 month' AND maybe_span IS NOT NULL ORDER BY id",
    )
    .await;
    assert_eq!(hits, vec![1, 3], "1 mon 2 days 00:00:01 > 1 mon");
}
