//! The safe forms on tables with rows: each case starts from a scratch database holding a
//! schema and rows, reflects it, diffs it against the target schema (reflected from another
//! scratch database), checks the phases' SQL, runs them through the runner (after checking
//! that PostgreSQL would refuse the work as one transaction where that is the point), checks
//! the database is exactly the target with its rows, and downgrades back to where it started.

use orm_migrate::diff::{DiffOptions, Migration, Phase, PhaseKind, diff};
use orm_migrate::model_schema::Renames;
use orm_migrate::schema::{QualifiedName, Schema};
use orm_migrate::{MigrateError, Revision, Target};
use orm_postgres::Database;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::{TestDatabase, test_database};

use super::ops::schema_from_ddl;
use super::{assert_schema, migrator, schema_of_db};

/// A scratch database holding `ddl` (tables and their rows), and its schema.
async fn database_with(ddl: &str) -> (TestDatabase, Schema) {
    let t = test_database().await.expect("db");
    t.batch_execute(ddl)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{ddl}"));
    let schema = schema_of_db(&t).await;
    (t, schema)
}

/// The phases as chained revisions, ids `20260101000001...`, messages as the CLI writes them.
fn chain(phases: &[Phase]) -> Vec<Revision> {
    let mut out: Vec<Revision> = Vec::new();
    for (i, p) in phases.iter().enumerate() {
        let parents: Vec<String> = out.last().map(|r| r.id.clone()).into_iter().collect();
        out.push(
            Revision::new(format!("202601010000{:02}", i + 1), &p.message("change"))
                .with_parents(parents)
                .with_transactional(p.transactional())
                .with_up(p.up_sql())
                .with_down(p.down_sql()),
        );
    }
    out
}

fn kinds(phases: &[Phase]) -> Vec<PhaseKind> {
    phases.iter().map(|p| p.kind).collect()
}

/// Each phase's up script without its header comment, and its down script.
fn scripts(phases: &[Phase]) -> Vec<(String, String)> {
    phases
        .iter()
        .map(|p| (p.migration.up_sql(), p.down_sql()))
        .collect()
}

/// Upgrades through the phases, checks the database is `to`, downgrades to base and checks it
/// is `from` again.
async fn round_trip(db: &Database, from: &Schema, to: &Schema, phases: &[Phase]) {
    let m = migrator(chain(phases));
    m.upgrade(db, &Target::Head).await.unwrap_or_else(|e| {
        let ups: Vec<String> = phases.iter().map(Phase::up_sql).collect();
        panic!("upgrade: {e}\n{}", ups.join("\n"))
    });
    assert_schema(db, to, "after upgrading through the phases").await;
    m.downgrade(db, &Target::Base).await.unwrap_or_else(|e| {
        let downs: Vec<String> = phases.iter().rev().map(Phase::down_sql).collect();
        panic!("downgrade: {e}\n{}", downs.join("\n"))
    });
    assert_schema(db, from, "after downgrading to the start").await;
}

/// Asserts that `m`, run as one plain revision in one transaction, fails on a new enum label
/// used before it is committed (55P04, "unsafe use of new value"), changing nothing.
async fn refused_in_one_transaction(db: &Database, m: &Migration) {
    let whole_in_one = migrator(
        super::revisions(std::slice::from_ref(m))
            .into_iter()
            .map(|r| r.with_transactional(true))
            .collect(),
    );
    let e = whole_in_one
        .upgrade(db, &Target::Head)
        .await
        .expect_err("a new label used in its own transaction");
    assert!(
        matches!(&e, MigrateError::Step { source, .. } if source.sqlstate() == Some("55P04")),
        "{e}"
    );
}

async fn count(db: &Database, sql: &'static str) -> i64 {
    db.fetch_one(query::<i64>(sql))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{sql}"))
}

/// The constraints of `table`: name, type (`c`, `f`, `p`, `u`) and whether validated.
async fn constraints(db: &Database, table: &str) -> Vec<(String, String, bool)> {
    db.fetch_all(
        query::<(String, String, bool)>(
            "SELECT conname::text, contype::text, convalidated FROM pg_constraint \
             WHERE conrelid = to_regclass(:t) ORDER BY 1",
        )
        .bind("t", format!("public.{table}")),
    )
    .await
    .expect("constraints")
}

