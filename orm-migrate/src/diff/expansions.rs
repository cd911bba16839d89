//! Open expand/contract moves ([`DiffOptions::expansions`](super::DiffOptions::expansions)):
//! between an applied expand revision and its contract, the database holds both columns and a
//! sync trigger whose PL/pgSQL function reads both. A PL/pgSQL body creates no dependency, so
//! PostgreSQL would let a revision drop the old column, and every later `INSERT` or `UPDATE`
//! of the table would fail inside the trigger. The diff leaves both columns as the database
//! has them until the contract: neither dropped, nor altered (the new column gets its default
//! from the contract, and the trigger's conversions assume their types), with what depends on
//! them (indexes, unique, check, exclusion and foreign-key constraints). No IO.

use std::borrow::Cow;

use crate::expand::{ColumnMove, Phase, PhaseEntry};
use crate::schema::{Column, Schema, Table};

use super::readers::readers;
use super::table::same_expr;

/// An expand revision that is applied while its contract is not (not written, or not
/// applied): [`Phase::Expanded`]. What the diff must not undo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenExpansion {
    /// The expand revision's id.
    pub expand: String,
    /// The column it moves, from its `expand:` header.
    pub column: ColumnMove,
    /// Its contract revision, when one is written (and not applied).
    pub contract: Option<String>,
}

impl OpenExpansion {
    /// The open expansions among `entries` ([`Migrator::phases`](crate::Migrator::phases),
    /// or [`expand::phases`](crate::expand::phases)): those in [`Phase::Expanded`]. A pending
    /// expand is not open: the database has neither its column nor its trigger yet.
    pub fn open(entries: &[PhaseEntry<'_>]) -> Vec<OpenExpansion> {
        entries
            .iter()
            .filter(|e| e.phase == Phase::Expanded)
            .map(|e| OpenExpansion {
                expand: e.expand.id.clone(),
                column: e.change.clone(),
                contract: e.contract.map(|c| c.id.clone()),
            })
            .collect()
    }

    /// What the user does to close it.
    fn next_step(&self) -> String {
        match &self.contract {
            None => format!(
                "once nothing reads {} any more, write its contract: `revision --contract {}`",
                self.column.from.column, self.expand
            ),
            Some(c) => format!("apply its contract {c} (`upgrade`)"),
        }
    }
}

/// `to` with the columns of each open expansion (of a table in both schemas) as `from` holds
/// them, and what depends on them; a warning for each expansion whose columns the target
/// would have changed.
pub(super) fn hold_open<'a>(
    from: &Schema,
    to: &'a Schema,
    expansions: &[OpenExpansion],
    warnings: &mut Vec<String>,
) -> Cow<'a, Schema> {
    let mut out = Cow::Borrowed(to);
    for e in expansions {
        let name = &e.column.from.table;
        let (Some(f), Some(t)) = (from.tables.get(name), to.tables.get(name)) else {
            continue;
        };
        let mut table = t.clone();
        let mut held = Vec::new();
        for column in [&e.column.from.column, &e.column.to] {
            hold_column(f, &mut table, column, &mut held);
        }
        if held.is_empty() {
            continue;
        }
        out.to_mut().tables.insert(name.clone(), table);
        warnings.push(format!(
            "expand {} ({}) is open: until its contract, {}; {}",
            e.expand,
            e.column,
            held.join(", "),
            e.next_step()
        ));
    }
    out
}

/// Makes `column` of `t` what it is in `f`, pushing what that changed.
fn hold_column(f: &Table, t: &mut Table, column: &str, held: &mut Vec<String>) {
    let Some(db) = f.column(column) else {
        return;
    };
    match t.columns.iter_mut().find(|c| c.name == column) {
        None => {
            held.push(format!("column {column} is kept"));
            t.columns.push(db.clone());
            hold_dependents(f, t, column, held);
        }
        Some(model) => {
            let differs = differences(db, model);
            if !differs.is_empty() {
                held.push(format!(
                    "column {column} keeps its {} as the expand made it",
                    differs.join(" and ")
                ));
                *model = Column {
                    comment: model.comment.clone(),
                    ..db.clone()
                };
            }
        }
    }
}

/// What of `model` an `ALTER COLUMN` would change in `db` (its comment aside, which the
/// expand does not manage).
fn differences(db: &Column, model: &Column) -> Vec<&'static str> {
    let mut out = Vec::new();
    if db.data_type != model.data_type || db.collation != model.collation {
        out.push("type");
    }
    if db.nullable != model.nullable {
        out.push("nullability");
    }
    if !same_expr(db.default.as_deref(), model.default.as_deref()) {
        out.push("default");
    }
    if db.identity != model.identity || db.generated != model.generated {
        out.push("generation");
    }
    out
}

