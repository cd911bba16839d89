//! create_all / drop_all: every declared constraint and index, in foreign-key order.

use orm_postgres::prelude::*;
use orm_testing::test_database;
use orm_tests::{Everything, Order, User};

async fn strings(db: &impl Executor, sql: &str) -> Vec<String> {
    // A throwaway view turns catalog queries into something the typed builder can read. Its
    // result type changes between calls, so the cached statement goes stale and is prepared
    // again (outside a transaction).
    db.batch_execute(&format!("DROP VIEW IF EXISTS q; CREATE VIEW q AS {sql}"))
        .await
        .unwrap();
    #[derive(Model, Debug)]
    #[model(table = "q")]
    struct Q {
        #[model(primary_key)]
        s: String,
    }
    let mut v: Vec<String> = db.fetch_all(select::<Q>().columns(Q::s)).await.unwrap();
    v.sort();
    v
}

#[tokio::test]
async fn create_all_in_fk_order_with_constraints_and_indexes() {
    let t = test_database().await.unwrap();
    let db = &t.db;
    // Referencing table first: create_all sorts by foreign key.
    db.create_all(&[Order::TABLE, User::TABLE]).await.unwrap();
    // Idempotent.
    db.create_all(&[Order::TABLE, User::TABLE]).await.unwrap();
    let constraints = strings(
        db,
        "SELECT conname::text || ':' || contype::text AS s FROM pg_constraint \
         WHERE conrelid IN ('users'::regclass, 'orders'::regclass)",
    )
    .await;
    assert_eq!(
        constraints,
        [
            "orders_pkey:p",
            "orders_user_id_fkey:f",
            "users_age_check:c",
            "users_name_key:u",
            "users_pkey:p",
        ]
    );
    let fk = strings(
        db,
        "SELECT pg_get_constraintdef(oid) AS s FROM pg_constraint WHERE conname = 'orders_user_id_fkey'",
    )
    .await;
    assert_eq!(
        fk,
        ["FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE"]
    );
    let indexes = strings(
        db,
        "SELECT indexname::text AS s FROM pg_indexes WHERE tablename = 'orders'",
    )
    .await;
    assert_eq!(indexes, ["ix_orders_user_id", "orders_pkey"]);
    let columns = strings(
        db,
        "SELECT column_name || ' ' || data_type || ' ' || is_nullable || ' ' || \
         coalesce(character_maximum_length::text, '-') || ' ' || coalesce(column_default, '-') || ' ' || is_identity AS s \
         FROM information_schema.columns WHERE table_name = 'users'",
    )
    .await;
    assert_eq!(
        columns,
        [
            "age integer NO - 0 NO",
            "email text YES - - NO",
            "id bigint NO - - YES",
            "name character varying NO 80 - NO",
        ]
    );
    db.batch_execute("DROP VIEW q").await.unwrap();

    db.drop_all(&[User::TABLE, Order::TABLE]).await.unwrap();
    let err = db.fetch_all(select::<User>()).await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("42P01"));
    // Dropping what does not exist is fine too.
    db.drop_all(&[User::TABLE, Order::TABLE]).await.unwrap();
}

#[tokio::test]
async fn create_all_creates_enum_types_once() {
    let t = test_database().await.unwrap();
    let moods = || async {
        t.fetch_all(orm_postgres::raw::query::<(String, Vec<String>)>(
            "SELECT t.typname::text, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) \
             FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid \
             WHERE t.typname = 'mood' GROUP BY t.oid, t.typname",
        ))
        .await
        .unwrap()
    };
    let once = vec![(
        "mood".to_string(),
        vec!["happy".to_string(), "sad".to_string(), "so-so".to_string()],
    )];
    t.create_all(&[Everything::TABLE]).await.unwrap();
    assert_eq!(moods().await, once);
    t.create_all(&[Everything::TABLE]).await.unwrap();
    assert_eq!(
        moods().await,
        once,
        "a second create_all adds no second type"
    );
    t.drop_all(&[Everything::TABLE]).await.unwrap();
    assert_eq!(moods().await, vec![], "drop_all drops the type");
    t.create_all(&[Everything::TABLE]).await.unwrap();
    assert_eq!(moods().await, once);
}
