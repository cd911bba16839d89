//! The migration lint: what each statement of a revision does to a live, busy database.
//!
//! Every statement of a revision's `up.sql` is parsed (sqlparser's PostgreSQL dialect, one
//! statement at a time) and checked against the [rules](Rule): which lock it takes on which
//! table, whether it rewrites or scans the table under that lock, whether it can run where it
//! is (`CONCURRENTLY` in a transaction), and whether the models still need what it removes.
//! A [`Finding`] names the rule, the line, the statement, the lock, why it hurts and the safe
//! form. No IO: the caller brings what is known of the database ([`LintOptions`]).
//!
//! Rules about "a table that exists" know which tables exist from
//! [`LintOptions::schema`] (the database before the revisions, reflected) when given; without
//! it, every table a revision does not create itself is assumed to exist and hold rows (as a
//! revision applied long ago did).
//!
//! A finding is silenced for one statement by a comment just above it that names the rule and
//! says why: `-- lint: allow index-not-concurrent: users has 40 rows everywhere`. A silence
//! without a reason, or naming no rule, is itself an error ([`Rule::BadSilence`]).

use std::fmt;

mod check;
mod lock;
mod rules;
mod script;
mod types;

pub use lock::{Lock, LockMode};
pub use rules::{Rule, Severity};

use crate::schema::Schema;

/// What the lint knows beyond the script.
#[derive(Debug, Clone)]
pub struct LintOptions {
    /// The database before the revisions (reflected): which tables exist, column types, enum
    /// labels. `None`: every table a revision does not create is assumed to exist, and column
    /// types are known only from the scripts linted (an earlier one's `CREATE TABLE` or `ADD
    /// COLUMN`), so a change of any other column's type is reported.
    pub schema: Option<Schema>,
    /// What the current models map (`schema_of`): dropping or renaming away what they still
    /// use is an error. `None`: not checked.
    pub models: Option<Schema>,
    /// The server's `server_version_num` (`150004`), when known.
    pub server_version: Option<u32>,
    /// The runner sets a `lock_timeout` (it does by default): scripts need not.
    pub lock_timeout: bool,
}

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions {
            schema: None,
            models: None,
            server_version: None,
            lock_timeout: true,
        }
    }
}

/// One thing the lint found in one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// The line (1-based) of the statement (of the comment, for a bad silence): in the file,
    /// header included, for [`lint_scripts`]; in the script for [`lint_sql`].
    pub line: usize,
    /// The statement, on one line (shortened past 200 characters).
    pub statement: String,
    /// The lock it takes, where the rule is about one.
    pub lock: Option<Lock>,
    /// What this statement does that the rule is about.
    pub message: String,
    /// The reason given in the comment that silences it, if one does.
    pub silenced: Option<String>,
}

impl Finding {
    /// Error or warning (from the rule).
    pub fn severity(&self) -> Severity {
        self.rule.severity()
    }

    /// An error that no comment silences: fails `lint` and stops `upgrade`.
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error && self.silenced.is_none()
    }
}

/// The findings of one script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptFindings {
    /// Where the script comes from: `<dir>/up.sql`, or the revision id.
    pub source: String,
    /// What was found, in statement order.
    pub findings: Vec<Finding>,
}

/// The findings of a lint run, per script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// One entry per script linted (also those with nothing found).
    pub scripts: Vec<ScriptFindings>,
}

impl Report {
    /// Every finding, with its script.
    pub fn findings(&self) -> impl Iterator<Item = (&str, &Finding)> {
        self.scripts
            .iter()
            .flat_map(|s| s.findings.iter().map(move |f| (s.source.as_str(), f)))
    }

    /// How many findings are unsilenced errors.
    pub fn errors(&self) -> usize {
        self.findings().filter(|(_, f)| f.is_error()).count()
    }

    /// How many findings are unsilenced warnings.
    pub fn warnings(&self) -> usize {
        self.findings()
            .filter(|(_, f)| f.severity() == Severity::Warning && f.silenced.is_none())
            .count()
    }

    /// Whether there is nothing unsilenced to report.
    pub fn is_clean(&self) -> bool {
        self.findings().all(|(_, f)| f.silenced.is_some())
    }

    /// The rules of the unsilenced findings, in order (for tests and summaries).
    pub fn rules(&self) -> Vec<Rule> {
        self.findings()
            .filter(|(_, f)| f.silenced.is_none())
            .map(|(_, f)| f.rule)
            .collect()
    }
}

/// Lints one script. `transactional`: whether it runs in one transaction (a revision without
/// `-- transaction: false` in its header).
pub fn lint_sql(sql: &str, transactional: bool, options: &LintOptions) -> Vec<Finding> {
    let stmts = script::statements(sql);
    check::State::new(options).script(&stmts, transactional)
}

/// A script to lint: a revision's up script, and where it comes from
/// ([`Revision::lint_script`](crate::revision::Revision::lint_script) makes one).
#[derive(Debug, Clone)]
pub struct Script<'a> {
    /// Where it comes from, for the report: `migrations/<dir>/up.sql`.
    pub source: String,
    /// The SQL.
    pub sql: &'a str,
    /// Whether it runs in one transaction.
    pub transactional: bool,
    /// Lines of its file above the SQL (the header), so findings give lines of the file.
    pub lines_above: usize,
}

/// Lints scripts that run in this order (an upgrade plan). With [`LintOptions::schema`], a
/// table an earlier script creates is new (and empty) for the later ones; without it, each
/// script is judged alone, except for the column types the earlier scripts set.
pub fn lint_scripts(scripts: &[Script<'_>], options: &LintOptions) -> Report {
    let mut state = check::State::new(options);
    let mut report = Report::default();
    for s in scripts {
        state.next_revision();
        let stmts = script::statements(s.sql);
        let mut findings = state.script(&stmts, s.transactional);
        for f in &mut findings {
            f.line += s.lines_above;
        }
        report.scripts.push(ScriptFindings {
            source: s.source.clone(),
            findings,
        });
    }
    report
}

impl fmt::Display for Finding {
    /// `error[index-not-concurrent] line 3: builds an index on public.users ...`, then the
    /// statement, the lock, why and the safe form on indented lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}[{}] line {}: {}",
            self.severity(),
            self.rule.name(),
            self.line,
            self.message
        )?;
        writeln!(f, "    {}", self.statement)?;
        if let Some(lock) = &self.lock {
            writeln!(f, "  lock: {lock}")?;
        }
        writeln!(f, "  why: {}", self.rule.why())?;
        write!(f, "  instead: {}", self.rule.instead())?;
        match &self.silenced {
            Some(reason) => write!(f, "\n  silenced: {reason}"),
            None if self.rule == Rule::BadSilence => Ok(()),
            None => write!(
                f,
                "\n  or silence it: -- lint: allow {}: <why it is safe here>",
                self.rule.name()
            ),
        }
    }
}

impl fmt::Display for Report {
    /// Each script with findings, its findings, then a summary line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in self.scripts.iter().filter(|s| !s.findings.is_empty()) {
            writeln!(f, "{}", s.source)?;
            for finding in &s.findings {
                writeln!(f, "{finding}")?;
            }
        }
        let silenced = self
            .findings()
            .filter(|(_, f)| f.silenced.is_some())
            .count();
        write!(
            f,
            "lint: {} checked, {} error{}, {} warning{}, {} silenced",
            plural(self.scripts.len(), "script"),
            self.errors(),
            if self.errors() == 1 { "" } else { "s" },
            self.warnings(),
            if self.warnings() == 1 { "" } else { "s" },
            silenced
        )
    }
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests;
