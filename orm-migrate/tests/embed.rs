//! `embed_migrations!` compiles a migrations directory into the binary: the embedded revisions
//! must be exactly those `files::read_dir` reads from the same directory (tests run from the
//! crate's directory, so the relative paths, and the revisions' `source`, agree).

use orm_migrate::{Embedded, Graph, Target, embed_migrations, files};

static MIGRATIONS: Embedded = embed_migrations!("tests/fixtures/migrations");

const DIR: &str = "tests/fixtures/migrations";

#[test]
fn embedded_revisions_equal_the_directory() {
    let embedded = MIGRATIONS
        .revisions()
        .expect("the embedded revisions parse");
    let read = files::read_dir(DIR).expect("the directory reads");
    assert_eq!(embedded, read);
    let ids: Vec<&str> = embedded.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["20261130120000", "20261201090000", "20261202100000"]);
    for (e, r) in embedded.iter().zip(&read) {
        assert_eq!(e.checksum(), r.checksum());
    }
    // Four entries: three revisions and the README, which is skipped.
    assert_eq!(MIGRATIONS.entries.len(), 4);
    assert_eq!(MIGRATIONS.dir, DIR);
}

#[test]
fn embedded_revisions_carry_their_headers() {
    let revisions = MIGRATIONS.revisions().expect("parses");
    let body = &revisions[1];
    assert_eq!(body.message, "Add tutorial body");
    assert_eq!(body.parents, ["20261130120000"]);
    assert_eq!(body.run.as_deref(), Some("seed_tutorials"));
    assert_eq!(
        body.up,
        "ALTER TABLE tutorial ADD COLUMN body text NOT NULL DEFAULT '';\n"
    );
    assert_eq!(body.down, "ALTER TABLE tutorial DROP COLUMN body;\n");
    assert_eq!(
        body.source,
        std::path::Path::new(DIR).join("20261201090000_add_tutorial_body/up.sql")
    );
    let index = &revisions[2];
    assert!(!index.transactional);
    assert!(revisions[0].transactional && revisions[0].parents.is_empty());
}

#[test]
fn embedded_graph_plans_an_upgrade() {
    let graph: Graph = MIGRATIONS.graph().expect("a valid graph");
    let plan = graph
        .upgrade_plan(&Default::default(), &Target::Head)
        .expect("one head");
    let ids: Vec<&str> = plan.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["20261130120000", "20261201090000", "20261202100000"]);
}

#[test]
fn a_trailing_slash_names_the_same_directory() {
    static SLASH: Embedded = embed_migrations!("tests/fixtures/migrations/");
    let with_slash = SLASH.revisions().expect("parses");
    let without = MIGRATIONS.revisions().expect("parses");
    assert_eq!(with_slash, without);
}
