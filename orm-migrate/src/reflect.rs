//! Reflection: reading the [schema model](crate::schema) of a live database from `pg_catalog`
//! (not `information_schema`, which misses index expressions, enum order and identity details).
//!
//! A fixed number of catalog queries, each one statement whatever the schema's size, written for the
//! catalogs of PostgreSQL 13 to 17. Names, types, defaults and definitions come back as the
//! server prints them (`format_type`, `pg_get_expr`, `pg_get_constraintdef`,
//! `pg_get_indexdef`, `pg_get_viewdef`), so two reflections compare by value. Objects that belong
//! to an extension are left out. Domains, functions, procedures, aggregates and triggers are
//! kept as definitions in [`Schema::objects`]; objects the model does not cover (rules,
//! policies, foreign tables) are listed in [`Schema::unsupported`], never silently dropped.
//! Index keys come with their collation, operator class and ordering (`DESC`, `NULLS FIRST`),
//! indexes with their storage parameters and whether PostgreSQL holds them valid
//! (`indisvalid`), unique indexes and constraints with their `NULLS NOT DISTINCT` (read so that
//! servers before 15, which lack it, answer too), foreign keys, checks and domain checks with
//! whether they are validated (`convalidated`). A partition shows only what is its own:
//! constraints and indexes it inherits from its partitioned parent come with `PARTITION OF`.

use std::collections::BTreeSet;

use orm_postgres::raw::query;
use orm_postgres::{Database, Executor, FromRow, IsolationLevel, Result, Transaction, TxOptions};

use crate::render::{ident, literal, qualified};
use crate::schema::{
    Check, Column, EnumType, Exclusion, FkAction, ForeignKey, Identity, Object, ObjectKind,
    PrimaryKey, QualifiedName, Schema, Sequence, Table, Unique, Unsupported, View,
};

/// What to reflect.
#[derive(Debug, Clone, Default)]
pub struct ReflectOptions {
    /// The schemas to read; `None`: every schema but PostgreSQL's own (`pg_catalog`,
    /// `information_schema`, `pg_toast`, temporary schemas).
    pub schemas: Option<Vec<String>>,
    /// Read the schemas on the connection's `search_path` (`current_schemas(false)`: those that
    /// exist, `pg_catalog` left out) instead of `schemas`.
    pub search_path: bool,
}

impl ReflectOptions {
    /// Only these schemas.
    pub fn schemas<I, S>(schemas: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ReflectOptions {
            schemas: Some(schemas.into_iter().map(Into::into).collect()),
            search_path: false,
        }
    }

    /// The schemas on the connection's `search_path` (set with the URL's `options` or
    /// `ALTER ROLE ... SET search_path`), the way unqualified names resolve for the application.
    pub fn search_path() -> Self {
        ReflectOptions {
            schemas: None,
            search_path: true,
        }
    }
}

/// The schemas to read, as a parameter: the chosen ones, or every user schema.
async fn schema_names(db: &Transaction<'static>, options: &ReflectOptions) -> Result<Vec<String>> {
    if let Some(s) = &options.schemas {
        // Only the chosen schemas that exist, so a missing one reads as absent.
        return db
            .fetch_all(
                query::<String>(
                    "SELECT nspname::text FROM pg_namespace WHERE nspname = ANY(:schemas) ORDER BY 1",
                )
                .bind("schemas", s.clone()),
            )
            .await;
    }
    db.fetch_all(query::<String>(
        "SELECT nspname::text FROM pg_namespace \
         WHERE nspname NOT IN ('pg_catalog', 'information_schema') \
           AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp\\_%' \
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = pg_namespace.oid AND d.deptype = 'e') \
         ORDER BY 1",
    ))
    .await
}

/// SQL: the object whose oid is in column `$oid` is not part of an extension.
macro_rules! not_extension {
    ($oid:literal) => {
        concat!(
            "NOT EXISTS (SELECT 1 FROM pg_depend ext WHERE ext.objid = ",
            $oid,
            " AND ext.deptype = 'e')"
        )
    };
}

