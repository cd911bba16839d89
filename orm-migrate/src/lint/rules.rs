//! The lint's rules: a stable name each, its severity, why it hurts, the safe form, and an
//! example of each (the examples are tested: every bad one is reported, every good one is not).

use std::fmt;

/// How bad a finding is: errors fail `lint` (and stop `upgrade`), warnings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Printed; does not fail.
    Warning,
    /// Fails `lint` with a non-zero exit and stops `upgrade` unless silenced.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

macro_rules! rules {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $name:literal, $severity:ident,
        why: $why:literal,
        instead: $instead:literal,
        bad: $bad:literal,
        good: $good:literal;
    )*) => {
        /// A lint rule. Its [`name`](Rule::name) is stable: silences and CI configurations
        /// name it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule {
            $(
                $(#[$doc])*
                #[doc = concat!(
                    "\n\n`", $name, "` (", stringify!($severity), "): ", $why,
                    ".\n\nInstead: ", $instead,
                    ".\n\nReported:\n```sql\n", $bad, "\n```\n\nNot reported:\n```sql\n", $good, "\n```"
                )]
                $variant,
            )*
        }

        impl Rule {
            /// Every rule, in documentation order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The stable name, `index-not-concurrent`.
            pub fn name(self) -> &'static str {
                match self { $(Rule::$variant => $name,)* }
            }

            /// Error or warning.
            pub fn severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$severity,)* }
            }

            /// Why the statement hurts a live database.
            pub fn why(self) -> &'static str {
                match self { $(Rule::$variant => $why,)* }
            }

            /// The safe alternative.
            pub fn instead(self) -> &'static str {
                match self { $(Rule::$variant => $instead,)* }
            }

            /// A revision (its `up.sql`, on an existing table `users`) the rule reports.
            pub fn bad_example(self) -> &'static str {
                match self { $(Rule::$variant => $bad,)* }
            }

            /// The same change written the safe way, which the rule does not report.
            pub fn good_example(self) -> &'static str {
                match self { $(Rule::$variant => $good,)* }
            }

            /// The rule with this name.
            pub fn from_name(name: &str) -> Option<Rule> {
                Rule::ALL.iter().copied().find(|r| r.name() == name)
            }
        }
    };
}

