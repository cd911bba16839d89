//! Deferred columns (`#[model(deferred)]`): left out of a model's `SELECT` unless a query asks
//! for them, a `NotLoaded` error when read unloaded, loaded later by an explicit `await`, and
//! never written by the session while not loaded.

use orm_postgres::ErrorKind;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::{TestDatabase, test_database};

/// A document whose body and attachment are big: loaded only when asked.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "d_document")]
pub struct Document {
    #[model(primary_key, generated)]
    pub id: i64,
    pub title: String,
    #[model(deferred)]
    pub body: Deferred<String>,
    #[model(deferred)]
    pub attachment: Deferred<Option<Vec<u8>>>,
}

fn doc(title: &str, body: &str, attachment: Option<&[u8]>) -> Document {
    Document {
        id: 0,
        title: title.into(),
        body: Deferred::new(body.into()),
        attachment: Deferred::new(attachment.map(<[u8]>::to_vec)),
    }
}

async fn db() -> TestDatabase {
    let t = test_database().await.expect("test database");
    t.create_all(&[Document::TABLE]).await.expect("create_all");
    t.fetch_all(insert_many(&[
        doc("a", "the body of a", Some(b"\x00\x01")),
        doc("b", "the body of b", None),
    ]))
    .await
    .expect("insert");
    t
}

fn assert_not_loaded<T: std::fmt::Debug>(value: &Deferred<T>, field: &str) {
    let err = value.get().unwrap_err();
    match err.kind() {
        ErrorKind::NotLoaded {
            model,
            relationship,
        } => assert_eq!((*model, *relationship), ("Document", field)),
        other => panic!("expected NotLoaded, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains(&format!(".undefer(Document::{field})")),
        "{err}"
    );
}

#[tokio::test]
async fn a_query_leaves_them_out_until_asked() {
    let t = db().await;
    let q = select::<Document>().order_by(Document::id);
    assert_eq!(
        q.compile().unwrap().sql,
        r#"SELECT "d_document"."id", "d_document"."title", NULL::void, NULL::void FROM "d_document" ORDER BY "d_document"."id""#
    );
    let docs = t.fetch_all(q).await.unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0].title, "a");
    assert_not_loaded(&docs[0].body, "body");
    assert_not_loaded(&docs[1].attachment, "attachment");

    // `undefer`: loaded; a NULL stays distinct from "not loaded".
    let docs = t
        .fetch_all(
            select::<Document>()
                .undefer(Document::attachment)
                .order_by(Document::id),
        )
        .await
        .unwrap();
    assert_eq!(
        docs[0].attachment.get().unwrap().as_deref(),
        Some(&b"\x00\x01"[..])
    );
    assert_eq!(docs[1].attachment.get().unwrap(), &None);
    assert!(!docs[1].body.is_loaded());

    // `load_only` and `defer`.
    let d = t
        .fetch_one(
            select::<Document>()
                .load_only((Document::title, Document::body))
                .filter(Document::title.eq("b")),
        )
        .await
        .unwrap();
    assert_eq!(d.body.get().unwrap(), "the body of b");
    assert!(!d.attachment.is_loaded());
    let d = t
        .fetch_one(
            select::<Document>()
                .load_only(Document::body)
                .defer(Document::body)
                .filter(Document::title.eq("b")),
        )
        .await
        .unwrap();
    assert!(!d.body.is_loaded());

    // The column handle is the inner type: filters and selections as usual.
    let titles: Vec<String> = t
        .fetch_all(
            select::<Document>()
                .filter(Document::body.contains("of a"))
                .columns(Document::title),
        )
        .await
        .unwrap();
    assert_eq!(titles, ["a"]);
    let bodies: Vec<String> = t
        .fetch_all(
            select::<Document>()
                .order_by(Document::id)
                .columns(Document::body),
        )
        .await
        .unwrap();
    assert_eq!(bodies, ["the body of a", "the body of b"]);
}

