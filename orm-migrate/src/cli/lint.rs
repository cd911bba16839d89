//! `lint`, and the lint that `upgrade` and `revision --autogenerate` run: the report printed
//! in colour, errors failing the command.

use crate::lint::{Finding, LintOptions, Report, Rule, Severity};
use crate::revision::Revision;
use crate::runner::lint_revisions;

use super::args::Global;
use super::hooks::Models;
use super::output::{Style, err, out};
use super::setup::{connect, graph, migrator};
use super::{CliError, EXIT_ERROR, EXIT_OK};

type Result<T> = std::result::Result<T, CliError>;

/// `lint [REV...] [--pending]`: the named revisions (all by default) offline, or with
/// `--pending` those the database lacks, against the database.
pub(crate) async fn lint(
    g: &Global,
    models: Option<&Models>,
    revisions: &[String],
    pending: bool,
    style: Style,
) -> Result<u8> {
    let report = if pending {
        let db = connect(g).await?;
        with_models(migrator(g)?, models)
            .lint_pending(&db, &crate::graph::Target::Heads)
            .await?
    } else {
        let graph = graph(g)?;
        let chosen: Vec<&Revision> = if revisions.is_empty() {
            graph.history()
        } else {
            revisions
                .iter()
                .map(|r| graph.get(r))
                .collect::<std::result::Result<_, _>>()?
        };
        let options = LintOptions {
            models: models.map(Models::schema),
            lock_timeout: !g.lock_timeout.is_zero(),
            ..LintOptions::default()
        };
        lint_revisions(&chosen, &options)
    };
    print(&report, style, true);
    Ok(if report.errors() > 0 {
        EXIT_ERROR
    } else {
        EXIT_OK
    })
}

/// `lint --explain RULE`: the rule's severity, why, the safe form and both examples; `all`
/// lists every rule.
pub(crate) fn explain(name: &str, style: Style) -> Result<u8> {
    if name == "all" {
        for r in Rule::ALL {
            out(&format!("{:<28} {:<8} {}", r.name(), r.severity(), r.why()));
        }
        return Ok(EXIT_OK);
    }
    let Some(rule) = Rule::from_name(name) else {
        let names: Vec<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
        return Err(CliError::Message(format!(
            "{name:?} is not a rule; the rules: {}",
            names.join(", ")
        )));
    };
    out(&format!(
        "{} ({})\n\nwhy: {}\n\ninstead: {}\n\nreported:\n{}\n\nnot reported:\n{}",
        style.id(rule.name()),
        rule.severity(),
        rule.why(),
        rule.instead(),
        indent(rule.bad_example()),
        indent(rule.good_example())
    ));
    Ok(EXIT_OK)
}

fn indent(sql: &str) -> String {
    sql.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The lint of revisions `revision --autogenerate` just wrote, printed, with a note when
/// `upgrade` will refuse them.
pub(crate) fn lint_written(revisions: &[Revision], options: &LintOptions, style: Style) {
    let refs: Vec<&Revision> = revisions.iter().collect();
    let report = lint_revisions(&refs, options);
    print(&report, style, true);
    if report.errors() > 0 {
        err(&format!(
            "{} `upgrade` will refuse it until each error is fixed or silenced with \
             `-- lint: allow <rule>: <why>`",
            style.warn("note:")
        ));
    }
}

/// The migrator with the models' schema for the lint.
pub(crate) fn with_models(m: crate::Migrator, models: Option<&Models>) -> crate::Migrator {
    match models {
        Some(models) => m.lint_models(models.schema()),
        None => m,
    }
}

/// Prints the report: findings on stderr, the summary on stdout (`always`) or only when
/// something was found.
pub(crate) fn print(report: &Report, style: Style, always: bool) {
    for s in report.scripts.iter().filter(|s| !s.findings.is_empty()) {
        err(&style.id(&s.source));
        for f in &s.findings {
            err(&finding(f, style));
        }
    }
    if always || report.findings().next().is_some() {
        let summary = report.to_string();
        let last = summary.lines().last().unwrap_or_default();
        let line = if report.errors() > 0 {
            style.error(last)
        } else if report.warnings() > 0 {
            style.warn(last)
        } else {
            style.ok(last)
        };
        out(&line);
    }
}

fn finding(f: &Finding, style: Style) -> String {
    let text = f.to_string();
    let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let first = match (f.severity(), &f.silenced) {
        (_, Some(_)) => style.dim(first),
        (Severity::Error, None) => style.error(first),
        (Severity::Warning, None) => style.warn(first),
    };
    format!("{first}\n{}", style.dim(rest))
}
