use super::*;
use crate::schema::{Column, EnumType, QualifiedName, Table};

fn table(name: &str, columns: &[(&str, &str)]) -> Table {
    Table {
        columns: columns
            .iter()
            .map(|(n, t)| Column {
                name: n.to_string(),
                data_type: t.to_string(),
                nullable: true,
                default: None,
                identity: None,
                generated: None,
                collation: None,
                comment: None,
            })
            .collect(),
        ..Table::new(QualifiedName::new("public", name))
    }
}

/// The database the rules' examples run against: `users` and `posts` with rows, an enum
/// `mood`, and models that map `users` (not `legacy_users`, not `users.legacy_email`).
fn database() -> Schema {
    let mut s = Schema::default();
    let users = table(
        "users",
        &[
            ("id", "integer"),
            ("name", "character varying(80)"),
            ("email", "text"),
            ("legacy_email", "text"),
            ("age", "integer"),
            ("mood", "public.mood"),
        ],
    );
    let mut with_index = users.clone();
    with_index.indexes.insert(
        "users_name_idx".into(),
        crate::schema::Index {
            name: "users_name_idx".into(),
            unique: false,
            method: "btree".into(),
            keys: vec!["name".into()],
            include: vec![],
            nulls_not_distinct: false,
            with: Vec::new(),
            predicate: None,
            definition: "CREATE INDEX users_name_idx ON public.users USING btree (name)".into(),
            valid: true,
        },
    );
    for t in [
        with_index,
        table("posts", &[("id", "bigint"), ("user_id", "integer")]),
        table("legacy_users", &[("id", "integer")]),
    ] {
        s.tables.insert(t.name.clone(), t);
    }
    let mood = QualifiedName::new("public", "mood");
    s.enums.insert(
        mood.clone(),
        EnumType {
            name: mood,
            labels: vec!["happy".into(), "sad".into()],
        },
    );
    s
}

fn models() -> Schema {
    let mut s = Schema::default();
    for t in [
        table(
            "users",
            &[("id", "integer"), ("name", "text"), ("email", "text")],
        ),
        table("posts", &[("id", "bigint"), ("user_id", "integer")]),
    ] {
        s.tables.insert(t.name.clone(), t);
    }
    s
}

fn options() -> LintOptions {
    LintOptions {
        schema: Some(database()),
        models: Some(models()),
        server_version: Some(110000),
        lock_timeout: false,
    }
}

/// Lints an example the way a revision file is: `-- transaction: false` on its first line makes
/// it non-transactional; a lock_timeout is set first unless the example is about it.
fn lint_example(rule: Rule, sql: &str) -> Vec<Finding> {
    let transactional = !sql.starts_with("-- transaction: false");
    let sql = if rule == Rule::MissingLockTimeout {
        sql.to_string()
    } else {
        format!("SET lock_timeout = '5s';\n{sql}")
    };
    lint_sql(&sql, transactional, &options())
}

#[test]
fn every_bad_example_is_reported_by_its_rule() {
    for &rule in Rule::ALL {
        let found = lint_example(rule, rule.bad_example());
        assert!(
            found.iter().any(|f| f.rule == rule),
            "{} not reported in its bad example; found {:?}",
            rule.name(),
            found.iter().map(|f| f.rule.name()).collect::<Vec<_>>()
        );
    }
}

#[test]
fn no_good_example_has_an_error() {
    for &rule in Rule::ALL {
        let found = lint_example(rule, rule.good_example());
        let errors: Vec<_> = found
            .iter()
            .filter(|f| f.is_error() || f.rule == rule)
            .map(|f| format!("{}: {}", f.rule.name(), f.message))
            .collect();
        assert!(
            errors.is_empty(),
            "good example of {}: {errors:?}",
            rule.name()
        );
    }
}

#[test]
fn rule_names_are_unique_and_round_trip() {
    let mut names: Vec<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
    for r in Rule::ALL {
        assert_eq!(Rule::from_name(r.name()), Some(*r));
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), Rule::ALL.len());
}