rules! {
    /// `ADD COLUMN ... NOT NULL` without a default, on a table that exists.
    AddingRequiredColumn = "adding-required-column", Error,
    why: "fails on the first row the table holds; where it does not fail (an empty table in development) it hides that production will",
    instead: "add the column nullable (or with a constant DEFAULT, which is instant since PostgreSQL 11), backfill it, then SET NOT NULL through a validated CHECK",
    bad: "ALTER TABLE users ADD COLUMN age integer NOT NULL;",
    good: "ALTER TABLE users ADD COLUMN age integer NOT NULL DEFAULT 0;";

    /// `ADD COLUMN` with a volatile default, a serial, an identity or a stored generated column.
    AddingVolatileDefault = "adding-volatile-default", Error,
    why: "a volatile default (random(), gen_random_uuid(), clock_timestamp(), nextval() of a serial or identity) or a stored generated column is computed for every row: the whole table is rewritten under ACCESS EXCLUSIVE",
    instead: "add the column without the default (or with a constant one), set the default for new rows with ALTER COLUMN SET DEFAULT, and backfill existing rows in batches",
    bad: "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
    good: "ALTER TABLE users ADD COLUMN token uuid;\nALTER TABLE users ALTER COLUMN token SET DEFAULT gen_random_uuid();";

    /// `ALTER COLUMN ... TYPE` that rewrites the table.
    ChangingColumnType = "changing-column-type", Error,
    why: "changing a column's type rewrites the table and rebuilds its indexes under ACCESS EXCLUSIVE, unless the cast is binary-compatible: varchar(n) to a larger varchar or to text, numeric(p,s) to a larger precision with the same scale or to unconstrained numeric",
    instead: "use expand/contract: add a column of the new type, keep both in sync with a trigger, backfill in batches, switch the code, then drop the old column",
    bad: "ALTER TABLE users ALTER COLUMN age TYPE bigint;",
    good: "ALTER TABLE users ALTER COLUMN name TYPE text;";

    /// `SET NOT NULL` without a validated `CHECK (col IS NOT NULL)` first.
    SettingNotNull = "setting-not-null", Error,
    why: "SET NOT NULL scans the whole table under ACCESS EXCLUSIVE to prove no row is null",
    instead: "ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID, then VALIDATE CONSTRAINT c (which lets reads and writes go on), then SET NOT NULL (which uses the constraint and skips the scan), then DROP CONSTRAINT c",
    bad: "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
    good: "-- transaction: false\nALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\nALTER TABLE users DROP CONSTRAINT users_email_not_null;";

    /// `CREATE INDEX` or `DROP INDEX` without `CONCURRENTLY` on a table that exists.
    IndexNotConcurrent = "index-not-concurrent", Error,
    why: "CREATE INDEX holds a SHARE lock (every write waits) for the whole build; DROP INDEX takes ACCESS EXCLUSIVE on the table",
    instead: "CREATE INDEX CONCURRENTLY / DROP INDEX CONCURRENTLY, in a revision marked `-- transaction: false`",
    bad: "CREATE INDEX users_email_idx ON users (email);",
    good: "-- transaction: false\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);";

    /// `CONCURRENTLY` in a revision that runs in a transaction.
    ConcurrentlyInTransaction = "concurrently-in-transaction", Error,
    why: "CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY and REINDEX CONCURRENTLY cannot run inside a transaction block: the revision fails",
    instead: "mark the revision `-- transaction: false` (each statement then commits on its own), or move the index to a revision of its own",
    bad: "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);",
    good: "-- transaction: false\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);";

    /// `ADD FOREIGN KEY` or `ADD CHECK` without `NOT VALID` on a table that exists.
    ConstraintNotValid = "constraint-not-valid", Error,
    why: "adding a foreign key or a check constraint scans the whole table to validate it while holding its lock (SHARE ROW EXCLUSIVE on both tables for a foreign key: writes wait; ACCESS EXCLUSIVE for a check)",
    instead: "ADD CONSTRAINT ... NOT VALID (instant), then VALIDATE CONSTRAINT in a later transaction (SHARE UPDATE EXCLUSIVE: reads and writes go on)",
    bad: "ALTER TABLE posts ADD CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id);",
    good: "-- transaction: false\nALTER TABLE posts ADD CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nALTER TABLE posts VALIDATE CONSTRAINT posts_user_fk;";

    /// `VALIDATE CONSTRAINT` in the transaction that added the constraint `NOT VALID`.
    ValidateInTransaction = "validate-in-transaction", Error,
    why: "the lock the ADD CONSTRAINT took is held until the transaction commits, so the validation scan runs under it and NOT VALID gains nothing",
    instead: "validate in a later transaction: mark the revision `-- transaction: false`, or validate in the next revision",
    bad: "ALTER TABLE posts ADD CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nALTER TABLE posts VALIDATE CONSTRAINT posts_user_fk;",
    good: "-- transaction: false\nALTER TABLE posts ADD CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nALTER TABLE posts VALIDATE CONSTRAINT posts_user_fk;";

    /// `ADD UNIQUE` or `ADD PRIMARY KEY` that builds its index under the table's lock.
    AddingUniqueConstraint = "adding-unique-constraint", Error,
    why: "adding a unique constraint or primary key builds its index while holding ACCESS EXCLUSIVE on the table",
    instead: "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... UNIQUE USING INDEX (or PRIMARY KEY USING INDEX), which is instant",
    bad: "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
    good: "-- transaction: false\nCREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);\nALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;";

    /// Dropping or renaming away a column the current models still map.
    RemovingMappedColumn = "removing-mapped-column", Error,
    why: "the models still read and write this column: once it is dropped or renamed, every query that names it fails",
    instead: "change the models first (and deploy them), then drop the column in a later revision; for a rename, use expand/contract",
    bad: "ALTER TABLE users DROP COLUMN email;",
    good: "ALTER TABLE users DROP COLUMN legacy_email;";

    /// Dropping or renaming away a table the current models still map.
    RemovingMappedTable = "removing-mapped-table", Error,
    why: "the models still read and write this table: once it is dropped or renamed, every query that names it fails",
    instead: "remove the model first (and deploy it), then drop the table in a later revision",
    bad: "DROP TABLE users;",
    good: "DROP TABLE legacy_users;";

    /// `RENAME COLUMN` on a table that exists.
    RenamingColumn = "renaming-column", Warning,
    why: "instances still running the previous release name the old column and fail from the moment the rename commits until they are replaced",
    instead: "expand/contract (`revision --expand`): add the new column, sync both with a trigger, backfill, switch the code, drop the old column later; or accept errors during the deploy",
    bad: "ALTER TABLE users RENAME COLUMN name TO full_name;",
    good: "ALTER TABLE users ADD COLUMN full_name text;";

    /// `RENAME TO` of a table that exists.
    RenamingTable = "renaming-table", Warning,
    why: "instances still running the previous release name the old table and fail from the moment the rename commits until they are replaced",
    instead: "create the new table (or a view under the old name) and move the code over before dropping the old name",
    bad: "ALTER TABLE users RENAME TO accounts;",
    good: "CREATE TABLE accounts (id bigint PRIMARY KEY);";

    /// `ALTER TYPE ... ADD VALUE` in a transaction, on PostgreSQL before 12.
    EnumValueInTransaction = "enum-value-in-transaction", Error,
    why: "before PostgreSQL 12, ALTER TYPE ... ADD VALUE cannot run inside a transaction block (and from 12 on, the new label cannot be used before the transaction commits)",
    instead: "put the new label in a revision marked `-- transaction: false` of its own, before the revision that uses it",
    bad: "ALTER TYPE mood ADD VALUE 'happy';",
    good: "-- transaction: false\nALTER TYPE mood ADD VALUE 'happy';";

    /// Removing an enum label (the type recreated without it).
    DroppingEnumValue = "dropping-enum-value", Error,
    why: "PostgreSQL cannot drop an enum label: the type is recreated and every column using it is rewritten under ACCESS EXCLUSIVE, and the cast fails if any row still holds the label",
    instead: "keep the label (and stop writing it in the code), or move the rows off it first and recreate the type in a quiet window",
    bad: "ALTER TYPE mood RENAME TO mood_old;\nCREATE TYPE mood AS ENUM ('sad');\nALTER TABLE users ALTER COLUMN mood TYPE mood USING mood::text::mood;\nDROP TYPE mood_old;",
    good: "-- keep the label, move the rows off it\nUPDATE users SET mood = 'happy' WHERE mood = 'sad';";

    /// DDL with no `lock_timeout`, when the runner does not set one.
    MissingLockTimeout = "missing-lock-timeout", Error,
    why: "a DDL statement waiting for its lock behind a long transaction blocks every query queued behind it; without lock_timeout it waits for ever",
    instead: "keep the runner's lock_timeout (10 s by default), or start the script with SET lock_timeout = '5s'",
    bad: "ALTER TABLE users ADD COLUMN age integer;",
    good: "SET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN age integer;";

    /// An `integer` (or `smallint`, `serial`) primary key on a new table.
    PreferBigintPk = "prefer-bigint-pk", Warning,
    why: "an int4 key runs out at 2.1 billion rows, and widening it later rewrites the table and every table that references it",
    instead: "bigint (or bigserial / bigint GENERATED ... AS IDENTITY), which costs four bytes a row",
    bad: "CREATE TABLE events (id serial PRIMARY KEY);",
    good: "CREATE TABLE events (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY);";

    /// `timestamp` without time zone.
    PreferTimestamptz = "prefer-timestamptz", Warning,
    why: "timestamp without time zone stores wall-clock time with no zone: values written from sessions in different zones cannot be compared",
    instead: "timestamptz (timestamp with time zone), which stores an instant",
    bad: "CREATE TABLE events (id bigint PRIMARY KEY, at timestamp);",
    good: "CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz);";

    /// `varchar(n)` or `char(n)`.
    PreferText = "prefer-text", Warning,
    why: "changing a varchar(n) limit down later scans or rewrites the table under ACCESS EXCLUSIVE, where a CHECK (length(col) <= n) can be replaced NOT VALID and validated without blocking",
    instead: "text with a CHECK constraint on its length",
    bad: "CREATE TABLE events (id bigint PRIMARY KEY, name varchar(100));",
    good: "CREATE TABLE events (id bigint PRIMARY KEY, name text CHECK (length(name) <= 100));";

    /// `ALTER DOMAIN ... VALIDATE CONSTRAINT`, which autogenerate writes for a domain check left
    /// `NOT VALID`.
    ValidatingDomainConstraint = "validating-domain-constraint", Warning,
    why: "validating a domain's check scans every column of that type while holding a SHARE lock on each table that has one: writes to those tables wait until the scan ends (unlike a table's VALIDATE CONSTRAINT, which lets them go on)",
    instead: "run it when writes to those tables can wait (autogenerate puts it in the after revision, alone), or check the values with a table CHECK ... NOT VALID and validate that",
    bad: "ALTER DOMAIN positive_int VALIDATE CONSTRAINT positive_int_check;",
    good: "-- transaction: false\nALTER TABLE users ADD CONSTRAINT users_age_check CHECK (age >= 0) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT users_age_check;";

    /// A statement the lint's parser could not read.
    UnparsedStatement = "unparsed-statement", Warning,
    why: "the lint's SQL parser does not know this statement, so nothing about its locks was checked",
    instead: "review it by hand; silence this warning with the reason once you have",
    bad: "ALTER TABLE users SET SCHEMA archive;",
    good: "ALTER TABLE users RENAME COLUMN a TO b;";

    /// A silence comment that gives no reason or names no known rule.
    BadSilence = "bad-silence", Error,
    why: "a silence must name the rule it silences and say why, so a reader knows it was decided, not dodged",
    instead: "a comment right above the statement: -- lint: allow RULE[, RULE]: WHY IT IS SAFE HERE",
    bad: "-- lint: allow index-not-concurrent\nCREATE INDEX users_email_idx ON users (email);",
    good: "-- lint: allow index-not-concurrent: users has 40 rows in every environment\nCREATE INDEX users_email_idx ON users (email);";
}