#[tokio::test]
async fn core_loads_one_explicitly() {
    let t = db().await;
    let mut d = t
        .fetch_one(select::<Document>().filter(Document::title.eq("a")))
        .await
        .unwrap();
    let log = t.statement_log();
    t.load_deferred(&mut d, Document::body).await.unwrap();
    let sql = log.finish();
    assert_eq!(sql.len(), 1);
    assert_eq!(
        sql[0],
        r#"SELECT "d_document"."id", "d_document"."title", "d_document"."body", NULL::void FROM "d_document" WHERE "d_document"."id" = $1"#
    );
    assert_eq!(d.body.get().unwrap(), "the body of a");
    assert!(!d.attachment.is_loaded());
    // A whole-object update of an object whose deferred column is not loaded is refused.
    let err = t.fetch_one(update_model(&d)).await.unwrap_err();
    assert!(
        err.to_string().contains("not loaded") || format!("{err:?}").contains("NotLoaded"),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_session_never_writes_an_unloaded_column_and_loads_it_on_request() {
    let t = db().await;
    let mut s = t.session();
    let a = s
        .one(select::<Document>().filter(Document::title.eq("a")))
        .await
        .unwrap();
    assert_not_loaded(&a.read().body, "body");

    // Changing another column: the UPDATE names only that column.
    a.write().title = "A".into();
    let log = t.statement_log();
    s.flush().await.unwrap();
    let sql = log.finish();
    assert_eq!(sql.len(), 1, "{sql:?}");
    assert!(
        sql[0].starts_with(r#"UPDATE "d_document" SET "title" = "#),
        "{}",
        sql[0]
    );
    assert!(!sql[0].contains("body"), "{}", sql[0]);

    // The explicit load: one query; the object is not changed by it.
    let log = t.statement_log();
    s.load_deferred(&a, Document::body).await.unwrap();
    assert_eq!(log.finish().len(), 1);
    assert_eq!(a.read().body.get().unwrap(), "the body of a");
    assert!(!a.is_modified());
    let log = t.statement_log();
    s.flush().await.unwrap();
    assert!(log.finish().is_empty(), "loading a column is not a change");

    // Writing it: the UPDATE sets it.
    a.write().body.set("new body".into());
    let log = t.statement_log();
    s.flush().await.unwrap();
    let sql = log.finish();
    assert!(
        sql[0].starts_with(r#"UPDATE "d_document" SET "body" = "#),
        "{}",
        sql[0]
    );

    // A later query that undefers a column fills it into the object the session has.
    let b = s
        .one(select::<Document>().filter(Document::title.eq("b")))
        .await
        .unwrap();
    assert!(!b.read().attachment.is_loaded());
    let again = s
        .one(
            select::<Document>()
                .undefer(Document::attachment)
                .filter(Document::title.eq("b")),
        )
        .await
        .unwrap();
    assert!(Tracked::ptr_eq(&again, &b), "one object per row");
    assert_eq!(b.read().attachment.get().unwrap(), &None);
    assert!(!b.is_modified());
    s.commit().await.unwrap();

    let stored: Vec<(String, String)> = t
        .fetch_all(query::<(String, String)>(
            "SELECT title, body FROM d_document ORDER BY id",
        ))
        .await
        .unwrap();
    assert_eq!(
        stored,
        [
            ("A".to_string(), "new body".to_string()),
            ("b".to_string(), "the body of b".to_string())
        ]
    );
}

#[tokio::test]
async fn new_objects_write_their_deferred_values() {
    let t = db().await;
    let mut s = t.session();
    let c = s.add(doc("c", "the body of c", Some(b"x")));
    s.commit().await.unwrap();
    assert!(c.read().id > 0);
    let (body, attachment): (String, Option<Vec<u8>>) = t
        .fetch_one(query::<(String, Option<Vec<u8>>)>(
            "SELECT body, attachment FROM d_document WHERE title = 'c'",
        ))
        .await
        .unwrap();
    assert_eq!(body, "the body of c");
    assert_eq!(attachment.as_deref(), Some(&b"x"[..]));
    // `Default` is the inner type's default, loaded: a new object is written whole.
    let d = Document {
        title: "d".into(),
        ..Document::default()
    };
    let d = t.fetch_one(insert(&d)).await.unwrap();
    assert_eq!(d.body.get().unwrap(), "");
    assert_eq!(d.attachment.get().unwrap(), &None);
}
