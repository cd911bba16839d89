//! The schema a set of models defines: the derive's metadata ([`meta::Table`]) turned into the
//! [schema model](crate::schema), written the way reflection reads a database back, so the two
//! compare by value.
//!
//! Types are spelled as `format_type` prints them (`bigint`, `character varying(80)`,
//! `timestamp with time zone`, `public.mood`), constraints are named the way PostgreSQL names
//! unnamed ones (`author_pkey`, `book_author_id_fkey`, `author_name_key`,
//! `author_karma_check`; a unique constraint the model names keeps its name), and indexes the
//! way `create_all` names them (`ix_book_author_id`) unless the model names them.
//! Defaults and checks keep the SQL the model wrote; the diff compares expressions through
//! [`normalize_expr`](crate::expr::normalize_expr), which forgives the parentheses and casts the
//! server adds.

use std::collections::BTreeMap;

use orm_postgres::meta::{self, FkAction as MetaAction};
use orm_postgres::types::{
    ColumnType, CompositeType as MetaComposite, DomainType as MetaDomain, EnumType as MetaEnum,
    TypeMod,
};

use crate::schema::{
    Check, Column, CompositeAttribute, CompositeType, EnumType, Exclusion, FkAction, ForeignKey,
    Identity, Index, Object, ObjectKind, PrimaryKey, QualifiedName, Schema, Table, Unique,
};

/// The longest identifier PostgreSQL keeps (`NAMEDATALEN - 1` bytes).
const MAX_NAME: usize = 63;

/// The schema model of `tables` (and of the enum types their columns use). Tables and types
/// without a schema go to `default_schema` (`"public"` for most databases).
///
/// ```
/// use orm_migrate::model_schema::schema_of;
/// use orm_postgres::prelude::*;
///
/// #[derive(Model)]
/// struct Author {
///     #[model(primary_key, generated)]
///     id: i64,
///     #[model(len = 80, unique)]
///     name: String,
/// }
///
/// let schema = schema_of(&[Author::TABLE], "public");
/// let author = &schema.tables[&orm_migrate::schema::QualifiedName::new("public", "author")];
/// assert_eq!(author.columns[1].data_type, "character varying(80)");
/// assert_eq!(author.primary_key.as_ref().map(|pk| pk.name.as_str()), Some("author_pkey"));
/// assert!(author.uniques.contains_key("author_name_key"));
/// ```
pub fn schema_of(tables: &[&'static meta::Table], default_schema: &str) -> Schema {
    // A joined-table model is stored in several tables: its base table and subtype tables.
    let tables = &meta::storage_tables(tables);
    let mut out = Schema::default();
    out.schemas.insert(default_schema.to_owned());
    for t in tables {
        out.schemas
            .insert(t.schema.unwrap_or(default_schema).to_owned());
        let table = table_of(t, default_schema);
        for c in t.columns {
            if let Some(e) = c.ty.enum_type() {
                let e = enum_of(e, default_schema);
                out.schemas.insert(e.name.schema.clone());
                out.enums.entry(e.name.clone()).or_insert(e);
            }
            if let Some(d) = c.ty.domain_type() {
                let domain = domain_of(d, default_schema);
                out.schemas
                    .insert(d.schema.unwrap_or(default_schema).to_owned());
                out.objects
                    .entry((ObjectKind::Domain, domain.name.clone()))
                    .or_insert(domain);
            }
            if let Some(e) = c.ty.extension() {
                out.extensions.insert(e.to_owned());
            }
            c.ty.walk(&mut |ty| {
                // An enum a composite type's attribute uses.
                if let ColumnType::Enum(e) = ty {
                    let e = enum_of(e, default_schema);
                    out.enums.entry(e.name.clone()).or_insert(e);
                }
                if let ColumnType::Composite(meta) = ty {
                    let composite = composite_of(meta, default_schema);
                    out.schemas.insert(composite.name.schema.clone());
                    out.composites
                        .entry(composite.name.clone())
                        .or_insert(composite);
                }
            });
        }
        out.tables.insert(table.name.clone(), table);
    }
    out
}

/// The previous names the models declare (`#[model(renamed_from = "...")]`): tables by their
/// new qualified name, columns by `(table, new column name)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renames {
    /// New table name → old table name (same schema).
    pub tables: BTreeMap<QualifiedName, String>,
    /// (table, new column) → old column.
    pub columns: BTreeMap<(QualifiedName, String), String>,
}