/// SQL: whether the index of the `pg_index` row `$ix` is `NULLS NOT DISTINCT`. The column
/// (`indnullsnotdistinct`) is new in PostgreSQL 15: read through the row as JSON, so the same
/// statement runs on the servers before it, where every index is `NULLS DISTINCT`.
macro_rules! nulls_not_distinct {
    ($ix:literal) => {
        concat!(
            "coalesce((to_jsonb(",
            $ix,
            ") ->> 'indnullsnotdistinct')::boolean, false)"
        )
    };
}

mod composites;
mod indexes;

/// Reads the schema model of `db`.
///
/// ```no_run
/// # async fn run(db: orm_postgres::Database) -> orm_postgres::Result<()> {
/// use orm_migrate::reflect::{ReflectOptions, reflect};
///
/// let schema = reflect(&db, &ReflectOptions::schemas(["public"])).await?;
/// for (name, table) in &schema.tables {
///     println!("{name}: {} columns", table.columns.len());
/// }
/// # Ok(())
/// # }
/// ```
pub async fn reflect(db: &Database, options: &ReflectOptions) -> Result<Schema> {
    // One snapshot for all eight queries, and `search_path` emptied to `pg_catalog` so every
    // name the server prints (types, defaults, index definitions) is schema-qualified: the
    // same text whatever the caller's search path.
    let tx = db
        .begin_with(
            TxOptions::default()
                .isolation(IsolationLevel::RepeatableRead)
                .read_only(),
        )
        .await?;
    let mut options = options.clone();
    if options.search_path {
        let path = tx
            .fetch_one(query::<Vec<String>>(
                "SELECT ARRAY(SELECT s::text FROM unnest(current_schemas(false)) s)",
            ))
            .await?;
        options.schemas = Some(path);
    }
    tx.batch_execute("SET LOCAL search_path TO pg_catalog")
        .await?;
    let schema = reflect_in(&tx, &options).await;
    tx.rollback().await?;
    schema
}

async fn reflect_in(db: &Transaction<'static>, options: &ReflectOptions) -> Result<Schema> {
    let schemas = schema_names(db, options).await?;
    let mut out = Schema {
        schemas: schemas.iter().cloned().collect(),
        ..Schema::default()
    };
    // The extensions installed in the reflected schemas (`plpgsql` lives in `pg_catalog`).
    out.extensions = db
        .fetch_all(
            query::<String>(
                "SELECT e.extname::text FROM pg_extension e \
                 JOIN pg_namespace n ON n.oid = e.extnamespace \
                 WHERE n.nspname = ANY(:schemas) ORDER BY 1",
            )
            .bind("schemas", schemas.clone()),
        )
        .await?
        .into_iter()
        .collect();
    reflect_tables(db, &schemas, &mut out).await?;
    reflect_columns(db, &schemas, &mut out).await?;
    reflect_constraints(db, &schemas, &mut out).await?;
    indexes::reflect_indexes(db, &schemas, &mut out).await?;
    reflect_enums(db, &schemas, &mut out).await?;
    composites::reflect_composites(db, &schemas, &mut out).await?;
    reflect_sequences(db, &schemas, &mut out).await?;
    reflect_views(db, &schemas, &mut out).await?;
    reflect_objects(db, &schemas, &mut out).await?;
    reflect_unsupported(db, &schemas, &mut out).await?;
    Ok(out)
}

#[derive(FromRow)]
struct TableRow {
    schema: String,
    name: String,
    comment: Option<String>,
    partition_by: Option<String>,
    parent_schema: Option<String>,
    parent_name: Option<String>,
    partition_bound: Option<String>,
}

async fn reflect_tables(
    db: &Transaction<'static>,
    schemas: &[String],
    out: &mut Schema,
) -> Result<()> {
    let sql = concat!(
        "SELECT n.nspname::text, c.relname::text, obj_description(c.oid, 'pg_class'), \
                CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, \
                pn.nspname::text, pc.relname::text, \
                CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND c.relispartition \
         LEFT JOIN pg_class pc ON pc.oid = i.inhparent \
         LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(:schemas) AND ",
        not_extension!("c.oid"),
        " \
         ORDER BY 1, 2"
    );
    let rows = db
        .fetch_all(query::<TableRow>(sql).bind("schemas", schemas.to_vec()))
        .await?;
    for r in rows {
        let name = QualifiedName::new(r.schema, r.name);
        let partition_of = match (r.parent_schema, r.parent_name, r.partition_bound) {
            (Some(s), Some(n), Some(bound)) => Some((QualifiedName::new(s, n), bound)),
            _ => None,
        };
        out.tables.insert(
            name.clone(),
            Table {
                partition_by: r.partition_by,
                partition_of,
                comment: r.comment,
                ..Table::new(name)
            },
        );
    }
    Ok(())
}

