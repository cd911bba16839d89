//! Deferred columns (`#[model(deferred)]`) on the variant structs of an inheritance enum, in one
//! table and in joined tables: the enum's query leaves them out (a placeholder keeps every
//! other column where the variants decode it), `undefer`/`load_only` name a variant's column
//! on a query of the enum, the session loads them later and writes them only once loaded, and
//! the *selectin* form of a joined-table enum keeps them out of its per-variant queries.

use orm_postgres::ErrorKind;
use orm_postgres::assert_queries;
use orm_postgres::meta::PolymorphicLoad;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;

/// Single-table: a document is a note (a long body) or a scan (an image); both are loaded
/// without them unless asked.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "dv_documents", discriminator = "kind")]
pub enum Doc {
    #[model(value = "note")]
    Note(Note),
    #[model(value = "scan")]
    Scan(Scan),
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Doc)]
pub struct Note {
    #[model(primary_key, generated)]
    pub id: i64,
    pub title: String,
    #[model(deferred)]
    pub body: Deferred<String>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Doc)]
pub struct Scan {
    #[model(primary_key, generated)]
    pub id: i64,
    pub title: String,
    pub pages: i32,
    #[model(deferred)]
    pub image: Deferred<Option<Vec<u8>>>,
}

fn note(title: &str, body: &str) -> Doc {
    Doc::from(Note {
        id: 0,
        title: title.into(),
        body: Deferred::new(body.into()),
    })
}

fn scan(title: &str, pages: i32, image: Option<&[u8]>) -> Doc {
    Doc::from(Scan {
        id: 0,
        title: title.into(),
        pages,
        image: Deferred::new(image.map(<[u8]>::to_vec)),
    })
}

fn assert_not_loaded<T: std::fmt::Debug>(value: &Deferred<T>, model: &str, field: &str) {
    let err = value.get().unwrap_err();
    match err.kind() {
        ErrorKind::NotLoaded {
            model: m,
            relationship,
        } => assert_eq!((*m, *relationship), (model, field)),
        other => panic!("expected NotLoaded, got {other:?}"),
    }
}

fn as_note(d: &Doc) -> &Note {
    match d {
        Doc::Note(n) => n,
        other => panic!("expected a note, got {other:?}"),
    }
}

fn as_scan(d: &Doc) -> &Scan {
    match d {
        Doc::Scan(s) => s,
        other => panic!("expected a scan, got {other:?}"),
    }
}

async fn seed_docs(db: &Database) {
    let mut s = db.session();
    s.add(note("n1", "the body of n1"));
    s.add(scan("s1", 3, Some(b"\x89PNG")));
    s.add(note("n2", "the body of n2"));
    s.add(scan("s2", 1, None));
    s.commit().await.unwrap();
}