fn rules(sql: &str, transactional: bool, opts: &LintOptions) -> Vec<&'static str> {
    lint_sql(sql, transactional, opts)
        .iter()
        .filter(|f| f.silenced.is_none())
        .map(|f| f.rule.name())
        .collect()
}

#[test]
fn tables_created_in_the_script_are_new_and_escape_the_existing_table_rules() {
    let sql = "CREATE TABLE public.tags (id bigint PRIMARY KEY, name text);\n\
               CREATE INDEX tags_name_idx ON public.tags (name);\n\
               ALTER TABLE tags ADD COLUMN n integer NOT NULL;\n\
               ALTER TABLE tags ALTER COLUMN name SET NOT NULL;\n\
               ALTER TABLE tags ADD CONSTRAINT tags_name_key UNIQUE (name);\n\
               DROP INDEX tags_name_idx;";
    assert_eq!(
        rules(sql, true, &LintOptions::default()),
        Vec::<&str>::new()
    );
}

#[test]
fn without_a_schema_other_tables_are_assumed_to_exist_with_a_schema_unknown_ones_are_new() {
    let sql = "CREATE INDEX orders_idx ON orders (placed);";
    assert_eq!(
        rules(sql, true, &LintOptions::default()),
        vec!["index-not-concurrent"]
    );
    let known = LintOptions {
        schema: Some(database()),
        ..LintOptions::default()
    };
    assert_eq!(rules(sql, true, &known), Vec::<&str>::new());
}

#[test]
fn type_changes_know_the_old_type_from_the_schema() {
    let o = options();
    let free = "SET lock_timeout = '1s';\n\
                ALTER TABLE users ALTER COLUMN name TYPE varchar(200);\n\
                ALTER TABLE users ALTER COLUMN name TYPE text;";
    assert_eq!(rules(free, true, &o), Vec::<&str>::new());
    let shrink = "SET lock_timeout = '1s'; ALTER TABLE users ALTER COLUMN name TYPE varchar(10);";
    let found = lint_sql(shrink, true, &o);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].message,
        "changes public.users.name from varchar(80) to VARCHAR(10)"
    );
    assert_eq!(
        found[0].lock.as_ref().map(|l| l.mode),
        Some(LockMode::AccessExclusive)
    );
    // Autogenerate's form: `USING` the column cast to the new type, which is what the
    // server does without one.
    let autogenerated = "SET lock_timeout = '1s';\n\
        ALTER TABLE public.users ALTER COLUMN name TYPE varchar(200) USING name::varchar(200);\n\
        ALTER TABLE public.users ALTER COLUMN \"name\" TYPE text USING (\"name\")::text;\n\
        ALTER TABLE public.users ALTER COLUMN name TYPE text USING CAST(name AS text);";
    assert_eq!(rules(autogenerated, true, &o), Vec::<&str>::new());
    let shrink = "SET lock_timeout = '1s'; ALTER TABLE users ALTER COLUMN name TYPE varchar(10) USING name::varchar(10);";
    let found = lint_sql(shrink, true, &o);
    assert_eq!(
        found[0].message,
        "changes public.users.name from varchar(80) to VARCHAR(10)"
    );
    // A cast to another type than the column's new one, or of another column, is a rewrite.
    for other in ["age::text", "name::varchar(300)", "upper(name)::text"] {
        let sql = format!(
            "SET lock_timeout = '1s'; ALTER TABLE users ALTER COLUMN name TYPE text USING {other};"
        );
        assert_eq!(
            rules(&sql, true, &o),
            vec!["changing-column-type"],
            "{other}"
        );
    }
    let using =
        "SET lock_timeout = '1s'; ALTER TABLE users ALTER COLUMN name TYPE text USING upper(name);";
    assert_eq!(rules(using, true, &o), vec!["changing-column-type"]);
    // Offline, the old type is unknown: reported, saying so.
    let found = lint_sql(
        "ALTER TABLE users ALTER COLUMN name TYPE text",
        true,
        &LintOptions::default(),
    );
    assert!(found[0].message.contains("not known here"), "{found:?}");
}

