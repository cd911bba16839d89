//! Inheritance in the metadata: [`Joined`] (joined-table inheritance), the [`Discriminator`] of a table, and the `const`
//! functions that build the table of an inheritance enum from its variants' tables at compile
//! time (so the enum's [`Table`] is as `'static` as any model's, and its rows
//! decode by position).
//!
//! Each variant struct (`#[model(inherits = Employee)]`) has its own table metadata: its fields'
//! columns, then the discriminator column. The enum's table is their union, in order of first
//! appearance; a column that some variant does not have is nullable in the table (it is
//! required in the variants that have it).

use super::{ColumnDef, FkAction, ForeignKey, Property, Table};
use crate::types::{ColumnType, RangeKind};

/// Joined-table inheritance: a model whose rows are stored in a base table and subtype tables
/// that share its primary key (each subtype table's key is also a foreign key to the base
/// table's, `ON DELETE CASCADE`). Its [`Table`]'s columns are all of them, each placed by its
/// [`ColumnDef::home`]; a query reads `base [LEFT] JOIN part ON part.key = base.key ...`.
#[derive(Debug)]
#[non_exhaustive]
pub struct Joined {
    /// The base table, with its own columns only (what DDL creates).
    pub base: &'static Table,
    /// The subtype tables: the variant's one, or every variant's for the enum.
    pub parts: &'static [&'static Table],
    /// Whether the parts are joined with `LEFT JOIN` (the enum: a row has one of them) rather
    /// than `JOIN` (a variant: its rows have its part).
    pub outer: bool,
    /// The enum's discriminator values, one per part (in the same order).
    pub values: &'static [&'static str],
    /// How a query of the enum loads the subtype columns unless it says otherwise.
    pub load: PolymorphicLoad,
}

/// How a query of a joined-table inheritance enum loads its subtype columns (SQLAlchemy's
/// `with_polymorphic` and `selectin_polymorphic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PolymorphicLoad {
    /// One query: the base table `LEFT JOIN` every subtype table (the default).
    #[default]
    Joined,
    /// The base rows' keys and discriminators first, then one query per variant present:
    /// `... FROM base JOIN part ... WHERE key = ANY($1)`.
    SelectIn,
}

impl Joined {
    /// The tables of a joined hierarchy.
    pub const fn new(base: &'static Table, parts: &'static [&'static Table], outer: bool) -> Self {
        Joined {
            base,
            parts,
            outer,
            values: &[],
            load: PolymorphicLoad::Joined,
        }
    }

    /// Sets the discriminator values of the parts.
    pub const fn values(mut self, values: &'static [&'static str]) -> Self {
        self.values = values;
        self
    }

    /// Sets the default loading.
    pub const fn load(mut self, load: PolymorphicLoad) -> Self {
        self.load = load;
        self
    }
}

/// The primary-key column `c` of a base table as its subtype table declares it: not generated,
/// and a foreign key to the base table's column, `ON DELETE CASCADE`.
pub const fn subtype_key(
    c: ColumnDef,
    base: &'static str,
    schema: Option<&'static str>,
) -> ColumnDef {
    let mut out = c;
    out.generated = false;
    out.default = None;
    out.unique = false;
    out.index = false;
    out.home = None;
    out.references = Some(
        ForeignKey::new(schema, base, c.name)
            .on_delete(FkAction::Cascade)
            .composite(),
    );
    out
}