/// The renames `tables` declare.
pub fn renames_of(tables: &[&'static meta::Table], default_schema: &str) -> Renames {
    let tables = &meta::storage_tables(tables);
    let mut out = Renames::default();
    for t in tables {
        let name = QualifiedName::new(t.schema.unwrap_or(default_schema), t.name);
        if let Some(old) = t.renamed_from {
            out.tables.insert(name.clone(), old.to_owned());
        }
        for c in t.columns {
            if let Some(old) = c.renamed_from {
                out.columns
                    .insert((name.clone(), c.name.to_owned()), old.to_owned());
            }
        }
    }
    out
}

/// A domain as reflection rebuilds it: `CREATE DOMAIN schema.name AS base CONSTRAINT
/// name_check CHECK (...)` (PostgreSQL names a domain's unnamed check `<domain>_check`).
fn domain_of(d: &MetaDomain, default_schema: &str) -> Object {
    let name = QualifiedName::new(d.schema.unwrap_or(default_schema), d.name);
    let q = crate::render::qualified(&name);
    let mut create = format!(
        "CREATE DOMAIN {q} AS {}",
        type_name(d.base, TypeMod::NONE, default_schema)
    );
    if let Some(check) = d.check {
        let constraint = crate::render::ident(&object_name(d.name, &[], "check"));
        create.push_str(&format!(" CONSTRAINT {constraint} CHECK ({check})"));
    }
    Object {
        kind: ObjectKind::Domain,
        name: name.to_string(),
        create,
        drop: format!("DROP DOMAIN {q}"),
        not_valid: Default::default(),
    }
}

/// A composite type as reflection reads it: each attribute's type as `format_type` prints it.
fn composite_of(c: &MetaComposite, default_schema: &str) -> CompositeType {
    CompositeType {
        name: QualifiedName::new(c.schema.unwrap_or(default_schema), c.name),
        attributes: c
            .attributes
            .iter()
            .map(|a| CompositeAttribute {
                name: a.name.to_owned(),
                data_type: type_name(a.ty, TypeMod::NONE, default_schema),
            })
            .collect(),
    }
}

fn enum_of(e: &MetaEnum, default_schema: &str) -> EnumType {
    EnumType {
        name: QualifiedName::new(e.schema.unwrap_or(default_schema), e.name),
        labels: e.labels.iter().map(|l| (*l).to_owned()).collect(),
    }
}

fn table_of(t: &meta::Table, default_schema: &str) -> Table {
    let schema = t.schema.unwrap_or(default_schema);
    let name = QualifiedName::new(schema, t.name);
    let columns = t
        .columns
        .iter()
        .map(|c| Column {
            name: c.name.to_owned(),
            data_type: type_name(&c.ty, c.type_mod(), default_schema),
            nullable: c.nullable,
            default: c.default.map(str::to_owned),
            identity: (c.generated && c.default.is_none()).then_some(Identity::ByDefault),
            generated: c.computed.map(str::to_owned),
            collation: c.collation.map(str::to_owned),
            comment: c.comment.map(str::to_owned),
        })
        .collect();
    let pk: Vec<String> = t.primary_key().map(|c| c.name.to_owned()).collect();
    let primary_key = (!pk.is_empty()).then(|| PrimaryKey {
        name: object_name(t.name, &[], "pkey"),
        columns: pk,
    });

    let mut uniques = BTreeMap::new();
    let single = t
        .columns
        .iter()
        .filter(|c| c.unique)
        .map(|c| (vec![c.name], None, false));
    let multi = t
        .indexes
        .iter()
        .filter(|i| i.constraint)
        .map(|i| (i.columns.to_vec(), i.name, i.nulls_not_distinct));
    for (cols, name, nulls_not_distinct) in single.chain(multi) {
        let name = name.map_or_else(|| object_name(t.name, &cols, "key"), str::to_owned);
        let columns = cols.iter().map(|c| (*c).to_owned()).collect();
        uniques.insert(
            name.clone(),
            Unique {
                name,
                columns,
                nulls_not_distinct,
            },
        );
    }

    let mut checks = BTreeMap::new();
    for c in t.columns {
        if let Some(sql) = c.check {
            let name = object_name(t.name, &[c.name], "check");
            let definition = format!("CHECK ({sql})");
            checks.insert(
                name.clone(),
                Check {
                    name,
                    definition,
                    validated: true,
                },
            );
        }
    }
    for (i, sql) in t.checks.iter().enumerate() {
        let label = if i == 0 {
            "check".to_owned()
        } else {
            format!("check{i}")
        };
        let name = object_name(t.name, &[], &label);
        let definition = format!("CHECK ({sql})");
        checks.insert(
            name.clone(),
            Check {
                name,
                definition,
                validated: true,
            },
        );
    }

    let mut exclusions = BTreeMap::new();
    for ex in t.exclusions {
        let cols: Vec<&str> = ex.columns().collect();
        let name = object_name(t.name, &cols, "excl");
        let elements: Vec<String> = ex
            .elements
            .iter()
            .map(|(c, op)| format!("{} WITH {op}", crate::render::ident(c)))
            .collect();
        let definition = format!("EXCLUDE USING {} ({})", ex.using, elements.join(", "));
        exclusions.insert(name.clone(), Exclusion { name, definition });
    }

    let mut foreign_keys = BTreeMap::new();
    for fk in t.foreign_keys() {
        let fk_name = object_name(t.name, &fk.columns, "fkey");
        let key = fk.key;
        let target =
            QualifiedName::new(key.schema.or(t.schema).unwrap_or(default_schema), key.table);
        foreign_keys.insert(
            fk_name.clone(),
            ForeignKey {
                name: fk_name,
                columns: fk.columns.iter().map(|c| c.to_string()).collect(),
                references: target,
                referenced_columns: fk.referenced.iter().map(|c| c.to_string()).collect(),
                on_delete: action(key.on_delete),
                on_update: action(key.on_update),
                deferrable: false,
                initially_deferred: false,
                validated: true,
            },
        );
    }

    let mut indexes = BTreeMap::new();
    let single = t
        .columns
        .iter()
        .filter(|c| c.index && !c.unique)
        .map(|c| index_of(&name, &[c.name], None));
    let multi = t
        .indexes
        .iter()
        .filter(|i| !i.constraint)
        .map(|i| index_of(&name, i.columns, Some(i)));
    for index in single.chain(multi) {
        indexes.insert(index.name.clone(), index);
    }

    Table {
        name,
        columns,
        primary_key,
        foreign_keys,
        uniques,
        checks,
        indexes,
        exclusions,
        partition_by: None,
        partition_of: None,
        comment: t.comment.map(str::to_owned),
    }
}

/// The index `create_all` makes of `columns` of `table` (with `index`'s options, for a
/// struct-level index), as reflection reads it back: named `ix_<table>_<cols>` unless named,
/// each key (a column, or an expression as written) with its operator class and ordering, its
/// `INCLUDE` columns, its storage parameters as
/// `pg_class.reloptions` holds them (`fillfactor=70`), its predicate as the model wrote it (the
/// diff compares it through [`normalize_expr`](crate::expr::normalize_expr)).
fn index_of(table: &QualifiedName, columns: &[&str], index: Option<&meta::Index>) -> Index {
    let name = orm_postgres::ddl::index_name_for(&table.name, columns, index);
    let keys = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            // An expression as the model wrote it: the diff compares it with the server's
            // through `normalize_expr`, which drops the casts and parentheses the server adds.
            let key = match index.and_then(|ix| ix.key_expression(i)) {
                Some(expression) => expression.to_owned(),
                None => crate::render::ident(c),
            };
            match index.map_or("", |ix| ix.key_option(i)) {
                "" => key,
                options => format!("{key} {options}"),
            }
        })
        .collect();
    let mut out = Index {
        name,
        unique: index.is_some_and(|i| i.unique),
        method: index.and_then(|i| i.method).unwrap_or("btree").to_owned(),
        keys,
        include: index.map_or_else(Vec::new, |i| {
            i.include.iter().map(|c| (*c).to_owned()).collect()
        }),
        nulls_not_distinct: index.is_some_and(|i| i.nulls_not_distinct),
        with: index.map_or_else(Vec::new, |i| {
            i.with.iter().map(|p| (*p).to_owned()).collect()
        }),
        predicate: index.and_then(|i| i.predicate).map(str::to_owned),
        definition: String::new(),
        valid: true,
    };
    out.definition = crate::op::create_index_sql(table, &out, false);
    out
}

