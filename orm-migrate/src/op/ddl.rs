//! The SQL text of the statements operations render: tables, columns, keys, indexes, enums.
//! No IO.

use std::collections::BTreeMap;

use crate::render::{column_definition, ident, identity_clause, idents, literal, qualified};
use crate::schema::{Column, FkAction, ForeignKey, Index, QualifiedName, Table, Unique, View};

pub(super) fn alter(table: &QualifiedName) -> String {
    format!("ALTER TABLE {}", qualified(table))
}

pub(super) fn action(a: FkAction) -> &'static str {
    match a {
        FkAction::NoAction => "NO ACTION",
        FkAction::Restrict => "RESTRICT",
        FkAction::Cascade => "CASCADE",
        FkAction::SetNull => "SET NULL",
        FkAction::SetDefault => "SET DEFAULT",
    }
}

/// ` NOT VALID` after a constraint the target holds unvalidated, else nothing.
pub(super) fn not_valid(validated: bool) -> &'static str {
    if validated { "" } else { " NOT VALID" }
}

pub(super) fn comment(value: Option<&str>) -> String {
    value.map_or_else(|| "NULL".to_owned(), literal)
}

/// `FOREIGN KEY (cols) REFERENCES t (cols) ...`, as in `ADD CONSTRAINT`.
pub fn foreign_key_clause(fk: &ForeignKey) -> String {
    let mut out = format!(
        "FOREIGN KEY ({}) REFERENCES {} ({})",
        idents(&fk.columns),
        qualified(&fk.references),
        idents(&fk.referenced_columns)
    );
    if fk.on_update != FkAction::NoAction {
        out.push_str(" ON UPDATE ");
        out.push_str(action(fk.on_update));
    }
    if fk.on_delete != FkAction::NoAction {
        out.push_str(" ON DELETE ");
        out.push_str(action(fk.on_delete));
    }
    if fk.deferrable {
        out.push_str(" DEFERRABLE");
        if fk.initially_deferred {
            out.push_str(" INITIALLY DEFERRED");
        }
    }
    out
}

/// The `CREATE INDEX` statement of `index` on `table`: its reflected definition when it has one,
/// otherwise built from its parts.
pub fn create_index_sql(table: &QualifiedName, index: &Index, concurrently: bool) -> String {
    let base = if index.definition.is_empty() {
        let mut s = format!(
            "CREATE {}INDEX {} ON {} USING {} ({})",
            if index.unique { "UNIQUE " } else { "" },
            ident(&index.name),
            qualified(table),
            index.method,
            index.keys.join(", ")
        );
        if !index.include.is_empty() {
            s.push_str(&format!(" INCLUDE ({})", idents(&index.include)));
        }
        s.push_str(&index_options_sql(index.nulls_not_distinct, &index.with));
        if let Some(p) = &index.predicate {
            s.push_str(&format!(" WHERE {p}"));
        }
        s
    } else {
        // `pg_get_indexdef` prints a partitioned table's index `ON ONLY` (pg_dump attaches
        // each partition's index to it after). Created so on a table that has partitions, the
        // index would stay INVALID; without `ONLY`, PostgreSQL builds it on each partition too.
        let unique = if index.unique { "UNIQUE " } else { "" };
        let only = format!("CREATE {unique}INDEX {} ON ONLY ", ident(&index.name));
        match index.definition.strip_prefix(&only) {
            Some(rest) => format!("CREATE {unique}INDEX {} ON {rest}", ident(&index.name)),
            None => index.definition.clone(),
        }
    };
    if concurrently {
        base.replacen(" INDEX ", " INDEX CONCURRENTLY ", 1)
    } else {
        base
    }
}

/// What a `CREATE INDEX` statement says after its key list and `INCLUDE`, before its `WHERE`:
/// ` NULLS NOT DISTINCT`, ` WITH (...)` (each only when there is one).
pub(crate) fn index_options_sql(nulls_not_distinct: bool, with: &[String]) -> String {
    let mut out = String::new();
    if nulls_not_distinct {
        out.push_str(" NULLS NOT DISTINCT");
    }
    if !with.is_empty() {
        out.push_str(&format!(" WITH ({})", storage_parameters_sql(with)));
    }
    out
}

