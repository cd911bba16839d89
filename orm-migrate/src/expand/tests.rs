use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use super::*;
use crate::graph::Graph;
use crate::schema::{Check, FkAction, ForeignKey, PrimaryKey, QualifiedName};

fn column(name: &str, data_type: &str, nullable: bool) -> Column {
    Column {
        name: name.into(),
        data_type: data_type.into(),
        nullable,
        default: None,
        identity: None,
        generated: None,
        collation: None,
        comment: None,
    }
}

/// `public.accounts (id bigint PK, name text NOT NULL DEFAULT 'anon' UNIQUE, balance_cents
/// integer NOT NULL DEFAULT 0, owner_id bigint)`, with an index on lower(name) and one on
/// balance_cents.
fn schema() -> Schema {
    let name = QualifiedName::new("public", "accounts");
    let mut table = Table {
        columns: vec![
            column("id", "bigint", false),
            Column {
                default: Some("'anon'::text".into()),
                comment: Some("who it is".into()),
                ..column("name", "text", false)
            },
            Column {
                default: Some("0".into()),
                comment: Some("in cents".into()),
                ..column("balance_cents", "integer", false)
            },
            column("owner_id", "bigint", true),
        ],
        primary_key: Some(PrimaryKey {
            name: "accounts_pkey".into(),
            columns: vec!["id".into()],
        }),
        ..Table::new(name.clone())
    };
    table.uniques.insert(
        "accounts_name_key".into(),
        Unique {
            name: "accounts_name_key".into(),
            columns: vec!["name".into()],
            nulls_not_distinct: false,
        },
    );
    table.indexes.insert(
        "ix_accounts_lower_name".into(),
        Index {
            name: "ix_accounts_lower_name".into(),
            unique: false,
            method: "btree".into(),
            keys: vec!["lower(name)".into()],
            include: vec![],
            nulls_not_distinct: false,
            with: Vec::new(),
            predicate: None,
            definition:
                "CREATE INDEX ix_accounts_lower_name ON public.accounts USING btree (lower(name))"
                    .into(),
            valid: true,
        },
    );
    table.indexes.insert(
        "ix_accounts_balance_cents".into(),
        Index {
            name: "ix_accounts_balance_cents".into(),
            unique: false,
            method: "btree".into(),
            keys: vec!["balance_cents DESC".into()],
            include: vec![],
            nulls_not_distinct: false,
            with: Vec::new(),
            predicate: Some("(balance_cents > 0)".into()),
            definition: "CREATE INDEX ix_accounts_balance_cents ON public.accounts USING btree (balance_cents DESC) WHERE (balance_cents > 0)".into(),
            valid: true,
        },
    );
    table.checks.insert(
        "accounts_balance_check".into(),
        Check {
            name: "accounts_balance_check".into(),
            definition: "CHECK ((balance_cents >= 0))".into(),
            validated: true,
        },
    );
    table.foreign_keys.insert(
        "accounts_owner_fk".into(),
        ForeignKey {
            name: "accounts_owner_fk".into(),
            columns: vec!["owner_id".into()],
            references: name.clone(),
            referenced_columns: vec!["id".into()],
            on_delete: FkAction::NoAction,
            on_update: FkAction::NoAction,
            deferrable: false,
            initially_deferred: false,
            validated: true,
        },
    );
    let mut schema = Schema::default();
    schema.tables.insert(name, table);
    schema
}

fn path(s: &str) -> ColumnPath {
    ColumnPath::parse(s).expect("a column path")
}

fn rename() -> ColumnChange {
    ColumnChange::new(&schema(), &path("accounts.name"), "full_name").expect("a change")
}

fn retype() -> ColumnChange {
    ColumnChange::new(&schema(), &path("public.accounts.balance_cents"), "balance")
        .expect("a change")
        .with_type("numeric(12,2)")
        .with_using("balance_cents::numeric / 100")
        .with_reverse("(balance * 100)::integer")
}

/// The schema after the expand of `change` (the new column added), for the contract.
fn expanded(change: &ColumnChange) -> Schema {
    let mut s = schema();
    let t = s.tables.values_mut().next().expect("a table");
    t.columns.push(column(&change.new, &change.new_type, false));
    s
}