#[test]
fn offline_a_column_type_set_by_an_earlier_revision_is_known() {
    // `lint` without a database over the whole history: the first revision created the
    // column as varchar(40), so the second's change to text is free (as autogenerate's lint,
    // against the database, says); the table still counts as existing, with rows.
    let scripts = [
        "CREATE TABLE tags (id bigint PRIMARY KEY, name character varying(40) NOT NULL, n integer);",
        "ALTER TABLE tags ALTER COLUMN name TYPE text USING name::text;",
        "ALTER TABLE tags ALTER COLUMN n TYPE bigint; ALTER TABLE tags DROP COLUMN name; \
         ALTER TABLE tags ADD COLUMN name text; CREATE INDEX tags_n ON tags (n);",
        "ALTER TABLE tags ALTER COLUMN name TYPE varchar(10);",
    ];
    let scripts: Vec<Script<'_>> = scripts
        .iter()
        .enumerate()
        .map(|(i, sql)| Script {
            source: format!("r{i}/up.sql"),
            sql,
            transactional: true,
            lines_above: 0,
        })
        .collect();
    let report = lint_scripts(&scripts, &LintOptions::default());
    let found: Vec<(&str, &str)> = report
        .findings()
        .filter(|(_, f)| f.is_error())
        .map(|(s, f)| (s, f.rule.name()))
        .collect();
    assert_eq!(
        found,
        vec![
            ("r2/up.sql", "changing-column-type"),
            ("r2/up.sql", "index-not-concurrent"),
            ("r3/up.sql", "changing-column-type"),
        ],
        "{report}"
    );
    // Each revision alone still knows nothing of the types.
    let alone = lint_scripts(&scripts[1..2], &LintOptions::default());
    assert_eq!(alone.errors(), 1, "{alone}");
}

#[test]
fn set_not_null_is_fine_after_a_validated_check_and_not_before() {
    let o = options();
    let safe = "SET lock_timeout = '1s';\n\
        ALTER TABLE users ADD CONSTRAINT users_age_nn CHECK (age IS NOT NULL) NOT VALID;\n\
        ALTER TABLE users VALIDATE CONSTRAINT users_age_nn;\n\
        ALTER TABLE users ALTER COLUMN age SET NOT NULL;";
    assert_eq!(rules(safe, false, &o), Vec::<&str>::new());
    // In one transaction the validation runs under the ADD's lock.
    assert_eq!(rules(safe, true, &o), vec!["validate-in-transaction"]);
    let unvalidated = "SET lock_timeout = '1s';\n\
        ALTER TABLE users ADD CONSTRAINT users_age_nn CHECK (age IS NOT NULL) NOT VALID;\n\
        ALTER TABLE users ALTER COLUMN age SET NOT NULL;";
    assert_eq!(rules(unvalidated, false, &o), vec!["setting-not-null"]);
}

#[test]
fn findings_carry_line_statement_and_lock() {
    let sql = "SET lock_timeout = '1s';\n\n-- the index\nCREATE INDEX users_email_idx\n  ON users (email);\n";
    let found = lint_sql(sql, true, &options());
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f.line, 4);
    assert_eq!(f.statement, "CREATE INDEX users_email_idx ON users (email)");
    assert_eq!(
        f.lock,
        Some(Lock {
            mode: LockMode::Share,
            table: QualifiedName::new("public", "users")
        })
    );
    let text = f.to_string();
    assert!(
        text.starts_with("error[index-not-concurrent] line 4: builds an index on public.users"),
        "{text}"
    );
    assert!(
        text.contains("lock: SHARE on public.users (blocks every write (reads go on))"),
        "{text}"
    );
    assert!(
        text.contains("instead: CREATE INDEX CONCURRENTLY"),
        "{text}"
    );
}

