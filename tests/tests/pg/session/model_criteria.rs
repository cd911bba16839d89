//! A model's own global criteria, `#[model(criteria = Self::not_deleted)]`: with nothing set on
//! the database handle or the session, no path of the session — queries, `get` (also of an
//! object loaded before the row was soft-deleted), counts, relationship loads of every strategy,
//! explicit loads, refresh — returns a soft-deleted note; `without_criteria()` and
//! `remove_criteria` do, and Core statements on the database run as written.

use chrono::{DateTime, Utc};

use super::*;

/// A folder of notes.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "mc_folder")]
pub struct Folder {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    #[relationship(has_many = Note, foreign_key = "folder_id", order_by = "id", back_populates = "folder")]
    pub notes: Related<Vec<Note>>,
}

/// A note; soft-deleted when `deleted_at` is set, which hides it everywhere in the session.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "mc_note", criteria = Self::not_deleted)]
pub struct Note {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "mc_folder.id")]
    pub folder_id: i64,
    pub title: String,
    pub deleted_at: Option<DateTime<Utc>>,
    #[relationship(belongs_to = Folder, foreign_key = "folder_id", back_populates = "notes")]
    pub folder: Related<Folder>,
}

impl Note {
    fn not_deleted() -> Expr<bool> {
        Note::deleted_at.is_null()
    }
}

/// Folder `f` holds live note `live` and soft-deleted note `gone`; folder `empty` holds only
/// a soft-deleted one.
struct Fixture {
    t: TestDatabase,
    live: i64,
    gone: i64,
}

async fn fixture() -> Fixture {
    let t = test_database().await.unwrap();
    t.create_all(&[Folder::TABLE, Note::TABLE]).await.unwrap();
    let folders = t
        .fetch_all(insert_many(&[
            Folder {
                name: "f".into(),
                ..Folder::default()
            },
            Folder {
                name: "empty".into(),
                ..Folder::default()
            },
        ]))
        .await
        .unwrap();
    let note = |folder: &Folder, title: &str, deleted: bool| Note {
        folder_id: folder.id,
        title: title.into(),
        deleted_at: deleted.then(Utc::now),
        ..Note::default()
    };
    let notes = t
        .fetch_all(insert_many(&[
            note(&folders[0], "live", false),
            note(&folders[0], "gone", true),
            note(&folders[1], "old", true),
        ]))
        .await
        .unwrap();
    Fixture {
        live: notes[0].id,
        gone: notes[1].id,
        t,
    }
}

fn titles(notes: &[Tracked<Note>]) -> Vec<String> {
    notes.iter().map(|n| n.read().title.clone()).collect()
}