#[test]
fn a_rename_expands_with_a_trigger_a_backfill_not_null_and_indexes() {
    let (r, notes) = rename()
        .expand_revision("20260101000002", "expand name")
        .expect("written");
    assert_eq!(
        r.header,
        "-- message: expand name\n-- transaction: false\n\
         -- expand: public.accounts.name -> full_name\n\n"
    );
    assert!(notes.is_empty(), "{notes:?}");
    let up = &r.up;
    for expected in [
        "ALTER TABLE public.accounts ADD COLUMN IF NOT EXISTS full_name text;\n\
         COMMENT ON COLUMN public.accounts.full_name IS 'who it is';\n",
        "CREATE OR REPLACE FUNCTION public.accounts_name_full_name_sync() RETURNS trigger LANGUAGE plpgsql AS $sync$\n\
         #variable_conflict use_column\n\
         BEGIN\n    \
             -- orm-migrate: name and full_name of public.accounts kept in sync while both are in use.\n    \
             IF TG_OP = 'INSERT' THEN\n        \
                 IF NEW.full_name IS NULL THEN\n            \
                     NEW.full_name := NEW.name;\n        \
                 ELSE\n            \
                     NEW.name := NEW.full_name;\n        \
                 END IF;\n    \
             ELSIF NEW.name IS DISTINCT FROM OLD.name THEN\n        \
                 NEW.full_name := NEW.name;\n    \
             ELSIF NEW.full_name IS DISTINCT FROM OLD.full_name THEN\n        \
                 NEW.name := NEW.full_name;\n    \
             ELSIF NEW.full_name IS NULL THEN\n        \
                 NEW.full_name := NEW.name;\n    \
             END IF;\n    \
             RETURN NEW;\n\
         END\n\
         $sync$;\n",
        "    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'public.accounts'::regclass AND tgname = 'accounts_name_full_name_sync') THEN\n        \
             CREATE TRIGGER accounts_name_full_name_sync BEFORE INSERT OR UPDATE ON public.accounts\n            \
                 FOR EACH ROW EXECUTE FUNCTION public.accounts_name_full_name_sync();\n",
        "\n-- @backfill public.accounts.full_name key id\n",
        "ALTER TABLE public.accounts ADD CONSTRAINT accounts_full_name_not_null CHECK (full_name IS NOT NULL) NOT VALID;\n",
        "ALTER TABLE public.accounts VALIDATE CONSTRAINT accounts_full_name_not_null;\n\
         ALTER TABLE public.accounts ALTER COLUMN full_name SET NOT NULL;\n\
         ALTER TABLE public.accounts DROP CONSTRAINT IF EXISTS accounts_full_name_not_null;\n",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_accounts_lower_full_name ON public.accounts USING btree (lower(full_name));\n",
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS accounts_full_name_key ON public.accounts USING btree (full_name);\n",
        "ALTER TABLE public.accounts ADD CONSTRAINT accounts_full_name_key UNIQUE USING INDEX accounts_full_name_key;\n",
        "c.relname IN ('ix_accounts_lower_full_name', 'accounts_full_name_key') AND NOT i.indisvalid",
    ] {
        assert!(up.contains(expected), "missing:\n{expected}\nin:\n{up}");
    }
    // The new column has no default while both releases write (the trigger tells writers
    // apart by it), and the backfill comes before NOT NULL, which comes before the indexes.
    assert!(!up.contains("SET DEFAULT"), "{up}");
    let at = |s: &str| up.find(s).unwrap_or_else(|| panic!("{s} in {up}"));
    assert!(at("-- @backfill") < at("VALIDATE CONSTRAINT"));
    assert!(at("SET NOT NULL") < at("CREATE INDEX CONCURRENTLY"));
    assert_eq!(
        r.down,
        "-- Undo the expand of public.accounts.name into full_name: run it once no running release uses\n\
         --   full_name.\n\
         DROP TRIGGER IF EXISTS accounts_name_full_name_sync ON public.accounts;\n\
         DROP FUNCTION IF EXISTS public.accounts_name_full_name_sync();\n\
         ALTER TABLE public.accounts DROP COLUMN IF EXISTS full_name;\n"
    );
    // The files read back as the same revision, with the same checksum.
    let files = r.to_files();
    let back = Revision::parse(
        Path::new("20260101000002_expand_name"),
        &files.up,
        Some(&files.down),
    )
    .expect("parses");
    assert_eq!(back.phase, r.phase);
    assert_eq!(back.checksum(), r.checksum());
}