/// Storage parameters as `pg_class.reloptions` holds them (`fillfactor=70`), by name (in
/// lower case, as PostgreSQL folds it): what [`Index::with`] compares as.
pub(crate) fn storage_parameters(with: &[String]) -> BTreeMap<String, &str> {
    with.iter()
        .map(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            (name.trim().to_lowercase(), value.trim())
        })
        .collect()
}

/// Storage parameters as `pg_class.reloptions` holds them (`fillfactor=70`) written for `WITH
/// (...)` or `SET (...)` the way `pg_get_indexdef` writes them: `fillfactor='70'`.
pub(super) fn storage_parameters_sql(with: &[String]) -> String {
    with.iter()
        .map(|p| match p.split_once('=') {
            Some((name, value)) => format!("{name}={}", literal(value)),
            None => p.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `CREATE UNIQUE INDEX CONCURRENTLY [IF NOT EXISTS] name ON table USING btree (columns)`,
/// with `NULLS NOT DISTINCT` when the constraint it is for has it: the index a unique
/// constraint (or primary key) is then added on, `ADD CONSTRAINT ... USING INDEX`, without
/// blocking writes while it is built.
pub(crate) fn constraint_index_sql(
    table: &QualifiedName,
    name: &str,
    columns: &[String],
    nulls_not_distinct: bool,
    if_not_exists: bool,
) -> String {
    format!(
        "CREATE UNIQUE INDEX CONCURRENTLY {}{} ON {} USING btree ({}){}",
        if if_not_exists { "IF NOT EXISTS " } else { "" },
        ident(name),
        qualified(table),
        idents(columns),
        index_options_sql(nulls_not_distinct, &[])
    )
}

/// `UNIQUE (cols)`, or `UNIQUE NULLS NOT DISTINCT (cols)`: a unique constraint as `CREATE
/// TABLE` and `ADD CONSTRAINT` take it.
pub(super) fn unique_clause(unique: &Unique) -> String {
    format!(
        "UNIQUE{} ({})",
        if unique.nulls_not_distinct {
            " NULLS NOT DISTINCT"
        } else {
            ""
        },
        idents(&unique.columns)
    )
}

/// `DROP INDEX`, or `DROP INDEX CONCURRENTLY IF EXISTS`.
pub(super) fn drop_index_sql(table: &QualifiedName, index: &Index, concurrently: bool) -> String {
    format!(
        "DROP INDEX {}{}",
        if concurrently {
            "CONCURRENTLY IF EXISTS "
        } else {
            ""
        },
        qualified(&QualifiedName::new(
            table.schema.clone(),
            index.name.clone()
        ))
    )
}

pub(super) fn create_table_sql(t: &Table) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    let mut sql = format!("CREATE TABLE {}", qualified(&t.name));
    if let Some((parent, _)) = &t.partition_of {
        sql.push_str(&format!(" PARTITION OF {}", qualified(parent)));
    } else {
        items.extend(t.columns.iter().map(column_definition));
    }
    if let Some(pk) = &t.primary_key {
        items.push(format!(
            "CONSTRAINT {} PRIMARY KEY ({})",
            ident(&pk.name),
            idents(&pk.columns)
        ));
    }
    for u in t.uniques.values() {
        items.push(format!(
            "CONSTRAINT {} {}",
            ident(&u.name),
            unique_clause(u)
        ));
    }
    let checks = t.checks.values().map(|c| (&c.name, &c.definition));
    let exclusions = t.exclusions.values().map(|x| (&x.name, &x.definition));
    for (name, definition) in checks.chain(exclusions) {
        items.push(format!("CONSTRAINT {} {definition}", ident(name)));
    }
    if !items.is_empty() || t.partition_of.is_none() {
        sql.push_str(" (\n    ");
        sql.push_str(&items.join(",\n    "));
        sql.push_str("\n)");
    }
    if let Some((_, bound)) = &t.partition_of {
        sql.push(' ');
        sql.push_str(bound);
    }
    if let Some(by) = &t.partition_by {
        sql.push_str(" PARTITION BY ");
        sql.push_str(by);
    }
    let mut out = vec![sql];
    out.extend(
        t.indexes
            .values()
            .map(|i| create_index_sql(&t.name, i, false)),
    );
    if t.partition_of.is_some() {
        // A partition takes its columns from its parent; what is its own (a default, NOT NULL)
        // is set after.
        out.extend(partition_column_sql(t));
    }
    if let Some(c) = &t.comment {
        out.push(format!(
            "COMMENT ON TABLE {} IS {}",
            qualified(&t.name),
            literal(c)
        ));
    }
    for c in &t.columns {
        if let Some(text) = &c.comment {
            out.push(format!(
                "COMMENT ON COLUMN {}.{} IS {}",
                qualified(&t.name),
                ident(&c.name),
                literal(text)
            ));
        }
    }
    out
}

/// What a partition's columns hold beyond the parent's: defaults and `NOT NULL`.
pub(super) fn partition_column_sql(t: &Table) -> Vec<String> {
    let mut out = Vec::new();
    for c in &t.columns {
        if let Some(d) = &c.default {
            out.push(format!(
                "{} ALTER COLUMN {} SET DEFAULT {d}",
                alter(&t.name),
                ident(&c.name)
            ));
        }
        if !c.nullable {
            out.push(format!(
                "{} ALTER COLUMN {} SET NOT NULL",
                alter(&t.name),
                ident(&c.name)
            ));
        }
    }
    out
}

/// The sequence argument of a `nextval(…)` default (`'public.t_id_seq'::regclass`), if the
/// default is one.
fn nextval_sequence(default: &str) -> Option<&str> {
    let d = default.trim();
    let inner = d
        .strip_prefix("nextval(")
        .or_else(|| d.strip_prefix("NEXTVAL("))?
        .strip_suffix(')')?;
    Some(inner.trim())
}

/// Moves sequence `seq` (an expression naming it) on past the largest value of `column`, so
/// its next value is free (1 for an empty table); never back (a sequence other tables draw
/// from too, or one past rows since deleted, keeps its place).
fn continue_after_rows(table: &QualifiedName, column: &str, seq: &str) -> String {
    format!(
        "SELECT {} FROM {}",
        setval_past(seq, &format!("max({})", ident(column))),
        qualified(table)
    )
}

/// `setval` of sequence `seq` to the value after `largest` (an expression), or after its own
/// last value when that is larger: the next value is free, and the sequence never goes back.
fn setval_past(seq: &str, largest: &str) -> String {
    format!(
        "setval({seq}, greatest(coalesce({largest}, 0), coalesce(pg_sequence_last_value({seq}), 0)) + 1, false)"
    )
}

pub(super) fn alter_column_sql(table: &QualifiedName, from: &Column, to: &Column) -> Vec<String> {
    let col = format!("{} ALTER COLUMN {}", alter(table), ident(&to.name));
    let retype = from.data_type != to.data_type || from.collation != to.collation;
    let mut out = Vec::new();
    if from.identity.is_some() && to.identity.is_none() {
        out.push(format!("{col} DROP IDENTITY"));
    }
    // A new default replaces the old one (`SET DEFAULT`); the old one is dropped first only
    // when none replaces it, or when the type changes (the old default may not cast to it).
    if from.default.is_some() && (retype || to.default.is_none()) {
        out.push(format!("{col} DROP DEFAULT"));
    }
    if retype {
        let mut s = format!("{col} TYPE {}", to.data_type);
        if let Some(c) = &to.collation {
            s.push_str(&format!(" COLLATE {}", ident(c)));
        }
        s.push_str(&format!(" USING {}::{}", ident(&to.name), to.data_type));
        out.push(s);
    }
    if let Some(d) = &to.default
        && (from.default != to.default || retype)
    {
        out.push(format!("{col} SET DEFAULT {d}"));
        if let Some(seq) = nextval_sequence(d)
            && from.default.as_deref().and_then(nextval_sequence) != Some(seq)
        {
            // A sequence the column starts to draw from (a `serial` again, as a downgrade of
            // the identity below makes it): past the rows it holds.
            out.push(continue_after_rows(table, &to.name, seq));
        }
    }
    if from.nullable && !to.nullable {
        out.push(format!("{col} SET NOT NULL"));
    } else if !from.nullable && to.nullable {
        out.push(format!("{col} DROP NOT NULL"));
    }
    match (from.identity, to.identity) {
        (None, Some(i)) => {
            out.push(format!("{col} ADD{}", identity_clause(i)));
            // A new identity's sequence starts at 1: on a column that holds rows (a `serial`
            // adopted as an identity), the next insert would fail on the key. It goes on
            // after the largest value instead.
            // (Its sequence found as the identity's: `pg_get_serial_sequence` may answer with
            // the `serial`'s, still owned by the column.)
            let rel = format!("{}::regclass", literal(&qualified(table)));
            let largest = format!(
                "(SELECT max({}) FROM {})",
                ident(&to.name),
                qualified(table)
            );
            out.push(format!(
                "SELECT {} \
                 FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
                 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass \
                 AND d.deptype = 'i' AND d.refobjid = {rel} AND a.attname = {name}",
                setval_past("d.objid::regclass", &largest),
                name = literal(&to.name),
            ));
        }
        (Some(a), Some(b)) if a != b => {
            let kind = identity_clause(b).trim_start_matches(" GENERATED ");
            let kind = kind.trim_end_matches(" AS IDENTITY");
            out.push(format!("{col} SET GENERATED {kind}"));
        }
        _ => {}
    }
    if from.comment != to.comment {
        out.push(format!(
            "COMMENT ON COLUMN {}.{} IS {}",
            qualified(table),
            ident(&to.name),
            comment(to.comment.as_deref())
        ));
    }
    out
}

pub(super) fn create_enum_sql(name: &QualifiedName, labels: &[String]) -> String {
    format!(
        "CREATE TYPE {} AS ENUM ({})",
        qualified(name),
        labels
            .iter()
            .map(|l| literal(l))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

pub(super) fn view_kind(v: &View) -> &'static str {
    if v.materialized {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_parameters_compare_by_name_in_any_case_and_are_written_quoted() {
        let written = vec![
            "FillFactor=70".to_owned(),
            "deduplicate_items=off".to_owned(),
        ];
        let read = vec![
            "deduplicate_items=off".to_owned(),
            "fillfactor=70".to_owned(),
        ];
        assert_eq!(storage_parameters(&written), storage_parameters(&read));
        assert_ne!(
            storage_parameters(&read),
            storage_parameters(&["fillfactor=70".to_owned()])
        );
        assert_eq!(
            index_options_sql(true, &read),
            " NULLS NOT DISTINCT WITH (deduplicate_items='off', fillfactor='70')"
        );
        assert_eq!(index_options_sql(false, &[]), "");
    }

    fn column(data_type: &str, default: Option<&str>) -> Column {
        Column {
            name: "status".to_owned(),
            data_type: data_type.to_owned(),
            nullable: true,
            default: default.map(str::to_owned),
            identity: None,
            generated: None,
            collation: None,
            comment: None,
        }
    }

    #[test]
    fn a_new_default_replaces_the_old_one_without_dropping_it_first() {
        let t = QualifiedName::new("public", "orders");
        let at = |from: &Column, to: &Column| alter_column_sql(&t, from, to).join(";\n");
        let (new, shipped) = (Some("'new'::text"), Some("'shipped'::text"));
        assert_eq!(
            at(&column("text", new), &column("text", shipped)),
            "ALTER TABLE public.orders ALTER COLUMN status SET DEFAULT 'shipped'::text"
        );
        assert_eq!(
            at(&column("text", new), &column("text", None)),
            "ALTER TABLE public.orders ALTER COLUMN status DROP DEFAULT"
        );
        assert_eq!(
            at(&column("text", None), &column("text", shipped)),
            "ALTER TABLE public.orders ALTER COLUMN status SET DEFAULT 'shipped'::text"
        );
        assert_eq!(at(&column("text", new), &column("text", new)), "");
        // A type change drops the old default first: it may not cast to the new type.
        assert_eq!(
            at(&column("character varying(20)", new), &column("text", new)),
            "ALTER TABLE public.orders ALTER COLUMN status DROP DEFAULT;\n\
             ALTER TABLE public.orders ALTER COLUMN status TYPE text USING status::text;\n\
             ALTER TABLE public.orders ALTER COLUMN status SET DEFAULT 'new'::text"
        );
    }
}
