//! Each command: build what it needs (the graph, a migrator, a connection), run it, print
//! the result. Returns the exit code, or an error (exit 1).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::diff::{Filter, OpenExpansion};
use crate::error::MigrateError;
use crate::files;
use crate::graph::Target;
use crate::lint::LintOptions;
use crate::revision::Revision;
use crate::runner::Direction;

use super::args::{Cli, Command, Global, Offline};
use super::hooks::{Models, database_schema, models_migration_with, schemas_migration};
use super::lint::{lint_written, print, with_models};
use super::output::{Bar, Style, err, human, out};
use super::setup::{connect, connect_to, graph, migrator, version_table};
use super::{CliError, EXIT_DRIFT, EXIT_ERROR, EXIT_OK};

type Result<T> = std::result::Result<T, CliError>;

pub(crate) async fn dispatch(cli: Cli, models: Option<&Models>, style: Style) -> Result<u8> {
    let g = &cli.global;
    match cli.command {
        Command::Init => init(g, style),
        Command::Revision {
            message,
            autogenerate,
            single,
            head,
            expand,
        } => {
            let head = head.as_deref();
            if let Some(spec) = &expand.expand {
                return super::expand::expand(g, &expand, spec, message.as_deref(), head, style)
                    .await;
            }
            if let Some(id) = &expand.contract {
                return super::expand::contract(g, id, message.as_deref(), head, style).await;
            }
            let generate = autogenerate.then_some(Generate { single });
            let message = message.unwrap_or_default();
            revision(g, models, &message, generate, head, style).await
        }
        Command::Upgrade {
            target,
            offline,
            no_lint,
        } => {
            let lint = (!no_lint).then_some(models);
            migrate(g, Direction::Up, &target, &offline, lint, style).await
        }
        Command::Downgrade { target, offline } => {
            migrate(g, Direction::Down, &target, &offline, None, style).await
        }
        Command::Lint {
            explain: Some(rule),
            ..
        } => super::lint::explain(&rule, style),
        Command::Lint {
            revisions, pending, ..
        } => super::lint::lint(g, models, &revisions, pending, style).await,
        Command::Current => current(g, style).await,
        Command::History => history(g, style).await,
        Command::Heads => heads(g, style),
        Command::Branches => branches(g, style),
        Command::Stamp { target } => stamp(g, &target, style).await,
        Command::Merge { message, revisions } => merge(g, &message, &revisions, style),
        Command::Check => check(g, models, style).await,
        Command::Phases => super::expand::phases(g, style).await,
        Command::Diff {
            from,
            to,
            exit_code,
            ignore_tables,
        } => diff(g, &from, &to, &ignore_tables, exit_code, style).await,
    }
}

// ----- what the commands share -----------------------------------------------------------

fn needs_models(command: &str) -> CliError {
    CliError::Message(format!(
        "`{command}` compares the database with your models, which the standalone orm-migrate \
         binary does not have. Add this three-line binary to your project:\n\n    \
         // src/bin/migrate.rs\n    \
         fn main() -> std::process::ExitCode {{\n        \
         orm_migrate::cli::main_with(orm_migrate::cli::Models::from_fn(my_app::schema))\n    \
         }}\n\n\
         and run `cargo run --bin migrate -- {command}`"
    ))
}