#[test]
fn a_pause_the_header_cannot_hold_is_refused_before_anything_is_written() {
    // The longest pause is written, and reads back; one a second longer would have written a
    // revision that made the whole directory unreadable.
    let with_pause = |pause| {
        retype()
            .with_backfill(BackfillOptions {
                batch: None,
                pause: Some(pause),
            })
            .expand_revision("20260101000002", "balance in numeric")
    };
    let (r, _) = with_pause(Duration::from_secs(3600)).expect("an hour is written");
    let files = r.to_files();
    let back = Revision::parse(
        Path::new("20260101000002_balance"),
        &files.up,
        Some(&files.down),
    )
    .expect("parses");
    assert_eq!(back.phase, r.phase);
    let e = with_pause(Duration::from_secs(3601)).expect_err("over an hour");
    assert!(matches!(e, MigrateError::Expand(_)), "{e:?}");
    assert!(e.to_string().contains("at most 1h"), "{e}");
}

#[test]
fn a_type_change_converts_both_ways_and_says_what_it_does_not_copy() {
    let (r, notes) = retype()
        .with_backfill(BackfillOptions {
            batch: Some(500),
            pause: Some(Duration::from_millis(20)),
        })
        .expand_revision("20260101000002", "balance in numeric")
        .expect("written");
    assert_eq!(
        r.header,
        "-- message: balance in numeric\n-- transaction: false\n\
         -- expand: public.accounts.balance_cents -> balance\n\
         -- using: balance_cents::numeric / 100\n\
         -- reverse: (balance * 100)::integer\n\
         -- backfill: batch 500, pause 20ms\n\n"
    );
    assert_eq!(
        notes,
        [
            "check accounts_balance_check on balance_cents is not copied to balance: add it \
             yourself (NOT VALID, then VALIDATE); it goes with balance_cents at the contract",
            "index ix_accounts_balance_cents is not copied (an expression, operator class or \
             predicate on balance_cents may not fit the new type): create it on balance yourself",
        ]
    );
    let up = &r.up;
    for expected in [
        "-- note: check accounts_balance_check on balance_cents is not copied",
        "ALTER TABLE public.accounts ADD COLUMN IF NOT EXISTS balance numeric(12,2);\n",
        "        IF NEW.balance IS NULL THEN\n            \
             NEW.balance := (SELECT balance_cents::numeric / 100 FROM (SELECT NEW.*) AS r);\n        \
         ELSE\n            \
             NEW.balance_cents := (SELECT (balance * 100)::integer FROM (SELECT NEW.*) AS r);\n",
        "-- @backfill public.accounts.balance key id\n",
    ] {
        assert!(up.contains(expected), "missing:\n{expected}\nin:\n{up}");
    }
    assert!(!up.contains("CREATE INDEX"), "{up}");
    assert!(
        !up.contains("COMMENT ON"),
        "'in cents' is no longer true: {up}"
    );
    assert!(
        !up.contains("DROP NOT NULL"),
        "a reverse keeps balance_cents NOT NULL: {up}"
    );
}

#[test]
fn without_a_reverse_the_old_column_stops_being_not_null_and_the_contract_is_irreversible() {
    let change = ColumnChange::new(&schema(), &path("accounts.balance_cents"), "balance")
        .expect("a change")
        .with_type("numeric(12,2)")
        .with_using("balance_cents::numeric / 100");
    assert_eq!(change.reverse_conversion(), None);
    let (r, _) = change
        .expand_revision("20260101000002", "x")
        .expect("written");
    assert!(!r.header.contains("reverse:"), "{}", r.header);
    assert!(
        r.up.contains("ALTER TABLE public.accounts ALTER COLUMN balance_cents DROP NOT NULL;\n"),
        "{}",
        r.up
    );
    assert!(r.up.contains("NULL; -- no reverse conversion: balance_cents stays as written"));
    assert!(
        r.down
            .contains("ALTER TABLE public.accounts ALTER COLUMN balance_cents SET NOT NULL;")
    );
    let expand = r.with_parents(["20260101000001"]);
    let c = ColumnChange::from_expand(&expanded(&change), &expand).expect("from the expand");
    let (contract, _) = c
        .contract_revision("20260101000003", "c", "20260101000002")
        .expect("written");
    assert_eq!(
        contract.down,
        "DO $$ BEGIN RAISE EXCEPTION 'irreversible: public.accounts.balance_cents cannot be \
         computed back from balance: the expand has no reverse conversion'; END $$;\n"
    );
}