#[test]
fn a_silence_needs_the_rule_and_a_reason_and_covers_only_its_statement() {
    let o = options();
    let sql = "SET lock_timeout = '1s';\n\
        -- lint: allow index-not-concurrent: users is tiny\n\
        CREATE INDEX a ON users (email);\n\
        CREATE INDEX b ON users (age);";
    let found = lint_sql(sql, true, &o);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].silenced.as_deref(), Some("users is tiny"));
    assert!(!found[0].is_error());
    assert!(found[1].is_error());
    let no_reason = "SET lock_timeout = '1s';\n-- lint: allow index-not-concurrent\nCREATE INDEX a ON users (email);";
    assert_eq!(
        rules(no_reason, true, &o),
        vec!["bad-silence", "index-not-concurrent"]
    );
}

#[test]
fn drop_index_concurrently_is_understood() {
    let o = options();
    let sql = "SET lock_timeout = '1s'; DROP INDEX CONCURRENTLY public.users_name_idx;";
    assert_eq!(rules(sql, false, &o), Vec::<&str>::new());
    assert_eq!(rules(sql, true, &o), vec!["concurrently-in-transaction"]);
    let plain = "SET lock_timeout = '1s'; DROP INDEX public.users_name_idx;";
    let found = lint_sql(plain, true, &o);
    assert_eq!(found[0].rule, Rule::IndexNotConcurrent);
    assert_eq!(
        found[0].lock.as_ref().map(|l| l.table.to_string()),
        Some("public.users".to_string())
    );
}

#[test]
fn enum_labels_in_a_transaction_only_matter_before_12() {
    let sql = "ALTER TYPE mood ADD VALUE 'meh';";
    let mut o = options();
    o.lock_timeout = true;
    assert_eq!(rules(sql, true, &o), vec!["enum-value-in-transaction"]);
    o.server_version = Some(150004);
    assert_eq!(rules(sql, true, &o), Vec::<&str>::new());
}

#[test]
fn recreating_an_enum_with_every_label_is_not_dropping_one() {
    let mut o = options();
    o.lock_timeout = true;
    let keep = "ALTER TYPE public.mood RENAME TO mood_old;\n\
        CREATE TYPE public.mood AS ENUM ('happy', 'sad', 'meh');\n\
        DROP TYPE public.mood_old;";
    assert_eq!(rules(keep, true, &o), Vec::<&str>::new());
    let lose = keep.replace("'sad', ", "");
    let found = lint_sql(&lose, true, &o);
    assert_eq!(found[0].rule, Rule::DroppingEnumValue);
    assert_eq!(found[0].message, "recreates public.mood without sad");
}

#[test]
fn lock_timeout_is_asked_for_once_and_only_when_the_runner_sets_none() {
    let sql = "ALTER TABLE users ADD COLUMN a int; ALTER TABLE users ADD COLUMN b int;";
    let mut o = options();
    assert_eq!(rules(sql, true, &o), vec!["missing-lock-timeout"]);
    let zero = format!("SET lock_timeout = 0; {sql}");
    assert_eq!(rules(&zero, true, &o), vec!["missing-lock-timeout"]);
    o.lock_timeout = true;
    assert_eq!(rules(sql, true, &o), Vec::<&str>::new());
}

#[test]
fn renames_warn_and_are_errors_only_when_the_models_still_map_the_old_name() {
    let o = options();
    let away = "SET lock_timeout = '1s'; ALTER TABLE users RENAME COLUMN email TO mail;";
    assert_eq!(
        rules(away, true, &o),
        vec!["renaming-column", "removing-mapped-column"]
    );
    let into = "SET lock_timeout = '1s'; ALTER TABLE users RENAME COLUMN legacy_email TO email2;";
    assert_eq!(rules(into, true, &o), vec!["renaming-column"]);
    let script = Script {
        source: "r/up.sql".into(),
        sql: away,
        transactional: true,
        lines_above: 2,
    };
    let report = lint_scripts(&[script], &o);
    assert_eq!(report.findings().next().map(|(_, f)| f.line), Some(3));
    assert_eq!(report.errors(), 1);
    assert_eq!(report.warnings(), 1);
}