/// `id message`, coloured.
fn line(style: Style, r: &Revision) -> String {
    format!("{} {}", style.id(&r.id), r.message)
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn new_revision(dir: &Path, message: &str) -> Result<Revision> {
    if message.trim().is_empty() {
        return Err(CliError::Message("the message (-m) is empty".into()));
    }
    Ok(Revision::new(
        files::new_id(dir, SystemTime::now())?,
        message,
    ))
}

fn written(style: Style, path: &Path, revision: &Revision) {
    out(&format!(
        "{} {} {}",
        style.ok("created"),
        style.id(&revision.id),
        path.display()
    ));
}

// ----- the commands ----------------------------------------------------------------------

const README: &str = "\
# Migrations

One directory per revision, `<id>_<slug>/`, holding `up.sql` (with a `-- key: value` header:
`message`, `parents`, `depends_on`, `transaction`, `run`) and `down.sql`. Ids are UTC
timestamps `YYYYMMDDHHMMSS`.

    orm-migrate revision -m \"add tutorials\"   # a new revision to fill in
    orm-migrate upgrade                        # apply up to the head
    orm-migrate downgrade -1                   # revert the last one
    orm-migrate history                        # what is applied
    orm-migrate upgrade --sql                  # the SQL, without running it

Never edit a revision once applied: the runner records each `up.sql`'s checksum and refuses
edited ones (`--allow-edited` or `stamp` accept an edit).
";

fn init(g: &Global, style: Style) -> Result<u8> {
    let dir = &g.dir;
    if dir.is_dir() && !files::read_dir(dir)?.is_empty() {
        return Err(CliError::Message(format!(
            "{} already holds revisions",
            dir.display()
        )));
    }
    let io = |source| MigrateError::Io {
        path: dir.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let readme = dir.join("README.md");
    if !readme.exists() {
        std::fs::write(&readme, README).map_err(|source| MigrateError::Io {
            path: readme.clone(),
            source,
        })?;
    }
    out(&format!("{} {}", style.ok("created"), dir.display()));
    Ok(EXIT_OK)
}

/// How `revision --autogenerate` writes its operations.
struct Generate {
    /// One revision in the plain forms, instead of the safe form's phases.
    single: bool,
}

async fn revision(
    g: &Global,
    models: Option<&Models>,
    message: &str,
    generate: Option<Generate>,
    head: Option<&str>,
    style: Style,
) -> Result<u8> {
    let autogenerate = generate.is_some();
    if autogenerate && models.is_none() {
        return Err(needs_models("revision --autogenerate"));
    }
    let graph = graph(g)?;
    let parents: Vec<String> = match head {
        Some(h) => vec![graph.get(h)?.id.clone()],
        None => match graph.heads().as_slice() {
            [] => Vec::new(),
            [one] => vec![one.id.clone()],
            many => {
                return Err(MigrateError::MultipleHeads {
                    heads: many.iter().map(|r| r.id.clone()).collect(),
                }
                .into());
            }
        },
    };
    let Some((models, generate)) = models.zip(generate) else {
        let revision = new_revision(&g.dir, message)?.with_parents(parents);
        let path = files::write_revision(&g.dir, &revision)?;
        written(style, &path, &revision);
        out("fill in its up.sql and down.sql (until then the directory does not read back)");
        return Ok(EXIT_OK);
    };
    let db = connect(g).await?;
    let m = migrator(g)?;
    let applied = m
        .applied(&db)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect::<BTreeSet<_>>();
    let pending = m.graph().upgrade_plan(&applied, &Target::Heads)?;
    if !pending.is_empty() {
        return Err(CliError::Message(format!(
            "the database is not up to date ({} not applied): run `upgrade` first, so the \
             new revision starts where the others end",
            plural(pending.len(), "revision")
        )));
    }
    let schema = database_schema(&db, m.version_table_name()).await?;
    let expansions = OpenExpansion::open(&crate::expand::phases(m.graph(), &applied)?);
    let migration = models_migration_with(models, &schema, &expansions)?;
    for w in &migration.warnings {
        err(&format!("{} {w}", style.warn("warning:")));
    }
    if migration.operations == 0 {
        out("no changes: the database matches the models; no revision written");
        return Ok(EXIT_OK);
    }
    let parts: Vec<(String, [bool; 2], String, String)> = if generate.single {
        vec![(
            message.to_string(),
            [migration.transactional, migration.down_transactional],
            migration.up.clone(),
            migration.down.clone(),
        )]
    } else {
        migration
            .phases
            .iter()
            .map(|p| {
                (
                    p.message(message),
                    [p.transactional(), p.down_transactional()],
                    p.up_sql(),
                    p.down_sql(),
                )
            })
            .collect()
    };
    // Chained: each written before the next takes a (later) id.
    let mut parents = parents;
    let mut revisions = Vec::new();
    for (message, [up_transactional, down_transactional], up, down) in parts {
        let mut revision = new_revision(&g.dir, &message)?
            .with_parents(parents)
            .with_transactional(up_transactional)
            .with_down_transactional(down_transactional)
            .with_up(up)
            .with_down(down);
        let path = files::write_revision(&g.dir, &revision)?;
        written(style, &path, &revision);
        parents = vec![revision.id.clone()];
        // As `upgrade` will read it: lines counted in the file.
        revision.header = revision.render_header();
        revision.source = path.join(crate::revision::UP_FILE);
        revisions.push(revision);
    }
    if revisions.len() > 1 {
        out(&format!(
            "{} revisions, run in order by `upgrade`: the main one in a transaction, the \
             others outside one (their up.sql says why); --single writes one plain revision",
            revisions.len()
        ));
    }
    let options = LintOptions {
        models: Some(models.schema()),
        lock_timeout: !g.lock_timeout.is_zero(),
        ..m.lint_options(&db).await?
    };
    lint_written(&revisions, &options, style);
    Ok(EXIT_OK)
}

/// `lint`: `Some(models)` lints the revisions an upgrade applies first (the models, when
/// given, for the rules about what they map).
async fn migrate(
    g: &Global,
    direction: Direction,
    target: &Target,
    offline: &Offline,
    lint: Option<Option<&Models>>,
    style: Style,
) -> Result<u8> {
    // The CLI lints (and prints warnings too) itself; the migrator need not again.
    let m = migrator(g)?.lint(false);
    if offline.sql {
        let applied = match (&offline.from, direction) {
            (Some(from), _) => m.applied_at(from)?,
            (None, Direction::Up) => BTreeSet::new(),
            (None, Direction::Down) => m.applied_at(&Target::Heads)?,
        };
        let sql = match direction {
            Direction::Up => m.sql_for_upgrade(&applied, target)?,
            Direction::Down => m.sql_for_downgrade(&applied, target)?,
        };
        out(sql.trim_end());
        return Ok(EXIT_OK);
    }
    let db = connect(g).await?;
    if let Some(models) = lint {
        let report = with_models(migrator(g)?, models)
            .lint_pending(&db, target)
            .await?;
        print(&report, style, false);
        if report.errors() > 0 {
            err(&format!(
                "{} nothing was run: fix the revisions, silence each finding with \
                 `-- lint: allow <rule>: <why>` above its statement, or pass --no-lint",
                style.error("upgrade stopped by the lint:")
            ));
            return Ok(EXIT_ERROR);
        }
    }
    let bar = Arc::new(Bar::new(style));
    let m = m.progress(bar.clone());
    let start = Instant::now();
    let result = match direction {
        Direction::Up => m.upgrade(&db, target).await,
        Direction::Down => m.downgrade(&db, target).await,
    };
    bar.finish();
    let done = result?;
    if done.is_empty() {
        out(&format!(
            "nothing to do: the database is already at {target}"
        ));
        return Ok(EXIT_OK);
    }
    let now = m.current(&db).await?;
    let at = if now.is_empty() {
        "base".to_owned()
    } else {
        now.iter()
            .map(|r| style.id(&r.id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let verb = match direction {
        Direction::Up => "upgraded",
        Direction::Down => "downgraded",
    };
    out(&format!(
        "{} {} in {}; the database is at {at}",
        style.ok(verb),
        plural(done.len(), "revision"),
        human(start.elapsed())
    ));
    Ok(EXIT_OK)
}

async fn current(g: &Global, style: Style) -> Result<u8> {
    let m = migrator(g)?;
    let db = connect(g).await?;
    let rows = m.applied(&db).await?;
    let now = m.current(&db).await?;
    if now.is_empty() {
        out("base (no revision applied)");
    }
    let history = m.history_of(&rows);
    for r in now {
        let entry = history.iter().find(|h| h.revision.id == r.id);
        let mut text = line(style, r);
        if entry.is_some_and(|h| h.head) {
            text.push_str(&style.dim(" (head)"));
        }
        out(&text);
    }
    for h in history.iter().filter(|h| h.edited) {
        err(&format!(
            "{} {} was edited after it was applied",
            style.warn("warning:"),
            h.revision.id
        ));
    }
    Ok(EXIT_OK)
}

async fn history(g: &Global, style: Style) -> Result<u8> {
    let m = migrator(g)?;
    let Some(_) = &g.database_url else {
        // Without a database: the graph alone.
        for h in m.history_of(&[]) {
            let head = if h.head {
                style.dim(" (head)")
            } else {
                String::new()
            };
            out(&format!("{}{head}", line(style, h.revision)));
        }
        return Ok(EXIT_OK);
    };
    let db = connect(g).await?;
    let rows = m.applied(&db).await?;
    for h in m.history_of(&rows) {
        let mark = if h.applied.is_some() { "[x]" } else { "[ ]" };
        let mut text = format!("{mark} {}", line(style, h.revision));
        if let Some(a) = &h.applied {
            let how = a
                .duration_ms
                .map_or_else(|| "stamped".to_owned(), |ms| format!("{ms} ms"));
            text.push_str(&style.dim(&format!(
                "  applied {} by {} ({how})",
                a.applied_at.format("%Y-%m-%d %H:%M:%S UTC"),
                a.applied_by
            )));
        }
        if h.head {
            text.push_str(&style.dim(" (head)"));
        }
        if h.edited {
            text.push_str(&style.warn(" (edited since applied)"));
        }
        out(&text);
    }
    for a in rows.iter().filter(|a| !m.graph().contains(&a.id)) {
        out(&format!(
            "[?] {} {}  {}",
            style.id(&a.id),
            a.message,
            style.warn("(applied, not in the migrations directory)")
        ));
    }
    Ok(EXIT_OK)
}

fn heads(g: &Global, style: Style) -> Result<u8> {
    let graph = graph(g)?;
    for r in graph.heads() {
        out(&line(style, r));
    }
    Ok(EXIT_OK)
}

fn branches(g: &Global, style: Style) -> Result<u8> {
    let graph = graph(g)?;
    for r in graph.branches() {
        let children = graph.children(&r.id)?;
        let ids: Vec<String> = children.iter().map(|c| style.id(&c.id)).collect();
        out(&format!("{} -> {}", line(style, r), ids.join(", ")));
    }
    Ok(EXIT_OK)
}

async fn stamp(g: &Global, target: &Target, style: Style) -> Result<u8> {
    let m = migrator(g)?;
    let db = connect(g).await?;
    let report = m.stamp(&db, target).await?;
    for (verb, ids) in [
        ("stamped  ", &report.added),
        ("unstamped", &report.removed),
        ("repaired ", &report.repaired),
    ] {
        for id in ids {
            out(&format!("{} {}", style.ok(verb), style.id(id)));
        }
    }
    if report.added.is_empty() && report.removed.is_empty() && report.repaired.is_empty() {
        out("nothing to change");
    }
    Ok(EXIT_OK)
}

fn merge(g: &Global, message: &str, revisions: &[String], style: Style) -> Result<u8> {
    let graph = graph(g)?;
    let mut parents: Vec<String> = Vec::new();
    if revisions.is_empty() {
        parents.extend(graph.heads().iter().map(|r| r.id.clone()));
    }
    for r in revisions {
        let id = graph.get(r)?.id.clone();
        if !parents.contains(&id) {
            parents.push(id);
        }
    }
    if parents.len() < 2 {
        return Err(CliError::Message(format!(
            "a merge needs two or more revisions; {}",
            if revisions.is_empty() {
                format!("the graph has {}", plural(parents.len(), "head"))
            } else {
                format!("got {}", parents.len())
            }
        )));
    }
    let revision = new_revision(&g.dir, message)?.with_parents(parents);
    let path = files::write_revision(&g.dir, &revision)?;
    written(style, &path, &revision);
    Ok(EXIT_OK)
}

async fn check(g: &Global, models: Option<&Models>, style: Style) -> Result<u8> {
    let models = models.ok_or_else(|| needs_models("check"))?;
    let m = migrator(g)?;
    let db = connect(g).await?;
    let rows = m.applied(&db).await?;
    let applied: BTreeSet<String> = rows.iter().map(|r| r.id.clone()).collect();
    let pending = m.graph().upgrade_plan(&applied, &Target::Heads)?;
    let edited: Vec<String> = m
        .history_of(&rows)
        .iter()
        .filter(|h| h.edited)
        .map(|h| h.revision.id.clone())
        .collect();
    if !pending.is_empty() || !edited.is_empty() {
        if !pending.is_empty() {
            let ids: Vec<&str> = pending.iter().map(|r| r.id.as_str()).collect();
            out(&format!(
                "{} the database is behind: {} not applied ({})",
                style.warn("drift:"),
                plural(pending.len(), "revision"),
                ids.join(", ")
            ));
        }
        if !edited.is_empty() {
            out(&format!(
                "{} applied revisions edited since: {}",
                style.warn("drift:"),
                edited.join(", ")
            ));
        }
        return Ok(EXIT_DRIFT);
    }
    let schema = database_schema(&db, m.version_table_name()).await?;
    let expansions = OpenExpansion::open(&crate::expand::phases(m.graph(), &applied)?);
    let migration = models_migration_with(models, &schema, &expansions)?;
    for w in &migration.warnings {
        err(&format!("{} {w}", style.warn("warning:")));
    }
    if migration.operations > 0 {
        out(&format!(
            "{} the models differ from the database by {}; `revision --autogenerate` would write \
             {}:",
            style.warn("drift:"),
            plural(migration.operations, "operation"),
            plural(migration.phases.len(), "revision")
        ));
        for phase in &migration.phases {
            if migration.phases.len() > 1 {
                out(&format!(
                    "-- ==== the {} revision ====",
                    phase.kind.as_str()
                ));
            }
            out(phase.up_sql().trim_end());
        }
        return Ok(EXIT_DRIFT);
    }
    out(&format!(
        "{} the database is at the heads and matches the models",
        style.ok("ok:")
    ));
    Ok(EXIT_OK)
}

async fn diff(
    g: &Global,
    from: &str,
    to: &str,
    ignore_tables: &[String],
    exit_code: bool,
    style: Style,
) -> Result<u8> {
    let filter = Filter::new().ignore_tables(ignore_tables)?;
    let table = version_table(g);
    let from = database_schema(&connect_to(from).await?, &table).await?;
    let to = database_schema(&connect_to(to).await?, &table).await?;
    let migration = schemas_migration(&filter.apply(&from), &filter.apply(&to))?;
    for w in &migration.warnings {
        err(&format!("{} {w}", style.warn("warning:")));
    }
    if migration.operations == 0 {
        out("-- no differences");
        return Ok(EXIT_OK);
    }
    out(migration.up.trim_end());
    Ok(if exit_code { EXIT_DRIFT } else { EXIT_OK })
}