#[test]
fn a_cast_is_the_default_conversion_of_a_type_change() {
    let change = ColumnChange::new(&schema(), &path("accounts.balance_cents"), "cents")
        .expect("a change")
        .with_type("bigint");
    assert!(!change.is_rename());
    assert_eq!(change.conversion(), "CAST(balance_cents AS bigint)");
    assert_eq!(
        change.reverse_conversion().as_deref(),
        Some("CAST(cents AS integer)")
    );
    // A bare column keeps its index on a type change; its predicate does not fit.
    let (sql, notes) = change.copy_indexes_sql();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(sql.is_empty());
}

#[test]
fn the_contract_drops_the_old_column_and_its_downgrade_expands_back() {
    let change = retype();
    let (expand, _) = change
        .expand_revision("20260101000002", "e")
        .expect("written");
    let c = ColumnChange::from_expand(&expanded(&change), &expand).expect("from the expand");
    assert_eq!(c.using, change.using);
    assert_eq!(c.reverse, change.reverse);
    let (r, notes) = c
        .contract_revision("20260101000003", "contract balance", "20260101000002")
        .expect("written");
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(
        r.header,
        "-- message: contract balance\n-- transaction: false\n-- contract: 20260101000002\n\n"
    );
    assert!(
        r.up.ends_with(
            "DROP TRIGGER IF EXISTS accounts_balance_cents_balance_sync ON public.accounts;\n\
             DROP FUNCTION IF EXISTS public.accounts_balance_cents_balance_sync();\n\
             ALTER TABLE public.accounts DROP COLUMN IF EXISTS balance_cents;\n\
             ALTER TABLE public.accounts ALTER COLUMN balance SET DEFAULT (0)::numeric / 100;\n"
        ),
        "{}",
        r.up
    );
    let down = &r.down;
    let order = [
        "ALTER TABLE public.accounts ALTER COLUMN balance DROP DEFAULT;",
        "ALTER TABLE public.accounts ADD COLUMN IF NOT EXISTS balance_cents integer;",
        // Filling the old column: an INSERT without it gets it from the new one.
        "        IF NEW.balance_cents IS NULL THEN\n            NEW.balance_cents := (SELECT (balance * 100)::integer",
        "-- @backfill public.accounts.balance_cents key id",
        // Back to the function the expand installed, before balance_cents has a default again
        // (an INSERT of the new release must find it NULL to be told apart).
        "        IF NEW.balance IS NULL THEN\n            NEW.balance := (SELECT balance_cents::numeric / 100",
        "ALTER TABLE public.accounts ALTER COLUMN balance_cents SET NOT NULL;",
        "ALTER TABLE public.accounts ALTER COLUMN balance_cents SET DEFAULT 0;",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_accounts_balance_cents ON public.accounts USING btree (balance_cents DESC) WHERE (balance_cents > 0);",
    ];
    let mut from = 0;
    for s in order {
        let at = down[from..]
            .find(s)
            .unwrap_or_else(|| panic!("missing after {from}:\n{s}\nin:\n{down}"));
        from += at + s.len();
    }
}

#[test]
fn a_default_reading_other_columns_is_not_copied() {
    let change = ColumnChange::new(&schema(), &path("accounts.balance_cents"), "balance")
        .expect("a change")
        .with_type("numeric")
        .with_using("balance_cents + owner_id");
    let (expand, _) = change
        .expand_revision("20260101000002", "e")
        .expect("written");
    let c = ColumnChange::from_expand(&expanded(&change), &expand).expect("from the expand");
    let (r, notes) = c
        .contract_revision("20260101000003", "c", "20260101000002")
        .expect("written");
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].contains("the conversion reads owner_id too"),
        "{notes:?}"
    );
    assert!(!r.up.contains("SET DEFAULT"));
}