#[tokio::test]
async fn indexes_are_dropped_before_and_built_after_concurrently() {
    let (t, from) = database_with(
        "CREATE TABLE event (id bigint PRIMARY KEY, kind text, at timestamptz);
         CREATE INDEX event_kind ON event (kind);
         INSERT INTO event SELECT g, 'k' || (g % 10), now() FROM generate_series(1, 2000) g;",
    )
    .await;
    let to = schema_from_ddl(
        "CREATE TABLE event (id bigint PRIMARY KEY, kind text, at timestamptz);
         CREATE INDEX event_at ON event (at DESC) WHERE kind IS NOT NULL;",
    )
    .await;
    let m = diff(&from, &to, &DiffOptions::default());
    let phases = m.phases();
    assert_eq!(kinds(&phases), [PhaseKind::Before, PhaseKind::After]);
    assert_eq!(
        scripts(&phases),
        [
            (
                "-- drop index event_kind on public.event\n\
                 DROP INDEX CONCURRENTLY IF EXISTS public.event_kind;\n\n"
                    .to_owned(),
                "-- create index event_kind on public.event\n\
                 DROP INDEX CONCURRENTLY IF EXISTS public.event_kind;\n\
                 CREATE INDEX CONCURRENTLY event_kind ON public.event USING btree (kind);\n\n"
                    .to_owned()
            ),
            (
                "-- create index event_at on public.event\n\
                 DROP INDEX CONCURRENTLY IF EXISTS public.event_at;\n\
                 CREATE INDEX CONCURRENTLY event_at ON public.event USING btree (at DESC) \
                 WHERE (kind IS NOT NULL);\n\n"
                    .to_owned(),
                "-- drop index event_at on public.event\n\
                 DROP INDEX CONCURRENTLY IF EXISTS public.event_at;\n\n"
                    .to_owned()
            ),
        ]
    );
    assert!(phases.iter().all(|p| !p.transactional()));
    assert_eq!(
        phases.iter().map(|p| p.message("m")).collect::<Vec<_>>(),
        ["before: m", "after: m"]
    );
    // The whole, as one plain script, still builds it the blocking way.
    assert!(!m.up_sql().contains("CONCURRENTLY"), "{}", m.up_sql());

    // Inside a transaction PostgreSQL refuses it: the phases must run outside one.
    let in_one = migrator(vec![
        chain(&phases[1..])[0]
            .clone()
            .with_parents(Vec::<String>::new())
            .with_transactional(true),
    ]);
    let e = in_one
        .upgrade(&t, &Target::Head)
        .await
        .expect_err("CONCURRENTLY in a transaction");
    assert!(
        matches!(&e, MigrateError::Step { source, .. } if source.sqlstate() == Some("25001")),
        "{e}"
    );

    round_trip(&t, &from, &to, &phases).await;
    assert_eq!(count(&t, "SELECT count(*) FROM event").await, 2000);
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM pg_index WHERE indrelid = 'event'::regclass \
             AND NOT indisvalid"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn foreign_keys_and_checks_are_added_not_valid_then_validated() {
    let rows = "INSERT INTO author SELECT g, 'a' || g FROM generate_series(1, 100) g;
                INSERT INTO book SELECT g, g % 100 + 1, g FROM generate_series(1, 3000) g;";
    let (t, from) = database_with(&format!(
        "CREATE TABLE author (id bigint PRIMARY KEY, name text);
         CREATE TABLE book (id bigint PRIMARY KEY, author_id bigint, pages integer);
         {rows}"
    ))
    .await;
    let to = schema_from_ddl(
        "CREATE TABLE author (id bigint PRIMARY KEY, name text);
         CREATE TABLE book (
             id bigint PRIMARY KEY,
             author_id bigint REFERENCES author ON DELETE CASCADE,
             pages integer CHECK (pages > 0)
         );",
    )
    .await;
    let phases = diff(&from, &to, &DiffOptions::default()).phases();
    assert_eq!(kinds(&phases), [PhaseKind::After]);
    assert_eq!(
        phases[0].message("m"),
        "m",
        "alone, the phase keeps the message"
    );
    assert_eq!(
        scripts(&phases),
        [(
            "-- add check constraint book_pages_check on public.book (NOT VALID, then validated)\n\
             ALTER TABLE public.book DROP CONSTRAINT IF EXISTS book_pages_check;\n\
             ALTER TABLE public.book ADD CONSTRAINT book_pages_check CHECK ((pages > 0)) \
             NOT VALID;\n\
             ALTER TABLE public.book VALIDATE CONSTRAINT book_pages_check;\n\n\
             -- add foreign key book_author_id_fkey on public.book (NOT VALID, then validated)\n\
             ALTER TABLE public.book DROP CONSTRAINT IF EXISTS book_author_id_fkey;\n\
             ALTER TABLE public.book ADD CONSTRAINT book_author_id_fkey FOREIGN KEY (author_id) \
             REFERENCES public.author (id) ON DELETE CASCADE NOT VALID;\n\
             ALTER TABLE public.book VALIDATE CONSTRAINT book_author_id_fkey;\n\n"
                .to_owned(),
            "-- drop foreign key book_author_id_fkey on public.book\n\
             ALTER TABLE public.book DROP CONSTRAINT book_author_id_fkey;\n\n\
             -- drop check constraint book_pages_check on public.book\n\
             ALTER TABLE public.book DROP CONSTRAINT book_pages_check;\n\n"
                .to_owned()
        )]
    );
    assert!(!phases[0].transactional());
    assert!(phases[0].up_sql().starts_with(
        "-- Runs outside a transaction, after the main revision, each statement committing\n"
    ));

    let m = migrator(chain(&phases));
    m.upgrade(&t, &Target::Head).await.expect("upgrade");
    assert_schema(&t, &to, "after the phases").await;
    // Validated, not merely added: the rows were checked.
    assert_eq!(
        constraints(&t, "book").await,
        [
            ("book_author_id_fkey".into(), "f".into(), true),
            ("book_pages_check".into(), "c".into(), true),
            ("book_pkey".into(), "p".into(), true),
        ]
    );
    let orphan = t
        .batch_execute("INSERT INTO book VALUES (9999, 12345, 1)")
        .await
        .expect_err("the key holds");
    assert_eq!(orphan.sqlstate(), Some("23503"), "{orphan}");
    m.downgrade(&t, &Target::Base).await.expect("downgrade");
    assert_schema(&t, &from, "after downgrading").await;
    assert_eq!(count(&t, "SELECT count(*) FROM book").await, 3000);
}

