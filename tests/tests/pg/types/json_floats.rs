//! `Json<T>` holding floats: finite ones round-trip through a parameter, `insert_many` and a
//! flush; a NaN or an infinity (which serde_json would write as `null`) fails to encode, and
//! nothing is stored.

use orm_postgres::ErrorKind;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "json_floats")]
pub struct Series {
    #[model(primary_key, generated)]
    pub id: i64,
    pub points: Json<Vec<Option<f64>>>,
}

fn series(points: Vec<Option<f64>>) -> Series {
    Series {
        id: 0,
        points: Json(points),
    }
}

/// The error is an encode error naming the parameter, whose cause says why.
fn assert_not_finite(err: &orm_postgres::Error) {
    match err.kind() {
        ErrorKind::Encode { source, .. } => {
            assert!(source.to_string().contains("has no JSON form"), "{source}")
        }
        other => panic!("{other:?}: {err}"),
    }
}

#[tokio::test]
async fn finite_floats_round_trip_and_non_finite_ones_are_refused() {
    let t = test_database().await.unwrap();
    t.create_all(&[Series::TABLE]).await.unwrap();
    let sent = Json(vec![Some(1.5), None, Some(-0.0), Some(1e-300)]);
    let back: Json<Vec<Option<f64>>> = t
        .fetch_one(query::<Json<Vec<Option<f64>>>>("SELECT :v::jsonb").bind("v", sent.clone()))
        .await
        .unwrap();
    assert_eq!(back, sent);
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = t
            .fetch_one(
                query::<Json<Vec<Option<f64>>>>("SELECT :v::jsonb")
                    .bind("v", Json(vec![Some(bad)])),
            )
            .await
            .unwrap_err();
        assert_not_finite(&err);
        // Many rows at once (an array of documents).
        let err = t
            .execute(insert_many(&[
                series(vec![Some(1.0)]),
                series(vec![Some(bad)]),
            ]))
            .await
            .unwrap_err();
        assert_not_finite(&err);
        // A flush of a changed document: refused, the row keeps what it had.
        let mut s = t.session();
        let kept = s.add(series(vec![Some(2.0)]));
        s.commit().await.unwrap();
        kept.write().points.0.push(Some(bad));
        let err = s.commit().await.unwrap_err();
        assert_not_finite(&err);
        drop(s);
        let stored: Vec<Series> = t.fetch_all(select::<Series>()).await.unwrap();
        assert_eq!(stored.len(), 1, "{bad}: only the first commit stored a row");
        assert_eq!(stored[0].points, Json(vec![Some(2.0)]));
        t.execute(delete::<Series>()).await.unwrap();
    }
}

/// Finite floats come back bit for bit, the ones serde_json's fast parser reads one unit in
/// the last place off included, and the largest: JSONB keeps the number `serde_json` wrote
/// exactly (as NUMERIC, which has no negative zero: `-0.0` comes back `0.0`).
#[tokio::test]
async fn floats_come_back_bit_for_bit() {
    let t = test_database().await.unwrap();
    for x in [
        956.0342718892493_f64,
        0.09501499143222059,
        1.602176634e-19,
        1.7e308,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        -123456.789e-7,
    ] {
        let back: Json<f64> = t
            .fetch_one(query::<Json<f64>>("SELECT :v::jsonb").bind("v", Json(x)))
            .await
            .unwrap_or_else(|e| panic!("{x:e}: {e}"));
        assert_eq!(
            back.0.to_bits(),
            x.to_bits(),
            "{x:e} came back {:e}",
            back.0
        );
    }
}