#[test]
fn the_condition_goes_where_the_table_is_read() {
    let criteria = orm_postgres::stmt::Criteria::new();
    assert!(criteria.covers::<Note>() && !criteria.covers::<Folder>());
    let q = select::<Folder>()
        .join_fk::<Note>()
        .filter(Note::title.eq("x"));
    insta::assert_snapshot!(q.compile_with(&criteria).unwrap().sql, @r#"SELECT "mc_folder"."id", "mc_folder"."name" FROM "mc_folder" JOIN "mc_note" ON ("mc_note"."folder_id" = "mc_folder"."id") AND ("mc_note"."deleted_at" IS NULL) WHERE "mc_note"."title" = $1"#);
    let q = update::<Note>().set(Note::title, "x");
    insta::assert_snapshot!(q.compile_with(&criteria).unwrap().sql, @r#"UPDATE "mc_note" SET "title" = $1 WHERE "mc_note"."deleted_at" IS NULL"#);
    // Written as is without criteria (Core on the database).
    assert!(
        !select::<Note>()
            .compile()
            .unwrap()
            .sql
            .contains("deleted_at\" IS NULL")
    );
}

#[tokio::test]
async fn queries_get_and_counts_see_only_live_notes() {
    let f = fixture().await;
    let mut s = f.t.session();
    let all = s
        .all(select::<Note>().order_by(Note::id.asc()))
        .await
        .unwrap();
    assert_eq!(titles(&all), ["live"]);
    assert!(s.get::<Note>(f.gone).await.unwrap().is_none());
    assert!(s.get::<Note>(f.live).await.unwrap().is_some());
    let count: i64 = s.fetch_one(select::<Note>().count()).await.unwrap();
    assert_eq!(count, 1);
    // No tracking reads too.
    let plain = s.fetch_all(select::<Note>()).await.unwrap();
    assert_eq!(plain.len(), 1);
    // Core on the database: as written.
    let everything = f.t.fetch_all(select::<Note>()).await.unwrap();
    assert_eq!(everything.len(), 3);
}

#[tokio::test]
async fn an_object_soft_deleted_after_loading_is_gone_from_get_and_refresh() {
    let f = fixture().await;
    let mut s = f.t.session();
    let live = s.get::<Note>(f.live).await.unwrap().unwrap();
    f.t.batch_execute(&format!(
        "UPDATE mc_note SET deleted_at = now() WHERE id = {}",
        f.live
    ))
    .await
    .unwrap();
    s.rollback().await.unwrap();
    assert!(s.get::<Note>(f.live).await.unwrap().is_none());
    let err = s.refresh(&live).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::ObjectState(_)), "{err}");
    assert!(err.to_string().contains("criteria"), "{err}");
}

/// Loads each folder's notes with `strategy`, through the session and through a no-tracking
/// read; then the notes' folders and their notes (a belongs-to, then a has-many).
async fn check_loads<L>(f: &Fixture, load: impl Fn() -> L)
where
    L: orm_postgres::load::IntoLoader<Folder>,
{
    let mut s = f.t.session();
    let folders = s
        .all(select::<Folder>().order_by(Folder::id.asc()).load(load()))
        .await
        .unwrap();
    assert_eq!(
        folders.len(),
        2,
        "a folder whose notes are all hidden stays"
    );
    let loaded: Vec<Vec<String>> = folders
        .iter()
        .map(|p| titles(&s.related(p, Folder::notes).unwrap()))
        .collect();
    assert_eq!(loaded, [vec!["live".to_string()], vec![]]);
    let plain = s
        .fetch_all(select::<Folder>().order_by(Folder::id.asc()).load(load()))
        .await
        .unwrap();
    let plain: Vec<usize> = plain.iter().map(|f| f.notes.get().unwrap().len()).collect();
    assert_eq!(plain, [1, 0]);
}

#[tokio::test]
async fn selectin_loads_leave_out_hidden_notes() {
    check_loads(&fixture().await, || Folder::notes.selectin()).await;
}

#[tokio::test]
async fn joined_loads_filter_in_the_join_and_keep_folders_without_notes() {
    check_loads(&fixture().await, || Folder::notes.joined()).await;
}

#[tokio::test]
async fn subquery_loads_leave_out_hidden_notes() {
    check_loads(&fixture().await, || Folder::notes.subquery()).await;
}

#[tokio::test]
async fn explicit_and_nested_loads_are_filtered() {
    let f = fixture().await;
    let mut s = f.t.session();
    let folders = s
        .all(select::<Folder>().order_by(Folder::id.asc()))
        .await
        .unwrap();
    s.load(&folders, Folder::notes.selectin()).await.unwrap();
    assert_eq!(
        titles(&s.related(&folders[0], Folder::notes).unwrap()),
        ["live"]
    );
    let notes = s
        .all(select::<Note>().load(Note::folder.selectin().load(Folder::notes.joined())))
        .await
        .unwrap();
    assert_eq!(titles(&notes), ["live"]);
    let folder = s.related_one(&notes[0], Note::folder).unwrap().unwrap();
    assert_eq!(
        titles(&s.related(&folder, Folder::notes).unwrap()),
        ["live"]
    );
}