#[tokio::test]
async fn not_null_is_proved_by_a_validated_check_after_the_type_changes() {
    let (t, from) = database_with(
        "CREATE TABLE person (id bigint PRIMARY KEY, email varchar(80), age smallint);
         INSERT INTO person SELECT g, 'p' || g || '@example.com', g % 90
           FROM generate_series(1, 3000) g;",
    )
    .await;
    let to = schema_from_ddl(
        "CREATE TABLE person (
             id bigint PRIMARY KEY,
             email text NOT NULL,
             age integer NOT NULL DEFAULT 0
         );",
    )
    .await;
    let phases = diff(&from, &to, &DiffOptions::default()).phases();
    assert_eq!(kinds(&phases), [PhaseKind::Main, PhaseKind::After]);
    assert_eq!(
        scripts(&phases),
        [
            (
                "-- alter column public.person.email\n\
                 ALTER TABLE public.person ALTER COLUMN email TYPE text USING email::text;\n\n\
                 -- alter column public.person.age\n\
                 ALTER TABLE public.person ALTER COLUMN age TYPE integer USING age::integer;\n\
                 ALTER TABLE public.person ALTER COLUMN age SET DEFAULT 0;\n\n"
                    .to_owned(),
                "-- alter column public.person.age\n\
                 ALTER TABLE public.person ALTER COLUMN age DROP DEFAULT;\n\
                 ALTER TABLE public.person ALTER COLUMN age TYPE smallint USING age::smallint;\n\n\
                 -- alter column public.person.email\n\
                 ALTER TABLE public.person ALTER COLUMN email TYPE character varying(80) \
                 USING email::character varying(80);\n\n"
                    .to_owned()
            ),
            (
                "-- alter column public.person.email (set not null, proved first by a validated \
                 check)\n\
                 ALTER TABLE public.person DROP CONSTRAINT IF EXISTS person_email_not_null_check;\n\
                 ALTER TABLE public.person ADD CONSTRAINT person_email_not_null_check \
                 CHECK (email IS NOT NULL) NOT VALID;\n\
                 ALTER TABLE public.person VALIDATE CONSTRAINT person_email_not_null_check;\n\
                 ALTER TABLE public.person ALTER COLUMN email SET NOT NULL;\n\
                 ALTER TABLE public.person DROP CONSTRAINT person_email_not_null_check;\n\n\
                 -- alter column public.person.age (set not null, proved first by a validated \
                 check)\n\
                 ALTER TABLE public.person DROP CONSTRAINT IF EXISTS person_age_not_null_check;\n\
                 ALTER TABLE public.person ADD CONSTRAINT person_age_not_null_check \
                 CHECK (age IS NOT NULL) NOT VALID;\n\
                 ALTER TABLE public.person VALIDATE CONSTRAINT person_age_not_null_check;\n\
                 ALTER TABLE public.person ALTER COLUMN age SET NOT NULL;\n\
                 ALTER TABLE public.person DROP CONSTRAINT person_age_not_null_check;\n\n"
                    .to_owned(),
                "-- alter column public.person.age\n\
                 ALTER TABLE public.person ALTER COLUMN age DROP NOT NULL;\n\n\
                 -- alter column public.person.email\n\
                 ALTER TABLE public.person ALTER COLUMN email DROP NOT NULL;\n\n"
                    .to_owned()
            ),
        ]
    );
    assert!(phases[0].transactional() && !phases[1].transactional());
    round_trip(&t, &from, &to, &phases).await;
    assert_eq!(
        count(&t, "SELECT count(*) FROM person WHERE email LIKE 'p%'").await,
        3000
    );
}

