//! Per-model caching: `#[model(cache_ttl = ...)]` caches every query of the model (same rules
//! as `.cached`), a query's own policy overrides it, `.no_cache()` opts out, and a commit
//! writing the table invalidates.

use std::time::Duration;

use orm_postgres::ResultCache;
use orm_postgres::prelude::*;
use orm_testing::{TestDatabase, test_database};
use orm_tests::User;

use super::cache::{cache, cached_db};

/// Cached for a minute by its model.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "countries", cache_ttl = "60s")]
pub struct Country {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(unique)]
    pub code: String,
}

/// Cached for 30 seconds (an integer is seconds).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "cities", cache_ttl = 30)]
pub struct City {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "countries.id")]
    pub country_id: i64,
    pub name: String,
}

async fn geo() -> TestDatabase {
    let t = test_database().await.expect("test database");
    t.db.create_all(&[Country::TABLE, City::TABLE, User::TABLE])
        .await
        .expect("create_all");
    t.batch_execute(
        "INSERT INTO countries (code) VALUES ('fr'), ('jp'); \
         INSERT INTO cities (country_id, name) VALUES (1, 'Lyon'), (2, 'Kyoto')",
    )
    .await
    .expect("rows");
    t
}

fn codes(rows: Vec<Country>) -> Vec<String> {
    let mut c: Vec<String> = rows.into_iter().map(|c| c.code).collect();
    c.sort();
    c
}

#[test]
fn the_derive_records_the_time_to_live() {
    assert_eq!(Country::TABLE.cache_ttl, Some(Duration::from_secs(60)));
    assert_eq!(City::TABLE.cache_ttl, Some(Duration::from_secs(30)));
    assert_eq!(User::TABLE.cache_ttl, None);
}

#[tokio::test]
async fn a_model_with_a_time_to_live_is_cached_until_a_commit_writes_its_table() {
    let t = geo().await;
    let db = cached_db(&t, ResultCache::new()).await;
    for _ in 0..3 {
        assert_eq!(
            codes(db.fetch_all(select::<Country>()).await.expect("countries")),
            ["fr", "jp"]
        );
    }
    let c = cache(&db);
    assert_eq!((c.hits, c.misses, c.entries), (2, 1, 1));
    let before = db.statement_count();
    let jp = db
        .fetch_one(select::<Country>().filter(Country::code.eq("jp")))
        .await
        .expect("jp");
    db.fetch_one(select::<Country>().filter(Country::code.eq("jp")))
        .await
        .expect("jp again");
    assert_eq!(db.statement_count(), before + 1, "the second is a hit");
    assert_eq!((cache(&db).hits, cache(&db).misses), (3, 2));

    // Inside a transaction that wrote the table: read from the server, nothing counted.
    let tx = db.begin().await.expect("begin");
    tx.execute(insert(&Country {
        id: 0,
        code: "de".into(),
    }))
    .await
    .expect("insert");
    assert_eq!(
        codes(tx.fetch_all(select::<Country>()).await.expect("in tx")),
        ["de", "fr", "jp"]
    );
    assert_eq!((cache(&db).hits, cache(&db).misses), (3, 2));
    // Outside it, before the commit: still the cached result.
    assert_eq!(
        codes(db.fetch_all(select::<Country>()).await.expect("outside")),
        ["fr", "jp"]
    );
    assert_eq!(cache(&db).hits, 4);
    tx.commit().await.expect("commit");

    // The commit invalidated it.
    assert_eq!(
        codes(
            db.fetch_all(select::<Country>())
                .await
                .expect("after commit")
        ),
        ["de", "fr", "jp"]
    );
    let c = cache(&db);
    assert_eq!((c.hits, c.misses, c.invalidations), (4, 3, 1));

    // A join of two models with times to live is cached (for the lesser one); with a model
    // without one (users) it is not.
    for _ in 0..2 {
        db.fetch_all(
            select::<City>()
                .join_fk::<Country>()
                .filter(Country::id.eq(jp.id)),
        )
        .await
        .expect("join");
    }
    assert_eq!((cache(&db).hits, cache(&db).misses), (5, 4));
    for _ in 0..2 {
        db.fetch_all(select::<User>()).await.expect("users");
    }
    assert_eq!((cache(&db).hits, cache(&db).misses), (5, 4));
}

#[tokio::test]
async fn a_querys_own_policy_overrides_the_models_and_no_cache_opts_out() {
    let t = geo().await;
    let db = cached_db(&t, ResultCache::new()).await;

    // `.no_cache()`: every call goes to the server, the cache never sees it.
    let before = db.statement_count();
    for _ in 0..2 {
        db.fetch_all(select::<Country>().no_cache())
            .await
            .expect("uncached");
    }
    assert_eq!(db.statement_count(), before + 2);
    let c = cache(&db);
    assert_eq!((c.hits, c.misses, c.entries), (0, 0, 0));

    // A shorter policy on the query: its result expires long before the model's minute.
    db.fetch_all(select::<Country>().cached(Duration::from_millis(50)))
        .await
        .expect("short");
    tokio::time::sleep(Duration::from_millis(150)).await;
    db.fetch_all(select::<Country>()).await.expect("model's");
    let c = cache(&db);
    assert_eq!((c.hits, c.misses), (0, 2), "the short-lived result expired");
    db.fetch_all(select::<Country>())
        .await
        .expect("model's again");
    assert_eq!(cache(&db).hits, 1);

    // The database's registration overrides the model's time to live.
    let db = cached_db(
        &t,
        ResultCache::new().model::<Country>(Duration::from_millis(50)),
    )
    .await;
    db.fetch_all(select::<Country>()).await.expect("registered");
    tokio::time::sleep(Duration::from_millis(150)).await;
    db.fetch_all(select::<Country>()).await.expect("expired");
    assert_eq!((cache(&db).hits, cache(&db).misses), (0, 2));

    // Without a result cache the attribute changes nothing.
    let before = t.db.statement_count();
    t.db.fetch_all(select::<Country>()).await.expect("plain");
    t.db.fetch_all(select::<Country>()).await.expect("plain");
    assert_eq!(t.db.statement_count(), before + 2);
}
