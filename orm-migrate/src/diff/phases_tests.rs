//! Which phase each operation goes to, and in which form (no server: the integration tests in
//! `tests/autogenerate/safe.rs` run the phases).

use super::*;
use crate::diff::{DiffOptions, diff};
use crate::model_schema::Renames;
use crate::schema::{Check, EnumType, ForeignKey, PrimaryKey, Schema, Table, Unique};

fn name(table: &str) -> QualifiedName {
    QualifiedName::new("public", table)
}

fn column(n: &str, ty: &str, nullable: bool) -> Column {
    Column {
        name: n.into(),
        data_type: ty.into(),
        nullable,
        default: None,
        identity: None,
        generated: None,
        collation: None,
        comment: None,
    }
}

fn table(n: &str, columns: Vec<Column>) -> Table {
    Table {
        columns,
        ..Table::new(name(n))
    }
}

fn schema(tables: Vec<Table>) -> Schema {
    let mut s = Schema::default();
    s.schemas.insert("public".into());
    for t in tables {
        s.tables.insert(t.name.clone(), t);
    }
    s
}

fn index(n: &str, t: &str, column: &str, unique: bool) -> Index {
    Index {
        name: n.into(),
        unique,
        method: "btree".into(),
        keys: vec![column.into()],
        include: vec![],
        nulls_not_distinct: false,
        with: Vec::new(),
        predicate: None,
        definition: format!(
            "CREATE {}INDEX {n} ON public.{t} USING btree ({column})",
            if unique { "UNIQUE " } else { "" }
        ),
        valid: true,
    }
}

fn fk(n: &str, column: &str, references: &str) -> ForeignKey {
    ForeignKey {
        name: n.into(),
        columns: vec![column.into()],
        references: name(references),
        referenced_columns: vec!["id".into()],
        on_delete: crate::schema::FkAction::NoAction,
        on_update: crate::schema::FkAction::NoAction,
        deferrable: false,
        initially_deferred: false,
        validated: true,
    }
}

fn author() -> Table {
    let mut t = table(
        "author",
        vec![column("id", "bigint", false), column("name", "text", true)],
    );
    t.primary_key = Some(PrimaryKey {
        name: "author_pkey".into(),
        columns: vec!["id".into()],
    });
    t
}

fn phases(from: &Schema, to: &Schema) -> Vec<Phase> {
    diff(from, to, &DiffOptions::default()).phases()
}

fn kinds(phases: &[Phase]) -> Vec<PhaseKind> {
    phases.iter().map(|p| p.kind).collect()
}

#[test]
fn no_change_has_no_phase_and_a_plain_change_one_main_phase() {
    let s = schema(vec![author()]);
    assert!(phases(&s, &s).is_empty());
    let mut to = author();
    to.columns.push(column("born", "date", true));
    let p = phases(&s, &schema(vec![to]));
    assert_eq!(kinds(&p), [PhaseKind::Main]);
    assert!(p[0].transactional());
    assert_eq!(p[0].message("add born"), "add born");
    assert_eq!(
        p[0].up_sql(),
        "-- add column public.author.born\nALTER TABLE public.author ADD COLUMN born date;\n\n"
    );
}

#[test]
fn new_tables_keep_the_plain_forms_in_the_main_phase() {
    let from = schema(vec![author()]);
    let mut book = table(
        "book",
        vec![
            column("id", "bigint", false),
            column("author_id", "bigint", false),
        ],
    );
    book.indexes.insert(
        "ix_book_author_id".into(),
        index("ix_book_author_id", "book", "author_id", false),
    );
    book.foreign_keys.insert(
        "book_author_id_fkey".into(),
        fk("book_author_id_fkey", "author_id", "author"),
    );
    book.checks.insert(
        "book_id_check".into(),
        Check {
            name: "book_id_check".into(),
            definition: "CHECK ((id > 0))".into(),
            validated: true,
        },
    );
    let p = phases(&from, &schema(vec![author(), book]));
    assert_eq!(kinds(&p), [PhaseKind::Main]);
    let up = p[0].up_sql();
    assert!(
        up.contains("CREATE INDEX ix_book_author_id ON public.book"),
        "{up}"
    );
    assert!(
        up.contains(
            "ALTER TABLE public.book ADD CONSTRAINT book_author_id_fkey FOREIGN KEY (author_id) \
             REFERENCES public.author (id);"
        ),
        "{up}"
    );
    assert!(
        !up.contains("NOT VALID") && !up.contains("CONCURRENTLY"),
        "{up}"
    );
}