#[tokio::test]
async fn unique_constraints_and_primary_keys_are_added_using_concurrent_indexes() {
    let (t, from) = database_with(
        "CREATE TABLE account (id bigint NOT NULL, login text NOT NULL);
         INSERT INTO account SELECT g, 'user' || g FROM generate_series(1, 3000) g;",
    )
    .await;
    // A new table referencing the new unique constraint: its key waits for it.
    let to = schema_from_ddl(
        "CREATE TABLE account (id bigint PRIMARY KEY, login text NOT NULL UNIQUE);
         CREATE TABLE login_event (id bigint PRIMARY KEY, login text REFERENCES account (login));",
    )
    .await;
    let phases = diff(&from, &to, &DiffOptions::default()).phases();
    assert_eq!(kinds(&phases), [PhaseKind::Main, PhaseKind::After]);
    let (main, _) = &scripts(&phases)[0];
    assert_eq!(
        main,
        "-- create table public.login_event\n\
         CREATE TABLE public.login_event (\n    \
             id bigint NOT NULL,\n    \
             login text,\n    \
             CONSTRAINT login_event_pkey PRIMARY KEY (id)\n\
         );\n\n"
    );
    assert_eq!(
        scripts(&phases)[1],
        (
            "-- add primary key account_pkey on public.account (on an index built CONCURRENTLY)\n\
             ALTER TABLE public.account DROP CONSTRAINT IF EXISTS account_pkey;\n\
             DROP INDEX CONCURRENTLY IF EXISTS public.account_pkey;\n\
             CREATE UNIQUE INDEX CONCURRENTLY account_pkey ON public.account USING btree (id);\n\
             ALTER TABLE public.account ADD CONSTRAINT account_pkey PRIMARY KEY USING INDEX \
             account_pkey;\n\n\
             -- add unique constraint account_login_key on public.account (on an index built \
             CONCURRENTLY)\n\
             ALTER TABLE public.account DROP CONSTRAINT IF EXISTS account_login_key;\n\
             DROP INDEX CONCURRENTLY IF EXISTS public.account_login_key;\n\
             CREATE UNIQUE INDEX CONCURRENTLY account_login_key ON public.account USING btree \
             (login);\n\
             ALTER TABLE public.account ADD CONSTRAINT account_login_key UNIQUE USING INDEX \
             account_login_key;\n\n\
             -- add foreign key login_event_login_fkey on public.login_event (NOT VALID, then \
             validated)\n\
             ALTER TABLE public.login_event DROP CONSTRAINT IF EXISTS login_event_login_fkey;\n\
             ALTER TABLE public.login_event ADD CONSTRAINT login_event_login_fkey FOREIGN KEY \
             (login) REFERENCES public.account (login) NOT VALID;\n\
             ALTER TABLE public.login_event VALIDATE CONSTRAINT login_event_login_fkey;\n\n"
                .to_owned(),
            "-- drop foreign key login_event_login_fkey on public.login_event\n\
             ALTER TABLE public.login_event DROP CONSTRAINT login_event_login_fkey;\n\n\
             -- drop unique constraint account_login_key on public.account\n\
             ALTER TABLE public.account DROP CONSTRAINT account_login_key;\n\n\
             -- drop primary key account_pkey on public.account\n\
             ALTER TABLE public.account DROP CONSTRAINT account_pkey;\n\n"
                .to_owned()
        )
    );
    let m = migrator(chain(&phases));
    m.upgrade(&t, &Target::Head).await.expect("upgrade");
    assert_schema(&t, &to, "after the phases").await;
    assert_eq!(
        constraints(&t, "account").await,
        [
            ("account_login_key".into(), "u".into(), true),
            ("account_pkey".into(), "p".into(), true),
        ]
    );
    m.downgrade(&t, &Target::Base).await.expect("downgrade");
    assert_schema(&t, &from, "after downgrading").await;
    assert_eq!(count(&t, "SELECT count(*) FROM account").await, 3000);
}

