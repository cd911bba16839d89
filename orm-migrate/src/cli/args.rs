//! The command line, as clap parses it.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::graph::Target;

/// Migrations for orm-postgres: revision files, a safe runner, autogenerate.
#[derive(Debug, Parser)]
#[command(name = "orm-migrate", version)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// The database, as postgres://user:password@host:port/database.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub(crate) database_url: Option<String>,
    /// The migrations directory.
    #[arg(long, default_value = "migrations", global = true)]
    pub(crate) dir: PathBuf,
    /// The version table, as [schema.]name.
    #[arg(long, default_value = "public.orm_migrations", global = true)]
    pub(crate) version_table: String,
    /// How long a statement may wait for a table lock before its revision fails (0: no limit).
    #[arg(long, default_value = "10s", value_parser = parse_duration, global = true)]
    pub(crate) lock_timeout: Duration,
    /// How long a statement may run (0: no limit).
    #[arg(long, default_value = "0", value_parser = parse_duration, global = true)]
    pub(crate) statement_timeout: Duration,
    /// How long to wait for the migration lock held by another run (0: give up at once).
    #[arg(long, default_value = "60s", value_parser = parse_duration, global = true)]
    pub(crate) lock_wait: Duration,
    /// Accept applied revisions edited since they ran, recording their new checksums.
    #[arg(long, global = true)]
    pub(crate) allow_edited: bool,
    /// Rows per backfill batch, for every backfill of the run (overrides the revisions'
    /// `-- backfill:` header; default 1000).
    #[arg(long, value_name = "ROWS", value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub(crate) backfill_batch: Option<u64>,
    /// The pause between backfill batches, for every backfill of the run (overrides the
    /// revisions' `-- backfill:` header; default 100ms).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, global = true)]
    pub(crate) backfill_pause: Option<Duration>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create the migrations directory, with a README.
    Init,
    /// Create a revision: empty up.sql and down.sql to fill in, generated from the models, or
    /// the expand or contract phase of a zero-downtime rename or type change.
    Revision {
        /// Its message (default for --expand and --contract: what they do).
        #[arg(short, long, required_unless_present_any = ["expand", "contract"])]
        message: Option<String>,
        /// Generate the SQL from the difference between the models and the database, as up to
        /// three chained revisions whose statements keep tables with rows writable (before:
        /// new enum labels, indexes dropped CONCURRENTLY; the main one; after: indexes built
        /// CONCURRENTLY, constraints NOT VALID then validated).
        #[arg(long)]
        autogenerate: bool,
        /// With --autogenerate: write one revision in the plain forms (CREATE INDEX, ADD
        /// CONSTRAINT, SET NOT NULL in one transaction, locking tables with rows while they are
        /// read) instead of the safe form's up to three revisions.
        #[arg(long, requires = "autogenerate")]
        single: bool,
        /// The revision it follows, when the graph has several heads.
        #[arg(long, value_name = "REV")]
        head: Option<String>,
        #[command(flatten)]
        expand: ExpandArgs,
    },
    /// Apply revisions up to a target: head (default), heads, an id or prefix, +N.
    Upgrade {
        /// Where to go.
        #[arg(default_value = "head", value_parser = parse_target, allow_hyphen_values = true)]
        target: Target,
        #[command(flatten)]
        offline: Offline,
        /// Do not lint the revisions first (the lint stops an upgrade on an unsilenced error).
        #[arg(long)]
        no_lint: bool,
    },
    /// Revert revisions down to a target: an id or prefix, -N, base.
    Downgrade {
        /// Where to go.
        #[arg(value_parser = parse_target, allow_hyphen_values = true)]
        target: Target,
        #[command(flatten)]
        offline: Offline,
    },
    /// Show where the database is: the applied revisions no applied revision follows.
    Current,
    /// List every revision, parents first, with what is applied.
    History,
    /// List the heads of the graph.
    Heads,
    /// List the branch points of the graph.
    Branches,
    /// Record the database as being at a target without running SQL (repairs checksums too).
    Stamp {
        /// Where to record the database as being.
        #[arg(value_parser = parse_target, allow_hyphen_values = true)]
        target: Target,
    },
    /// Create a revision merging heads (all of them by default).
    Merge {
        /// Its message.
        #[arg(short, long)]
        message: String,
        /// The revisions to merge.
        #[arg(value_name = "REV")]
        revisions: Vec<String>,
    },
    /// Check revisions for what they would do to a live database (locks, rewrites, scans);
    /// exit 1 on an unsilenced error.
    Lint {
        /// The revisions (ids or prefixes); all of them by default, judged without a database.
        #[arg(value_name = "REV", conflicts_with = "pending")]
        revisions: Vec<String>,
        /// The revisions the database lacks, judged against it (its tables, column types,
        /// version).
        #[arg(long)]
        pending: bool,
        /// Explain a rule (why, the safe form, an example of each) instead; `all` lists them.
        #[arg(long, value_name = "RULE", conflicts_with_all = ["revisions", "pending"])]
        explain: Option<String>,
    },
    /// Exit 3 when the database is not at the heads, differs from the models, or ran a
    /// revision edited since (for CI).
    Check,
    /// Show the phase of each expand/contract: pending, expanded (both columns in sync),
    /// contracted.
    Phases,
    /// Print the migration that turns one database into another.
    Diff {
        /// The database to change.
        #[arg(long, value_name = "URL")]
        from: String,
        /// The database to match.
        #[arg(long, value_name = "URL")]
        to: String,
        /// Exit 3 when they differ.
        #[arg(long)]
        exit_code: bool,
        /// Leave the tables matching PATTERN out of the comparison (repeatable): `name` in
        /// any schema or `schema.name`, `*` for any run of characters (`legacy_*`).
        #[arg(long = "ignore-table", value_name = "PATTERN")]
        ignore_tables: Vec<String>,
    },
}