#[orm_postgres::test(tables(Doc))]
async fn a_query_of_the_enum_leaves_variant_columns_out_until_asked(db: Database) {
    seed_docs(&db).await;
    let q = select::<Doc>().order_by(Note::id);
    assert_eq!(
        q.compile().unwrap().sql,
        r#"SELECT "dv_documents"."id", "dv_documents"."title", NULL::void, "dv_documents"."kind", "dv_documents"."pages", NULL::void FROM "dv_documents" ORDER BY "dv_documents"."id""#
    );
    let docs = db.fetch_all(q).await.unwrap();
    assert_eq!(docs.len(), 4);
    // Every other column decodes where it belongs.
    assert_eq!(as_note(&docs[0]).title, "n1");
    assert_not_loaded(&as_note(&docs[0]).body, "Note", "body");
    assert_eq!(
        (as_scan(&docs[1]).title.as_str(), as_scan(&docs[1]).pages),
        ("s1", 3)
    );
    assert_not_loaded(&as_scan(&docs[1]).image, "Scan", "image");

    // `undefer` with a variant's column: loaded for that variant's rows.
    let docs = db
        .fetch_all(select::<Doc>().undefer(Note::body).order_by(Note::id))
        .await
        .unwrap();
    assert_eq!(as_note(&docs[0]).body.get().unwrap(), "the body of n1");
    assert_eq!(as_note(&docs[2]).body.get().unwrap(), "the body of n2");
    assert_not_loaded(&as_scan(&docs[1]).image, "Scan", "image");

    // `load_only` with columns of both variants; a NULL stays distinct from "not loaded".
    let q = select::<Doc>()
        .load_only((Note::body, Scan::image))
        .order_by(Note::id);
    assert_eq!(
        q.compile().unwrap().sql,
        r#"SELECT "dv_documents"."id", "dv_documents"."title", "dv_documents"."body", "dv_documents"."kind", "dv_documents"."pages", "dv_documents"."image" FROM "dv_documents" ORDER BY "dv_documents"."id""#
    );
    let docs = db.fetch_all(q).await.unwrap();
    assert_eq!(
        as_scan(&docs[1]).image.get().unwrap().as_deref(),
        Some(&b"\x89PNG"[..])
    );
    assert_eq!(as_scan(&docs[3]).image.get().unwrap(), &None);
    assert_eq!(as_note(&docs[2]).body.get().unwrap(), "the body of n2");
    // `defer` takes it out again.
    let q = select::<Doc>()
        .load_only((Note::body, Scan::image))
        .defer(Note::body);
    assert!(
        q.compile()
            .unwrap()
            .sql
            .starts_with(r#"SELECT "dv_documents"."id", "dv_documents"."title", NULL::void,"#)
    );

    // A variant's own query leaves its column out too, and undefers it.
    let notes = db
        .fetch_all(select::<Note>().order_by(Note::id))
        .await
        .unwrap();
    assert_eq!(notes.len(), 2);
    assert_not_loaded(&notes[0].body, "Note", "body");
    let notes = db
        .fetch_all(select::<Note>().undefer(Note::body).order_by(Note::id))
        .await
        .unwrap();
    assert_eq!(notes[1].body.get().unwrap(), "the body of n2");
}

#[orm_postgres::test(tables(Doc))]
async fn the_session_loads_them_later_and_writes_them_only_once_loaded(db: Database) {
    seed_docs(&db).await;
    let mut s = db.session();
    let docs = s.all(select::<Doc>().order_by(Note::id)).await.unwrap();
    let n1 = docs[0].clone();
    // A change to another column: the UPDATE leaves the unloaded body alone.
    match &mut *n1.write() {
        Doc::Note(n) => n.title = "n1, renamed".into(),
        other => panic!("expected a note, got {other:?}"),
    }
    let log = db.statement_log();
    s.flush().await.unwrap();
    let sql = log.finish();
    assert_eq!(sql.len(), 1, "{sql:?}");
    assert!(sql[0].contains(r#"SET "title""#), "{}", sql[0]);
    assert!(!sql[0].contains("body"), "{}", sql[0]);

    // The explicit load, naming the variant's column: one query (in the session's
    // transaction, after the UPDATE: the body is still there), not a change.
    let log = db.statement_log();
    s.load_deferred(&n1, Note::body).await.unwrap();
    assert_eq!(log.finish().len(), 1);
    assert_eq!(as_note(&n1.read()).body.get().unwrap(), "the body of n1");
    assert!(!n1.is_modified());

    // A later query that loads a deferred column fills it into the object in the identity map.
    let s2 = docs[1].clone();
    assert_not_loaded(&as_scan(&s2.read()).image, "Scan", "image");
    let again = s
        .all(
            select::<Doc>()
                .undefer(Scan::image)
                .filter(Scan::pages.eq(3)),
        )
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        as_scan(&s2.read()).image.get().unwrap().as_deref(),
        Some(&b"\x89PNG"[..])
    );

    // Writing a loaded deferred column: the UPDATE sets it.
    match &mut *n1.write() {
        Doc::Note(n) => n.body.set("a new body".into()),
        other => panic!("expected a note, got {other:?}"),
    }
    s.commit().await.unwrap();
    let body = db
        .fetch_one(query::<String>(
            "SELECT body FROM dv_documents WHERE title = 'n1, renamed'",
        ))
        .await
        .unwrap();
    assert_eq!(body, "a new body");

    // Outside a session: `load_deferred` on a plain enum value.
    let mut d = db
        .fetch_one(select::<Doc>().filter(Note::title.eq("n2")))
        .await
        .unwrap();
    db.load_deferred(&mut d, Note::body).await.unwrap();
    assert_eq!(as_note(&d).body.get().unwrap(), "the body of n2");
}

/// Joined-table: a medium is a video (its transcript deferred, in `dv_videos`) or a photo
/// (no deferred column); the shared title is in `dv_media`.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "dv_media", discriminator = "kind")]
pub enum Medium {
    #[model(value = "video")]
    Video(Video),
    #[model(value = "photo")]
    Photo(Photo),
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Medium, table = "dv_videos")]
pub struct Video {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(shared)]
    pub title: String,
    pub seconds: i32,
    #[model(deferred)]
    pub transcript: Deferred<String>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Medium, table = "dv_photos")]
pub struct Photo {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(shared)]
    pub title: String,
    pub width: i32,
}

fn as_video(m: &Medium) -> &Video {
    match m {
        Medium::Video(v) => v,
        other => panic!("expected a video, got {other:?}"),
    }
}

