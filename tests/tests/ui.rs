//! Macro UI tests: `ui/<topic>/*.rs` must fail to compile with exactly the errors in their
//! `.stderr` files (one rule per file), `ui-pass/*.rs` must compile and run.
//!
//! The failing cases are grouped by what they misuse: the `Model` derive's attributes, the
//! session-side attributes (hooks, validators, versions), relationships, `FromRow`, `DbEnum`, `SqlType`
//! and the typed query builders. A new folder must be added to the list below.
//!
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test -p orm-tests --test ui`
//! and review the diff: they change with the compiler version.

/// The folders of `tests/ui`, one per topic.
const TOPICS: &[&str] = &[
    "model",
    "session",
    "relationship",
    "from_row",
    "db_enum",
    "sql_type",
    "query",
    "test_attr",
    "shape",
    "inheritance",
];

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    for topic in TOPICS {
        t.compile_fail(format!("tests/ui/{topic}/*.rs"));
    }
    t.pass("tests/ui-pass/*.rs");
}

/// Every entry of `tests/ui` is a folder listed in [`TOPICS`], so no case is left out silently.
#[test]
fn every_ui_case_is_in_a_tested_folder() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ui");
    let mut entries: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    entries.sort();
    let mut listed: Vec<&str> = TOPICS.to_vec();
    listed.sort();
    assert_eq!(entries, listed);
}