#[derive(FromRow)]
struct ColumnRow {
    schema: String,
    table: String,
    name: String,
    data_type: String,
    nullable: bool,
    default: Option<String>,
    identity: String,
    generated: Option<String>,
    collation: Option<String>,
    comment: Option<String>,
}

async fn reflect_columns(
    db: &Transaction<'static>,
    schemas: &[String],
    out: &mut Schema,
) -> Result<()> {
    let rows = db
        .fetch_all(
            query::<ColumnRow>(
                "SELECT n.nspname::text, c.relname::text, a.attname::text, \
                        format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, \
                        CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END, \
                        a.attidentity::text, \
                        CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END, \
                        CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation \
                             THEN co.collname::text END, \
                        col_description(c.oid, a.attnum) \
                 FROM pg_attribute a \
                 JOIN pg_class c ON c.oid = a.attrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_type t ON t.oid = a.atttypid \
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                 LEFT JOIN pg_collation co ON co.oid = a.attcollation \
                 WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped \
                   AND n.nspname = ANY(:schemas) \
                 ORDER BY 1, 2, a.attnum",
            )
            .bind("schemas", schemas.to_vec()),
        )
        .await?;
    for r in rows {
        let Some(table) = out.tables.get_mut(&QualifiedName::new(r.schema, r.table)) else {
            continue;
        };
        table.columns.push(Column {
            name: r.name,
            data_type: r.data_type,
            nullable: r.nullable,
            default: r.default,
            identity: match r.identity.as_str() {
                "a" => Some(Identity::Always),
                "d" => Some(Identity::ByDefault),
                _ => None,
            },
            generated: r.generated,
            collation: r.collation,
            comment: r.comment,
        });
    }
    Ok(())
}

#[derive(FromRow)]
struct ConstraintRow {
    schema: String,
    table: String,
    name: String,
    kind: String,
    columns: Vec<String>,
    ref_schema: Option<String>,
    ref_table: Option<String>,
    ref_columns: Vec<String>,
    on_delete: String,
    on_update: String,
    deferrable: bool,
    deferred: bool,
    definition: String,
    validated: bool,
    nulls_not_distinct: bool,
}

fn fk_action(code: &str) -> FkAction {
    match code {
        "r" => FkAction::Restrict,
        "c" => FkAction::Cascade,
        "n" => FkAction::SetNull,
        "d" => FkAction::SetDefault,
        _ => FkAction::NoAction,
    }
}

