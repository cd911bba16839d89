//! CASE, conditional functions, casts, arithmetic, text.

use super::*;

#[tokio::test]
async fn case_and_conditional_functions() {
    let t = sales().await;
    let rows = same(
        &t,
        select::<Sale>().order_by(Sale::id).columns((
            Sale::id,
            func::case_when(Sale::amount.ge(200), "big")
                .when(Sale::amount.ge(100), "mid")
                .otherwise("small"),
            func::case(Sale::region).when("east", 1).when("west", 2).end(),
            func::case_when(Sale::note.is_null(), Sale::rep).otherwise(Sale::region),
            func::coalesce(Sale::note, "-"),
            func::coalesce(func::coalesce(Sale::note, Sale::rep), "?"),
            func::nullif(Sale::amount, 300),
            func::greatest(Sale::amount, 120),
            func::least(func::greatest(Sale::amount, 60), 250),
            func::greatest(func::greatest(Sale::price, 1.0), Sale::ratio.cast::<f64>()),
        )),
        "SELECT id, CASE WHEN amount >= 200 THEN 'big' WHEN amount >= 100 THEN 'mid' ELSE 'small' END, \
         CASE region WHEN 'east' THEN 1 WHEN 'west' THEN 2 END, \
         CASE WHEN note IS NULL THEN rep ELSE region END, coalesce(note, '-'), \
         coalesce(note, rep, '?'), nullif(amount, 300), greatest(amount, 120), \
         least(greatest(amount, 60), 250), greatest(price, 1.0, CAST(ratio AS DOUBLE PRECISION)) \
         FROM sales ORDER BY id",
    )
    .await;
    assert_eq!(
        (
            rows[0].1.as_str(),
            rows[0].2,
            rows[0].3.as_str(),
            rows[0].4.as_str()
        ),
        ("mid", Some(1), "east", "a")
    );
    assert_eq!((rows[1].3.as_str(), rows[1].5.as_str()), ("bob", "bob"));
    assert_eq!((rows[3].1.as_str(), rows[3].6), ("big", None));
    assert_eq!(
        (rows[4].1.as_str(), rows[4].7, rows[4].8),
        ("small", 120, 60)
    );
    assert_eq!(rows[6].2, None, "no branch for north");
}

#[tokio::test]
async fn casts_and_arithmetic() {
    let t = sales().await;
    let rows = same(
        &t,
        select::<Sale>().order_by(Sale::id).columns((
            Sale::amount.cast::<i64>(),
            Sale::cost.cast::<String>(),
            Sale::rep.concat("-").concat(Sale::amount.cast::<String>()),
            Sale::amount.neg(),
            Sale::amount.rem(7),
            Sale::units.pow(2.0),
            Sale::cost.pow(Decimal::from(2)),
            Sale::price.neg().mul(2.0),
            Sale::note.cast::<Option<Vec<u8>>>(),
            Sale::day.cast::<String>(),
        )),
        "SELECT CAST(amount AS BIGINT), CAST(cost AS TEXT), rep || '-' || CAST(amount AS TEXT), \
         -amount, amount % 7, units ^ 2.0::float8, cost ^ 2::numeric, -price * 2.0, \
         CAST(note AS BYTEA), CAST(day AS TEXT) FROM sales ORDER BY id",
    )
    .await;
    assert_eq!(rows[0].1, "10.25");
    assert_eq!(rows[0].2, "ann-100");
    assert_eq!((rows[0].3, rows[0].4, rows[0].5), (-100, 2, 1.0));
    assert_eq!(rows[1].5, 4.0);
    assert_eq!(rows[0].6, dec("105.0625"));
    assert_eq!(rows[0].7, -3.0);
    assert_eq!(rows[0].8.as_deref(), Some(&b"a"[..]));
    assert_eq!(rows[1].8, None);
    assert_eq!(rows[0].9, "2024-01-15");
}

#[tokio::test]
async fn text_functions() {
    let t = sales().await;
    let rows = same(
        &t,
        select::<Sale>()
            .filter(func::lower(func::upper(Sale::region)).eq("east"))
            .order_by(Sale::id)
            .columns((
                func::upper(Sale::rep),
                func::length(Sale::rep),
                func::length(Sale::note),
                func::substring(Sale::region, 2, 2),
                func::trim(func::value("  pad  ".to_string())),
                func::trim(Sale::note),
                func::concat_ws("/", (Sale::region, Sale::note, "z")),
            )),
        "SELECT upper(rep), length(rep), length(note), substr(region, 2, 2), btrim('  pad  '), \
         btrim(note), concat_ws('/', region, note, 'z') FROM sales \
         WHERE lower(upper(region)) = 'east' ORDER BY id",
    )
    .await;
    assert_eq!(
        rows[1],
        (
            "BOB".into(),
            3,
            None,
            "as".into(),
            "pad".into(),
            None,
            "east/z".into()
        )
    );
}
