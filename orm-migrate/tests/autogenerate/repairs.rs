//! What a failed or unfinished step leaves in a database, and how autogenerate repairs it: an
//! index a failed `CREATE INDEX CONCURRENTLY` left INVALID is dropped and built again; a foreign
//! key, check or domain check added `NOT VALID` and never validated is validated.

use orm_migrate::Target;
use orm_migrate::diff::{DiffOptions, PhaseKind, diff};
use orm_migrate::model_schema::schema_of;
use orm_migrate::op::Op;
use orm_migrate::schema::{ObjectKind, Schema};
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{ColumnType, Database};
use orm_testing::test_database;

use super::ops::schema_from_ddl;
use super::{
    Form, assert_schema, migrator, plain_diff, revisions, revisions_of, run_chain_in, schema_of_db,
};

#[derive(Model, Debug)]
#[model(table = "note")]
pub struct Note {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(index)]
    pub body: String,
}

#[derive(Model, Debug)]
#[model(table = "shelf")]
pub struct Shelf {
    #[model(primary_key, generated)]
    pub id: i64,
}

#[derive(Model, Debug)]
#[model(table = "volume")]
pub struct Volume {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "shelf.id")]
    pub shelf_id: i64,
    #[model(check = "pages > 0")]
    pub pages: i32,
}

fn model_options() -> DiffOptions {
    DiffOptions {
        models: true,
        ..DiffOptions::default()
    }
}

/// `pg_index.indisvalid` of each index of `table` that does not back a constraint, by name.
async fn index_validity(db: &Database, table: &str) -> Vec<(String, bool)> {
    super::index_catalog(db, table)
        .await
        .into_iter()
        .map(|(name, valid, _)| (name, valid))
        .collect()
}

#[tokio::test]
async fn an_invalid_index_is_dropped_and_built_again() {
    let t = test_database().await.expect("db");
    t.create_all(&[Note::TABLE]).await.expect("create_all");
    // A row too wide for a btree entry makes the concurrent build fail after its index was
    // recorded: the index stays, INVALID, with the model's very name and definition.
    t.batch_execute(
        "DROP INDEX ix_note_body;
         INSERT INTO note (body) SELECT string_agg(md5(g::text), '') FROM generate_series(1, 1000) g;",
    )
    .await
    .expect("a wide row");
    let failed = t
        .batch_execute("CREATE INDEX CONCURRENTLY ix_note_body ON note (body)")
        .await;
    assert!(failed.is_err(), "the build must fail on the wide row");
    assert_eq!(
        index_validity(&t, "note").await,
        [("ix_note_body".to_owned(), false)]
    );

    let models = schema_of(&[Note::TABLE], "public");
    let m = diff(&schema_of_db(&t).await, &models, &model_options());
    let up = m.up_sql();
    assert!(
        up.contains(
            "-- drop invalid index ix_note_body on public.note\nDROP INDEX public.ix_note_body;\n\n\
             -- create index ix_note_body on public.note\n\
             CREATE INDEX ix_note_body ON public.note USING btree (body);\n"
        ),
        "{up}"
    );
    assert!(
        m.warnings
            .iter()
            .any(|w| w.contains("ix_note_body") && w.contains("INVALID")),
        "{:?}",
        m.warnings
    );
    // Nothing brings the broken index back: the downgrade drops the new one only.
    let down = m.down_sql();
    assert_eq!(down.matches("DROP INDEX").count(), 1, "{down}");
    assert!(!down.contains("CREATE INDEX"), "{down}");

    // The safe form: the leftover dropped before, the index built after, both concurrently.
    let phases = m.phases();
    assert_eq!(
        phases.iter().map(|p| p.kind).collect::<Vec<_>>(),
        [PhaseKind::Before, PhaseKind::After]
    );
    assert!(
        phases[0]
            .up_sql()
            .contains("DROP INDEX CONCURRENTLY IF EXISTS public.ix_note_body;"),
        "{}",
        phases[0].up_sql()
    );
    assert!(
        phases[1]
            .up_sql()
            .contains("CREATE INDEX CONCURRENTLY ix_note_body ON public.note USING btree (body);"),
        "{}",
        phases[1].up_sql()
    );

    // With the wide row gone, the revisions repair the index, and the models match.
    t.batch_execute("DELETE FROM note").await.expect("delete");
    let mig = migrator(revisions_of(&m, Form::Phased, 1, None));
    mig.upgrade(&t, &Target::Head)
        .await
        .unwrap_or_else(|e| panic!("upgrade: {e}\n{up}"));
    assert_eq!(
        index_validity(&t, "note").await,
        [("ix_note_body".to_owned(), true)]
    );
    let rest = diff(&schema_of_db(&t).await, &models, &model_options());
    assert!(rest.is_empty(), "{}", rest.up_sql());
    mig.downgrade(&t, &Target::Base)
        .await
        .unwrap_or_else(|e| panic!("downgrade: {e}\n{down}"));
    assert_eq!(index_validity(&t, "note").await, []);
}

