//! The expand/contract commands: `revision --expand`, `revision --contract` and `phases`.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::SystemTime;

use crate::error::MigrateError;
use crate::expand::{BackfillOptions, ColumnChange, ColumnPath, Phase};
use crate::files;
use crate::graph::{Graph, Target};
use crate::reflect::{ReflectOptions, reflect};
use crate::revision::Revision;
use crate::schema::Schema;

use super::args::{ExpandArgs, Global};
use super::output::{Style, err, out};
use super::setup::{connect, graph, migrator};
use super::{CliError, EXIT_OK};

type Result<T> = std::result::Result<T, CliError>;

/// The parent of a new revision: the head, or `head` when given.
fn parents(graph: &Graph, head: Option<&str>) -> Result<Vec<String>> {
    Ok(match head {
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
    })
}

/// The database's schema of `schema`, after checking it has every revision applied.
async fn database(g: &Global, schema: &str) -> Result<Schema> {
    let db = connect(g).await?;
    let m = migrator(g)?;
    let applied: BTreeSet<String> = m.applied(&db).await?.into_iter().map(|r| r.id).collect();
    let pending = m.graph().upgrade_plan(&applied, &Target::Heads)?;
    if !pending.is_empty() {
        return Err(CliError::Message(format!(
            "the database is not up to date ({} revision(s) not applied): run `upgrade` first, \
             so the new revision is written from the schema the others end with",
            pending.len()
        )));
    }
    Ok(reflect(&db, &ReflectOptions::schemas([schema])).await?)
}

/// Writes the revision into the migrations directory and says so.
fn write(g: &Global, revision: &Revision, style: Style) -> Result<()> {
    let path = files::write_revision(&g.dir, revision)?;
    out(&format!(
        "{} {} {}",
        style.ok("created"),
        style.id(&revision.id),
        path.display()
    ));
    Ok(())
}

/// A new revision's id.
fn new_id(dir: &Path) -> Result<String> {
    Ok(files::new_id(dir, SystemTime::now())?)
}

fn warn_notes(style: Style, notes: &[String]) {
    for note in notes {
        err(&format!("{} {note}", style.warn("note:")));
    }
}

/// `revision --expand`.
pub(crate) async fn expand(
    g: &Global,
    args: &ExpandArgs,
    spec: &str,
    message: Option<&str>,
    head: Option<&str>,
    style: Style,
) -> Result<u8> {
    let (column, new) = spec.rsplit_once(':').ok_or_else(|| {
        CliError::Message(format!(
            "--expand {spec:?}: write [schema.]table.column:new_column"
        ))
    })?;
    let column = ColumnPath::parse(column).map_err(CliError::Message)?;
    let new = ColumnPath::parse(&format!("x.{new}"))
        .map(|p| p.column)
        .map_err(|_| {
            CliError::Message(format!("--expand {spec:?}: {new:?} is not a column name"))
        })?;
    let graph = graph(g)?;
    let parents = parents(&graph, head)?;
    let schema = database(g, &column.table.schema).await?;
    let mut change = ColumnChange::new(&schema, &column, &new)?.with_backfill(BackfillOptions {
        batch: args.batch,
        pause: args.pause,
    });
    if let Some(t) = &args.new_type {
        change = change.with_type(t.clone());
    }
    if let Some(u) = &args.using {
        change = change.with_using(u.clone());
    }
    if let Some(r) = &args.reverse {
        change = change.with_reverse(r.clone());
    }
    let default_message = format!("expand {column} into {new}");
    let message = message
        .filter(|m| !m.trim().is_empty())
        .unwrap_or(&default_message);
    let (revision, notes) = change.expand_revision(&new_id(&g.dir)?, message)?;
    let revision = revision.with_parents(parents);
    write(g, &revision, style)?;
    warn_notes(style, &notes);
    if change.reverse_conversion().is_none() {
        err(&format!(
            "{} no --reverse: rows the new release writes leave {} as written, and the \
             contract cannot be downgraded",
            style.warn("note:"),
            column.column
        ));
    }
    out(&format!(
        "next: `upgrade`, deploy the release that uses {new}, and once nothing reads {} any \
         more: `revision --contract {}`",
        column.column, revision.id
    ));
    Ok(EXIT_OK)
}

/// `revision --contract`.
pub(crate) async fn contract(
    g: &Global,
    expand_id: &str,
    message: Option<&str>,
    head: Option<&str>,
    style: Style,
) -> Result<u8> {
    let graph = graph(g)?;
    let expand: &Revision = graph.get(expand_id)?;
    let Some(change) = &expand.phase.expand else {
        return Err(CliError::Message(format!(
            "revision {} is not an expand revision (its header has no `expand:` line)",
            expand.id
        )));
    };
    let entries = crate::expand::phases(&graph, &BTreeSet::new())?;
    if let Some(c) = entries
        .iter()
        .find(|e| e.expand.id == expand.id)
        .and_then(|e| e.contract)
    {
        return Err(CliError::Message(format!(
            "{} is contracted by {} already",
            expand.id, c.id
        )));
    }
    let parents = parents(&graph, head)?;
    for parent in &parents {
        let ancestors = graph.upgrade_plan(&BTreeSet::new(), &Target::Id(parent.clone()))?;
        if !ancestors.iter().any(|r| r.id == expand.id) {
            return Err(CliError::Message(format!(
                "{} is not an ancestor of {parent}: the contract must follow its expand",
                expand.id
            )));
        }
    }
    let schema = database(g, &change.from.table.schema).await?;
    let column = ColumnChange::from_expand(&schema, expand)?;
    let default_message = format!("contract {} into {}", change.from, change.to);
    let message = message
        .filter(|m| !m.trim().is_empty())
        .unwrap_or(&default_message);
    let (revision, notes) = column.contract_revision(&new_id(&g.dir)?, message, &expand.id)?;
    let revision = revision.with_parents(parents);
    write(g, &revision, style)?;
    warn_notes(style, &notes);
    out(&format!(
        "apply it once no running code reads or writes {}",
        change.from.column
    ));
    Ok(EXIT_OK)
}

/// `phases`.
pub(crate) async fn phases(g: &Global, style: Style) -> Result<u8> {
    let m = migrator(g)?;
    let db = connect(g).await?;
    let entries = m.phases(&db).await?;
    if entries.is_empty() {
        out("no expand revisions");
        return Ok(EXIT_OK);
    }
    for e in entries {
        let painted = match e.phase {
            Phase::Pending => style.dim("pending   "),
            Phase::Expanded => style.warn("expanded  "),
            Phase::Contracted => style.ok("contracted"),
        };
        let contract = match (e.contract, e.phase) {
            (None, _) => "contract not written".to_owned(),
            (Some(c), Phase::Contracted) => format!("contract {} applied", style.id(&c.id)),
            (Some(c), _) => format!("contract {} not applied", style.id(&c.id)),
        };
        let expand = if e.phase == Phase::Pending {
            "not applied"
        } else {
            "applied"
        };
        out(&format!(
            "{painted} {}  (expand {} {expand}; {contract})",
            e.change,
            style.id(&e.expand.id)
        ));
    }
    Ok(EXIT_OK)
}
