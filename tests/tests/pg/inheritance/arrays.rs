//! Array columns on the variant structs of an inheritance enum, through the session: rows of
//! several variants in one `INSERT … FROM unnest(...)` and one `UPDATE … FROM unnest(...)`,
//! each array column flattened as a plain struct's is (a variant without the column sends a
//! `NULL` array), in one table and in joined tables (an array in the base table, shared by
//! the variants, and arrays in the subtype tables).

use orm_postgres::assert_queries;
use orm_postgres::prelude::*;

/// Single-table: a note is tagged, scored or plain. `scores` is a column of two variants.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "ar_notes", discriminator = "kind")]
pub enum Note {
    #[model(value = "tagged")]
    Tagged(Tagged),
    #[model(value = "scored")]
    Scored(Scored),
    #[model(value = "plain")]
    Plain(Plain),
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Note)]
pub struct Tagged {
    #[model(primary_key, generated)]
    pub id: i64,
    pub title: String,
    pub tags: Vec<String>,
    pub scores: Option<Vec<i32>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Note)]
pub struct Scored {
    #[model(primary_key, generated)]
    pub id: i64,
    pub title: String,
    pub scores: Option<Vec<i32>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Note)]
pub struct Plain {
    #[model(primary_key, generated)]
    pub id: i64,
    pub title: String,
}