#[tokio::test]
async fn between_databases_an_invalid_index_is_never_built() {
    let ddl = "CREATE TABLE item (id int PRIMARY KEY, code text);
               INSERT INTO item VALUES (1, 'a'), (2, 'a');";
    let plain = test_database().await.expect("db");
    plain.batch_execute(ddl).await.expect("plain");
    let broken = test_database().await.expect("db");
    broken.batch_execute(ddl).await.expect("broken");
    let failed = broken
        .batch_execute("CREATE UNIQUE INDEX CONCURRENTLY item_code_key ON item (code)")
        .await;
    assert!(failed.is_err(), "the duplicates must fail the build");
    let (plain, broken) = (schema_of_db(&plain).await, schema_of_db(&broken).await);

    // Towards the broken database: nothing to build, and a warning saying why.
    let m = plain_diff(&plain, &broken);
    assert!(m.is_empty(), "{}", m.up_sql());
    assert_eq!(
        m.warnings,
        ["index item_code_key on public.item is INVALID in the target: not compared, not created"]
    );
    // From it, even towards itself: the leftover goes.
    for to in [&plain, &broken] {
        let m = plain_diff(&broken, to);
        assert_eq!(
            m.up_sql()
                .matches("DROP INDEX public.item_code_key;")
                .count(),
            1,
            "{}",
            m.up_sql()
        );
        assert_eq!(m.ops.len(), 1, "{}", m.up_sql());
        assert!(
            m.down_sql()
                .contains("-- nothing to undo: index item_code_key on public.item was INVALID"),
            "{}",
            m.down_sql()
        );
    }
}

/// The checks and foreign keys of `table`: name and whether validated.
async fn constraint_validity(db: &Database, table: &str) -> Vec<(String, bool)> {
    db.fetch_all(
        query::<(String, bool)>(
            "SELECT conname::text, convalidated FROM pg_constraint \
             WHERE conrelid = to_regclass(:t) AND contype IN ('c', 'f') ORDER BY 1",
        )
        .bind("t", format!("public.{table}")),
    )
    .await
    .expect("constraints")
}

/// Adds every check and foreign key of `table` again, `NOT VALID`, under its own name.
const READD_NOT_VALID: &str = "DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
             WHERE conrelid = 'volume'::regclass AND contype IN ('c', 'f')
    LOOP
        EXECUTE format('ALTER TABLE volume DROP CONSTRAINT %I', r.conname);
        EXECUTE format('ALTER TABLE volume ADD CONSTRAINT %I %s NOT VALID', r.conname, r.def);
    END LOOP;
END $$;";

