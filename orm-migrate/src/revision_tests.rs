//! Tests of the revision file format: parsing, formatting, checksums, slugs.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::*;

const DIR: &str = "migrations/20261201090000_add_tutorial_model";

fn parse(up: &str, down: Option<&str>) -> Result<Revision> {
    Revision::parse(Path::new(DIR), up, down)
}

/// The error's path and message, or a panic naming what parsed.
fn malformed_err(up: &str, down: Option<&str>) -> (PathBuf, String) {
    match parse(up, down) {
        Err(MigrateError::Malformed { path, message }) => (path, message),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn parses_every_header_key() {
    let up = "-- message: Add Tutorial model\n\
              -- parents: 20261130120000, 20261130130000\n\
              -- depends_on: 20261129000000\n\
              -- transaction: false\n\
              -- run: seed_tutorials\n\
              \n\
              CREATE TABLE tutorial (id bigint);\n";
    let r = parse(up, Some("DROP TABLE tutorial;\n")).expect("parses");
    assert_eq!(r.id, "20261201090000");
    assert_eq!(r.message, "Add Tutorial model");
    assert_eq!(r.parents, ["20261130120000", "20261130130000"]);
    assert_eq!(r.depends_on, ["20261129000000"]);
    assert!(!r.transactional);
    assert_eq!(r.run.as_deref(), Some("seed_tutorials"));
    assert_eq!(r.up, "CREATE TABLE tutorial (id bigint);\n");
    assert_eq!(r.down, "DROP TABLE tutorial;\n");
    assert_eq!(r.source, Path::new(DIR).join("up.sql"));
    assert_eq!(r.header.len() + r.up.len(), up.len());
    assert!(r.is_merge());
}

#[test]
fn defaults_when_keys_are_omitted() {
    let r = parse("-- message: first\nCREATE TABLE a ();", Some("")).expect("parses");
    assert!(r.parents.is_empty());
    assert!(r.depends_on.is_empty());
    assert!(r.transactional);
    assert_eq!(r.run, None);
    // No blank line: the header ends at the first line that is not `-- key: value`.
    assert_eq!(r.header, "-- message: first\n");
    assert_eq!(r.up, "CREATE TABLE a ();");
    assert_eq!(r.down, "");
}

#[test]
fn empty_parents_is_a_root_and_loose_spacing_is_read() {
    let up = "--message:   spaced out  \n--   parents:\n-- transaction: true\n\nSELECT 1;";
    let r = parse(up, Some("")).expect("parses");
    assert_eq!(r.message, "spaced out");
    assert!(r.parents.is_empty());
    assert!(r.transactional);
    assert_eq!(r.up, "SELECT 1;");
}

#[test]
fn a_plain_comment_after_the_header_starts_the_body() {
    let up = "-- message: m\n-- Creates the table.\nCREATE TABLE a ();\n";
    let r = parse(up, Some("")).expect("parses");
    assert_eq!(r.up, "-- Creates the table.\nCREATE TABLE a ();\n");
}

#[test]
fn crlf_and_bom_are_read_as_lf() {
    let lf = parse("-- message: m\n\nSELECT 1;\r\n", Some("SELECT 2;\n")).expect("parses");
    let crlf = parse(
        "\u{feff}-- message: m\r\n\r\nSELECT 1;\r\n",
        Some("SELECT 2;\r\n"),
    )
    .expect("parses");
    assert_eq!(crlf.up, "SELECT 1;\n");
    assert_eq!(crlf.down, "SELECT 2;\n");
    assert_eq!(lf.up, crlf.up);
    assert_eq!(lf.checksum(), crlf.checksum());
}

#[test]
fn checksum_is_the_sha256_of_up_sql() {
    let up = "-- message: m\n\nSELECT 1;\n";
    let r = parse(up, Some("")).expect("parses");
    // sha256 of the whole file, computed independently:
    // printf -- '-- message: m\n\nSELECT 1;\n' | sha256sum
    assert_eq!(
        r.checksum(),
        "e99928a44beb06ff8ad37ca5dd75865fb0fde0eb33fcd5f74ea45840474f5e24"
    );
    assert_eq!(r.checksum().len(), 64);
    assert!(r.checksum().bytes().all(|b| b.is_ascii_hexdigit()));
}

#[test]
fn checksum_changes_with_any_edit_of_up_sql() {
    let base = parse("-- message: m\n\nSELECT 1;\n", Some("")).expect("parses");
    let edits = [
        "-- message: m\n\nSELECT 2;\n",          // the script
        "-- message: m2\n\nSELECT 1;\n",         // a header value
        "--  message: m\n\nSELECT 1;\n",         // header spacing
        "-- message: m\n\n\nSELECT 1;\n",        // a blank line
        "-- message: m\n\nSELECT 1;\n-- note\n", // a comment
    ];
    for edit in edits {
        let r = parse(edit, Some("")).expect("parses");
        assert_ne!(r.checksum(), base.checksum(), "{edit:?}");
    }
    // The down script is not part of it.
    let other_down = parse("-- message: m\n\nSELECT 1;\n", Some("DROP")).expect("parses");
    assert_eq!(other_down.checksum(), base.checksum());
}

#[test]
fn unknown_key_names_the_file_and_line() {
    let (path, message) = malformed_err(
        "-- message: m\n-- parent: 20261130120000\nSELECT 1;",
        Some(""),
    );
    assert_eq!(path, Path::new(DIR).join("up.sql"));
    assert!(
        message.starts_with("line 2: unknown header key `parent`"),
        "{message}"
    );
}

#[test]
fn duplicate_key_is_malformed() {
    let (_, message) = malformed_err("-- message: m\n-- message: n\nSELECT 1;", Some(""));
    assert_eq!(message, "line 2: header key `message` given twice");
}

#[test]
fn bad_transaction_value_is_malformed() {
    let tail = "the value is `true` or `false` (both directions), or per direction \
                `up false`, `down false`, `up false, down true`";
    for (value, why) in [
        ("maybe", ""),
        ("", ""),
        ("up", ""),
        ("False", ""),
        ("up maybe", "`maybe` is not `true` or `false`; "),
        (
            "sideways false",
            "`sideways` is not a direction (`up`, `down`); ",
        ),
        ("up false, up true", "`up` is given twice; "),
        (
            "up false down true",
            "`up false down true` is not `<direction> <true|false>`; ",
        ),
        ("up false,", "`` is not `<direction> <true|false>`; "),
    ] {
        let (_, message) = malformed_err(
            &format!("-- message: m\n-- transaction: {value}\n\nSELECT 1;"),
            Some(""),
        );
        assert_eq!(
            message,
            format!("line 2: `transaction: {value}`: {why}{tail}"),
            "{value}"
        );
    }
}

#[test]
fn transaction_per_direction() {
    for (value, up, down, written) in [
        ("true", true, true, None),
        ("false", false, false, Some("false")),
        ("up false", false, true, Some("up false")),
        ("down false", true, false, Some("down false")),
        ("up false, down true", false, true, Some("up false")),
        ("down false,up false", false, false, Some("false")),
        ("up true", true, true, None),
    ] {
        let r = parse(
            &format!("-- message: m\n-- transaction: {value}\n\nSELECT 1;"),
            Some(""),
        )
        .expect(value);
        assert_eq!(
            (r.transactional, r.down_transactional),
            (up, down),
            "{value}"
        );
        let header = Revision::new("20261201090000", "m")
            .with_transactional(up)
            .with_down_transactional(down)
            .render_header();
        match written {
            Some(w) => assert!(
                header.contains(&format!("-- transaction: {w}\n")),
                "{header}"
            ),
            None => assert!(!header.contains("transaction"), "{header}"),
        }
    }
    // A backfill needs its own direction outside a transaction.
    let (path, message) = malformed_err(
        "-- message: m\n-- transaction: down false\n\nSELECT 1;\n-- @backfill public.t.c key id\n",
        Some(""),
    );
    assert_eq!(path, Path::new(DIR).join("up.sql"));
    assert!(
        message.contains("the up script must run outside a transaction"),
        "{message}"
    );
}

#[test]
fn bad_ids_are_malformed() {
    for (parents, expected) in [
        ("2026120109", "`2026120109` is not a revision id"),
        ("20261201090000,", "`` is not a revision id"),
        ("2026120109000x", "`2026120109000x` is not a revision id"),
        (
            "20261201090000, 20261201090000",
            "revision 20261201090000 is listed twice",
        ),
    ] {
        let up = format!("-- message: m\n-- parents: {parents}\n\nSELECT 1;");
        let (_, message) = malformed_err(&up, Some(""));
        assert!(
            message.starts_with(&format!("line 2: {expected}")),
            "{message}"
        );
    }
    let up = "-- message: m\n-- depends_on: abc\n\nSELECT 1;";
    let (_, message) = malformed_err(up, Some(""));
    assert!(
        message.starts_with("line 2: `abc` is not a revision id"),
        "{message}"
    );
}

#[test]
fn bad_run_value_is_malformed() {
    let (_, message) = malformed_err("-- message: m\n-- run: seed tutorials\n\n", Some(""));
    assert!(
        message.starts_with("line 2: `run: seed tutorials`"),
        "{message}"
    );
    let (_, message) = malformed_err("-- message: m\n-- run:\n\n", Some(""));
    assert!(message.starts_with("line 2: `run: `"), "{message}");
}

#[test]
fn missing_header_is_malformed() {
    let (path, message) = malformed_err("CREATE TABLE a ();", Some(""));
    assert_eq!(path, Path::new(DIR).join("up.sql"));
    assert!(
        message.starts_with("line 1: the header has no `-- message: ...` line"),
        "{message}"
    );
}

#[test]
fn empty_up_is_malformed_unless_merge_or_run() {
    for body in [
        "",
        "\n  \n",
        "-- TODO\n",
        "/* a /* nested */ comment */\n-- x",
    ] {
        let up = format!("-- message: m\n-- parents: 20261130120000\n\n{body}");
        let (path, message) = malformed_err(&up, Some(""));
        assert_eq!(path, Path::new(DIR).join("up.sql"));
        assert!(message.starts_with("the up script is empty"), "{message}");
    }
    let merge = "-- message: merge\n-- parents: 20261130120000, 20261130130000\n";
    assert!(parse(merge, Some("")).expect("a merge").up.is_empty());
    let run = "-- message: seed\n-- run: seed\n\n-- the function does it\n";
    assert_eq!(
        parse(run, Some("")).expect("a run").run.as_deref(),
        Some("seed")
    );
    // An unterminated comment hides nothing: still empty.
    assert!(is_blank_sql("/* open"));
    assert!(!is_blank_sql("/* c */ SELECT 1"));
    assert!(!is_blank_sql("-- c\nSELECT 1"));
}

#[test]
fn missing_down_is_malformed() {
    let (path, message) = malformed_err("-- message: m\n\nSELECT 1;", None);
    assert_eq!(path, Path::new(DIR).join("down.sql"));
    assert!(message.starts_with("missing"), "{message}");
}

#[test]
fn bad_directory_name_is_malformed() {
    for name in [
        "2026120109_x",
        "20261201090000",
        "20261201090000_",
        "20261201090000-x",
        "x",
    ] {
        let dir = Path::new("migrations").join(name);
        match Revision::parse(&dir, "-- message: m\n\nSELECT 1;", Some("")) {
            Err(MigrateError::Malformed { path, message }) => {
                assert_eq!(path, dir);
                assert!(message.starts_with("not a revision directory"), "{message}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn errors_display_the_path() {
    let err = parse("-- message: m\n-- colour: red\n\nSELECT 1;", Some("")).expect_err("bad key");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "{DIR}/up.sql: line 2: unknown header key `colour`"
        )),
        "{text}"
    );
}

#[test]
fn split_dir_name_reads_id_and_slug() {
    assert_eq!(
        split_dir_name("20261201090000_add_tutorial-model"),
        Some(("20261201090000", "add_tutorial-model"))
    );
    assert_eq!(split_dir_name("20261201090000_a b"), None);
    assert_eq!(split_dir_name("2026120109000a_x"), None);
    assert_eq!(split_dir_name("é0261201090000_x"), None);
}

#[test]
fn slugs() {
    assert_eq!(slug("Add Tutorial model"), "add_tutorial_model");
    assert_eq!(
        slug("  add -- users.email (unique!) "),
        "add_users_email_unique"
    );
    assert_eq!(slug("Ünïcode ñame"), "n_code_ame");
    assert_eq!(slug("!!!"), "revision");
    assert_eq!(slug(""), "revision");
    let long = slug("one two three four five six seven eight nine ten");
    assert_eq!(long, "one_two_three_four_five_six_seven_eight");
    assert!(long.len() <= SLUG_MAX);
    assert_eq!(slug(&"x".repeat(100)), "x".repeat(SLUG_MAX));
}

#[test]
fn new_revision_files() {
    let r = Revision::new("20261201090000", "Add Tutorial\nmodel ")
        .with_parents(["20261130120000"])
        .with_up("CREATE TABLE tutorial ();\n")
        .with_down("DROP TABLE tutorial;\n");
    assert_eq!(r.message, "Add Tutorial model");
    assert_eq!(r.dir_name(), "20261201090000_add_tutorial_model");
    assert_eq!(
        r.source,
        Path::new("20261201090000_add_tutorial_model/up.sql")
    );
    let files = r.to_files();
    assert_eq!(
        files.up,
        "-- message: Add Tutorial model\n-- parents: 20261130120000\n\nCREATE TABLE tutorial ();\n"
    );
    assert_eq!(files.down, "DROP TABLE tutorial;\n");
    let all = Revision::new("20261201090000", "m")
        .with_parents(["20261130120000", "20261130130000"])
        .with_depends_on(["20261129000000"])
        .with_transactional(false)
        .with_run("seed");
    assert_eq!(
        all.render_header(),
        "-- message: m\n-- parents: 20261130120000, 20261130130000\n\
         -- depends_on: 20261129000000\n-- transaction: false\n-- run: seed\n\n"
    );
    assert_eq!(all.header, all.render_header());
}

fn ids(max: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::btree_set("[0-9]{14}", 0..=max).prop_map(|s| s.into_iter().collect())
}

fn revisions() -> impl Strategy<Value = Revision> {
    (
        "[0-9]{14}",
        "\\PC{0,50}",
        ids(3),
        ids(2),
        any::<(bool, bool)>(),
        proptest::option::of("[a-z_][a-z0-9_]{0,12}"),
        "[^\r]{0,80}",
        "[^\r\u{feff}]{0,80}",
    )
        .prop_map(|(id, message, parents, depends_on, tx, run, up, down)| {
            let r = Revision::new(id, &message)
                .with_parents(parents)
                .with_depends_on(depends_on)
                .with_transactional(tx.0)
                .with_down_transactional(tx.1)
                .with_up(format!("SELECT 1;\n{up}"))
                .with_down(down);
            match run {
                Some(run) => r.with_run(run),
                None => r,
            }
        })
}

proptest! {
    /// Format then parse gives the same revision, with the checksum of the file written.
    #[test]
    fn format_then_parse_round_trips(r in revisions()) {
        let files = r.to_files();
        let parsed = Revision::parse(Path::new(&r.dir_name()), &files.up, Some(&files.down))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&parsed, &r);
        prop_assert_eq!(format!("{}{}", parsed.header, parsed.up), files.up);
    }

    /// Reading a file with `\r\n` line ends gives the same revision and checksum.
    #[test]
    fn crlf_files_parse_the_same(r in revisions()) {
        let files = r.to_files();
        let dir = PathBuf::from(r.dir_name());
        let lf = Revision::parse(&dir, &files.up, Some(&files.down))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let crlf = Revision::parse(
            &dir,
            &files.up.replace('\n', "\r\n"),
            Some(&files.down.replace('\n', "\r\n")),
        )
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(lf.checksum(), crlf.checksum());
        prop_assert_eq!(lf, crlf);
    }
}