#[test]
fn existing_tables_get_the_safe_forms_in_the_after_phase() {
    let mut book = table(
        "book",
        vec![
            column("id", "bigint", false),
            column("author_id", "bigint", true),
            column("isbn", "text", true),
            column("title", "character varying(80)", true),
        ],
    );
    let from = schema(vec![author(), book.clone()]);
    book.primary_key = Some(PrimaryKey {
        name: "book_pkey".into(),
        columns: vec!["id".into()],
    });
    book.foreign_keys.insert(
        "book_author_id_fkey".into(),
        fk("book_author_id_fkey", "author_id", "author"),
    );
    book.uniques.insert(
        "book_isbn_key".into(),
        Unique {
            name: "book_isbn_key".into(),
            columns: vec!["isbn".into()],
            nulls_not_distinct: false,
        },
    );
    book.indexes.insert(
        "ix_book_title".into(),
        index("ix_book_title", "book", "title", false),
    );
    // A type change and NOT NULL at once: the type in the main phase, NOT NULL after.
    book.columns[3] = column("title", "text", false);
    let p = phases(&from, &schema(vec![author(), book]));
    assert_eq!(kinds(&p), [PhaseKind::Main, PhaseKind::After]);
    assert_eq!(
        p.iter().map(|p| p.message("m")).collect::<Vec<_>>(),
        ["m", "after: m"]
    );
    assert!(p[0].transactional());
    assert!(!p[1].transactional());
    let main = p[0].up_sql();
    assert!(
        main.contains("ALTER COLUMN title TYPE text USING title::text;"),
        "{main}"
    );
    assert!(!main.contains("NOT NULL"), "{main}");
    let described: Vec<String> = p[1].migration.ops.iter().map(Op::describe).collect();
    assert_eq!(
        described,
        [
            "alter column public.book.title (set not null, proved first by a validated check)",
            "add primary key book_pkey on public.book (on an index built CONCURRENTLY)",
            "add unique constraint book_isbn_key on public.book (on an index built CONCURRENTLY)",
            "create index ix_book_title on public.book",
            "add foreign key book_author_id_fkey on public.book (NOT VALID, then validated)",
        ]
    );
    let after = p[1].up_sql();
    assert!(
        after.starts_with("-- Runs outside a transaction, after"),
        "{after}"
    );
    assert!(
        after.contains("CREATE INDEX CONCURRENTLY ix_book_title ON public.book"),
        "{after}"
    );
    // Downgrade: the plain drops, last first.
    let down = p[1].down_sql();
    let order: Vec<usize> = [
        "DROP CONSTRAINT book_author_id_fkey;",
        "DROP INDEX CONCURRENTLY IF EXISTS public.ix_book_title;",
        "DROP CONSTRAINT book_isbn_key;",
        "DROP CONSTRAINT book_pkey;",
        "ALTER COLUMN title DROP NOT NULL;",
    ]
    .iter()
    .map(|s| {
        down.find(s)
            .unwrap_or_else(|| panic!("{s} missing in {down}"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{down}");
}

#[test]
fn a_key_referencing_a_unique_constraint_added_after_waits_for_it() {
    let mut author_from = author();
    author_from.columns.push(column("code", "text", false));
    let from = schema(vec![author_from.clone()]);
    let mut author_to = author_from;
    author_to.uniques.insert(
        "author_code_key".into(),
        Unique {
            name: "author_code_key".into(),
            columns: vec!["code".into()],
            nulls_not_distinct: false,
        },
    );
    let mut quote = table(
        "quote",
        vec![
            column("id", "bigint", false),
            column("author_code", "text", true),
        ],
    );
    let mut key = fk("quote_author_code_fkey", "author_code", "author");
    key.referenced_columns = vec!["code".into()];
    quote.foreign_keys.insert(key.name.clone(), key);
    let p = phases(&from, &schema(vec![author_to, quote]));
    assert_eq!(kinds(&p), [PhaseKind::Main, PhaseKind::After]);
    assert!(p[0].up_sql().contains("CREATE TABLE public.quote"));
    assert!(!p[0].up_sql().contains("FOREIGN KEY"));
    let after = p[1].up_sql();
    let unique = after
        .find("UNIQUE USING INDEX author_code_key")
        .expect(&after);
    let key = after
        .find("VALIDATE CONSTRAINT quote_author_code_fkey")
        .expect(&after);
    assert!(unique < key, "{after}");
}

#[test]
fn enum_labels_and_dropped_indexes_go_before_named_as_they_were() {
    let mood = EnumType {
        name: name("mood"),
        labels: vec!["sad".into(), "happy".into()],
    };
    let mut writer = table(
        "writer",
        vec![
            column("id", "bigint", false),
            column("name", "text", true),
            column("mood", "public.mood", true),
        ],
    );
    writer
        .indexes
        .insert("ix_name".into(), index("ix_name", "writer", "name", false));
    let mut from = schema(vec![writer]);
    from.enums.insert(mood.name.clone(), mood.clone());

    // Renamed to author(full_name), the index gone, a label added.
    let mut author = table(
        "author",
        vec![
            column("id", "bigint", false),
            column("full_name", "text", true),
            column("mood", "public.mood", true),
        ],
    );
    author.comment = None;
    let mut to = schema(vec![author]);
    to.enums.insert(
        mood.name.clone(),
        EnumType {
            labels: vec!["sad".into(), "ok".into(), "happy".into()],
            ..mood
        },
    );
    let mut renames = Renames::default();
    renames.tables.insert(name("author"), "writer".into());
    renames
        .columns
        .insert((name("author"), "full_name".into()), "name".into());
    let m = diff(
        &from,
        &to,
        &DiffOptions {
            renames,
            ..DiffOptions::default()
        },
    );
    let p = m.phases();
    assert_eq!(kinds(&p), [PhaseKind::Before, PhaseKind::Main]);
    assert_eq!(p[0].message("m"), "before: m");
    assert!(!p[0].transactional());
    assert_eq!(
        p[0].up_sql(),
        "-- Runs outside a transaction, before the main revision: new enum labels are\n\
         -- committed before anything uses them, and indexes that go are dropped\n\
         -- CONCURRENTLY, without blocking writes.\n\n\
         -- add value \"ok\" to enum public.mood\n\
         ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'ok' BEFORE 'happy';\n\n\
         -- drop index ix_name on public.writer\n\
         DROP INDEX CONCURRENTLY IF EXISTS public.ix_name;\n\n"
    );
    // The downgrade runs once the main phase's has renamed everything back.
    let down = p[0].down_sql();
    assert!(
        down.contains("CREATE INDEX CONCURRENTLY ix_name ON public.writer USING btree (name);"),
        "{down}"
    );
    assert!(
        down.contains("ALTER TABLE public.writer ALTER COLUMN mood TYPE public.mood"),
        "{down}"
    );
    assert!(!down.contains("author"), "{down}");
    let main = p[1].up_sql();
    assert!(
        main.contains("ALTER TABLE public.writer RENAME TO author;"),
        "{main}"
    );
    assert!(!main.contains("INDEX"), "{main}");
}

#[test]
fn a_unique_index_a_dropped_key_relies_on_is_dropped_after_the_key() {
    let mut a = author();
    a.columns.push(column("code", "text", false));
    a.indexes.insert(
        "author_code".into(),
        index("author_code", "author", "code", true),
    );
    let mut quote = table(
        "quote",
        vec![column("id", "bigint", false), column("code", "text", true)],
    );
    let mut key = fk("quote_code_fkey", "code", "author");
    key.referenced_columns = vec!["code".into()];
    quote.foreign_keys.insert(key.name.clone(), key);
    let from = schema(vec![a.clone(), quote.clone()]);
    a.indexes.clear();
    quote.foreign_keys.clear();
    let p = phases(&from, &schema(vec![a, quote]));
    assert_eq!(kinds(&p), [PhaseKind::Main]);
    let up = p[0].up_sql();
    let key = up.find("DROP CONSTRAINT quote_code_fkey").expect(&up);
    let index = up.find("DROP INDEX public.author_code").expect(&up);
    assert!(key < index, "{up}");
}

#[test]
fn partitioned_tables_keep_the_plain_forms() {
    let mut m = table(
        "measurement",
        vec![column("id", "bigint", false), column("at", "date", true)],
    );
    m.partition_by = Some("RANGE (at)".into());
    let from = schema(vec![m.clone()]);
    m.indexes
        .insert("ix_at".into(), index("ix_at", "measurement", "at", false));
    let p = phases(&from, &schema(vec![m]));
    assert_eq!(kinds(&p), [PhaseKind::Main]);
    assert!(p[0].transactional());
    assert!(
        p[0].up_sql()
            .contains("CREATE INDEX ix_at ON public.measurement")
    );
}

#[test]
fn warnings_go_with_the_main_phase_or_the_first() {
    let mut with_notes = author();
    with_notes.columns.retain(|c| c.name != "name");
    with_notes.indexes.insert(
        "ix_author_id".into(),
        index("ix_author_id", "author", "id", false),
    );
    let p = phases(&schema(vec![author()]), &schema(vec![with_notes]));
    assert_eq!(kinds(&p), [PhaseKind::Main, PhaseKind::After]);
    assert!(
        p[0].up_sql()
            .starts_with("-- WARNING: drop column public.author.name")
    );
    assert!(!p[1].up_sql().contains("WARNING"));
    let mut m = diff(
        &schema(vec![author()]),
        &schema(vec![author()]),
        &DiffOptions::default(),
    );
    m.warnings.push("a note".into());
    m.ops.push(Op::CreateIndex {
        table: name("author"),
        index: index("ix_author_id", "author", "id", false),
        concurrently: false,
    });
    let p = m.phases();
    assert_eq!(kinds(&p), [PhaseKind::After]);
    assert_eq!(
        p[0].message("m"),
        "m",
        "a phase alone takes the message as it is"
    );
    assert!(p[0].up_sql().contains("-- WARNING: a note"));
}

/// How many times `down` recreates enum `public.<name>`.
fn recreations(down: &str, name: &str) -> usize {
    down.matches(&format!("ALTER TYPE public.{name} RENAME TO"))
        .count()
}

#[test]
fn labels_added_together_come_back_out_in_one_recreation_of_the_enum() {
    let mood = EnumType {
        name: name("mood"),
        labels: vec!["sad".into(), "happy".into()],
    };
    let writer = table(
        "writer",
        vec![
            column("id", "bigint", false),
            column("mood", "public.mood", true),
        ],
    );
    let mut from = schema(vec![writer.clone()]);
    from.enums.insert(mood.name.clone(), mood.clone());
    let mut to = schema(vec![writer]);
    to.enums.insert(
        mood.name.clone(),
        EnumType {
            labels: vec![
                "angry".into(),
                "sad".into(),
                "ok".into(),
                "happy".into(),
                "elated".into(),
            ],
            ..mood
        },
    );
    let p = phases(&from, &to);
    assert_eq!(p[0].up_sql().matches("ADD VALUE").count(), 3);
    // One recreation, from every label back to the two there were, and one rewrite of the
    // column that uses the type (not one per label).
    let down = p[0].down_sql();
    assert_eq!(recreations(&down, "mood"), 1, "{down}");
    assert_eq!(down.matches("ALTER COLUMN mood TYPE").count(), 1, "{down}");
    assert!(
        down.contains("CREATE TYPE public.mood AS ENUM ('sad', 'happy')"),
        "{down}"
    );
}

#[test]
fn only_added_labels_of_one_enum_share_a_recreation() {
    let add = |enum_name: &str, label: &str, previous: &[&str]| Op::AddEnumValue {
        name: name(enum_name),
        label: label.into(),
        before: None,
        previous: previous.iter().map(|l| l.to_string()).collect(),
        uses: Vec::new(),
    };
    let recreate = Op::RecreateEnum {
        name: name("mood"),
        from: vec!["sad".into(), "ok".into()],
        to: vec!["sad".into()],
        uses: Vec::new(),
    };
    let m = Migration {
        ops: vec![
            // A recreation written by hand, then two labels of mood, one of another enum
            // between them.
            recreate,
            add("mood", "ok", &["sad"]),
            add("tone", "loud", &["soft"]),
            add("mood", "happy", &["sad", "ok"]),
        ],
        ..Migration::default()
    };
    let down = m.down_sql();
    // Each label undone on its own (another enum's in between), and the hand-written
    // recreation undone on its own too.
    assert_eq!(recreations(&down, "mood"), 3, "{down}");
    assert_eq!(recreations(&down, "tone"), 1, "{down}");
    // A label added after a hand-written recreation: each undone on its own.
    let m = Migration {
        ops: vec![
            add("mood", "ok", &["sad"]),
            Op::RecreateEnum {
                name: name("mood"),
                from: vec!["sad".into(), "ok".into()],
                to: vec!["sad".into(), "ok".into(), "x".into()],
                uses: Vec::new(),
            },
        ],
        ..Migration::default()
    };
    assert_eq!(recreations(&m.down_sql(), "mood"), 2);
    // Adjacent labels of one enum: one recreation.
    let m = Migration {
        ops: vec![
            add("mood", "ok", &["sad"]),
            add("mood", "happy", &["sad", "ok"]),
        ],
        ..Migration::default()
    };
    let down = m.down_sql();
    assert_eq!(recreations(&down, "mood"), 1, "{down}");
    assert!(
        down.contains("CREATE TYPE public.mood AS ENUM ('sad')"),
        "{down}"
    );
}