#[tokio::test]
async fn a_constraint_left_not_valid_is_validated() {
    let t = test_database().await.expect("db");
    t.create_all(&[Shelf::TABLE, Volume::TABLE])
        .await
        .expect("create_all");
    t.batch_execute(&format!(
        "INSERT INTO shelf (id) VALUES (1); INSERT INTO volume (shelf_id, pages) VALUES (1, 10);
         {READD_NOT_VALID}"
    ))
    .await
    .expect("NOT VALID");
    let names = constraint_validity(&t, "volume").await;
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().all(|(_, valid)| !valid), "{names:?}");
    let (check, fk) = (names[0].0.clone(), names[1].0.clone());
    assert!(
        check.ends_with("check") && fk.ends_with("fkey"),
        "{names:?}"
    );

    let models = schema_of(&[Shelf::TABLE, Volume::TABLE], "public");
    let before = schema_of_db(&t).await;
    let m = diff(&before, &models, &model_options());
    let up = m.up_sql();
    assert_eq!(
        up,
        format!(
            "-- validate constraint {check} on public.volume\n\
             ALTER TABLE public.volume VALIDATE CONSTRAINT {check};\n\n\
             -- validate constraint {fk} on public.volume\n\
             ALTER TABLE public.volume VALIDATE CONSTRAINT {fk};\n\n"
        )
    );
    // Nothing to undo: the downgrade leaves them validated, and says so.
    let down = m.down_sql();
    assert!(!down.contains("ALTER"), "{down}");
    assert!(
        down.contains(&format!(
            "-- nothing to undo: constraint {fk} on public.volume stays validated"
        )),
        "{down}"
    );
    // The safe form: one revision outside a transaction (the validation lets writes go on).
    let phases = m.phases();
    assert_eq!(
        phases.iter().map(|p| p.kind).collect::<Vec<_>>(),
        [PhaseKind::After]
    );
    assert!(!phases[0].transactional());

    let mig = migrator(revisions_of(&m, Form::Phased, 1, None));
    mig.upgrade(&t, &Target::Head)
        .await
        .unwrap_or_else(|e| panic!("upgrade: {e}\n{up}"));
    assert!(
        constraint_validity(&t, "volume")
            .await
            .iter()
            .all(|(_, valid)| *valid)
    );
    let rest = diff(&schema_of_db(&t).await, &models, &model_options());
    assert!(rest.is_empty(), "{}", rest.up_sql());
    // Downgraded, still validated; and a validated constraint is all a NOT VALID one asks.
    mig.downgrade(&t, &Target::Base)
        .await
        .unwrap_or_else(|e| panic!("downgrade: {e}\n{down}"));
    assert!(
        constraint_validity(&t, "volume")
            .await
            .iter()
            .all(|(_, valid)| *valid)
    );
    let back = plain_diff(&schema_of_db(&t).await, &before);
    assert!(back.is_empty(), "{}", back.up_sql());
}

#[tokio::test]
async fn between_databases_not_valid_is_copied_and_a_validated_constraint_satisfies_it() {
    let tables = "CREATE TABLE shelf (id int PRIMARY KEY);
                  CREATE TABLE volume (id int PRIMARY KEY, shelf_id int, pages int);";
    let keys = "ALTER TABLE volume ADD CONSTRAINT volume_shelf_fk
                    FOREIGN KEY (shelf_id) REFERENCES shelf NOT VALID;
                ALTER TABLE volume ADD CONSTRAINT volume_pages_check CHECK (pages > 0) NOT VALID;";
    let loose = schema_from_ddl(&format!("{tables}{keys}")).await;
    let volume = &loose.tables[&orm_migrate::schema::QualifiedName::new("public", "volume")];
    let check = &volume.checks["volume_pages_check"];
    assert_eq!(
        (check.definition.as_str(), check.validated),
        ("CHECK ((pages > 0))", false)
    );
    assert!(!volume.foreign_keys["volume_shelf_fk"].validated);
    let strict = schema_from_ddl(&format!(
        "{tables}{keys}
         ALTER TABLE volume VALIDATE CONSTRAINT volume_shelf_fk;
         ALTER TABLE volume VALIDATE CONSTRAINT volume_pages_check;"
    ))
    .await;

    // Added as the target holds them: NOT VALID, so rows that break them do not stop it.
    let t = test_database().await.expect("db");
    t.batch_execute(&format!(
        "{tables} INSERT INTO shelf VALUES (1); INSERT INTO volume VALUES (1, 2, 0);"
    ))
    .await
    .expect("rows");
    let m = plain_diff(&schema_of_db(&t).await, &loose);
    let up = m.up_sql();
    for expected in [
        "ALTER TABLE public.volume ADD CONSTRAINT volume_pages_check CHECK ((pages > 0)) NOT VALID;",
        "ALTER TABLE public.volume ADD CONSTRAINT volume_shelf_fk FOREIGN KEY (shelf_id) \
         REFERENCES public.shelf (id) NOT VALID;",
    ] {
        assert!(up.contains(expected), "{expected}\n{up}");
    }
    migrator(revisions(std::slice::from_ref(&m)))
        .upgrade(&t, &Target::Head)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{up}"));
    assert_schema(&t, &loose, "after adding NOT VALID").await;

    // Validated towards NOT VALID: nothing to do. NOT VALID towards validated: validate.
    assert!(plain_diff(&strict, &loose).is_empty());
    let m = plain_diff(&loose, &strict);
    assert_eq!(
        m.ops
            .iter()
            .flat_map(orm_migrate::op::Op::up)
            .collect::<Vec<_>>(),
        [
            "ALTER TABLE public.volume VALIDATE CONSTRAINT volume_pages_check",
            "ALTER TABLE public.volume VALIDATE CONSTRAINT volume_shelf_fk",
        ]
    );
}