#[test]
fn columns_that_cannot_move_are_refused() {
    let s = schema();
    let err = |p: &str, new: &str| {
        ColumnChange::new(&s, &path(p), new)
            .expect_err("refused")
            .to_string()
    };
    assert_eq!(
        err("accounts.id", "x"),
        "public.accounts.id is part of the primary key: expand/contract does not cover it"
    );
    assert_eq!(err("nope.id", "x"), "the database has no table public.nope");
    assert_eq!(
        err("accounts.nope", "x"),
        "table public.accounts has no column nope"
    );
    assert_eq!(
        err("accounts.name", "name"),
        "public.accounts.name needs a new name of its own: expand/contract does not cover it"
    );
    let e = rename().expand_revision("20260101000002", "x");
    assert!(e.is_ok());
    let mut s2 = s.clone();
    s2.tables.values_mut().for_each(|t| t.primary_key = None);
    assert!(
        ColumnChange::new(&s2, &path("accounts.name"), "x")
            .expect_err("refused")
            .to_string()
            .contains("has no primary key")
    );
    let twice = ColumnChange::new(&s, &path("accounts.name"), "balance_cents")
        .expect("a change")
        .expand_revision("20260101000002", "x")
        .expect_err("the new column exists");
    assert!(
        twice
            .to_string()
            .contains("has a column balance_cents already")
    );
}

#[test]
fn long_names_are_cut_with_a_hash() {
    let long = "x".repeat(40);
    let a = short_name(&[&long, &long], "sync");
    let b = short_name(&[&long, &format!("{long}y")], "sync");
    assert_eq!(a.len(), 63);
    assert_ne!(a, b);
    assert_eq!(short_name(&["t", "c"], "not_null"), "t_c_not_null");
}

#[test]
fn header_keys_parse_and_are_checked() {
    let parse = |header: &str| {
        Revision::parse(
            Path::new("20260101000002_x"),
            &format!("-- message: x\n-- transaction: false\n{header}\nSELECT 1;\n"),
            Some(""),
        )
    };
    let r = parse("-- expand: \"App\".Users.\"Full Name\" -> nick\n-- backfill: pause 1s")
        .expect("parses");
    let m = r.phase.expand.as_ref().expect("expand");
    assert_eq!(m.from.table, QualifiedName::new("App", "users"));
    assert_eq!(m.from.column, "Full Name");
    assert_eq!(m.to, "nick");
    assert_eq!(m.to_string(), "\"App\".users.\"Full Name\" -> nick");
    assert_eq!(r.phase.backfill.pause, Some(Duration::from_secs(1)));
    assert_eq!(r.phase.backfill.batch, None);
    for (header, message) in [
        (
            "-- expand: users.name",
            "the value is `schema.table.old_column -> new_column`",
        ),
        (
            "-- expand: users.name -> name",
            "the new column needs a name of its own",
        ),
        (
            "-- using: x",
            "`using:` and `reverse:` belong to an `expand:` revision",
        ),
        ("-- contract: 12", "the id of the expand revision"),
        ("-- backfill: batch 0", "a batch has at least one row"),
        (
            "-- backfill: batch 10, speed 3",
            "`speed 3` is not understood",
        ),
        ("-- backfill: pause 10", "`10` is not a duration"),
        (
            "-- backfill: pause 18446744073709551615ms",
            "a pause is at most 1h",
        ),
        (
            "-- expand: a.b -> c\n-- contract: 20260101000001",
            "not both",
        ),
    ] {
        let e = parse(header).expect_err(header).to_string();
        assert!(e.contains(message), "{header}: {e}");
    }
}

#[test]
fn backfill_lines_parse_and_need_a_revision_outside_a_transaction() {
    let b = Backfill::parse("backfill public.\"T\".c key a, \"B\"").expect("parses");
    assert_eq!(b.table, QualifiedName::new("public", "T"));
    assert_eq!(b.key, ["a", "B"]);
    assert_eq!(b.line(), "-- @backfill public.\"T\".c key a, \"B\"");
    assert_eq!(Backfill::parse(&b.line()[4..]).expect("round trip"), b);
    for (line, message) in [
        ("backfil t.c key id", "is not a directive"),
        ("backfill t.c", "no key"),
        ("backfill t key id", "is not a column"),
        ("backfill t.c key id junk", "unexpected `junk`"),
    ] {
        let e = Backfill::parse(line).expect_err(line);
        assert!(e.contains(message), "{line}: {e}");
    }
    let dir = Path::new("20260101000002_x");
    let e = Revision::parse(
        dir,
        "-- message: x\n\nSELECT 1;\n-- @backfill t.c key id\n",
        Some(""),
    )
    .expect_err("needs transaction: false")
    .to_string();
    assert!(
        e.contains("up.sql: a `-- @backfill` runs in batches"),
        "{e}"
    );
    let e = Revision::parse(
        dir,
        "-- message: x\n-- transaction: false\n\nSELECT 1;\n",
        Some("-- @oops\n"),
    )
    .expect_err("unknown directive")
    .to_string();
    assert!(e.contains("down.sql: `-- @oops` is not a directive"), "{e}");
}

