//! Array columns through the multi-row paths: Core `insert_many` (and its upsert) and the
//! session's flush (`INSERT` and `UPDATE`) send array columns flattened, in one statement
//! whose text does not depend on the row count, far past PostgreSQL's 65,535 parameters.

use orm_postgres::prelude::*;
use orm_postgres::{SessionOptions, assert_queries};
use orm_testing::test_database;

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "arr_row")]
pub struct ArrRow {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(unique)]
    pub n: i32,
    pub tags: Vec<String>,
    pub nums: Vec<i32>,
    pub sparse: Vec<Option<i32>>,
    pub labels: Option<Vec<Option<String>>>,
}

fn row(i: i32) -> ArrRow {
    ArrRow {
        id: 0,
        n: i,
        tags: (0..i % 4).map(|k| format!("t{i}-{k} \"q\",{{}}")).collect(),
        nums: (0..i % 3).map(|k| i * 10 + k).collect(),
        sparse: match i % 3 {
            0 => vec![],
            1 => vec![None],
            _ => vec![Some(i), None, Some(-i)],
        },
        labels: match i % 4 {
            0 => None,
            1 => Some(vec![]),
            2 => Some(vec![None, None]),
            _ => Some(vec![Some(format!("l{i}")), None]),
        },
    }
}

const ROWS: i32 = 100_000;

/// Every row as the server holds it, in `n` order, keys cleared.
async fn stored(db: &impl Executor) -> Vec<ArrRow> {
    db.fetch_all(select::<ArrRow>().order_by(ArrRow::n))
        .await
        .unwrap()
        .into_iter()
        .map(|mut r| {
            r.id = 0;
            r
        })
        .collect()
}

#[tokio::test]
async fn insert_many_writes_100k_rows_with_array_columns_in_one_statement() {
    let t = test_database().await.unwrap();
    t.create_all(&[ArrRow::TABLE]).await.unwrap();
    let rows: Vec<ArrRow> = (0..ROWS).map(row).collect();
    let returned = assert_queries!(t, 1, async { t.fetch_all(insert_many(&rows)).await }).unwrap();
    // Returned in the rows' order, keys from the server.
    assert_eq!(returned.len(), ROWS as usize);
    assert!(returned.windows(2).all(|w| w[0].id < w[1].id));
    let cleared: Vec<ArrRow> = returned
        .into_iter()
        .map(|mut r| {
            r.id = 0;
            r
        })
        .collect();
    assert_eq!(cleared, rows);
    assert_eq!(stored(&*t).await, rows);

    // The same statement text for 3 rows as for 100,000.
    let few = insert_many(&rows[..3]).compile().unwrap();
    assert_eq!(few.sql, insert_many(&rows).compile().unwrap().sql);
    assert_eq!(
        few.params.len(),
        13,
        "n, and lengths, row numbers and elements of 4 arrays"
    );

    // An upsert of array columns: every row's arrays replaced.
    let changed: Vec<ArrRow> = rows[..1_000]
        .iter()
        .cloned()
        .map(|mut r| {
            r.tags.push("new".into());
            r.labels = None;
            r
        })
        .collect();
    let n = t
        .execute(
            insert_many(&changed)
                .no_returning()
                .on_conflict(ArrRow::n)
                .do_update(|u| u.set_excluded(ArrRow::tags).set_excluded(ArrRow::labels)),
        )
        .await
        .unwrap();
    assert_eq!(n, 1_000);
    let back = stored(&*t).await;
    assert_eq!(back.len(), ROWS as usize);
    assert_eq!(
        back[5].tags,
        [&rows[5].tags[..], &["new".to_owned()]].concat()
    );
    assert_eq!(back[5].labels, None);
    assert_eq!(back[1_000], rows[1_000]);
}

#[tokio::test]
async fn the_flush_inserts_and_updates_100k_objects_with_array_columns() {
    let t = test_database().await.unwrap();
    t.create_all(&[ArrRow::TABLE]).await.unwrap();
    let rows: Vec<ArrRow> = (0..ROWS).map(row).collect();
    // The INSERT path (a batch this size would otherwise go by COPY with keys taken first).
    let options = SessionOptions::default()
        .expire_on_commit(false)
        .copy_threshold(None);
    let mut s = t.session_with(options);
    let objects = s.add_all(rows.clone());
    assert_queries!(
        s,
        [
            "BEGIN*",
            "INSERT INTO \"arr_row\" * RETURNING \"id\"",
            "COMMIT"
        ],
        async { s.commit().await }
    )
    .unwrap();
    assert!(objects.iter().all(|o| o.read().id > 0));
    assert_eq!(stored(&*t).await, rows);

    // Changed arrays of every object: one UPDATE.
    let mut expected = rows.clone();
    for (i, o) in objects.iter().enumerate() {
        let mut w = o.write();
        w.sparse.push(None);
        w.nums = vec![-1, i as i32];
        expected[i].sparse.push(None);
        expected[i].nums = vec![-1, i as i32];
    }
    assert_queries!(
        s,
        ["BEGIN*", "UPDATE \"arr_row\" SET \"nums\" = *", "COMMIT"],
        async { s.commit().await }
    )
    .unwrap();
    assert_eq!(stored(&*t).await, expected);
}