fn action(a: Option<MetaAction>) -> FkAction {
    match a {
        Some(MetaAction::Cascade) => FkAction::Cascade,
        Some(MetaAction::Restrict) => FkAction::Restrict,
        Some(MetaAction::SetNull) => FkAction::SetNull,
        Some(MetaAction::SetDefault) => FkAction::SetDefault,
        Some(MetaAction::NoAction) | None => FkAction::NoAction,
    }
}

/// A column type as `format_type` prints it with `search_path` set to `pg_catalog` (which is
/// how [reflection](crate::reflect) reads it).
pub fn type_name(ty: &ColumnType, m: TypeMod, default_schema: &str) -> String {
    // `format_type` puts a time's precision after its first word and prints a numeric's scale
    // even when it is zero.
    let time = |word: &str, rest: &str| match m.precision {
        Some(p) => format!("{word}({p}){rest}"),
        None => format!("{word}{rest}"),
    };
    match ty {
        ColumnType::Bool => "boolean".into(),
        ColumnType::SmallInt => "smallint".into(),
        ColumnType::Integer => "integer".into(),
        ColumnType::BigInt => "bigint".into(),
        ColumnType::Real => "real".into(),
        ColumnType::Double => "double precision".into(),
        ColumnType::Text => match m.len {
            Some(n) => format!("character varying({n})"),
            None => "text".into(),
        },
        ColumnType::Bytea => "bytea".into(),
        ColumnType::Date => "date".into(),
        ColumnType::Time => time("time", " without time zone"),
        ColumnType::Timestamp => time("timestamp", " without time zone"),
        ColumnType::Timestamptz => time("timestamp", " with time zone"),
        ColumnType::Uuid => "uuid".into(),
        ColumnType::Jsonb => "jsonb".into(),
        ColumnType::Numeric => match (m.precision, m.scale) {
            (Some(p), s) => format!("numeric({p},{})", s.unwrap_or(0)),
            (None, _) => "numeric".into(),
        },
        ColumnType::Interval => time("interval", ""),
        ColumnType::TsVector => "tsvector".into(),
        ColumnType::TsQuery => "tsquery".into(),
        ColumnType::Inet => "inet".into(),
        ColumnType::Cidr => "cidr".into(),
        ColumnType::MacAddr => "macaddr".into(),
        ColumnType::MacAddr8 => "macaddr8".into(),
        ColumnType::Money => "money".into(),
        ColumnType::VarBit => "bit varying".into(),
        ColumnType::Range(kind) => kind.name().into(),
        ColumnType::Multirange(kind) => kind.multirange_name().into(),
        ColumnType::Enum(e) => {
            let name = QualifiedName::new(e.schema.unwrap_or(default_schema), e.name);
            crate::render::qualified(&name)
        }
        ColumnType::Domain(d) => {
            let name = QualifiedName::new(d.schema.unwrap_or(default_schema), d.name);
            crate::render::qualified(&name)
        }
        ColumnType::Named(n) => {
            let name = QualifiedName::new(n.schema.unwrap_or(default_schema), n.name);
            crate::render::qualified(&name)
        }
        ColumnType::Composite(c) => {
            let name = QualifiedName::new(c.schema.unwrap_or(default_schema), c.name);
            crate::render::qualified(&name)
        }
        ColumnType::Array(inner) => format!("{}[]", type_name(inner, m, default_schema)),
        // `ColumnType` is non-exhaustive in spirit: a type added later prints its debug name,
        // which the diff then reports as a type change rather than guessing.
        #[allow(unreachable_patterns)]
        other => format!("{other:?}").to_lowercase(),
    }
}