async fn reflect_constraints(
    db: &Transaction<'static>,
    schemas: &[String],
    out: &mut Schema,
) -> Result<()> {
    let rows = db
        .fetch_all(
            query::<ConstraintRow>(concat!(
                "SELECT n.nspname::text, c.relname::text, con.conname::text, con.contype::text, \
                        ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord) \
                              JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num \
                              ORDER BY k.ord), \
                        fn.nspname::text, fc.relname::text, \
                        ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord) \
                              JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num \
                              ORDER BY k.ord), \
                        con.confdeltype::text, con.confupdtype::text, con.condeferrable, \
                        con.condeferred, pg_get_constraintdef(con.oid), con.convalidated, \
                        con.contype = 'u' AND ", nulls_not_distinct!("ix"), " \
                 FROM pg_constraint con \
                 JOIN pg_class c ON c.oid = con.conrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 LEFT JOIN pg_class fc ON fc.oid = con.confrelid \
                 LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
                 LEFT JOIN pg_index ix ON ix.indexrelid = con.conindid \
                 WHERE c.relkind IN ('r', 'p') AND con.contype IN ('p', 'f', 'u', 'c', 'x') \
                   AND con.conislocal AND con.conparentid = 0 \
                   AND n.nspname = ANY(:schemas) \
                 ORDER BY 1, 2, 3",
            ))
            .bind("schemas", schemas.to_vec()),
        )
        .await?;
    for r in rows {
        let qualified = QualifiedName::new(r.schema, r.table);
        let Some(table) = out.tables.get_mut(&qualified) else {
            continue;
        };
        match r.kind.as_str() {
            "p" => {
                table.primary_key = Some(PrimaryKey {
                    name: r.name,
                    columns: r.columns,
                });
            }
            "u" => {
                table.uniques.insert(
                    r.name.clone(),
                    Unique {
                        name: r.name,
                        columns: r.columns,
                        nulls_not_distinct: r.nulls_not_distinct,
                    },
                );
            }
            "x" => {
                table.exclusions.insert(
                    r.name.clone(),
                    Exclusion {
                        name: r.name,
                        definition: r.definition,
                    },
                );
            }
            "c" => {
                table.checks.insert(
                    r.name.clone(),
                    Check {
                        name: r.name,
                        definition: without_not_valid(r.definition, r.validated),
                        validated: r.validated,
                    },
                );
            }
            _ => {
                let (Some(s), Some(t)) = (r.ref_schema, r.ref_table) else {
                    continue;
                };
                table.foreign_keys.insert(
                    r.name.clone(),
                    ForeignKey {
                        name: r.name,
                        columns: r.columns,
                        references: QualifiedName::new(s, t),
                        referenced_columns: r.ref_columns,
                        on_delete: fk_action(&r.on_delete),
                        on_update: fk_action(&r.on_update),
                        deferrable: r.deferrable,
                        initially_deferred: r.deferred,
                        validated: r.validated,
                    },
                );
            }
        }
    }
    Ok(())
}

async fn reflect_enums(
    db: &Transaction<'static>,
    schemas: &[String],
    out: &mut Schema,
) -> Result<()> {
    let sql = concat!(
        "SELECT n.nspname::text, t.typname::text, \
                ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid \
                      ORDER BY e.enumsortorder) \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE t.typtype = 'e' AND n.nspname = ANY(:schemas) AND ",
        not_extension!("t.oid"),
        " \
         ORDER BY 1, 2"
    );
    let rows = db
        .fetch_all(query::<(String, String, Vec<String>)>(sql).bind("schemas", schemas.to_vec()))
        .await?;
    for (schema, name, labels) in rows {
        let name = QualifiedName::new(schema, name);
        out.enums.insert(name.clone(), EnumType { name, labels });
    }
    Ok(())
}

#[derive(FromRow)]
struct SequenceRow {
    schema: String,
    name: String,
    data_type: String,
    table_schema: Option<String>,
    table: Option<String>,
    column: Option<String>,
}

async fn reflect_sequences(
    db: &Transaction<'static>,
    schemas: &[String],
    out: &mut Schema,
) -> Result<()> {
    // Identity sequences depend on their column internally (`i`) and are part of the column;
    // a serial's sequence is owned by its column automatically (`a`).
    let sql = concat!(
        "SELECT n.nspname::text, c.relname::text, format_type(s.seqtypid, NULL), \
                tn.nspname::text, tc.relname::text, a.attname::text \
         FROM pg_sequence s \
         JOIN pg_class c ON c.oid = s.seqrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_depend d ON d.objid = c.oid AND d.classid = 'pg_class'::regclass \
              AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') \
         LEFT JOIN pg_class tc ON tc.oid = d.refobjid \
         LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace \
         LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
         WHERE n.nspname = ANY(:schemas) AND d.deptype IS DISTINCT FROM 'i' AND ",
        not_extension!("c.oid"),
        " \
         ORDER BY 1, 2"
    );
    let rows = db
        .fetch_all(query::<SequenceRow>(sql).bind("schemas", schemas.to_vec()))
        .await?;
    for r in rows {
        let name = QualifiedName::new(r.schema, r.name);
        let owned_by = match (r.table_schema, r.table, r.column) {
            (Some(s), Some(t), Some(c)) => Some((QualifiedName::new(s, t), c)),
            _ => None,
        };
        out.sequences.insert(
            name.clone(),
            Sequence {
                name,
                data_type: r.data_type,
                owned_by,
            },
        );
    }
    Ok(())
}