#[tokio::test]
async fn an_enum_label_is_committed_before_the_main_revision_uses_it() {
    let (t, from) = database_with(
        "CREATE TYPE mood AS ENUM ('sad', 'happy');
         CREATE TABLE writer (id bigint PRIMARY KEY, mood mood, name text);
         CREATE INDEX writer_name ON writer (name);
         INSERT INTO writer SELECT g, CASE WHEN g % 2 = 0 THEN 'sad'::mood ELSE 'happy' END,
           'w' || g FROM generate_series(1, 1000) g;",
    )
    .await;
    // Renamed (declared), its index gone, and a new label the main revision uses at once.
    let to = schema_from_ddl(
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
         CREATE TABLE author (id bigint PRIMARY KEY, mood mood DEFAULT 'ok', full_name text);",
    )
    .await;
    let author = QualifiedName::new("public", "author");
    let mut renames = Renames::default();
    renames.tables.insert(author.clone(), "writer".into());
    renames
        .columns
        .insert((author, "full_name".into()), "name".into());
    let m = diff(
        &from,
        &to,
        &DiffOptions {
            renames,
            ..DiffOptions::default()
        },
    );
    let phases = m.phases();
    assert_eq!(kinds(&phases), [PhaseKind::Before, PhaseKind::Main]);
    let s = scripts(&phases);
    assert_eq!(
        s[0].0,
        "-- add value \"ok\" to enum public.mood\n\
         ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'ok' BEFORE 'happy';\n\n\
         -- drop index writer_name on public.writer\n\
         DROP INDEX CONCURRENTLY IF EXISTS public.writer_name;\n\n"
    );
    // Its downgrade runs after the main one's: the names from before the renames.
    assert!(
        s[0].1.contains(
            "ALTER TABLE public.writer ALTER COLUMN mood TYPE public.mood \
             USING mood::text::public.mood;"
        ) && s[0]
            .1
            .contains("CREATE INDEX CONCURRENTLY writer_name ON public.writer USING btree (name);"),
        "{}",
        s[0].1
    );
    assert_eq!(
        s[1].0,
        "-- rename table public.writer to author\n\
         ALTER TABLE public.writer RENAME TO author;\n\n\
         -- rename column public.author.name to full_name\n\
         ALTER TABLE public.author RENAME COLUMN name TO full_name;\n\n\
         -- alter column public.author.mood\n\
         ALTER TABLE public.author ALTER COLUMN mood SET DEFAULT 'ok'::public.mood;\n\n"
    );
    assert!(!phases[0].transactional() && phases[1].transactional());

    // As one plain revision, PostgreSQL refuses to use the label in the transaction that
    // adds it.
    refused_in_one_transaction(&t, &m).await;

    round_trip(&t, &from, &to, &phases).await;
    assert_eq!(
        count(&t, "SELECT count(*) FROM writer WHERE mood = 'sad'").await,
        500
    );
}

