//! The walk over a script's statements: what each one does to which table, against what the
//! lint knows of the database before it (a reflected schema, or nothing) and what earlier
//! statements of the run did.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, AlterTypeOperation, ColumnDef, ColumnOption,
    CreateIndex, Expr, GeneratedAs, GeneratedExpressionMode, ObjectName, ObjectType,
    RenameTableNameKind, Set, Statement, TableConstraint, UserDefinedTypeRepresentation,
    visit_expressions,
};

use super::lock::{Lock, LockMode};
use super::rules::Rule;
use super::script::{Stmt, one_line};
use super::types::{Ty, VOLATILE_FUNCTIONS, is_serial, rewrite_free};
use super::{Finding, LintOptions};
use crate::schema::QualifiedName;

mod alter;

/// What the lint has learnt so far in one run (one revision, or several in order).
pub(crate) struct State<'o> {
    opts: &'o LintOptions,
    /// Tables created by the run: new and empty, so the rules about existing tables skip them.
    created: BTreeSet<QualifiedName>,
    /// Table renames of the run: new name -> old name.
    renamed: BTreeMap<QualifiedName, QualifiedName>,
    /// Indexes created by the run, and their tables.
    indexes: BTreeMap<QualifiedName, QualifiedName>,
    /// Column types set by the run.
    types: BTreeMap<(QualifiedName, String), Ty>,
    /// `CHECK (col IS NOT NULL)` constraints known valid.
    not_null_checks: BTreeSet<(QualifiedName, String)>,
    /// `CHECK (col IS NOT NULL) NOT VALID` constraints added by the run, by name.
    pending_checks: BTreeMap<String, (QualifiedName, String)>,
    /// Enum types renamed by the run: new name -> old name.
    renamed_types: BTreeMap<QualifiedName, QualifiedName>,
}

/// What one script (a revision's `up.sql`) adds to a run.
struct ScriptState {
    transactional: bool,
    /// Constraints added `NOT VALID` in the current transaction.
    not_valid: BTreeSet<String>,
    lock_timeout: bool,
    lock_timeout_reported: bool,
}

impl<'o> State<'o> {
    pub(crate) fn new(opts: &'o LintOptions) -> Self {
        State {
            opts,
            created: BTreeSet::new(),
            renamed: BTreeMap::new(),
            indexes: BTreeMap::new(),
            types: BTreeMap::new(),
            not_null_checks: BTreeSet::new(),
            pending_checks: BTreeMap::new(),
            renamed_types: BTreeMap::new(),
        }
    }

    /// Forgets what only holds within one revision when the lint knows nothing of the
    /// database: without a schema each revision is judged alone (a table an earlier revision
    /// created has been in production since, with rows). The column types the earlier
    /// revisions set are kept: they are still the columns' types, so a later revision's
    /// `varchar(40)` to `text` is known to be free offline too, as it is against the database.
    pub(crate) fn next_revision(&mut self) {
        if self.opts.schema.is_none() {
            let types = std::mem::take(&mut self.types);
            *self = State::new(self.opts);
            self.types = types;
        }
    }