fn tagged(title: &str, tags: &[&str], scores: Option<Vec<i32>>) -> Note {
    Note::from(Tagged {
        id: 0,
        title: title.into(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        scores,
    })
}

fn scored(title: &str, scores: Option<Vec<i32>>) -> Note {
    Note::from(Scored {
        id: 0,
        title: title.into(),
        scores,
    })
}

fn plain(title: &str) -> Note {
    Note::from(Plain {
        id: 0,
        title: title.into(),
    })
}

/// The objects `q` selects as a fresh session loads them, in its order, keys cleared by
/// `clear`.
async fn reloaded<M: orm_postgres::session::Persist + Clone>(
    db: &Database,
    q: orm_postgres::Select<M>,
    clear: fn(M) -> M,
) -> Vec<M> {
    let mut s = db.session();
    let loaded = s.all(q).await.unwrap();
    loaded.iter().map(|n| clear(n.read().clone())).collect()
}

/// Every note as a fresh session loads it, in key order, keys cleared.
async fn notes(db: &Database) -> Vec<Note> {
    reloaded(db, select::<Note>().order_by(Tagged::id), |n| match n {
        Note::Tagged(t) => Note::Tagged(Tagged { id: 0, ..t }),
        Note::Scored(t) => Note::Scored(Scored { id: 0, ..t }),
        Note::Plain(t) => Note::Plain(Plain { id: 0, ..t }),
    })
    .await
}

/// The raw array columns of `ar_notes`, in key order: what the variants without a column hold.
async fn raw_arrays(db: &Database) -> Vec<(Option<Vec<String>>, Option<Vec<i32>>)> {
    db.fetch_all(orm_postgres::raw::query::<(
        Option<Vec<String>>,
        Option<Vec<i32>>,
    )>("SELECT tags, scores FROM ar_notes ORDER BY id"))
        .await
        .unwrap()
}

#[orm_postgres::test(tables(Note))]
async fn a_single_table_enum_saves_changes_and_deletes_array_columns(db: Database) {
    let mut s = db.session();
    let added = s.add_all([
        tagged("a", &["x", "y \"q\",{}"], Some(vec![1, 2])),
        scored("b", None),
        plain("c"),
        tagged("d", &[], Some(vec![])),
        scored("e", Some(vec![7])),
        tagged("f", &["z"], None),
    ]);
    // Rows of every variant, arrays and all, in one INSERT.
    assert_queries!(
        s,
        ["BEGIN*", r#"INSERT INTO "ar_notes" *"#, "COMMIT"],
        async { s.commit().await }
    )
    .unwrap();
    let expected = vec![
        tagged("a", &["x", "y \"q\",{}"], Some(vec![1, 2])),
        scored("b", None),
        plain("c"),
        tagged("d", &[], Some(vec![])),
        scored("e", Some(vec![7])),
        tagged("f", &["z"], None),
    ];
    assert_eq!(notes(&db).await, expected);
    // A variant without the column holds NULL there; an empty array stays empty.
    let raw = raw_arrays(&db).await;
    assert_eq!(raw[1], (None, None));
    assert_eq!(raw[2], (None, None));
    assert_eq!(raw[3], (Some(vec![]), Some(vec![])));

    // The shared array column changed on two variants: one UPDATE for both (the load began
    // the transaction).
    let mut s = db.session();
    let loaded = s.all(select::<Note>().order_by(Tagged::id)).await.unwrap();
    assert_eq!(loaded.len(), added.len());
    match &mut *loaded[0].write() {
        Note::Tagged(t) => t.scores = Some(vec![3, 4, 5]),
        other => panic!("{other:?}"),
    }
    match &mut *loaded[1].write() {
        Note::Scored(t) => t.scores = Some(vec![]),
        other => panic!("{other:?}"),
    }
    match &mut *loaded[4].write() {
        Note::Scored(t) => t.scores = None,
        other => panic!("{other:?}"),
    }
    assert_queries!(
        s,
        [r#"UPDATE "ar_notes" SET "scores" = *"#, "COMMIT"],
        async { s.commit().await }
    )
    .unwrap();
    // Both array columns of one object, and a title beside them.
    match &mut *loaded[3].write() {
        Note::Tagged(t) => {
            t.tags = vec!["p".into(), "q".into()];
            t.scores = None;
            t.title = "dd".into();
        }
        other => panic!("{other:?}"),
    }
    s.commit().await.unwrap();
    let expected = vec![
        tagged("a", &["x", "y \"q\",{}"], Some(vec![3, 4, 5])),
        scored("b", Some(vec![])),
        plain("c"),
        tagged("dd", &["p", "q"], None),
        scored("e", None),
        tagged("f", &["z"], None),
    ];
    assert_eq!(notes(&db).await, expected);

    // Deleted through the session.
    for n in &loaded[..4] {
        s.delete(n).unwrap();
    }
    s.commit().await.unwrap();
    assert_eq!(notes(&db).await, expected[4..]);
}

#[orm_postgres::test(tables(Note))]
async fn insert_many_of_enum_rows_flattens_their_array_columns(db: Database) {
    let rows = vec![
        tagged("a", &["x"], Some(vec![1])),
        plain("b"),
        scored("c", Some(vec![2, 3])),
    ];
    let back = db.fetch_all(insert_many(&rows)).await.unwrap();
    assert_eq!(back.len(), 3);
    assert_eq!(notes(&db).await, rows);
    // The text does not depend on the rows, so it is prepared once.
    assert_eq!(
        insert_many(&rows[..1]).compile().unwrap().sql,
        insert_many(&rows).compile().unwrap().sql
    );
}

/// Joined-table: a document is a sheet or a memo; `keywords` is an array in the base table,
/// each variant has arrays of its own in its table.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "ar_docs", discriminator = "kind")]
pub enum Doc {
    #[model(value = "sheet")]
    Sheet(Sheet),
    #[model(value = "memo")]
    Memo(Memo),
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Doc, table = "ar_sheets")]
pub struct Sheet {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(shared)]
    pub keywords: Vec<String>,
    pub cells: Vec<i32>,
    pub labels: Option<Vec<String>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Doc, table = "ar_memos")]
pub struct Memo {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(shared)]
    pub keywords: Vec<String>,
    pub lines: Vec<String>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|t| (*t).to_owned()).collect()
}

fn sheet(keywords: &[&str], cells: Vec<i32>, labels: Option<&[&str]>) -> Doc {
    Doc::from(Sheet {
        id: 0,
        keywords: strings(keywords),
        cells,
        labels: labels.map(strings),
    })
}