/// The name PostgreSQL gives an unnamed constraint: `table_col1_col2_label`, cut to 63 bytes
/// the way `makeObjectName` cuts it (the longer of the two parts loses characters first).
pub fn object_name(table: &str, columns: &[&str], label: &str) -> String {
    let cols = columns.join("_");
    let overhead = label.len() + 1 + usize::from(!cols.is_empty());
    let avail = MAX_NAME.saturating_sub(overhead);
    let (mut n1, mut n2) = (table.len(), cols.len());
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let cut = |s: &str, mut n: usize| {
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        s[..n].to_owned()
    };
    let mut name = cut(table, n1);
    if !cols.is_empty() {
        name.push('_');
        name.push_str(&cut(&cols, n2));
    }
    name.push('_');
    name.push_str(label);
    name
}

#[cfg(test)]
mod tests {
    use super::object_name;

    #[test]
    fn constraint_names_follow_postgres() {
        assert_eq!(
            object_name("book", &["author_id"], "fkey"),
            "book_author_id_fkey"
        );
        assert_eq!(object_name("book", &[], "pkey"), "book_pkey");
        assert_eq!(object_name("t", &["a", "b"], "key"), "t_a_b_key");
        let long = "x".repeat(60);
        let name = object_name(&long, &["column_name"], "fkey");
        assert_eq!(name.len(), 63);
        assert!(
            name.ends_with("_column_name_fkey") || name.ends_with("_fkey"),
            "{name}"
        );
    }
}