/// Copies into `t` what of `f` reads `column` (a column `t` lacks): indexes, unique, check,
/// exclusion and foreign-key constraints, each unless `t` has one of its name.
fn hold_dependents(f: &Table, t: &mut Table, column: &str, held: &mut Vec<String>) {
    let readers = readers(f, column);
    let mut keep = |kind: &str, name: &str| held.push(format!("{kind} {name} is kept"));
    for i in readers.indexes {
        if !t.indexes.contains_key(&i.name) {
            keep("index", &i.name);
            t.indexes.insert(i.name.clone(), i.clone());
        }
    }
    for u in readers.uniques {
        if !t.uniques.contains_key(&u.name) {
            keep("unique constraint", &u.name);
            t.uniques.insert(u.name.clone(), u.clone());
        }
    }
    for c in readers.checks {
        if !t.checks.contains_key(&c.name) {
            keep("check", &c.name);
            t.checks.insert(c.name.clone(), c.clone());
        }
    }
    for x in readers.exclusions {
        if !t.exclusions.contains_key(&x.name) {
            keep("exclusion constraint", &x.name);
            t.exclusions.insert(x.name.clone(), x.clone());
        }
    }
    for k in readers.foreign_keys {
        if !t.foreign_keys.contains_key(&k.name) {
            keep("foreign key", &k.name);
            t.foreign_keys.insert(k.name.clone(), k.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{DiffOptions, diff};
    use crate::expand::ColumnPath;
    use crate::schema::{Check, Index, PrimaryKey, QualifiedName};

    fn column(name: &str, default: Option<&str>) -> Column {
        Column {
            name: name.into(),
            data_type: "integer".into(),
            nullable: false,
            default: default.map(Into::into),
            identity: None,
            generated: None,
            collation: None,
            comment: None,
        }
    }

    fn table(columns: Vec<Column>) -> Table {
        Table {
            columns,
            primary_key: Some(PrimaryKey {
                name: "accounts_pkey".into(),
                columns: vec!["id".into()],
            }),
            ..Table::new(QualifiedName::new("public", "accounts"))
        }
    }

    fn schema(t: Table) -> Schema {
        let mut s = Schema::default();
        s.schemas.insert("public".into());
        s.tables.insert(t.name.clone(), t);
        s
    }

    fn index(name: &str, key: &str) -> Index {
        Index {
            name: name.into(),
            unique: false,
            method: "btree".into(),
            keys: vec![key.into()],
            include: Vec::new(),
            nulls_not_distinct: false,
            with: Vec::new(),
            predicate: None,
            definition: format!("CREATE INDEX {name} ON public.accounts USING btree ({key})"),
            valid: true,
        }
    }

    fn open(contract: Option<&str>) -> OpenExpansion {
        OpenExpansion {
            expand: "20260101000002".into(),
            column: ColumnMove {
                from: ColumnPath::parse("accounts.balance_cents").expect("path"),
                to: "balance".into(),
            },
            contract: contract.map(Into::into),
        }
    }

    /// The database mid-expand, and models naming only the new column.
    fn mid_expand() -> (Schema, Schema) {
        let mut db = table(vec![
            column("id", None),
            column("balance_cents", Some("0")),
            column("balance", None),
        ]);
        db.indexes
            .insert("ix_cents".into(), index("ix_cents", "balance_cents"));
        db.indexes
            .insert("ix_balance".into(), index("ix_balance", "balance"));
        db.checks.insert(
            "cents_positive".into(),
            Check {
                name: "cents_positive".into(),
                definition: "CHECK ((balance_cents >= 0))".into(),
                validated: true,
            },
        );
        let mut model = table(vec![column("id", None), column("balance", Some("0"))]);
        model.indexes.insert(
            "ix_accounts_balance".into(),
            index("ix_accounts_balance", "balance"),
        );
        (schema(db), schema(model))
    }

    #[test]
    fn an_open_expansion_keeps_both_columns_as_the_database_has_them() {
        let (db, models) = mid_expand();
        let plain = diff(&db, &models, &DiffOptions::default());
        assert!(
            plain.up_sql().contains("DROP COLUMN balance_cents"),
            "{}",
            plain.up_sql()
        );

        let options = DiffOptions {
            expansions: vec![open(None)],
            ..DiffOptions::default()
        };
        let m = diff(&db, &models, &options);
        assert!(m.is_empty(), "{}", m.up_sql());
        assert_eq!(
            m.warnings,
            [
                "expand 20260101000002 (public.accounts.balance_cents -> balance) is open: \
                 until its contract, column balance_cents is kept, index ix_cents is kept, \
                 check cents_positive is kept, column balance keeps its default as the expand \
                 made it; once nothing reads balance_cents any more, write its contract: \
                 `revision --contract 20260101000002`"
            ]
        );

        let m = diff(
            &db,
            &models,
            &DiffOptions {
                expansions: vec![open(Some("20260101000003"))],
                ..DiffOptions::default()
            },
        );
        assert!(m.is_empty(), "{}", m.up_sql());
        assert!(
            m.warnings[0].ends_with("apply its contract 20260101000003 (`upgrade`)"),
            "{:?}",
            m.warnings
        );
    }

    #[test]
    fn the_rest_of_the_table_is_compared_and_a_missing_table_is_no_error() {
        let (db, mut models) = mid_expand();
        let t = models.tables.values_mut().next().expect("a table");
        t.columns.push(Column {
            nullable: true,
            ..column("note", None)
        });
        let options = DiffOptions {
            expansions: vec![open(None)],
            ..DiffOptions::default()
        };
        let m = diff(&db, &models, &options);
        assert_eq!(
            m.up_sql()
                .lines()
                .filter(|l| l.starts_with("ALTER") || l.starts_with("DROP"))
                .collect::<Vec<_>>(),
            ["ALTER TABLE public.accounts ADD COLUMN note integer;"]
        );
        // Models without the table drop it, trigger and all: nothing is held.
        let m = diff(&db, &Schema::default(), &options);
        assert!(m.up_sql().contains("DROP TABLE public.accounts;"));
        assert!(!m.warnings.iter().any(|w| w.contains("is open")));
    }
}