/// A new label is usable only once committed (55P04, "unsafe use of new value"): every check,
/// partial index and default naming it (on a table with rows, a table the migration creates,
/// a partitioned table) runs after the revision that adds it, in the safe form's phases and in
/// the single plain revision (which runs outside a transaction, statement by statement).
#[tokio::test]
async fn what_names_a_new_enum_label_runs_after_the_label_is_committed() {
    let tables = |mood: &str, named: &str| {
        format!(
            "CREATE TYPE mood AS ENUM ({mood});
             CREATE TABLE person (id bigint PRIMARY KEY, mood mood {named});
             CREATE TABLE visit (id bigint NOT NULL, at date NOT NULL, mood mood)
                 PARTITION BY RANGE (at);
             CREATE TABLE visit_2026 PARTITION OF visit
                 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');"
        )
    };
    let rows = "INSERT INTO person SELECT g, CASE WHEN g % 2 = 0 THEN 'sad'::mood ELSE 'happy' END
                    FROM generate_series(1, 500) g;
                INSERT INTO visit SELECT g, '2026-03-01', 'sad' FROM generate_series(1, 500) g;";
    let to = schema_from_ddl(&format!(
        "{}
         CREATE INDEX person_ok ON person (id) WHERE mood = 'ok';
         ALTER TABLE visit ADD CONSTRAINT visit_not_ok CHECK (mood <> 'ok');
         CREATE INDEX visit_ok ON visit (id) WHERE mood = 'ok';
         CREATE TABLE pet (id bigint PRIMARY KEY, mood mood DEFAULT 'ok' CHECK (mood <> 'sad'));
         CREATE INDEX pet_ok ON pet (id) WHERE mood = 'ok';",
        tables(
            "'sad', 'ok', 'happy'",
            "DEFAULT 'ok' CONSTRAINT person_not_ok CHECK (mood <> 'ok')"
        )
    ))
    .await;
    let ddl = format!("{}{rows}", tables("'sad', 'happy'", ""));
    let (_, from) = database_with(&ddl).await;
    let m = diff(&from, &to, &DiffOptions::default());

    // The safe form: the label alone in the revision before; nothing there names it.
    let phases = m.phases();
    assert_eq!(
        kinds(&phases),
        [PhaseKind::Before, PhaseKind::Main, PhaseKind::After]
    );
    let s = scripts(&phases);
    assert_eq!(
        s[0].0,
        "-- add value \"ok\" to enum public.mood\n\
         ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'ok' BEFORE 'happy';\n\n"
    );
    for named in [
        "ALTER TABLE public.person ALTER COLUMN mood SET DEFAULT 'ok'::public.mood;",
        "ALTER TABLE public.visit ADD CONSTRAINT visit_not_ok CHECK ((mood <> 'ok'::public.mood));",
        "CREATE INDEX visit_ok ON public.visit USING btree (id) WHERE (mood = 'ok'::public.mood);",
        "CREATE INDEX pet_ok ON public.pet USING btree (id) WHERE (mood = 'ok'::public.mood);",
    ] {
        assert!(s[1].0.contains(named), "{named}\n{}", s[1].0);
    }
    for named in [
        "ALTER TABLE public.person ADD CONSTRAINT person_not_ok CHECK ((mood <> 'ok'::public.mood)) NOT VALID;",
        "CREATE INDEX CONCURRENTLY person_ok ON public.person USING btree (id) WHERE (mood = 'ok'::public.mood);",
    ] {
        assert!(s[2].0.contains(named), "{named}\n{}", s[2].0);
    }

    // In one transaction PostgreSQL refuses it: the order is what makes it work.
    let (t, _) = database_with(&ddl).await;
    refused_in_one_transaction(&t, &m).await;

    // Both forms, on tables with rows: up, the check holds new rows, down.
    let (t, _) = database_with(&ddl).await;
    round_trip(&t, &from, &to, &phases).await;
    let (t, _) = database_with(&ddl).await;
    assert!(!m.transactional());
    let single = migrator(super::revisions(std::slice::from_ref(&m)));
    single.upgrade(&t, &Target::Head).await.expect("upgrade");
    assert_schema(&t, &to, "after the single revision").await;
    let e = t
        .batch_execute("INSERT INTO person (id) VALUES (501)")
        .await
        .expect_err("the default breaks the check");
    assert_eq!(e.sqlstate(), Some("23514"), "{e}");
    single
        .downgrade(&t, &Target::Base)
        .await
        .expect("downgrade");
    assert_schema(&t, &from, "after the downgrade").await;
    assert_eq!(count(&t, "SELECT count(*) FROM visit").await, 500);
}