#[tokio::test]
async fn the_escape_hatches_see_hidden_notes() {
    let f = fixture().await;
    let mut s = f.t.session();
    // One statement, and its relationship loads.
    let all = s
        .all(select::<Note>().without_criteria().order_by(Note::id.asc()))
        .await
        .unwrap();
    assert_eq!(titles(&all), ["live", "gone", "old"]);
    let folders = s
        .fetch_all(
            select::<Folder>()
                .without_criteria()
                .order_by(Folder::id.asc())
                .load(Folder::notes.selectin()),
        )
        .await
        .unwrap();
    assert_eq!(folders[0].notes.get().unwrap().len(), 2);
    // The whole session: the model's own criteria are removed, once.
    let mut s = f.t.session();
    assert!(s.remove_criteria::<Note>());
    assert!(!s.remove_criteria::<Note>());
    assert!(s.get::<Note>(f.gone).await.unwrap().is_some());
    let count: i64 = s.fetch_one(select::<Note>().count()).await.unwrap();
    assert_eq!(count, 3);
    // A session criteria added afterwards applies alone.
    s.with_criteria::<Note>(Note::title.eq("old")).unwrap();
    let old = s.all(select::<Note>()).await.unwrap();
    assert_eq!(titles(&old), ["old"]);
}

#[tokio::test]
async fn session_criteria_are_anded_with_the_models_own() {
    let f = fixture().await;
    let mut s = f.t.session();
    s.with_criteria::<Note>(Note::title.ne("live")).unwrap();
    assert!(s.all(select::<Note>()).await.unwrap().is_empty());
    let db = f.t.with_criteria::<Note>(Note::title.eq("gone")).unwrap();
    let mut s = db.session();
    assert!(s.all(select::<Note>()).await.unwrap().is_empty());
    assert!(s.get::<Note>(f.gone).await.unwrap().is_none());
}

#[tokio::test]
async fn a_key_lookup_compiled_from_its_shape_s_template_keeps_the_criteria() {
    let f = fixture().await;
    let mut s = f.t.session();
    // The first lookups compile the shape `select::<Note>().by_pk(_)`; the later ones take
    // its text from the template, and the session's criteria must still reach them.
    for _ in 0..3 {
        assert!(
            s.all(select::<Note>().by_pk(f.gone))
                .await
                .unwrap()
                .is_empty()
        );
        let live = s.all(select::<Note>().by_pk(f.live)).await.unwrap();
        assert_eq!(titles(&live), ["live"]);
        // Core on the database runs as written: the soft-deleted row is there.
        let gone = f.t.fetch_one(select::<Note>().by_pk(f.gone)).await.unwrap();
        assert_eq!(gone.title, "gone");
    }
}

#[tokio::test]
async fn a_joined_load_from_notes_keeps_their_criteria_on_the_notes() {
    let f = fixture().await;
    let mut s = f.t.session();
    let q = || {
        select::<Note>()
            .order_by(Note::id.asc())
            .load(Note::folder.joined())
    };
    // Joined as it is: the notes' criterion in its WHERE, each note with its folder.
    let notes = s.all(q()).await.unwrap();
    assert_eq!(titles(&notes), ["live"]);
    let folder = s.related_one(&notes[0], Note::folder).unwrap().unwrap();
    assert_eq!(folder.read().name, "f");
    // A criterion in raw SQL naming `id`, which the folders have too: the query is wrapped,
    // where the name is the note's (joined as it is, the server would refuse it as ambiguous).
    s.with_criteria::<Note>(orm_postgres::raw::text::<bool>("id > :n").bind("n", 0_i64))
        .unwrap();
    let notes = s.all(q()).await.unwrap();
    assert_eq!(titles(&notes), ["live"]);
    let folder = s.related_one(&notes[0], Note::folder).unwrap().unwrap();
    assert_eq!(folder.read().name, "f");
}