/// A page count as the database checks it: a domain.
#[derive(Debug, Clone, Copy, PartialEq, SqlType)]
pub struct Pages(i32);

impl CustomType for Pages {
    type Repr = i32;
    const COLUMN_TYPE: ColumnType = ColumnType::Domain(
        &orm_postgres::types::DomainType::new("pages", &ColumnType::Integer).check("VALUE > 0"),
    );
    fn to_repr(&self) -> i32 {
        self.0
    }
    fn from_repr(pages: i32) -> Result<Self, BoxError> {
        Ok(Pages(pages))
    }
}

#[derive(Model, Debug)]
#[model(table = "leaflet")]
pub struct Leaflet {
    #[model(primary_key, generated)]
    pub id: i64,
    pub pages: Pages,
}

/// The constraints of domain `public.<domain>`: name and whether validated.
async fn domain_constraint_validity(db: &Database, domain: &str) -> Vec<(String, bool)> {
    db.fetch_all(
        query::<(String, bool)>(
            "SELECT c.conname::text, c.convalidated FROM pg_constraint c \
             JOIN pg_type t ON t.oid = c.contypid \
             WHERE t.typname = :d AND t.typnamespace = 'public'::regnamespace ORDER BY 1",
        )
        .bind("d", domain.to_owned()),
    )
    .await
    .expect("domain constraints")
}

#[tokio::test]
async fn a_domain_check_left_not_valid_is_validated() {
    let t = test_database().await.expect("db");
    t.create_all(&[Leaflet::TABLE]).await.expect("create_all");
    t.batch_execute(
        "INSERT INTO leaflet (pages) VALUES (4);
         ALTER DOMAIN pages DROP CONSTRAINT pages_check;
         ALTER DOMAIN pages ADD CONSTRAINT pages_check CHECK (VALUE > 0) NOT VALID;",
    )
    .await
    .expect("NOT VALID");
    assert_eq!(
        domain_constraint_validity(&t, "pages").await,
        [("pages_check".to_owned(), false)]
    );

    // Validated, not reported as a domain to change by hand.
    let models = schema_of(&[Leaflet::TABLE], "public");
    let before = schema_of_db(&t).await;
    let m = diff(&before, &models, &model_options());
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    let up = m.up_sql();
    assert_eq!(
        up,
        "-- validate constraint pages_check of domain public.pages\n\
         ALTER DOMAIN public.pages VALIDATE CONSTRAINT pages_check;\n\n"
    );
    let down = m.down_sql();
    assert_eq!(
        down,
        "-- nothing to undo: constraint pages_check of domain public.pages stays validated\n\n"
    );
    // The safe form: after the main revision, outside a transaction, like a table's.
    let phases = m.phases();
    assert_eq!(
        phases.iter().map(|p| p.kind).collect::<Vec<_>>(),
        [PhaseKind::After]
    );

    let mig = migrator(revisions_of(&m, Form::Phased, 1, None));
    mig.upgrade(&t, &Target::Head)
        .await
        .unwrap_or_else(|e| panic!("upgrade: {e}\n{up}"));
    assert_eq!(
        domain_constraint_validity(&t, "pages").await,
        [("pages_check".to_owned(), true)]
    );
    let again = diff(&schema_of_db(&t).await, &models, &model_options());
    assert!(
        again.is_empty() && again.warnings.is_empty(),
        "{}\n{:?}",
        again.up_sql(),
        again.warnings
    );
    mig.downgrade(&t, &Target::Base)
        .await
        .unwrap_or_else(|e| panic!("downgrade: {e}\n{down}"));
    assert_eq!(
        domain_constraint_validity(&t, "pages").await,
        [("pages_check".to_owned(), true)]
    );
    let back = plain_diff(&schema_of_db(&t).await, &before);
    assert!(back.is_empty(), "{}", back.up_sql());
}