async fn reflect_views(
    db: &Transaction<'static>,
    schemas: &[String],
    out: &mut Schema,
) -> Result<()> {
    let sql = concat!(
        "SELECT n.nspname::text, c.relname::text, c.relkind = 'm', pg_get_viewdef(c.oid, true) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('v', 'm') AND n.nspname = ANY(:schemas) AND ",
        not_extension!("c.oid"),
        " \
         ORDER BY 1, 2"
    );
    let rows = db
        .fetch_all(query::<(String, String, bool, String)>(sql).bind("schemas", schemas.to_vec()))
        .await?;
    for (schema, name, materialized, definition) in rows {
        let name = QualifiedName::new(schema, name);
        out.views.insert(
            name.clone(),
            View {
                name,
                materialized,
                definition,
            },
        );
    }
    Ok(())
}

async fn reflect_unsupported(
    db: &Transaction<'static>,
    schemas: &[String],
    out: &mut Schema,
) -> Result<()> {
    let sql = "SELECT CASE c.relkind WHEN 'f' THEN 'foreign table' ELSE 'rule' END, \
                n.nspname || '.' || c.relname || '.' || r.rulename FROM pg_rewrite r \
           JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE r.rulename <> '_RETURN' AND n.nspname = ANY(:schemas) \
         UNION ALL \
         SELECT 'policy', n.nspname || '.' || c.relname || '.' || p.polname FROM pg_policy p \
           JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE n.nspname = ANY(:schemas) \
         ORDER BY 1, 2";
    let rows = db
        .fetch_all(query::<(String, String)>(sql).bind("schemas", schemas.to_vec()))
        .await?;
    out.unsupported.extend(
        rows.into_iter()
            .map(|(kind, name)| Unsupported { kind, name }),
    );
    out.unsupported.sort();
    Ok(())
}

#[derive(FromRow)]
struct DomainRow {
    schema: String,
    name: String,
    base: String,
    not_null: bool,
    default: Option<String>,
    collation: Option<String>,
    constraint_names: Vec<String>,
    constraint_definitions: Vec<String>,
    constraints_validated: Vec<bool>,
}

#[derive(FromRow)]
struct RoutineRow {
    kind: String,
    schema: String,
    name: String,
    args: String,
    definition: Option<String>,
    sfunc: Option<String>,
    stype: Option<String>,
    finalfunc: Option<String>,
    initcond: Option<String>,
}