    /// The findings of one script.
    pub(crate) fn script(&mut self, stmts: &[Stmt<'_>], transactional: bool) -> Vec<Finding> {
        let mut s = ScriptState {
            transactional,
            not_valid: BTreeSet::new(),
            lock_timeout: self.opts.lock_timeout,
            lock_timeout_reported: false,
        };
        let mut out = Vec::new();
        for stmt in stmts {
            let mut found = Vec::new();
            for (line, what) in &stmt.bad_silences {
                found.push(Found::new(Rule::BadSilence, what.clone()).at(*line));
            }
            match &stmt.parsed {
                Ok(parsed) => self.statement(parsed, stmt, &mut s, &mut found),
                // Statements autogenerate writes that the parser does not read, judged by their
                // words.
                Err(_) if let Some(known) = Unparsed::of(stmt.text) => known.check(&mut found),
                Err(e) => {
                    if stmt.concurrently && transactional {
                        found.push(Found::new(
                            Rule::ConcurrentlyInTransaction,
                            "a CONCURRENTLY statement in a transactional revision".into(),
                        ));
                    }
                    found.push(Found::new(
                        Rule::UnparsedStatement,
                        format!("not checked: {e}"),
                    ));
                }
            }
            for f in found {
                let silenced = stmt
                    .silences
                    .iter()
                    .find(|(r, _)| *r == f.rule)
                    .map(|(_, why)| why.clone());
                out.push(Finding {
                    rule: f.rule,
                    line: f.line.unwrap_or(stmt.line),
                    statement: one_line(stmt.text, 200),
                    lock: f.lock,
                    message: f.message,
                    silenced,
                });
            }
        }
        out
    }

    fn statement(
        &mut self,
        st: &Statement,
        stmt: &Stmt<'_>,
        s: &mut ScriptState,
        out: &mut Vec<Found>,
    ) {
        if takes_lock(st) && !s.lock_timeout && !s.lock_timeout_reported {
            s.lock_timeout_reported = true;
            out.push(Found::new(
                Rule::MissingLockTimeout,
                "the first DDL statement of the script, and no lock_timeout is set before it"
                    .into(),
            ));
        }
        match st {
            Statement::Set(Set::SingleAssignment {
                variable, values, ..
            }) if variable.to_string().eq_ignore_ascii_case("lock_timeout") => {
                let v = values
                    .first()
                    .map(|v| v.to_string().trim_matches('\'').to_string());
                s.lock_timeout = !matches!(v.as_deref(), None | Some("0") | Some("DEFAULT"));
            }
            Statement::CreateTable(ct) => {
                let table = qualified(&ct.name);
                self.created.insert(table.clone());
                let mut pk: BTreeSet<String> = BTreeSet::new();
                for c in &ct.constraints {
                    if let TableConstraint::PrimaryKey(p) = c {
                        pk.extend(p.columns.iter().map(|c| ident_of(&c.column.expr)));
                    }
                }
                for col in &ct.columns {
                    let is_pk = pk.contains(&name(&col.name))
                        || options(col).any(|o| matches!(o, ColumnOption::PrimaryKey(_)));
                    self.column_types(&table, col, is_pk, out);
                }
            }
            Statement::AlterTable(at) => {
                let table = qualified(&at.name);
                for op in &at.operations {
                    self.alter_table(&table, op, s, out);
                }
            }
            Statement::CreateIndex(ci) => self.create_index(ci, s, out),
            Statement::Drop {
                object_type, names, ..
            } => {
                for n in names {
                    let n = qualified(n);
                    match object_type {
                        ObjectType::Index => self.drop_index(&n, stmt.concurrently, s, out),
                        ObjectType::Table if self.maps_table(&n) => {
                            out.push(Found::new(
                                Rule::RemovingMappedTable,
                                format!("drops {n}, which the models map"),
                            ));
                        }
                        _ => {}
                    }
                }
            }
            Statement::AlterType(at) => {
                let ty = qualified(&at.name);
                match &at.operation {
                    AlterTypeOperation::AddValue(_) => {
                        let old = self.opts.server_version.is_some_and(|v| v < 120000);
                        if s.transactional && old {
                            out.push(Found::new(
                                Rule::EnumValueInTransaction,
                                format!("adds a label to {ty} in a transaction, on a server before PostgreSQL 12"),
                            ));
                        }
                    }
                    AlterTypeOperation::Rename(r) => {
                        let new = QualifiedName::new(ty.schema.clone(), name(&r.new_name));
                        self.renamed_types.insert(new, ty);
                    }
                    AlterTypeOperation::RenameValue(_) => {}
                }
            }
            Statement::CreateType {
                name: type_name,
                representation: Some(UserDefinedTypeRepresentation::Enum { labels }),
            } => {
                let ty = qualified(type_name);
                if self.renamed_types.values().any(|old| *old == ty) {
                    let new: BTreeSet<String> = labels.iter().map(|l| l.value.clone()).collect();
                    let lost = self
                        .opts
                        .schema
                        .as_ref()
                        .and_then(|s| s.enums.get(&ty))
                        .map(|e| {
                            e.labels
                                .iter()
                                .filter(|l| !new.contains(*l))
                                .cloned()
                                .collect::<Vec<_>>()
                        });
                    match lost {
                        Some(lost) if lost.is_empty() => {}
                        Some(lost) => out.push(Found::new(
                            Rule::DroppingEnumValue,
                            format!("recreates {ty} without {}", lost.join(", ")),
                        )),
                        None => out.push(Found::new(
                            Rule::DroppingEnumValue,
                            format!("recreates {ty} (renamed away above): labels may be lost"),
                        )),
                    }
                }
            }
            _ => {}
        }
    }

    /// The preference rules on a new column, and its type remembered.
    fn column_types(
        &mut self,
        table: &QualifiedName,
        col: &ColumnDef,
        pk: bool,
        out: &mut Vec<Found>,
    ) {
        let c = name(&col.name);
        let ty = Ty::of(&col.data_type);
        let t = &col.data_type;
        match &ty {
            Ty::Int2 | Ty::Int4 if pk => out.push(Found::new(
                Rule::PreferBigintPk,
                format!("{table}.{c} is a {t} primary key"),
            )),
            Ty::Timestamp { tz: false } => out.push(Found::new(
                Rule::PreferTimestamptz,
                format!("{table}.{c} is {t}"),
            )),
            Ty::Varchar(Some(_)) | Ty::Char(Some(_)) => {
                out.push(Found::new(Rule::PreferText, format!("{table}.{c} is {t}")))
            }
            _ => {}
        }
        self.types.insert((table.clone(), c), ty);
    }

    fn create_index(&mut self, ci: &CreateIndex, s: &ScriptState, out: &mut Vec<Found>) {
        let table = qualified(&ci.table_name);
        if ci.concurrently && s.transactional {
            out.push(Found::new(
                Rule::ConcurrentlyInTransaction,
                format!("builds an index on {table} CONCURRENTLY in a transactional revision"),
            ));
        }
        if !ci.concurrently && self.exists(&table) {
            out.push(
                Found::new(
                    Rule::IndexNotConcurrent,
                    format!("builds an index on {table}, which exists, without CONCURRENTLY"),
                )
                .lock(Some(Lock {
                    mode: LockMode::Share,
                    table: table.clone(),
                })),
            );
        }
        if let Some(n) = &ci.name {
            let n = qualified_or(&table.schema, n);
            self.indexes.insert(n, table);
        }
    }

    fn drop_index(
        &mut self,
        index: &QualifiedName,
        concurrently: bool,
        s: &ScriptState,
        out: &mut Vec<Found>,
    ) {
        let table = self.indexes.get(index).cloned().or_else(|| {
            let schema = self.opts.schema.as_ref()?;
            schema
                .tables
                .values()
                .find(|t| t.name.schema == index.schema && t.indexes.contains_key(&index.name))
                .map(|t| t.name.clone())
        });
        if concurrently && s.transactional {
            out.push(Found::new(
                Rule::ConcurrentlyInTransaction,
                format!("drops {index} CONCURRENTLY in a transactional revision"),
            ));
        }
        let on_existing = table.as_ref().is_none_or(|t| self.exists(t));
        if !concurrently && on_existing {
            let lock = table.map(|table| Lock {
                mode: LockMode::AccessExclusive,
                table,
            });
            out.push(
                Found::new(
                    Rule::IndexNotConcurrent,
                    format!("drops {index} without CONCURRENTLY"),
                )
                .lock(lock),
            );
        }
    }

    /// Whether the table was there before the run (and so may hold rows and be in use).
    fn exists(&self, t: &QualifiedName) -> bool {
        if self.created.contains(t) {
            return false;
        }
        let t = self.renamed.get(t).unwrap_or(t);
        match &self.opts.schema {
            Some(s) => s.tables.contains_key(t),
            None => true,
        }
    }

    fn column_type(&self, t: &QualifiedName, c: &str) -> Option<Ty> {
        if let Some(ty) = self.types.get(&(t.clone(), c.to_string())) {
            return Some(ty.clone());
        }
        let t = self.renamed.get(t).unwrap_or(t);
        let col = self
            .opts
            .schema
            .as_ref()?
            .tables
            .get(t)?
            .columns
            .iter()
            .find(|x| x.name == c)?;
        Ty::parse(&col.data_type)
    }

    fn maps_table(&self, t: &QualifiedName) -> bool {
        self.opts
            .models
            .as_ref()
            .is_some_and(|m| m.tables.contains_key(t))
    }

    fn maps_column(&self, t: &QualifiedName, c: &str) -> bool {
        self.opts
            .models
            .as_ref()
            .and_then(|m| m.tables.get(t))
            .is_some_and(|t| t.columns.iter().any(|x| x.name == c))
    }
}

/// A finding before it knows its statement.
struct Found {
    rule: Rule,
    message: String,
    lock: Option<Lock>,
    line: Option<usize>,
}

impl Found {
    fn new(rule: Rule, message: String) -> Self {
        Found {
            rule,
            message,
            lock: None,
            line: None,
        }
    }
    fn lock(mut self, lock: Option<Lock>) -> Self {
        self.lock = lock;
        self
    }
    fn at(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }
}

fn show(t: &Ty) -> String {
    match t {
        Ty::Int2 => "smallint".into(),
        Ty::Int4 => "integer".into(),
        Ty::Int8 => "bigint".into(),
        Ty::Varchar(Some(n)) => format!("varchar({n})"),
        Ty::Varchar(None) => "varchar".into(),
        Ty::Char(Some(n)) => format!("char({n})"),
        Ty::Char(None) => "char".into(),
        Ty::Text => "text".into(),
        Ty::Numeric(Some((p, s))) => format!("numeric({p},{s})"),
        Ty::Numeric(None) => "numeric".into(),
        Ty::Timestamp { tz: true } => "timestamptz".into(),
        Ty::Timestamp { tz: false } => "timestamp".into(),
        Ty::Other(o) => o.clone(),
    }
}

/// Statements that take a table lock worth a `lock_timeout`.
fn takes_lock(st: &Statement) -> bool {
    matches!(
        st,
        Statement::AlterTable(_)
            | Statement::CreateIndex(_)
            | Statement::Drop { .. }
            | Statement::AlterType(_)
            | Statement::AlterIndex { .. }
            | Statement::CreateTrigger(_)
            | Statement::DropTrigger(_)
            | Statement::Truncate(_)
    )
}

fn options(col: &ColumnDef) -> impl Iterator<Item = &ColumnOption> {
    col.options.iter().map(|o| &o.option)
}

/// An identifier as PostgreSQL folds it: quoted as written, unquoted in lower case.
fn name(id: &sqlparser::ast::Ident) -> String {
    match id.quote_style {
        Some(_) => id.value.clone(),
        None => id.value.to_lowercase(),
    }
}

fn ident_of(e: &Expr) -> String {
    match e {
        Expr::Identifier(id) => name(id),
        other => other.to_string(),
    }
}

/// A table's name with `public` for an unqualified one.
fn qualified(n: &ObjectName) -> QualifiedName {
    let parts: Vec<String> = n.0.iter().filter_map(|p| p.as_ident()).map(name).collect();
    match parts.as_slice() {
        [.., schema, table] => QualifiedName::new(schema.clone(), table.clone()),
        [table] => QualifiedName::new("public", table.clone()),
        [] => QualifiedName::new("public", n.to_string()),
    }
}

/// A name in `schema` unless it says its own, each part folded as PostgreSQL does.
fn qualified_or(schema: &str, n: &ObjectName) -> QualifiedName {
    let q = qualified(n);
    match n.0.len() {
        1 => QualifiedName::new(schema, q.name),
        _ => q,
    }
}

fn constraint_name(c: &TableConstraint) -> Option<String> {
    let n = match c {
        TableConstraint::Unique(u) => u.name.as_ref(),
        TableConstraint::PrimaryKey(p) => p.name.as_ref(),
        TableConstraint::ForeignKey(f) => f.name.as_ref(),
        TableConstraint::Check(k) => k.name.as_ref(),
        TableConstraint::UniqueUsingIndex(u) | TableConstraint::PrimaryKeyUsingIndex(u) => {
            u.name.as_ref()
        }
        _ => None,
    };
    n.map(name)
}

/// The column of `col IS NOT NULL`.
fn is_not_null_check(e: &Expr) -> Option<String> {
    match e {
        Expr::Nested(inner) => is_not_null_check(inner),
        Expr::IsNotNull(inner) => match inner.as_ref() {
            Expr::Identifier(id) => Some(name(id)),
            Expr::Nested(n) => is_not_null_check(&Expr::IsNotNull(n.clone())),
            _ => None,
        },
        _ => None,
    }
}

/// The first volatile function the expression calls.
fn volatile_call(e: &Expr) -> Option<String> {
    let mut found = None;
    let _ = visit_expressions(e, |e| {
        if let Expr::Function(f) = e {
            let n = f
                .name
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map(name)
                .unwrap_or_default();
            if VOLATILE_FUNCTIONS.contains(&n.as_str()) {
                found = Some(n);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    found
}

/// A statement autogenerate writes that the SQL parser does not read, recognised by its words.
enum Unparsed {
    /// `ALTER INDEX ... SET (...)` or `RESET (...)`: a storage parameter, under SHARE UPDATE
    /// EXCLUSIVE on the index; reads and writes go on, and the index is not rewritten.
    IndexStorage,
    /// `ALTER DOMAIN ... VALIDATE CONSTRAINT ...`.
    ValidateDomain {
        /// The domain, as written.
        domain: String,
    },
}

impl Unparsed {
    fn of(text: &str) -> Option<Unparsed> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let is =
            |at: usize, word: &str| words.get(at).is_some_and(|w| w.eq_ignore_ascii_case(word));
        if !is(0, "ALTER") {
            return None;
        }
        if is(1, "INDEX") {
            // ALTER INDEX [IF EXISTS] name SET|RESET (
            let at = if is(2, "IF") && is(3, "EXISTS") { 5 } else { 3 };
            let storage = (is(at, "SET") || is(at, "RESET"))
                && words.get(at + 1).is_some_and(|w| w.starts_with('('));
            return storage.then_some(Unparsed::IndexStorage);
        }
        if is(1, "DOMAIN") && is(3, "VALIDATE") && is(4, "CONSTRAINT") && words.len() == 6 {
            return Some(Unparsed::ValidateDomain {
                domain: words[2].to_owned(),
            });
        }
        None
    }

    fn check(self, out: &mut Vec<Found>) {
        match self {
            Unparsed::IndexStorage => {}
            Unparsed::ValidateDomain { domain } => out.push(Found::new(
                Rule::ValidatingDomainConstraint,
                format!(
                    "validates a check of the domain {domain}: SHARE on every table with a \
                     column of it"
                ),
            )),
        }
    }
}