#[test]
fn a_renamed_table_is_known_by_its_new_name() {
    let o = options();
    let sql = "SET lock_timeout = '1s';\n\
        ALTER TABLE legacy_users RENAME TO old_users;\n\
        CREATE INDEX old_users_id_idx ON old_users (id);\n\
        ALTER TABLE old_users ALTER COLUMN id TYPE text;";
    let found = lint_sql(sql, true, &o);
    let seen: Vec<(&str, &str)> = found
        .iter()
        .map(|f| (f.rule.name(), f.message.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "renaming-table",
                "renames public.legacy_users to public.old_users"
            ),
            (
                "index-not-concurrent",
                "builds an index on public.old_users, which exists, without CONCURRENTLY"
            ),
            (
                "changing-column-type",
                "changes public.old_users.id from integer to TEXT"
            ),
        ]
    );
    // A quoted name keeps its case.
    let quoted = lint_sql(
        "SET lock_timeout = '1s'; ALTER TABLE legacy_users RENAME TO \"Old\";",
        true,
        &o,
    );
    assert_eq!(
        quoted[0].message,
        "renames public.legacy_users to public.Old"
    );
}

#[test]
fn a_renamed_column_keeps_the_type_the_database_gave_it() {
    // A column renamed in the revision keeps the type the database gave it: legacy_users.id
    // (integer) to bigint rewrites the table, users.name (varchar(80)) to text is free, under
    // their new names as under their old ones.
    let o = options();
    let sql = "SET lock_timeout = '1s';\n\
        ALTER TABLE legacy_users RENAME COLUMN id TO uid;\n\
        ALTER TABLE legacy_users ALTER COLUMN uid TYPE bigint;";
    let found = lint_sql(sql, true, &o);
    let seen: Vec<(&str, &str)> = found
        .iter()
        .filter(|f| f.rule == Rule::ChangingColumnType)
        .map(|f| (f.rule.name(), f.message.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![(
            "changing-column-type",
            "changes public.legacy_users.uid from integer to BIGINT"
        )]
    );
    let free = "SET lock_timeout = '1s';\n\
        ALTER TABLE users RENAME COLUMN name TO full_name;\n\
        ALTER TABLE users ALTER COLUMN full_name TYPE text;";
    let found = lint_sql(free, true, &o);
    assert!(
        found.iter().all(|f| f.rule != Rule::ChangingColumnType),
        "{found:?}"
    );
}

#[test]
fn statements_autogenerate_writes_that_the_parser_does_not_read_are_judged() {
    // A storage parameter: SHARE UPDATE EXCLUSIVE on the index, nothing to report (not even
    // "not checked").
    for sql in [
        "ALTER INDEX users_email_idx SET (fillfactor=70);",
        "alter index if exists \"public\".\"users_email_idx\" reset (fillfactor, deduplicate_items);",
    ] {
        assert_eq!(
            rules(sql, true, &LintOptions::default()),
            Vec::<&str>::new(),
            "{sql}"
        );
    }
    assert_eq!(
        rules(
            "ALTER DOMAIN public.positive VALIDATE CONSTRAINT positive_check;",
            true,
            &LintOptions::default()
        ),
        ["validating-domain-constraint"]
    );
    // Other forms stay unchecked, and say so.
    for sql in [
        "ALTER INDEX users_email_idx ATTACH PARTITION p_idx;",
        "ALTER DOMAIN positive DROP CONSTRAINT positive_check CASCADE;",
    ] {
        assert_eq!(
            rules(sql, true, &LintOptions::default()),
            ["unparsed-statement"],
            "{sql}"
        );
    }
}

#[test]
fn unknown_statements_are_warned_about_not_dropped() {
    let found = lint_sql(
        "ALTER TABLE users SET SCHEMA archive;",
        true,
        &LintOptions::default(),
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule, Rule::UnparsedStatement);
    assert_eq!(found[0].severity(), Severity::Warning);
    // A CONCURRENTLY the parser does not know is still seen.
    let found = lint_sql(
        "REINDEX INDEX CONCURRENTLY i;",
        true,
        &LintOptions::default(),
    );
    assert_eq!(found[0].rule, Rule::ConcurrentlyInTransaction);
}

#[test]
fn volatile_defaults_serials_and_identities_rewrite() {
    let o = options();
    for (sql, expect) in [
        (
            "ALTER TABLE users ADD COLUMN t timestamptz DEFAULT now()",
            vec![],
        ),
        (
            "ALTER TABLE users ADD COLUMN t timestamptz DEFAULT clock_timestamp()",
            vec!["adding-volatile-default"],
        ),
        (
            "ALTER TABLE users ADD COLUMN n bigserial",
            vec!["adding-volatile-default"],
        ),
        (
            "ALTER TABLE users ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY",
            vec!["adding-volatile-default"],
        ),
        (
            "ALTER TABLE users ADD COLUMN n int GENERATED ALWAYS AS (age * 2) STORED",
            vec!["adding-volatile-default"],
        ),
        (
            "ALTER TABLE users ADD COLUMN n int NOT NULL DEFAULT 1",
            vec![],
        ),
        (
            "ALTER TABLE users ADD COLUMN n int REFERENCES posts (id)",
            vec!["constraint-not-valid"],
        ),
        (
            "ALTER TABLE users ADD COLUMN n int UNIQUE",
            vec!["adding-unique-constraint"],
        ),
    ] {
        let sql = format!("SET lock_timeout = '1s'; {sql}");
        assert_eq!(rules(&sql, true, &o), expect, "{sql}");
    }
}

proptest::proptest! {
    /// Each statement's line is the line it starts on, however many statements, comments and
    /// blank lines come before it.
    #[test]
    fn statement_lines_are_counted_from_the_top(
        parts in proptest::collection::vec((0usize..3, proptest::bool::ANY, 0usize..3), 1..40)
    ) {
        let mut sql = String::new();
        let mut expected = Vec::new();
        for (i, (blank, comment, wrapped)) in parts.iter().enumerate() {
            sql.push_str(&"\n".repeat(*blank));
            if *comment {
                sql.push_str("-- a comment\n");
            }
            expected.push(1 + sql.matches('\n').count());
            sql.push_str(&format!("SELECT {i}"));
            sql.push_str(&"\n  , 1".repeat(*wrapped));
            sql.push_str(";\n");
        }
        let lines: Vec<usize> = script::statements(&sql).iter().map(|s| s.line).collect();
        proptest::prop_assert_eq!(lines, expected);
    }
}

#[test]
fn moving_a_sequence_past_the_rows_is_not_flagged() {
    // What autogenerate writes after adopting a `serial` as an identity, and back.
    let sql = "SET lock_timeout = '1s';\n\
        ALTER TABLE public.users ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY;\n\
        SELECT setval(d.objid::regclass, greatest(coalesce((SELECT max(id) FROM public.users), 0), coalesce(pg_sequence_last_value(d.objid::regclass), 0)) + 1, false) \
        FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass \
        AND d.deptype = 'i' AND d.refobjid = 'public.users'::regclass AND a.attname = 'id';\n\
        SELECT setval('public.users_id_seq'::regclass, greatest(coalesce(max(id), 0), coalesce(pg_sequence_last_value('public.users_id_seq'::regclass), 0)) + 1, false) FROM public.users;";
    assert_eq!(rules(sql, true, &options()), Vec::<&str>::new());
}
