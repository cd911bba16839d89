//! A parameter larger than PostgreSQL takes (1 GB in one field) is a typed error before
//! anything is sent, and the connection goes on working.

use orm_postgres::ErrorKind;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

use crate::pid_of;

#[tokio::test]
async fn a_parameter_over_one_gigabyte_is_refused_before_it_is_sent() {
    let t = test_database().await.expect("db");
    let db = t
        .builder()
        .max_connections(1)
        .connect()
        .await
        .expect("pool");
    let pid = pid_of(&db).await;
    let huge = "a".repeat(1 << 30);
    let err = db
        .fetch_one(query::<i64>("SELECT length(:s)").bind("s", huge))
        .await
        .expect_err("too large");
    assert!(
        matches!(err.kind(), ErrorKind::Encode { index: 1, .. }),
        "{err:?}"
    );
    let text = format!(
        "{err}: {}",
        std::error::Error::source(&err)
            .map(|s| s.to_string())
            .unwrap_or_default()
    );
    assert!(
        text.contains("PostgreSQL takes at most 1073741823 (1 GB) in one field"),
        "{text}"
    );
    // Nothing was sent: the same connection (the pool has one) answers the next call.
    assert_eq!(pid_of(&db).await, pid);
    let fine = "b".repeat(1 << 20);
    let n = db
        .fetch_one(query::<i32>("SELECT length(:s)").bind("s", fine))
        .await
        .expect("a megabyte is fine");
    assert_eq!(n, 1 << 20);
}