/// Domains, functions, procedures, aggregates and triggers, as definitions
/// ([`Schema::objects`]).
async fn reflect_objects(
    db: &Transaction<'static>,
    schemas: &[String],
    out: &mut Schema,
) -> Result<()> {
    let sql = concat!(
        "SELECT n.nspname::text, t.typname::text, format_type(t.typbasetype, t.typtypmod), \
                t.typnotnull, t.typdefault, \
                CASE WHEN t.typcollation <> 0 AND t.typcollation <> bt.typcollation \
                     THEN co.collname::text END, \
                ARRAY(SELECT c.conname::text FROM pg_constraint c WHERE c.contypid = t.oid \
                      ORDER BY c.conname), \
                ARRAY(SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c \
                      WHERE c.contypid = t.oid ORDER BY c.conname), \
                ARRAY(SELECT c.convalidated FROM pg_constraint c WHERE c.contypid = t.oid \
                      ORDER BY c.conname) \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         JOIN pg_type bt ON bt.oid = t.typbasetype \
         LEFT JOIN pg_collation co ON co.oid = t.typcollation \
         WHERE t.typtype = 'd' AND n.nspname = ANY(:schemas) AND ",
        not_extension!("t.oid"),
        " ORDER BY 1, 2"
    );
    for d in db
        .fetch_all(query::<DomainRow>(sql).bind("schemas", schemas.to_vec()))
        .await?
    {
        let name = qualified(&QualifiedName::new(d.schema.clone(), d.name.clone()));
        let mut create = format!("CREATE DOMAIN {name} AS {}", d.base);
        if let Some(c) = &d.collation {
            create.push_str(&format!(" COLLATE {}", ident(c)));
        }
        if let Some(def) = &d.default {
            create.push_str(&format!(" DEFAULT {def}"));
        }
        if d.not_null {
            create.push_str(" NOT NULL");
        }
        // A constraint held NOT VALID is written as the others (`CREATE DOMAIN` cannot say
        // NOT VALID) and named in `not_valid`, as a table's check is.
        let mut not_valid = BTreeSet::new();
        let constraints = d
            .constraint_names
            .into_iter()
            .zip(d.constraint_definitions)
            .zip(d.constraints_validated);
        for ((constraint, definition), validated) in constraints {
            let definition = without_not_valid(definition, validated);
            create.push_str(&format!(" CONSTRAINT {} {definition}", ident(&constraint)));
            if !validated {
                not_valid.insert(constraint);
            }
        }
        let key = format!("{}.{}", d.schema, d.name);
        out.objects.insert(
            (ObjectKind::Domain, key.clone()),
            Object {
                kind: ObjectKind::Domain,
                name: key,
                create,
                drop: format!("DROP DOMAIN {name}"),
                not_valid,
            },
        );
    }

    let sql = concat!(
        "SELECT p.prokind::text, n.nspname::text, p.proname::text, \
                pg_get_function_identity_arguments(p.oid), \
                CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) END, \
                a.aggtransfn::regproc::text, format_type(a.aggtranstype, NULL), \
                CASE WHEN a.aggfinalfn <> 0 THEN a.aggfinalfn::regproc::text END, a.agginitval \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid \
         WHERE p.prokind IN ('f', 'p', 'a') AND n.nspname = ANY(:schemas) AND ",
        not_extension!("p.oid"),
        " ORDER BY 1, 2, 3, 4"
    );
    for r in db
        .fetch_all(query::<RoutineRow>(sql).bind("schemas", schemas.to_vec()))
        .await?
    {
        let q = qualified(&QualifiedName::new(r.schema.clone(), r.name.clone()));
        let key = format!("{}.{}({})", r.schema, r.name, r.args);
        match (r.kind.as_str(), r.definition) {
            ("a", _) => {
                let (Some(sfunc), Some(stype)) = (r.sfunc, r.stype) else {
                    continue;
                };
                let mut create = format!(
                    "CREATE AGGREGATE {q}({}) (SFUNC = {sfunc}, STYPE = {stype}",
                    r.args
                );
                if let Some(f) = r.finalfunc {
                    create.push_str(&format!(", FINALFUNC = {f}"));
                }
                if let Some(i) = r.initcond {
                    create.push_str(&format!(", INITCOND = {}", literal(&i)));
                }
                create.push(')');
                let drop = format!("DROP AGGREGATE {q}({})", r.args);
                insert_object(out, ObjectKind::Aggregate, key, create, drop);
            }
            (kind, Some(definition)) => {
                let what = if kind == "p" { "PROCEDURE" } else { "FUNCTION" };
                let drop = format!("DROP {what} {q}({})", r.args);
                insert_object(
                    out,
                    ObjectKind::Function,
                    key,
                    definition.trim_end().to_owned(),
                    drop,
                );
            }
            _ => {}
        }
    }

    let rows = db
        .fetch_all(
            query::<(String, String, String, String)>(
                "SELECT n.nspname::text, c.relname::text, tg.tgname::text, pg_get_triggerdef(tg.oid) \
                 FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE NOT tg.tgisinternal AND tg.tgparentid = 0 AND n.nspname = ANY(:schemas) \
                 ORDER BY 1, 2, 3",
            )
            .bind("schemas", schemas.to_vec()),
        )
        .await?;
    for (schema, table, name, definition) in rows {
        let drop = format!(
            "DROP TRIGGER {} ON {}",
            ident(&name),
            qualified(&QualifiedName::new(schema.clone(), table.clone()))
        );
        insert_object(
            out,
            ObjectKind::Trigger,
            format!("{schema}.{table}.{name}"),
            definition,
            drop,
        );
    }
    Ok(())
}

fn insert_object(out: &mut Schema, kind: ObjectKind, name: String, create: String, drop: String) {
    out.objects.insert(
        (kind, name.clone()),
        Object {
            kind,
            name,
            create,
            drop,
            not_valid: BTreeSet::new(),
        },
    );
}

/// A constraint's definition as `pg_get_constraintdef` prints it, without the ` NOT VALID` it
/// appends for one not validated (which [`Check::validated`] and [`Object::not_valid`] say).
fn without_not_valid(definition: String, validated: bool) -> String {
    match definition.strip_suffix(" NOT VALID") {
        Some(d) if !validated => d.to_owned(),
        _ => definition,
    }
}
