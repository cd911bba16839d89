//! Looking up user-named parameter types by name, in the unnamed mode.
//!
//! An unnamed statement declares each parameter's type by OID, and the OID of an enum, a
//! domain, a composite type or an extension's type (`citext`, `ltree`, `hstore`) differs from
//! database to database. A value of such a type names it ([`declared_type`]); the names a
//! statement needs and this database has not looked up yet are resolved in one query, with
//! the types they are made of (an array's element, a domain's base, a composite type's
//! attributes, a range's subtype) and the array type of each, and built into the driver's
//! [`Type`]s as tokio-postgres builds them for a prepared statement — so that a value encodes
//! to the same bytes in both modes.
//!
//! The result is kept per database until its [type epoch](super::TypeEpoch) moves (this
//! database's own `CREATE`/`ALTER TYPE`, `create_all`, migrations, or
//! [`Database::types_changed`](crate::Database::types_changed) after another process's): a type
//! dropped and created again under its name gets its new OID. A name the database does not
//! have is not remembered, and is an [`ErrorKind::UndefinedType`](crate::ErrorKind) naming it.
//!
//! [`declared_type`]: orm_core::types::declared_type

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use deadpool_postgres::tokio_postgres::types::{Field, Kind, Type};
use deadpool_postgres::tokio_postgres::{self, Client};
use orm_core::ColumnType;

use super::TypeEpoch;

/// A type's name as a column type gives it: its schema (`None`: the search path's) and name.
pub(crate) type TypeName = (Option<&'static str>, &'static str);

/// The name of the user-named type `ty` is, or is an array of.
pub(crate) fn type_name(ty: &ColumnType) -> Option<TypeName> {
    match ty {
        ColumnType::Named(n) => Some((n.schema, n.name)),
        ColumnType::Domain(d) => Some((d.schema, d.name)),
        ColumnType::Enum(e) => Some((e.schema, e.name)),
        ColumnType::Composite(c) => Some((c.schema, c.name)),
        ColumnType::Array(inner) => type_name(inner),
        _ => None,
    }
}

/// `name` as SQL would write it (for errors).
pub(crate) fn display_name((schema, name): TypeName) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    match schema {
        Some(schema) => format!("{}.{}", quote(schema), quote(name)),
        None => quote(name),
    }
}

/// A resolved type and its array type.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub ty: Type,
    pub array: Option<Type>,
}

impl Resolved {
    /// The type a value of column type `column` is declared as: this one, or its array.
    pub(crate) fn for_column(&self, column: &ColumnType) -> Option<&Type> {
        if column.is_array() {
            self.array.as_ref()
        } else {
            Some(&self.ty)
        }
    }
}

/// The types of one database, looked up by name.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// When the oldest entry's lookup started: a type change after it may have made any entry
    /// stale.
    since: Option<Instant>,
    types: HashMap<TypeName, Resolved>,
}

impl Catalog {
    /// The types named in `names` (one entry each, `None` for a name the database does not
    /// have): from this database's cache, the others in one query on `client`.
    pub(crate) async fn resolve(
        &self,
        client: &Client,
        epoch: &TypeEpoch,
        names: &[TypeName],
    ) -> Result<Vec<Option<Resolved>>, tokio_postgres::Error> {
        let mut found: Vec<Option<Resolved>> = Vec::with_capacity(names.len());
        let mut missing: Vec<TypeName> = Vec::new();
        {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            if entries.since.is_some_and(|at| epoch.changed_after(at)) {
                *entries = Entries::default();
            }
            for name in names {
                let hit = entries.types.get(name).cloned();
                if hit.is_none() && !missing.contains(name) {
                    missing.push(*name);
                }
                found.push(hit);
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let started = Instant::now();
        let looked_up = look_up(client, &missing).await?;
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.since.is_some_and(|at| epoch.changed_after(at)) {
            *entries = Entries::default();
        }
        // An epoch mark during the lookup makes its result stale at the next use, not now:
        // `since` is when it started.
        entries.since = Some(entries.since.map_or(started, |at| at.min(started)));
        for (name, resolved) in missing.iter().zip(&looked_up) {
            if let Some(r) = resolved {
                entries.types.insert(*name, r.clone());
            }
        }
        for (name, slot) in names.iter().zip(&mut found) {
            if slot.is_none() {
                let at = missing.iter().position(|m| m == name);
                *slot = at.and_then(|i| looked_up[i].clone());
            }
        }
        Ok(found)
    }
}

/// Each name's type (`regtype` resolution: the search path for an unqualified name), its array
/// type, and every type they are made of, with what tokio-postgres reads to build a [`Type`].
const LOOK_UP: &str = "\
WITH RECURSIVE wanted AS (
    SELECT w.i::pg_catalog.int4 AS i,
           pg_catalog.to_regtype(CASE WHEN w.schema IS NULL THEN ''
                                      ELSE pg_catalog.quote_ident(w.schema) || '.' END
                                 || pg_catalog.quote_ident(w.name))::pg_catalog.oid AS oid
    FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]),
                    pg_catalog.unnest($2::pg_catalog.text[]))
         WITH ORDINALITY AS w(schema, name, i)
), made_of(oid) AS (
    SELECT w.oid FROM wanted w WHERE w.oid IS NOT NULL
    UNION
    SELECT t.typarray FROM wanted w JOIN pg_catalog.pg_type t ON t.oid = w.oid
    WHERE t.typarray <> 0
    UNION
    SELECT d.oid
    FROM made_of m
    JOIN pg_catalog.pg_type t ON t.oid = m.oid
    CROSS JOIN LATERAL (
        SELECT t.typelem
        UNION ALL SELECT t.typbasetype
        UNION ALL SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid
        UNION ALL SELECT a.atttypid FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
    ) d(oid)
    WHERE d.oid <> 0
)
SELECT t.oid, t.typname::pg_catalog.text, n.nspname::pg_catalog.text,
       t.typtype::pg_catalog.text, t.typelem, t.typbasetype, t.typrelid, r.rngsubtype,
       ARRAY(SELECT e.enumlabel::pg_catalog.text FROM pg_catalog.pg_enum e
             WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder),
       ARRAY(SELECT a.attname::pg_catalog.text FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum),
       ARRAY(SELECT a.atttypid FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum),
       ARRAY(SELECT w.i FROM wanted w WHERE w.oid = t.oid),
       t.typarray
