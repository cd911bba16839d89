//! `stream` of a joined-table enum loaded the *selectin* way: the keys and discriminators
//! first (one query), then the rows a batch of 1,000 at a time (one query per variant present
//! in the batch), in the query's order; the same rows as `fetch_all`.

use futures_util::TryStreamExt;
use orm_postgres::meta::PolymorphicLoad;
use orm_postgres::prelude::*;
use orm_tests::joined::{Chief, Crew, Developer, Lead, Staff, Team};

/// `n` staff, chiefs and developers alternating.
async fn seed(db: &Database, n: usize) {
    let mut s = db.session();
    s.add_all((0..n).map(|i| {
        if i % 2 == 0 {
            Staff::from(Chief::new(&format!("c{i:05}"), i as i32))
        } else {
            Staff::from(Developer::new(&format!("d{i:05}"), "rust"))
        }
    }));
    s.commit().await.unwrap();
}

#[orm_postgres::test(tables(Team, Staff))]
async fn a_selectin_stream_reads_keys_then_batches_in_order(db: Database) {
    seed(&db, 2_500).await;
    let query = || {
        select::<Staff>()
            .polymorphic(PolymorphicLoad::SelectIn)
            .order_by(Chief::name.desc())
    };
    let log = db.statement_log();
    let streamed: Vec<Staff> = db
        .stream(query())
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let sql = log.finish();
    assert_eq!(streamed.len(), 2_500);
    // The keys, then three batches of one query per variant present: by name descending, the
    // 1,250 developers ("d...") come first, so 1,000 developers; 250 developers and 750
    // chiefs (two queries, sent together: logged in either order); 500 chiefs.
    assert_eq!(sql.len(), 5, "{sql:#?}");
    assert_eq!(
        sql[0],
        r#"SELECT "staff"."id", "staff"."role" FROM "staff" ORDER BY "staff"."name" DESC"#
    );
    let reads = |q: &String, table: &str| q.contains(&format!("JOIN \"{table}\""));
    assert!(reads(&sql[1], "developers"), "{}", sql[1]);
    assert!(
        sql[2..4].iter().any(|q| reads(q, "developers"))
            && sql[2..4].iter().any(|q| reads(q, "chiefs")),
        "{sql:#?}"
    );
    assert!(reads(&sql[4], "chiefs"), "{}", sql[4]);
    assert!(
        sql[1].ends_with(r#"WHERE "staff"."id" = ANY($1)"#),
        "{}",
        sql[1]
    );
    // The same rows, in the same order, as the whole result read at once (either form).
    let all = db.fetch_all(query()).await.unwrap();
    assert_eq!(streamed.len(), 2_500);
    assert_eq!(streamed, all);
    let joined = db
        .fetch_all(select::<Staff>().order_by(Chief::name.desc()))
        .await
        .unwrap();
    assert_eq!(streamed, joined);
    assert!(matches!(&streamed[0], Staff::Developer(d) if d.name == "d02499"));
    assert!(matches!(&streamed[2_499], Staff::Chief(c) if c.name == "c00000" && c.budget == 0));

    // A filter on a subtype column, through an enum loading selectin by default.
    let rich: Vec<Crew> = db
        .stream(select::<Crew>().filter(Lead::budget.ge(2_490)))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let mut budgets: Vec<i32> = rich
        .iter()
        .map(|c| match c {
            Crew::Lead(l) => l.budget,
            other => panic!("{other:?}"),
        })
        .collect();
    budgets.sort_unstable();
    assert_eq!(budgets, [2_490, 2_492, 2_494, 2_496, 2_498]);

    // Nothing found: the keys' query only.
    let log = db.statement_log();
    let none: Vec<Staff> = db
        .stream(query().filter(Chief::budget.lt(0)))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(none.is_empty());
    assert_eq!(log.finish().len(), 1);

    // Stopped early: the next calls work.
    {
        let mut stream = db.stream(query()).await.unwrap();
        assert!(stream.try_next().await.unwrap().is_some());
    }
    assert_eq!(
        db.fetch_one(select::<Staff>().count()).await.unwrap(),
        2_500
    );

    // In a transaction, on its connection.
    let tx = db.begin().await.unwrap();
    let n = tx
        .stream(query())
        .await
        .unwrap()
        .try_fold(0usize, |n, _| async move { Ok(n + 1) })
        .await
        .unwrap();
    assert_eq!(n, 2_500);
    tx.commit().await.unwrap();
}