/// An enum recreated in the main phase (a label removed) rebuilds the checks and indexes that
/// read its columns, but not those the after phase builds: they do not exist yet (dropping
/// them failed the upgrade), and the after phase builds them with the new type.
#[tokio::test]
async fn a_recreated_enum_leaves_what_the_after_phase_builds_to_it() {
    let ddl = "CREATE TYPE status AS ENUM ('active', 'archived', 'deleted');
               CREATE TABLE doc (id bigint PRIMARY KEY, status status NOT NULL);
               INSERT INTO doc SELECT g, CASE WHEN g % 2 = 0 THEN 'active'::status
                   ELSE 'archived' END FROM generate_series(1, 500) g;";
    let (t, from) = database_with(ddl).await;
    let to = schema_from_ddl(
        "CREATE TYPE status AS ENUM ('active', 'archived');
         CREATE TABLE doc (id bigint PRIMARY KEY, status status NOT NULL,
             CONSTRAINT doc_known CHECK (status IN ('active', 'archived')));
         CREATE INDEX doc_active ON doc (id) WHERE status = 'active';
         CREATE INDEX doc_status ON doc (status);",
    )
    .await;
    let m = diff(&from, &to, &DiffOptions::default());
    let phases = m.phases();
    assert_eq!(kinds(&phases), [PhaseKind::Main, PhaseKind::After]);
    let s = scripts(&phases);
    assert!(
        s[0].0
            .contains("ALTER TYPE public.status RENAME TO status__old;")
            && !s[0].0.contains("doc_known")
            && !s[0].0.contains("doc_active")
            && !s[0].0.contains("doc_status"),
        "{}",
        s[0].0
    );
    for built in [
        "ALTER TABLE public.doc ADD CONSTRAINT doc_known CHECK ((status = ANY (ARRAY['active'::public.status, 'archived'::public.status]))) NOT VALID;",
        "CREATE INDEX CONCURRENTLY doc_active ON public.doc USING btree (id) WHERE (status = 'active'::public.status);",
        "CREATE INDEX CONCURRENTLY doc_status ON public.doc USING btree (status);",
    ] {
        assert!(s[1].0.contains(built), "{built}\n{}", s[1].0);
    }
    round_trip(&t, &from, &to, &phases).await;
    assert_eq!(count(&t, "SELECT count(*) FROM doc").await, 500);
    // The single plain revision builds them before the recreation, which rebuilds them.
    let (t, _) = database_with(ddl).await;
    let single = migrator(super::revisions(std::slice::from_ref(&m)));
    single.upgrade(&t, &Target::Head).await.expect("upgrade");
    assert_schema(&t, &to, "after the single revision").await;
    single
        .downgrade(&t, &Target::Base)
        .await
        .expect("downgrade");
    assert_schema(&t, &from, "after its downgrade").await;
}