#[tokio::test]
async fn between_databases_a_not_valid_domain_check_is_created_and_validated() {
    let domain = "CREATE DOMAIN pages AS integer CONSTRAINT pages_positive CHECK (VALUE > 0);
                  ALTER DOMAIN pages ADD CONSTRAINT pages_small CHECK (VALUE < 10000) NOT VALID;
                  CREATE TABLE book (id int PRIMARY KEY, pages pages);";
    let loose = schema_from_ddl(domain).await;
    let pages = &loose.objects[&(ObjectKind::Domain, "public.pages".to_owned())];
    // The definition holds both constraints; which one is NOT VALID is said apart.
    assert_eq!(
        pages.create,
        "CREATE DOMAIN public.pages AS integer \
         CONSTRAINT pages_positive CHECK ((VALUE > 0)) CONSTRAINT pages_small CHECK ((VALUE < 10000))"
    );
    assert_eq!(pages.not_valid.iter().collect::<Vec<_>>(), ["pages_small"]);
    let strict = schema_from_ddl(&format!(
        "{domain} ALTER DOMAIN pages VALIDATE CONSTRAINT pages_small;"
    ))
    .await;

    // Created from the definition, which CREATE DOMAIN takes: the check validated, which is
    // all a NOT VALID one asks. Up, checked, and down, in both forms.
    let create = plain_diff(&Schema::default(), &loose).up_sql();
    assert!(
        create.contains(
            "CREATE DOMAIN public.pages AS integer CONSTRAINT pages_positive CHECK ((VALUE > 0)) \
             CONSTRAINT pages_small CHECK ((VALUE < 10000));"
        ) && !create.contains("NOT VALID"),
        "{create}"
    );
    for form in [Form::Single, Form::Phased] {
        let t = test_database().await.expect("db");
        run_chain_in(&t, std::slice::from_ref(&loose), form).await;
    }

    // Validated towards NOT VALID: nothing to do. NOT VALID towards validated: validate,
    // never drop the domain (which the table uses) to create it again.
    assert!(plain_diff(&strict, &loose).is_empty());
    let m = plain_diff(&loose, &strict);
    assert_eq!(
        m.ops.iter().flat_map(Op::up).collect::<Vec<_>>(),
        ["ALTER DOMAIN public.pages VALIDATE CONSTRAINT pages_small"]
    );
    let t = test_database().await.expect("db");
    t.batch_execute(&format!("{domain} INSERT INTO book VALUES (1, 300);"))
        .await
        .expect("rows");
    let mig = migrator(revisions_of(&m, Form::Phased, 1, None));
    mig.upgrade(&t, &Target::Head).await.expect("upgrade");
    assert_eq!(
        domain_constraint_validity(&t, "pages").await,
        [
            ("pages_positive".to_owned(), true),
            ("pages_small".to_owned(), true)
        ]
    );
    assert_schema(&t, &strict, "after validating").await;
    mig.downgrade(&t, &Target::Base).await.expect("downgrade");
    assert_schema(
        &t,
        &loose,
        "after the downgrade (validated satisfies NOT VALID)",
    )
    .await;
}