#[orm_postgres::test(tables(Medium))]
async fn a_joined_table_enum_leaves_them_out_in_both_loading_forms(db: Database) {
    let mut s = db.session();
    s.add(Medium::from(Video {
        id: 0,
        title: "talk".into(),
        seconds: 600,
        transcript: Deferred::new("hello and welcome".into()),
    }));
    s.add(Medium::from(Photo {
        id: 0,
        title: "sunset".into(),
        width: 1024,
    }));
    s.commit().await.unwrap();

    // The joined form.
    let all = assert_queries!(
        db,
        [
            r#"SELECT "dv_media"."id", "dv_media"."title", "dv_videos"."seconds", NULL::void, "dv_media"."kind", "dv_photos"."width" FROM "dv_media" LEFT JOIN "dv_videos" ON "dv_videos"."id" = "dv_media"."id" LEFT JOIN "dv_photos" ON "dv_photos"."id" = "dv_media"."id" ORDER BY "dv_media"."id""#
        ],
        async { db.fetch_all(select::<Medium>().order_by(Video::id)).await }
    )
    .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(as_video(&all[0]).seconds, 600);
    assert_not_loaded(&as_video(&all[0]).transcript, "Video", "transcript");
    assert!(matches!(&all[1], Medium::Photo(p) if p.width == 1024 && p.title == "sunset"));

    // Undeferred: the column of its home table.
    let q = select::<Medium>()
        .undefer(Video::transcript)
        .order_by(Video::id);
    assert!(
        q.compile()
            .unwrap()
            .sql
            .contains(r#""dv_videos"."seconds", "dv_videos"."transcript", "dv_media"."kind""#),
        "{}",
        q.compile().unwrap().sql
    );
    let all = db.fetch_all(q).await.unwrap();
    assert_eq!(
        as_video(&all[0]).transcript.get().unwrap(),
        "hello and welcome"
    );

    // The selectin form: still selectin (not the joined fallback), the placeholder kept in
    // the variant's query.
    let all = assert_queries!(
        db,
        [
            r#"SELECT "dv_media"."id", "dv_media"."kind" FROM "dv_media" ORDER BY "dv_media"."id""#,
            r#"SELECT "dv_media"."id", "dv_media"."title", "dv_videos"."seconds", NULL::void, "dv_media"."kind", NULL FROM "dv_media" JOIN "dv_videos" ON "dv_videos"."id" = "dv_media"."id" WHERE "dv_media"."id" = ANY($1)"#,
            r#"SELECT * FROM "dv_media" JOIN "dv_photos" *"#
        ],
        async {
            db.fetch_all(
                select::<Medium>()
                    .polymorphic(PolymorphicLoad::SelectIn)
                    .order_by(Video::id),
            )
            .await
        }
    )
    .unwrap();
    assert_eq!(all.len(), 2);
    assert_not_loaded(&as_video(&all[0]).transcript, "Video", "transcript");
    // Selectin and undeferred: the variant's query reads it.
    let all = assert_queries!(
        db,
        [
            r#"SELECT "dv_media"."id", "dv_media"."kind" FROM "dv_media" ORDER BY "dv_media"."id""#,
            r#"SELECT "dv_media"."id", "dv_media"."title", "dv_videos"."seconds", "dv_videos"."transcript", "dv_media"."kind", NULL FROM "dv_media" JOIN "dv_videos" ON "dv_videos"."id" = "dv_media"."id" WHERE "dv_media"."id" = ANY($1)"#,
            r#"SELECT * FROM "dv_media" JOIN "dv_photos" *"#
        ],
        async {
            db.fetch_all(
                select::<Medium>()
                    .polymorphic(PolymorphicLoad::SelectIn)
                    .undefer(Video::transcript)
                    .order_by(Video::id),
            )
            .await
        }
    )
    .unwrap();
    assert_eq!(
        as_video(&all[0]).transcript.get().unwrap(),
        "hello and welcome"
    );

    // The session: a change to the shared title leaves the subtype table alone; the
    // transcript, loaded later and changed, is written to its own table.
    let mut s = db.session();
    let v = s
        .one(select::<Medium>().filter(Video::seconds.eq(600)))
        .await
        .unwrap();
    match &mut *v.write() {
        Medium::Video(video) => video.title = "the talk".into(),
        other => panic!("expected a video, got {other:?}"),
    }
    let log = db.statement_log();
    s.flush().await.unwrap();
    let sql = log.finish();
    assert_eq!(sql.len(), 1, "{sql:?}");
    assert!(
        sql[0].starts_with(r#"UPDATE "dv_media" SET "title""#),
        "{}",
        sql[0]
    );
    s.load_deferred(&v, Video::transcript).await.unwrap();
    match &mut *v.write() {
        Medium::Video(video) => video.transcript.set("bye".into()),
        other => panic!("expected a video, got {other:?}"),
    }
    let log = db.statement_log();
    s.commit().await.unwrap();
    let sql = log.finish();
    assert!(
        sql.iter()
            .any(|q| q.starts_with(r#"UPDATE "dv_videos" SET "transcript""#)),
        "{sql:?}"
    );
    let row = db
        .fetch_one(query::<(String, String)>(
            "SELECT m.title, v.transcript FROM dv_media m JOIN dv_videos v USING (id)",
        ))
        .await
        .unwrap();
    assert_eq!(row, ("the talk".to_owned(), "bye".to_owned()));
}