FROM made_of m
JOIN pg_catalog.pg_type t ON t.oid = m.oid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid";

/// One row of [`LOOK_UP`].
struct Definition {
    name: String,
    schema: String,
    typtype: String,
    elem: u32,
    base: u32,
    relid: u32,
    range_subtype: Option<u32>,
    labels: Vec<String>,
    attribute_names: Vec<String>,
    attribute_types: Vec<u32>,
}

/// Looks `names` up in one query.
async fn look_up(
    client: &Client,
    names: &[TypeName],
) -> Result<Vec<Option<Resolved>>, tokio_postgres::Error> {
    let schemas: Vec<Option<&str>> = names.iter().map(|n| n.0).collect();
    let bare: Vec<&str> = names.iter().map(|n| n.1).collect();
    let rows = client
        .query_typed(
            LOOK_UP,
            &[(&schemas, Type::TEXT_ARRAY), (&bare, Type::TEXT_ARRAY)],
        )
        .await?;
    let mut definitions: HashMap<u32, Definition> = HashMap::with_capacity(rows.len());
    let mut wanted: Vec<Option<(u32, u32)>> = vec![None; names.len()];
    for row in &rows {
        let oid: u32 = row.try_get(0)?;
        let requested: Vec<i32> = row.try_get(11)?;
        let array: u32 = row.try_get(12)?;
        for i in requested {
            let at = i.checked_sub(1).and_then(|i| usize::try_from(i).ok());
            if let Some(slot) = at.and_then(|i| wanted.get_mut(i)) {
                *slot = Some((oid, array));
            }
        }
        definitions.insert(
            oid,
            Definition {
                name: row.try_get(1)?,
                schema: row.try_get(2)?,
                typtype: row.try_get(3)?,
                elem: row.try_get(4)?,
                base: row.try_get(5)?,
                relid: row.try_get(6)?,
                range_subtype: row.try_get(7)?,
                labels: row.try_get(8)?,
                attribute_names: row.try_get(9)?,
                attribute_types: row.try_get(10)?,
            },
        );
    }
    let mut built = HashMap::new();
    Ok(wanted
        .into_iter()
        .map(|w| {
            let (oid, array) = w?;
            let ty = build(oid, &definitions, &mut built, 0)?;
            let array = (array != 0)
                .then(|| build(array, &definitions, &mut built, 0))
                .flatten();
            Some(Resolved { ty, array })
        })
        .collect())
}

/// Nesting deeper than this is not a type PostgreSQL lets one create.
const MAX_DEPTH: usize = 32;

/// The driver's [`Type`] of `oid`: a built-in one, or built from its definition the way
/// tokio-postgres builds it (its `typeinfo` query): enum, pseudo, domain, array, composite,
/// range, else simple.
fn build(
    oid: u32,
    definitions: &HashMap<u32, Definition>,
    built: &mut HashMap<u32, Type>,
    depth: usize,
) -> Option<Type> {
    if let Some(ty) = Type::from_oid(oid) {
        return Some(ty);
    }
    if let Some(ty) = built.get(&oid) {
        return Some(ty.clone());
    }
    if depth > MAX_DEPTH {
        return None;
    }
    let d = definitions.get(&oid)?;
    let mut sub = |oid: u32| build(oid, definitions, built, depth + 1);
    let kind = if d.typtype == "e" {
        Kind::Enum(d.labels.clone())
    } else if d.typtype == "p" {
        Kind::Pseudo
    } else if d.base != 0 {
        Kind::Domain(sub(d.base)?)
    } else if d.elem != 0 {
        Kind::Array(sub(d.elem)?)
    } else if d.relid != 0 {
        let fields = d
            .attribute_names
            .iter()
            .zip(&d.attribute_types)
            .map(|(name, &ty)| Some(Field::new(name.clone(), sub(ty)?)))
            .collect::<Option<Vec<_>>>()?;
        Kind::Composite(fields)
    } else if let Some(subtype) = d.range_subtype {
        Kind::Range(sub(subtype)?)
    } else {
        Kind::Simple
    };
    let ty = Type::new(d.name.clone(), oid, kind, d.schema.clone());
    built.insert(oid, ty.clone());
    Some(ty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use orm_core::types::{DomainType, NamedType};

    #[test]
    fn names_come_from_the_column_type() {
        const STATUSES: ColumnType = ColumnType::Array(&ColumnType::Named(
            &NamedType::new("status").schema("legacy"),
        ));
        static YEAR: DomainType = DomainType::new("year", &ColumnType::Integer);
        assert_eq!(type_name(&STATUSES), Some((Some("legacy"), "status")));
        assert_eq!(type_name(&ColumnType::Domain(&YEAR)), Some((None, "year")));
        assert_eq!(type_name(&ColumnType::Text), None);
        assert_eq!(
            display_name((Some("le\"gacy"), "status")),
            "\"le\"\"gacy\".\"status\""
        );
    }
}