fn memo(keywords: &[&str], lines: &[&str]) -> Doc {
    Doc::from(Memo {
        id: 0,
        keywords: strings(keywords),
        lines: strings(lines),
    })
}

/// Every document as a fresh session loads it, in key order, keys cleared.
async fn docs(db: &Database) -> Vec<Doc> {
    reloaded(db, select::<Doc>().order_by(Sheet::id), |d| match d {
        Doc::Sheet(t) => Doc::Sheet(Sheet { id: 0, ..t }),
        Doc::Memo(t) => Doc::Memo(Memo { id: 0, ..t }),
    })
    .await
}

#[orm_postgres::test(tables(Doc))]
async fn a_joined_table_enum_saves_changes_and_deletes_array_columns(db: Database) {
    let mut s = db.session();
    s.add_all([
        sheet(&["k1", "k2"], vec![1, 2, 3], Some(&["a"])),
        memo(&[], &["hello", "world"]),
        sheet(&["k3"], vec![], None),
        memo(&["k4"], &[]),
    ]);
    s.commit().await.unwrap();
    let expected = vec![
        sheet(&["k1", "k2"], vec![1, 2, 3], Some(&["a"])),
        memo(&[], &["hello", "world"]),
        sheet(&["k3"], vec![], None),
        memo(&["k4"], &[]),
    ];
    assert_eq!(docs(&db).await, expected);

    let mut s = db.session();
    let loaded = s.all(select::<Doc>().order_by(Sheet::id)).await.unwrap();
    // The base table's array on rows of both variants: one UPDATE of the base table.
    for d in &loaded {
        match &mut *d.write() {
            Doc::Sheet(x) => x.keywords.push("s".into()),
            Doc::Memo(x) => x.keywords.push("m".into()),
        }
    }
    assert_queries!(
        s,
        [r#"UPDATE "ar_docs" SET "keywords" = *"#, "COMMIT"],
        async { s.commit().await }
    )
    .unwrap();
    // The subtype tables' arrays.
    match &mut *loaded[0].write() {
        Doc::Sheet(x) => {
            x.cells = vec![9];
            x.labels = None;
        }
        other => panic!("{other:?}"),
    }
    match &mut *loaded[1].write() {
        Doc::Memo(x) => x.lines.clear(),
        other => panic!("{other:?}"),
    }
    match &mut *loaded[2].write() {
        Doc::Sheet(x) => {
            x.cells = vec![4, 5];
            x.labels = Some(vec![]);
        }
        other => panic!("{other:?}"),
    }
    s.commit().await.unwrap();
    let expected = vec![
        sheet(&["k1", "k2", "s"], vec![9], None),
        memo(&["m"], &[]),
        sheet(&["k3", "s"], vec![4, 5], Some(&[])),
        memo(&["k4", "m"], &[]),
    ];
    assert_eq!(docs(&db).await, expected);

    for d in &loaded[..3] {
        s.delete(d).unwrap();
    }
    s.commit().await.unwrap();
    assert_eq!(docs(&db).await, expected[3..]);
}

/// A large batch of new notes goes by `COPY` (each array encoded with its row), and reads
/// back as it was sent.
#[orm_postgres::test(tables(Note))]
async fn a_large_batch_of_notes_with_arrays_goes_by_copy(db: Database) {
    let batch: Vec<Note> = (0..1_200)
        .map(|i| match i % 3 {
            0 => tagged(
                &format!("t{i}"),
                &["a", "b"][..i % 2 + 1],
                Some(vec![i as i32]),
            ),
            1 => scored(&format!("s{i}"), (i % 2 == 0).then(Vec::new)),
            _ => plain(&format!("p{i}")),
        })
        .collect();
    let mut s = db.session();
    s.add_all(batch.clone());
    assert_queries!(
        s,
        [
            "BEGIN*",
            "WITH s AS MATERIALIZED *",
            r#"COPY "ar_notes" ("id", *) FROM STDIN (FORMAT binary)"#,
            "COMMIT"
        ],
        async { s.commit().await }
    )
    .unwrap();
    assert_eq!(notes(&db).await, batch);
}