/// How many of `columns` live in the base table (no [`ColumnDef::home`]).
pub const fn base_len(columns: &[ColumnDef]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < columns.len() {
        if columns[i].home.is_none() {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The columns of `columns` that live in the base table; `N` is [`base_len`] of them.
pub const fn base_columns<const N: usize>(columns: &[ColumnDef]) -> [ColumnDef; N] {
    const EMPTY: ColumnDef = ColumnDef::new("", "", ColumnType::Bool);
    let mut out = [EMPTY; N];
    let mut n = 0;
    let mut i = 0;
    while i < columns.len() {
        if columns[i].home.is_none() {
            out[n] = columns[i];
            n += 1;
        }
        i += 1;
    }
    out
}

/// How many subtype tables the variants have together.
pub const fn parts_len(parts: &[Option<&'static Joined>]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < parts.len() {
        if let Some(j) = parts[i] {
            n += j.parts.len();
        }
        i += 1;
    }
    n
}

/// The subtype tables of the variants (their [`Table::joined`]), in variant order. `N` is
/// [`parts_len`] of them.
///
/// # Panics
/// At compile time, when some variants have a table of their own and others do not (an enum is
/// either single-table or joined-table).
pub const fn merge_parts<const N: usize>(parts: &[Option<&'static Joined>]) -> [&'static Table; N] {
    const EMPTY: Table = Table::new("", "", &[]);
    let mut out: [&'static Table; N] = [&EMPTY; N];
    let mut n = 0;
    let mut i = 0;
    while i < parts.len() {
        match parts[i] {
            Some(j) => {
                let mut k = 0;
                while k < j.parts.len() {
                    out[n] = j.parts[k];
                    n += 1;
                    k += 1;
                }
            }
            None if N > 0 => panic!(
                "an inheritance enum is single-table or joined-table: every variant struct declares its own `table`, or none does"
            ),
            None => {}
        }
        i += 1;
    }
    out
}

/// Every table storing rows of `tables` ([`Table::storage`]), each once, in order.
pub fn storage_tables(tables: &[&'static Table]) -> Vec<&'static Table> {
    let mut out: Vec<&'static Table> = Vec::with_capacity(tables.len());
    for t in tables {
        for s in t.storage() {
            if !out.iter().any(|o| o.name == s.name && o.schema == s.schema) {
                out.push(s);
            }
        }
    }
    out
}

/// The discriminator of a table shared by an inheritance hierarchy: the column telling which
/// variant a row is, and the value of this model's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Discriminator {
    /// The discriminator column (`#[model(discriminator = "kind")]` on the enum).
    pub column: &'static str,
    /// The value of this model's rows (`#[model(value = "manager")]` on the variant): `Some`
    /// for a variant, whose queries read only rows of that value; `None` for the enum, whose
    /// queries read every row.
    pub value: Option<&'static str>,
}

impl Discriminator {
    /// The discriminator `column`, for rows of `value` (`None`: every row).
    pub const fn new(column: &'static str, value: Option<&'static str>) -> Self {
        Discriminator { column, value }
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A number per variant of [`ColumnType`], for comparing types in `const` code (where
/// `PartialEq` is not available). Exhaustive: a new column type must be given a number here.
const fn type_tag(ty: &ColumnType) -> u8 {
    match ty {
        ColumnType::Bool => 0,
        ColumnType::SmallInt => 1,
        ColumnType::Integer => 2,
        ColumnType::BigInt => 3,
        ColumnType::Real => 4,
        ColumnType::Double => 5,
        ColumnType::Text => 6,
        ColumnType::Bytea => 7,
        ColumnType::Date => 8,
        ColumnType::Time => 9,
        ColumnType::Timestamp => 10,
        ColumnType::Timestamptz => 11,
        ColumnType::Uuid => 12,
        ColumnType::Jsonb => 13,
        ColumnType::Numeric => 14,
        ColumnType::Interval => 15,
        ColumnType::TsVector => 16,
        ColumnType::TsQuery => 17,
        ColumnType::Enum(_) => 18,
        ColumnType::Array(_) => 19,
        ColumnType::Inet => 20,
        ColumnType::Cidr => 21,
        ColumnType::MacAddr => 22,
        ColumnType::Money => 23,
        ColumnType::VarBit => 24,
        ColumnType::Range(_) => 25,
        ColumnType::Domain(_) => 26,
        ColumnType::Named(_) => 27,
        ColumnType::Composite(_) => 28,
        ColumnType::MacAddr8 => 29,
        ColumnType::Multirange(_) => 30,
    }
}

const fn range_tag(kind: RangeKind) -> u8 {
    match kind {
        RangeKind::Int4 => 0,
        RangeKind::Int8 => 1,
        RangeKind::Num => 2,
        RangeKind::Ts => 3,
        RangeKind::Tstz => 4,
        RangeKind::Date => 5,
    }
}

const fn same_type(a: &ColumnType, b: &ColumnType) -> bool {
    match (a, b) {
        (ColumnType::Enum(x), ColumnType::Enum(y)) => str_eq(x.name, y.name),
        (ColumnType::Array(x), ColumnType::Array(y)) => same_type(x, y),
        (ColumnType::Range(x), ColumnType::Range(y))
        | (ColumnType::Multirange(x), ColumnType::Multirange(y)) => range_tag(*x) == range_tag(*y),
        (ColumnType::Domain(x), ColumnType::Domain(y)) => str_eq(x.name, y.name),
        (ColumnType::Named(x), ColumnType::Named(y)) => str_eq(x.name, y.name),
        (ColumnType::Composite(x), ColumnType::Composite(y)) => str_eq(x.name, y.name),
        _ => type_tag(a) == type_tag(b),
    }
}

/// Whether two optional texts (a column's home table, a generated column's expression) are equal.
const fn same_text(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => str_eq(x, y),
        (None, None) => true,
        _ => false,
    }
}

/// Where column `col` (its name in its home table) is in `columns[..end]`, if it is.
const fn find(columns: &[ColumnDef], end: usize, col: &ColumnDef) -> Option<usize> {
    let mut i = 0;
    while i < end {
        if str_eq(columns[i].name, col.name) && same_text(columns[i].home, col.home) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Whether every part has column `col`.
const fn in_every_part(parts: &[&[ColumnDef]], col: &ColumnDef) -> bool {
    let mut p = 0;
    while p < parts.len() {
        if find(parts[p], parts[p].len(), col).is_none() {
            return false;
        }
        p += 1;
    }
    true
}

/// How many distinct column names the parts (the variants' columns) have together: the width
/// of the enum's table.
pub const fn merged_len(parts: &[&[ColumnDef]]) -> usize {
    let mut count = 0;
    let mut p = 0;
    while p < parts.len() {
        let mut c = 0;
        while c < parts[p].len() {
            let col = &parts[p][c];
            let mut seen = false;
            let mut q = 0;
            while q < p {
                if find(parts[q], parts[q].len(), col).is_some() {
                    seen = true;
                }
                q += 1;
            }
            if !seen {
                count += 1;
            }
            c += 1;
        }
        p += 1;
    }
    count
}

/// The enum's columns: every column of the parts, once, in order of first appearance; nullable
/// when some part does not have it. `N` is [`merged_len`] of the same parts.
///
/// # Panics
/// At compile time (this runs in a `const`), when two variants declare the same column
/// differently (type, length, precision, collation, key, generated, deferred, computed expression) or do not share the
/// primary key.
pub const fn merge_columns<const N: usize>(parts: &[&[ColumnDef]]) -> [ColumnDef; N] {
    const EMPTY: ColumnDef = ColumnDef::new("", "", ColumnType::Bool);
    let mut out = [EMPTY; N];
    let mut n = 0;
    let mut p = 0;
    while p < parts.len() {
        let mut c = 0;
        while c < parts[p].len() {
            let col = parts[p][c];
            match find(&out, n, &col) {
                Some(i) => {
                    let first = out[i];
                    if !same_type(&first.ty, &col.ty)
                        || !first.type_mod().same(&col.type_mod())
                        || !same_text(first.collation, col.collation)
                        || first.primary_key != col.primary_key
                        || first.generated != col.generated
                        || first.deferred != col.deferred
                        || !same_text(first.computed, col.computed)
                    {
                        panic!(
                            "the variants of an inheritance enum declare a column of the same name differently (type, length, precision, collation, primary key, generated, deferred or computed): give it one definition, or different names"
                        );
                    }
                    if col.nullable {
                        out[i].nullable = true;
                    }
                }
                None => {
                    if n == N {
                        panic!("merge_columns: N is not merged_len of the parts");
                    }
                    let mut merged = col;
                    if !in_every_part(parts, &col) {
                        if col.primary_key {
                            panic!(
                                "the variants of an inheritance enum must share the primary key: every variant declares the same key columns"
                            );
                        }
                        merged.nullable = true;
                    }
                    out[n] = merged;
                    n += 1;
                }
            }
            c += 1;
        }
        p += 1;
    }
    if n != N {
        panic!("merge_columns: N is not merged_len of the parts");
    }
    out
}

/// How many column properties the parts (the variants' properties) have together.
pub const fn properties_len(parts: &[&[Property]]) -> usize {
    let mut n = 0;
    let mut p = 0;
    while p < parts.len() {
        n += parts[p].len();
        p += 1;
    }
    n
}

/// The enum's column properties: every variant's, in order, each marked with its variant's
/// discriminator value (`values[i]` for `parts[i]`), so that only that variant's rows compute
/// it. `N` is [`properties_len`] of the same parts. The enum's rows have them after its
/// columns; variant `i` decodes its own from the sum of the earlier variants' counts on.
pub const fn merge_properties<const N: usize>(
    parts: &[&[Property]],
    values: &[&'static str],
) -> [Property; N] {
    const EMPTY: Property = Property::new("", no_expression);
    let mut out = [EMPTY; N];
    let mut n = 0;
    let mut p = 0;
    while p < parts.len() {
        let mut i = 0;
        while i < parts[p].len() {
            if n == N || p >= values.len() {
                panic!("merge_properties: N is not properties_len of the parts");
            }
            out[n] = parts[p][i].of_variant(values[p]);
            n += 1;
            i += 1;
        }
        p += 1;
    }
    if n != N {
        panic!("merge_properties: N is not properties_len of the parts");
    }
    out
}

/// The expression of a placeholder [`Property`] (never read: every slot is filled).
fn no_expression() -> Box<dyn std::any::Any + Send> {
    Box::new(())
}

/// The enum's version column: the position in `merged` (the enum's columns) of every
/// variant's version column (each `versions[i]` already mapped to the enum's positions), or
/// `None` when no variant has one.
///
/// # Panics
/// At compile time, when some variants have a version column and others do not, when they
/// name different columns, or when the column is a joined-table variant's own (it must be in
/// the base table: `#[model(shared)]`).
pub const fn merged_version(merged: &[ColumnDef], versions: &[Option<usize>]) -> Option<usize> {
    if versions.is_empty() {
        return None;
    }
    let out = versions[0];
    let mut i = 1;
    while i < versions.len() {
        let same = match (out, versions[i]) {
            (None, None) => true,
            (Some(a), Some(b)) => a == b,
            _ => false,
        };
        if !same {
            panic!(
                "the variants of an inheritance enum share one version column: declare `#[model(version)]` on the same column in every variant struct, or in none"
            );
        }
        i += 1;
    }
    if let Some(v) = out {
        if merged[v].home.is_some() {
            panic!(
                "the version column of a joined-table inheritance enum is in its base table: mark the field `#[model(shared, version)]`"
            );
        }
    }
    out
}

/// Where each column of `part` (a variant's columns) is in `merged` (the enum's): the positions
/// a variant decodes its fields from in a row of the enum. `W` is `part.len()`.
///
/// # Panics
/// At compile time, when a column of `part` is not in `merged`.
pub const fn positions<const W: usize>(merged: &[ColumnDef], part: &[ColumnDef]) -> [usize; W] {
    let mut out = [0usize; W];
    let mut c = 0;
    while c < W {
        match find(merged, merged.len(), &part[c]) {
            Some(i) => out[c] = i,
            None => panic!("positions: a variant's column is not in the enum's table"),
        }
        c += 1;
    }
    out
}

/// The position of column `name` (the discriminator) in `columns`.
///
/// # Panics
/// At compile time, when there is no such column.
pub const fn column_position(columns: &[ColumnDef], name: &str) -> usize {
    let mut i = 0;
    while i < columns.len() {
        if columns[i].home.is_none() && str_eq(columns[i].name, name) {
            return i;
        }
        i += 1;
    }
    panic!("the discriminator column is not in the enum's table")
}

/// For each column of `merged` (the enum's), its position in `part` (a variant's), or
/// `usize::MAX` when the variant does not have it. `N` is `merged.len()`.
pub const fn inverse<const N: usize>(merged: &[ColumnDef], part: &[ColumnDef]) -> [usize; N] {
    let mut out = [usize::MAX; N];
    let mut c = 0;
    while c < N {
        if let Some(i) = find(part, part.len(), &merged[c]) {
            out[c] = i;
        }
        c += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANAGER: &[ColumnDef] = &[
        ColumnDef::new("id", "id", ColumnType::BigInt).primary_key(),
        ColumnDef::new("name", "name", ColumnType::Text),
        ColumnDef::new("budget", "budget", ColumnType::Integer),
        ColumnDef::new("kind", "", ColumnType::Text),
    ];
    const ENGINEER: &[ColumnDef] = &[
        ColumnDef::new("id", "id", ColumnType::BigInt).primary_key(),
        ColumnDef::new("name", "name", ColumnType::Text),
        ColumnDef::new("language", "language", ColumnType::Text).nullable(true),
        ColumnDef::new("kind", "", ColumnType::Text),
    ];
    const PARTS: &[&[ColumnDef]] = &[MANAGER, ENGINEER];
    const N: usize = merged_len(PARTS);
    const MERGED: [ColumnDef; N] = merge_columns(PARTS);

    #[test]
    fn union_in_order_of_first_appearance_with_subtype_columns_nullable() {
        let names: Vec<(&str, bool)> = MERGED.iter().map(|c| (c.name, c.nullable)).collect();
        assert_eq!(
            names,
            [
                ("id", false),
                ("name", false),
                ("budget", true),
                ("kind", false),
                ("language", true)
            ]
        );
        assert!(MERGED[0].primary_key);
    }

    #[test]
    fn positions_and_inverse() {
        const P: [usize; 4] = positions(&MERGED, ENGINEER);
        const I: [usize; N] = inverse(&MERGED, ENGINEER);
        assert_eq!(P, [0, 1, 4, 3]);
        assert_eq!(I, [0, 1, usize::MAX, 3, 2]);
    }

    #[test]
    fn types_compare_with_their_payload() {
        static E1: crate::types::EnumType = crate::types::EnumType {
            name: "a",
            schema: None,
            labels: &[],
        };
        static E2: crate::types::EnumType = crate::types::EnumType {
            name: "b",
            schema: None,
            labels: &[],
        };
        assert!(same_type(&ColumnType::Enum(&E1), &ColumnType::Enum(&E1)));
        assert!(!same_type(&ColumnType::Enum(&E1), &ColumnType::Enum(&E2)));
        assert!(!same_type(&ColumnType::Text, &ColumnType::BigInt));
        assert!(same_type(
            &ColumnType::Array(&ColumnType::Text),
            &ColumnType::Array(&ColumnType::Text)
        ));
    }

    /// A generated column both variants declare merges when its expression is the same.
    #[test]
    fn a_shared_generated_column_needs_one_expression() {
        const A: &[ColumnDef] = &[
            ColumnDef::new("id", "id", ColumnType::BigInt).primary_key(),
            ColumnDef::new("tag", "tag", ColumnType::Text).computed("upper(label)"),
        ];
        const B: &[ColumnDef] = &[
            ColumnDef::new("id", "id", ColumnType::BigInt).primary_key(),
            ColumnDef::new("tag", "tag", ColumnType::Text).computed("upper(label)"),
        ];
        const C: &[ColumnDef] = &[
            ColumnDef::new("id", "id", ColumnType::BigInt).primary_key(),
            ColumnDef::new("tag", "tag", ColumnType::Text).computed("lower(label)"),
        ];
        let merged: [ColumnDef; 2] = merge_columns(&[A, B]);
        assert_eq!(merged[1].computed, Some("upper(label)"));
        let differ = std::panic::catch_unwind(|| merge_columns::<2>(&[A, C]));
        assert!(differ.is_err());
    }
}