/// A failure part-way through the after phase: the error names the revision, the statement's
/// constraint and the violation; the main phase stays applied and can be downgraded; fixing
/// the data and upgrading again completes the change (each step first drops what the failed
/// run left).
#[tokio::test]
async fn a_null_stops_the_after_phase_clearly_and_leaves_the_main_phase_applied() {
    let (t, from) = database_with(
        "CREATE TABLE task (id bigint PRIMARY KEY, title text, done boolean);
         INSERT INTO task SELECT g, 'task ' || g, false FROM generate_series(1, 1000) g;
         UPDATE task SET title = NULL WHERE id = 500;",
    )
    .await;
    let to = schema_from_ddl(
        "CREATE TABLE task (id bigint PRIMARY KEY, title text NOT NULL, done boolean, due date);
         CREATE INDEX task_done ON task (done);",
    )
    .await;
    let phases = diff(&from, &to, &DiffOptions::default()).phases();
    assert_eq!(kinds(&phases), [PhaseKind::Main, PhaseKind::After]);
    let revs = chain(&phases);
    let m = migrator(revs.clone());
    let e = m
        .upgrade(&t, &Target::Head)
        .await
        .expect_err("a NULL title fails the validation");
    assert!(
        matches!(&e, MigrateError::StepOutsideTransaction { id, number: 3, source, .. }
            if id == &revs[1].id && source.sqlstate() == Some("23514")),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "revision {} runs outside a transaction and failed at statement 3 of 7 \
             (`ALTER TABLE public.task VALIDATE CONSTRAINT task_title_not_null_check`): \
             check violation: check constraint \"task_title_not_null_check\" of relation \
             \"task\" is violated by some row (SQLSTATE 23514), constraint \
             \"task_title_not_null_check\", table \"task\". The statements before it stay \
             done and the revision's record is unchanged: fix the cause and run it again",
            revs[1].id
        )
    );
    // The main phase is applied and recorded, the after phase not.
    let current: Vec<String> = m
        .current(&t)
        .await
        .expect("current")
        .iter()
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(current, [revs[0].id.clone()]);
    let columns: Vec<String> = t
        .fetch_all(query::<String>(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_name = 'task' ORDER BY ordinal_position",
        ))
        .await
        .expect("columns");
    assert_eq!(columns, ["id", "title", "done", "due"]);
    // What the failed run left: the check, NOT VALID, guarding new rows meanwhile.
    assert_eq!(
        constraints(&t, "task").await,
        [
            ("task_pkey".into(), "p".into(), true),
            ("task_title_not_null_check".into(), "c".into(), false),
        ]
    );

    // Fixed, and run again: the after phase completes from the start.
    t.batch_execute("UPDATE task SET title = 'untitled' WHERE title IS NULL")
        .await
        .expect("fix the data");
    m.upgrade(&t, &Target::Head).await.expect("upgrade again");
    assert_schema(&t, &to, "after the rerun").await;

    // And the whole chain downgrades to the start.
    m.downgrade(&t, &Target::Base).await.expect("downgrade");
    assert_schema(&t, &from, "after downgrading").await;
    assert_eq!(count(&t, "SELECT count(*) FROM task").await, 1000);
}

/// Right after such a failure, the applied main phase downgrades; the check the failed run
/// left stays, named, until dropped by hand (or by the next run of the after phase).
#[tokio::test]
async fn after_a_failed_after_phase_the_main_phase_downgrades() {
    let (t, from) = database_with(
        "CREATE TABLE task (id bigint PRIMARY KEY, title text);
         INSERT INTO task VALUES (1, 'a'), (2, NULL);",
    )
    .await;
    let to = schema_from_ddl(
        "CREATE TABLE task (id bigint PRIMARY KEY, title text NOT NULL, due date);",
    )
    .await;
    let phases = diff(&from, &to, &DiffOptions::default()).phases();
    let m = migrator(chain(&phases));
    m.upgrade(&t, &Target::Head)
        .await
        .expect_err("a NULL title");
    m.downgrade(&t, &Target::Base)
        .await
        .expect("the main phase downgrades");
    assert!(m.current(&t).await.expect("current").is_empty());
    let now = schema_of_db(&t).await;
    let rest: Migration = diff(&now, &from, &DiffOptions::default());
    assert_eq!(
        rest.up_sql(),
        "-- drop check constraint task_title_not_null_check on public.task\n\
         ALTER TABLE public.task DROP CONSTRAINT task_title_not_null_check;\n\n"
    );
}
