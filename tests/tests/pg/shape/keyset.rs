//! Keyset pagination (`keyset(...).after(cursor)` and `fetch_page`): paging through a table
//! in ascending, descending and mixed directions visits every row once, in the order of the
//! same query without pages.

use orm_postgres::prelude::*;
use orm_postgres::stmt::{Desc, KeysetKeys, Page};
use orm_testing::test_database;

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "k_score")]
pub struct Score {
    #[model(primary_key, generated)]
    pub id: i64,
    pub player: String,
    pub points: i32,
    pub note: Option<String>,
}

/// Every page of `pages(cursor)`, following the cursors to the end.
async fn all_pages<K, F>(db: &Database, mut page: F) -> (Vec<i64>, usize)
where
    K: KeysetKeys,
    F: FnMut(
        Option<K::Values>,
    ) -> orm_postgres::stmt::Keyset<
        Score,
        orm_postgres::stmt::source::Cons<
            orm_postgres::stmt::source::Inner<Score>,
            orm_postgres::stmt::source::Nil,
        >,
        K,
    >,
{
    let mut cursor = None;
    let mut ids = Vec::new();
    let mut pages = 0;
    loop {
        let Page { rows, next } = db.fetch_page(page(cursor)).await.unwrap();
        pages += 1;
        assert!(rows.len() <= 7);
        ids.extend(rows.iter().map(|s| s.id));
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    (ids, pages)
}

#[tokio::test]
async fn paging_visits_every_row_once_in_order() {
    let t = test_database().await.unwrap();
    t.create_all(&[Score::TABLE]).await.unwrap();
    // 50 rows with many equal points and players: ties are broken by the later keys.
    let rows: Vec<Score> = (0..50)
        .map(|i| Score {
            player: format!("p{}", i % 4),
            points: (i * 7) % 5,
            note: (i % 3 == 0).then(|| "x".to_string()),
            ..Score::default()
        })
        .collect();
    t.fetch_all(insert_many(&rows)).await.unwrap();

    let expected = |order: Select<Score>| {
        let db = t.db.clone();
        async move { db.fetch_all(order.columns(Score::id)).await.unwrap() }
    };

    // Ascending, one key.
    let (ids, pages) = all_pages(&t.db, |c| {
        select::<Score>().keyset(Score::id).after(c).limit(7)
    })
    .await;
    assert_eq!(ids, expected(select::<Score>().order_by(Score::id)).await);
    assert_eq!(pages, 8, "50 rows in pages of 7");

    // Descending.
    let (ids, _) = all_pages(&t.db, |c| {
        select::<Score>()
            .keyset((Desc(Score::points), Desc(Score::id)))
            .after(c)
            .limit(7)
    })
    .await;
    assert_eq!(
        ids,
        expected(
            select::<Score>()
                .order_by(Score::points.desc())
                .order_by(Score::id.desc())
        )
        .await
    );

    // Mixed, with a filter kept on every page.
    let (ids, _) = all_pages(&t.db, |c| {
        select::<Score>()
            .filter(Score::player.ne("p3"))
            .keyset((Desc(Score::points), Score::player, Score::id))
            .after(c)
            .limit(7)
    })
    .await;
    let want = expected(
        select::<Score>()
            .filter(Score::player.ne("p3"))
            .order_by(Score::points.desc())
            .order_by(Score::player)
            .order_by(Score::id),
    )
    .await;
    assert_eq!(ids, want);
    assert_eq!(ids.len(), 38);

    // A nullable column is paged through `coalesce`, so no row drops out.
    let (ids, _) = all_pages(&t.db, |c| {
        select::<Score>()
            .keyset((func::coalesce(Score::note, ""), Score::id))
            .after(c)
            .limit(7)
    })
    .await;
    assert_eq!(ids.len(), 50);

    // An exact multiple of the page size: the last page says there is no next one.
    let page = t
        .fetch_page(select::<Score>().keyset(Score::id).limit(50))
        .await
        .unwrap();
    assert_eq!((page.rows.len(), page.next), (50, None));
    let page = t
        .fetch_page(select::<Score>().keyset(Score::id).limit(49))
        .await
        .unwrap();
    assert_eq!(page.rows.len(), 49);
    assert_eq!(page.next, Some(page.rows[48].id));
}