/// `revision --expand` and `revision --contract`.
#[derive(Debug, Args)]
pub(crate) struct ExpandArgs {
    /// Write an expand revision: add NEW next to COLUMN, keep them in sync with a trigger,
    /// backfill it in batches (needs the database).
    #[arg(long, value_name = "[SCHEMA.]TABLE.COLUMN:NEW", conflicts_with_all = ["autogenerate", "contract"])]
    pub(crate) expand: Option<String>,
    /// With --expand: the new column's type (default: the old column's, a rename).
    #[arg(long = "type", value_name = "TYPE", requires = "expand")]
    pub(crate) new_type: Option<String>,
    /// With --expand: the new column's value from a row, in SQL (e.g. 'price::numeric / 100').
    #[arg(long, value_name = "EXPR", requires = "expand")]
    pub(crate) using: Option<String>,
    /// With --expand: the old column's value from a row the new release writes, in SQL.
    #[arg(long, value_name = "EXPR", requires = "expand")]
    pub(crate) reverse: Option<String>,
    /// With --expand: rows per backfill batch, written into the revision's header.
    #[arg(long, value_name = "ROWS", requires = "expand", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) batch: Option<u64>,
    /// With --expand: the pause between backfill batches (at most 1h), written into the
    /// revision's header.
    #[arg(long, value_name = "DURATION", requires = "expand", value_parser = parse_duration)]
    pub(crate) pause: Option<Duration>,
    /// Write the contract revision of this expand revision (an id or prefix): the trigger and
    /// the old column go (needs the database, with the expand applied).
    #[arg(long, value_name = "REV", conflicts_with = "autogenerate")]
    pub(crate) contract: Option<String>,
}

/// Offline mode of upgrade and downgrade.
#[derive(Debug, Args)]
pub(crate) struct Offline {
    /// Print the SQL instead of running it (no database needed).
    #[arg(long)]
    pub(crate) sql: bool,
    /// With --sql: the revision the database is at (upgrade: base by default; downgrade: the
    /// heads).
    #[arg(long, value_name = "REV", requires = "sql", value_parser = parse_target)]
    pub(crate) from: Option<Target>,
}

fn parse_target(s: &str) -> Result<Target, String> {
    Target::parse(s).map_err(|_| {
        format!("{s:?} is not a target: use head, heads, base, +N, -N, or a revision id or prefix")
    })
}

/// A duration with a unit: `500ms`, `10s`, `2m`, `1h`; `0` alone is zero.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let bad = || format!("{s:?} is not a duration: use e.g. 500ms, 10s, 2m, 1h, or 0");
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let ms = match unit {
        "ms" => Some(n),
        "s" => n.checked_mul(1000),
        "m" | "min" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        _ => None,
    };
    ms.map(Duration::from_millis).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_a_unit() {
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
    }

    #[test]
    fn the_command_line_parses() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["orm-migrate", "upgrade", "+2", "--lock-wait", "0"])
            .expect("parses");
        assert!(matches!(
            cli.command,
            Command::Upgrade {
                target: Target::Relative(2),
                ..
            }
        ));
        assert_eq!(cli.global.lock_wait, Duration::ZERO);
        assert!(Cli::try_parse_from(["orm-migrate", "downgrade"]).is_err());
        let cli = Cli::try_parse_from(["orm-migrate", "downgrade", "-1"]).expect("parses");
        assert!(matches!(
            cli.command,
            Command::Downgrade {
                target: Target::Relative(-1),
                ..
            }
        ));
        assert!(Cli::try_parse_from(["orm-migrate", "upgrade", "--from", "base"]).is_err());
    }
}