#[test]
fn a_batch_is_bounded_walks_the_key_and_skips_locked_rows() {
    let b = Backfill::parse("backfill public.accounts.balance key id").expect("parses");
    assert_eq!(
        b.batch_sql(500, Some("$1::text"), true),
        "WITH candidates AS (\n    \
             SELECT id FROM public.accounts\n    \
             WHERE balance IS NULL\n      \
             AND (id) > (SELECT c.id FROM json_populate_record(NULL::public.accounts, $1::text::json) AS c)\n    \
             ORDER BY id\n    \
             LIMIT 500\n\
         ), locked AS (\n    \
             SELECT t.id FROM public.accounts AS t JOIN candidates AS c ON t.id = c.id\n    \
             FOR UPDATE OF t SKIP LOCKED\n\
         ), updated AS (\n    \
             UPDATE public.accounts AS t SET balance = t.balance\n    \
             FROM locked AS l WHERE t.id = l.id\n    \
             RETURNING 1\n\
         )\n\
         SELECT (SELECT count(*) FROM candidates),\n       \
                (SELECT count(*) FROM updated),\n       \
                (SELECT row_to_json(k)::text FROM (SELECT id FROM candidates ORDER BY id DESC LIMIT 1) AS k)"
    );
    let waits = b.batch_sql(500, None, false);
    assert!(waits.contains("FOR UPDATE OF t\n"), "{waits}");
    assert!(!waits.contains("json_populate_record"), "{waits}");
    let offline = b.offline_sql(500, Duration::from_millis(50));
    assert!(offline.starts_with(
        "-- backfill public.accounts.balance: the runner fills it in batches of 500 rows"
    ));
    assert!(offline.contains("COMMIT;"), "{offline}");
    assert!(offline.contains("PERFORM pg_sleep(0.05);"), "{offline}");
    assert!(offline.ends_with("$backfill$;\n"), "{offline}");
}

#[test]
fn phases_follow_the_applied_revisions() {
    let change = rename();
    let (expand, _) = change
        .expand_revision("20260101000002", "e")
        .expect("written");
    let base = Revision::new("20260101000001", "base").with_up("SELECT 1;");
    let expand = expand.with_parents([base.id.clone()]);
    let c = ColumnChange::from_expand(&expanded(&change), &expand).expect("from the expand");
    let (contract, _) = c
        .contract_revision("20260101000003", "c", "20260101000002")
        .expect("written");
    let contract = contract.with_parents([expand.id.clone()]);
    let graph = Graph::new(vec![base.clone(), expand.clone(), contract.clone()]).expect("graph");
    let phase = |applied: &[&str]| {
        let applied: BTreeSet<String> = applied.iter().map(|s| s.to_string()).collect();
        let entries = phases(&graph, &applied).expect("phases");
        assert_eq!(entries.len(), 1);
        assert_eq!(
            entries[0].contract.map(|c| c.id.as_str()),
            Some("20260101000003")
        );
        entries[0].phase
    };
    assert_eq!(phase(&[]), Phase::Pending);
    assert_eq!(
        phase(&["20260101000001", "20260101000002"]),
        Phase::Expanded
    );
    assert_eq!(
        phase(&["20260101000001", "20260101000002", "20260101000003"]),
        Phase::Contracted
    );
    // A contract that does not follow its expand is an error naming its file.
    let stray = contract.clone().with_parents([base.id.clone()]);
    let graph = Graph::new(vec![base, expand, stray]).expect("graph");
    let e = phases(&graph, &BTreeSet::new())
        .expect_err("not an ancestor")
        .to_string();
    assert!(e.contains("must follow it"), "{e}");
}
