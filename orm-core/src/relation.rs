//! Relationships between models, and how they load.
//!
//! A relationship is declared once on the struct (`#[relationship(has_many = Order)]` on a
//! field of type [`Related<Vec<Order>>`](Related)) and loaded by a strategy the query chooses:
//!
//! | strategy | what runs |
//! |---|---|
//! | *raise* (the default) | nothing: reading the field is a [`NotLoaded`](crate::ErrorKind::NotLoaded) error |
//! | [`selectin`](Relationship::selectin) | one more query per relationship level: `WHERE fk = ANY($1)` with the parents' keys as one array |
//! | [`subquery`](Relationship::subquery) | one more query per level, filtering by the parent query itself as a subquery |
//! | [`joined`](Relationship::joined) | nothing more: the parent query `LEFT JOIN`s the target and rows are folded into their parents |
//!
//! Loading never happens behind the reader's back: the query says what to load, or
//! `Executor::load` does it later, with an `await` the reader can see. Loads of several
//! relationships of the same parents go out together (pipelined on one connection); nested loads
//! (`users -> orders -> items`) cost one query per level, whatever the row counts.
//!
//! This module holds the metadata and the loading logic; it does no IO itself: the driver crate
//! provides a [`QueryRunner`].

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use postgres_types::{FromSql, Kind, Type};

use crate::ast::{FromItem, Join, JoinKind, JoinOn, Query, SelectCore};
use crate::compile::{self, CompiledQuery, SqlWriter};
use crate::error::{BoxError, Error, ErrorKind, Result};
use crate::expr::{BinOp, ColumnRef, Expr, Node, OrderBy, Ordering, Param};
use crate::meta::Table;
use crate::model::Model;
use crate::row::{Decode, FromRow, Row};

/// A relationship field's value: not loaded yet, or loaded.
///
/// `T` is the target model (`belongs_to` with a required key), `Option<T>` (`belongs_to` with a
/// nullable key, `has_one`) or `Vec<T>` (`has_many`, `many_to_many`). Reading it before it is
/// loaded is an error, never a query.
#[derive(Clone)]
pub struct Related<T> {
    /// Boxed, so a model can relate to itself (`Related<Option<Employee>>` inside `Employee`).
    value: Option<Box<T>>,
    meta: Option<&'static RelationMeta>,
}

/// Equal when both are loaded with equal values, or both not loaded.
impl<T: PartialEq> PartialEq for Related<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T> Default for Related<T> {
    fn default() -> Self {
        Related {
            value: None,
            meta: None,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Related<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => f.debug_tuple("Loaded").field(v).finish(),
            None => f.write_str("NotLoaded"),
        }
    }
}

impl<T> Related<T> {
    /// Not loaded (what decoding a row gives).
    pub fn not_loaded() -> Self {
        Related::default()
    }

    /// Not loaded, naming its relationship in the error (what the derive generates).
    pub const fn unloaded(meta: &'static RelationMeta) -> Self {
        Related {
            value: None,
            meta: Some(meta),
        }
    }

    /// Loaded with `value` (e.g. to build a graph of new objects by hand).
    pub fn loaded(value: T) -> Self {
        Related {
            value: Some(Box::new(value)),
            meta: None,
        }
    }

    /// Whether it was loaded.
    pub fn is_loaded(&self) -> bool {
        self.value.is_some()
    }

    fn not_loaded_error(&self) -> Error {
        Related::<T>::unloaded_error(self.meta)
    }

    /// The loaded value, or a [`NotLoaded`](crate::ErrorKind::NotLoaded) error.
    pub fn get(&self) -> Result<&T> {
        self.value.as_deref().ok_or_else(|| self.not_loaded_error())
    }

    /// The loaded value, mutably, or a `NotLoaded` error.
    pub fn get_mut(&mut self) -> Result<&mut T> {
        let meta = self.meta;
        match self.value.as_deref_mut() {
            Some(v) => Ok(v),
            None => Err(Related::<T>::unloaded_error(meta)),
        }
    }

    fn unloaded_error(meta: Option<&'static RelationMeta>) -> Error {
        let (model, relationship) = meta.map_or(("?", "?"), |m| (m.model, m.name));
        ErrorKind::NotLoaded {
            model,
            relationship,
        }
        .into()
    }

    /// The loaded value, if loaded.
    pub fn as_option(&self) -> Option<&T> {
        self.value.as_deref()
    }

    /// Sets the value (marks it loaded).
    pub fn set(&mut self, value: T) {
        self.value = Some(Box::new(value));
    }

    /// Takes the value out, leaving it not loaded.
    pub fn take(&mut self) -> Option<T> {
        self.value.take().map(|b| *b)
    }
}

/// The kind of a relationship.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationKind {
    /// Many-to-one: this model holds the foreign key.
    BelongsTo,
    /// One-to-one: the target holds a (unique) foreign key to this model.
    HasOne,
    /// One-to-many: the target holds a foreign key to this model.
    HasMany,
    /// Many-to-many through an association table.
    ManyToMany,
}

/// Which session operations follow a relationship from parent to children, as in SQLAlchemy:
/// `#[relationship(has_many = Comment, cascade = "all, delete-orphan")]`.
///
/// | option | effect |
/// |---|---|
/// | `save-update` | adding the parent adds the children in the relationship (default) |
/// | `merge` | merging the parent merges the children it holds (default) |
/// | `delete` | deleting the parent deletes the children (loading them first unless `passive_deletes`) |
/// | `delete-orphan` | a child removed from the parent's collection is deleted |
/// | `expunge` | expunging the parent expunges the children |
/// | `refresh-expire` | expiring the parent expires the children |
/// | `all` | all of the above but `delete-orphan` |
/// | `none` | nothing |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cascade(u8);

impl Cascade {
    /// Nothing cascades.
    pub const NONE: Cascade = Cascade(0);
    /// `save-update`
    pub const SAVE_UPDATE: Cascade = Cascade(1);
    /// `merge`
    pub const MERGE: Cascade = Cascade(2);
    /// `delete`
    pub const DELETE: Cascade = Cascade(4);
    /// `delete-orphan`
    pub const DELETE_ORPHAN: Cascade = Cascade(8);
    /// `expunge`
    pub const EXPUNGE: Cascade = Cascade(16);
    /// `refresh-expire`
    pub const REFRESH_EXPIRE: Cascade = Cascade(32);
    /// `save-update, merge`: SQLAlchemy's default.
    pub const DEFAULT: Cascade = Cascade(1 | 2);
    /// `all`: everything but `delete-orphan`.
    pub const ALL: Cascade = Cascade(1 | 2 | 4 | 16 | 32);

    /// Both sets of options.
    pub const fn union(self, other: Cascade) -> Cascade {
        Cascade(self.0 | other.0)
    }

    /// Whether every option of `other` is set.
    pub const fn contains(self, other: Cascade) -> bool {
        self.0 & other.0 == other.0
    }

    /// Parses SQLAlchemy's comma-separated form (`"all, delete-orphan"`); `None` for an unknown
    /// option.
    pub fn parse(text: &str) -> Option<Cascade> {
        let mut out = Cascade::NONE;
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            out = out.union(match part {
                "save-update" => Cascade::SAVE_UPDATE,
                "merge" => Cascade::MERGE,
                "delete" => Cascade::DELETE,
                "delete-orphan" => Cascade::DELETE_ORPHAN,
                "expunge" => Cascade::EXPUNGE,
                "refresh-expire" => Cascade::REFRESH_EXPIRE,
                "all" => Cascade::ALL,
                "none" => Cascade::NONE,
                _ => return None,
            });
        }
        Some(out)
    }

    /// The raw bits (for the derive).
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// From raw bits (for the derive).
    pub const fn from_bits(bits: u8) -> Cascade {
        Cascade(bits & 63)
    }
}

/// What the derive knows about one relationship field.
#[derive(Debug)]
#[non_exhaustive]
pub struct RelationMeta {
    /// The model owning the field.
    pub model: &'static str,
    /// The field's name.
    pub name: &'static str,
    /// The kind.
    pub kind: RelationKind,
    /// This model's table.
    pub parent: &'static Table,
    /// The target model's table.
    pub target: &'static Table,
    /// The foreign-key columns when named (on this table for `belongs_to`, on the target for
    /// `has_one`/`has_many`, on the association table towards this model for `many_to_many`);
    /// inferred from the declared foreign keys when empty.
    pub foreign_key: &'static [&'static str],
    /// For `many_to_many`: the association table.
    pub secondary: Option<&'static Table>,
    /// For `many_to_many`: the association table's columns pointing at the target (inferred when
    /// empty).
    pub secondary_target_key: &'static [&'static str],
    /// Ordering of loaded collections: (column of the target, descending).
    pub order_by: &'static [(&'static str, bool)],
    /// The relationship on the other side, if declared.
    pub back_populates: Option<&'static str>,
    /// Which session operations follow the relationship.
    pub cascade: Cascade,
    /// Deleting the parent relies on the database's `ON DELETE CASCADE` for children that are
    /// not loaded, instead of loading and deleting them.
    pub passive_deletes: bool,
}

impl RelationMeta {
    /// A relationship with no explicit columns, ordering or secondary table.
    pub const fn new(
        model: &'static str,
        name: &'static str,
        kind: RelationKind,
        parent: &'static Table,
        target: &'static Table,
    ) -> Self {
        RelationMeta {
            model,
            name,
            kind,
            parent,
            target,
            foreign_key: &[],
            secondary: None,
            secondary_target_key: &[],
            order_by: &[],
            back_populates: None,
            cascade: Cascade::DEFAULT,
            passive_deletes: false,
        }
    }

    /// Sets the cascade options.
    pub const fn cascade(mut self, cascade: Cascade) -> Self {
        self.cascade = cascade;
        self
    }

    /// Relies on `ON DELETE CASCADE` for children that are not loaded.
    pub const fn passive_deletes(mut self) -> Self {
        self.passive_deletes = true;
        self
    }

    /// Names the foreign-key columns.
    pub const fn foreign_key(mut self, columns: &'static [&'static str]) -> Self {
        self.foreign_key = columns;
        self
    }

    /// Sets the association table of a many-to-many relationship.
    pub const fn secondary(mut self, table: &'static Table) -> Self {
        self.secondary = Some(table);
        self
    }

    /// Names the association table's columns pointing at the target.
    pub const fn secondary_target_key(mut self, columns: &'static [&'static str]) -> Self {
        self.secondary_target_key = columns;
        self
    }

    /// Orders loaded collections.
    pub const fn order_by(mut self, order: &'static [(&'static str, bool)]) -> Self {
        self.order_by = order;
        self
    }

    /// Names the relationship on the other side.
    pub const fn back_populates(mut self, name: &'static str) -> Self {
        self.back_populates = Some(name);
        self
    }

    /// The relationship's ordering of loaded children, on the target qualified by `target`.
    fn ordering(&self, target: &'static str) -> Vec<OrderBy> {
        self.order_by
            .iter()
            .map(|(c, desc)| {
                let mut o = OrderBy::from_node(col(target, c));
                if *desc {
                    o.ordering = Ordering::Desc;
                }
                o
            })
            .collect()
    }

    /// The join between this model's table and the target's (through the association table for
    /// many-to-many), resolving foreign keys from the metadata. Named foreign keys may be Rust
    /// field names or column names.
    pub fn resolve(&self) -> Result<Resolved> {
        let r = self.resolve_raw()?;
        let to_columns = |t: &'static Table, names: Vec<&'static str>| -> Vec<&'static str> {
            names
                .into_iter()
                .map(|n| {
                    t.columns
                        .iter()
                        .find(|c| c.field == n)
                        .map_or(n, |c| c.name)
                })
                .collect()
        };
        Ok(match r.secondary {
            None => match self.kind {
                RelationKind::BelongsTo => Resolved {
                    parent_cols: to_columns(self.parent, r.parent_cols),
                    ..r
                },
                _ => Resolved {
                    target_cols: to_columns(self.target, r.target_cols),
                    ..r
                },
            },
            Some((sec, to_parent, to_target)) => Resolved {
                secondary: Some((sec, to_columns(sec, to_parent), to_columns(sec, to_target))),
                ..r
            },
        })
    }

    fn resolve_raw(&self) -> Result<Resolved> {
        let pk =
            |t: &'static Table| -> Vec<&'static str> { t.primary_key().map(|c| c.name).collect() };
        let fks_between = |from: &'static Table, to: &'static Table| -> Vec<Vec<&'static str>> {
            from.columns
                .iter()
                .filter(|c| {
                    c.references.as_ref().is_some_and(|fk| {
                        fk.table == to.name && fk.schema.or(from.schema) == to.schema
                    })
                })
                .map(|c| vec![c.name])
                .collect()
        };
        let pick = |named: &'static [&'static str],
                    candidates: Vec<Vec<&'static str>>,
                    what: String|
         -> Result<Vec<&'static str>> {
            if !named.is_empty() {
                return Ok(named.to_vec());
            }
            match candidates.len() {
                1 => Ok(candidates.into_iter().next().unwrap_or_default()),
                0 => Err(Error::invalid_statement(format!(
                    "relationship `{}.{}`: no foreign key from {what}; name it with foreign_key = \"...\"",
                    self.model, self.name
                ))),
                _ => Err(Error::invalid_statement(format!(
                    "relationship `{}.{}`: several foreign keys from {what}; name one with foreign_key = \"...\"",
                    self.model, self.name
                ))),
            }
        };
        Ok(match self.kind {
            RelationKind::BelongsTo => Resolved {
                parent_cols: pick(
                    self.foreign_key,
                    fks_between(self.parent, self.target),
                    format!("{:?} to {:?}", self.parent.name, self.target.name),
                )?,
                target_cols: pk(self.target),
                secondary: None,
            },
            RelationKind::HasOne | RelationKind::HasMany => Resolved {
                parent_cols: pk(self.parent),
                target_cols: pick(
                    self.foreign_key,
                    fks_between(self.target, self.parent),
                    format!("{:?} to {:?}", self.target.name, self.parent.name),
                )?,
                secondary: None,
            },
            RelationKind::ManyToMany => {
                let sec = self.secondary.ok_or_else(|| {
                    Error::invalid_statement(format!(
                        "relationship `{}.{}`: many_to_many needs secondary = Model",
                        self.model, self.name
                    ))
                })?;
                let to_parent = pick(
                    self.foreign_key,
                    fks_between(sec, self.parent),
                    format!("{:?} to {:?}", sec.name, self.parent.name),
                )?;
                let to_target = pick(
                    self.secondary_target_key,
                    fks_between(sec, self.target)
                        .into_iter()
                        .filter(|c| !std::ptr::eq(self.parent, self.target) || *c != to_parent)
                        .collect(),
                    format!("{:?} to {:?}", sec.name, self.target.name),
                )?;
                Resolved {
                    parent_cols: pk(self.parent),
                    target_cols: pk(self.target),
                    secondary: Some((sec, to_parent, to_target)),
                }
            }
        })
    }
}

/// A relationship's join columns, resolved from the metadata.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Columns of the parent table holding the key.
    pub parent_cols: Vec<&'static str>,
    /// Columns of the target table matched against it (for many-to-many: the target's key,
    /// matched by the association table).
    pub target_cols: Vec<&'static str>,
    /// For many-to-many: the association table, its columns towards the parent and towards the
    /// target.
    pub secondary: Option<(&'static Table, Vec<&'static str>, Vec<&'static str>)>,
}

/// A relationship, as the derive implements it for each `#[relationship]` field.
pub trait Relation: Send + Sync + 'static {
    /// The model owning the field.
    type Parent: Model;
    /// The related model.
    type Target: Model;
    /// The key linking them (a value, or a tuple for composite keys).
    type Key: Decode<Output = Self::Key> + Eq + Hash + Clone + Send + Sync + 'static;
    /// The field's loaded value: `Target`, `Option<Target>` or `Vec<Target>`.
    type Value: RelatedValue<Self::Target>;
    /// The metadata.
    const META: &'static RelationMeta;
    /// The parent's key (`None` when a nullable foreign key is `NULL`).
    fn parent_key(parent: &Self::Parent) -> Option<Self::Key>;
    /// The keys as parameters: one array per key column.
    fn key_params(keys: Vec<Self::Key>) -> Vec<Param>;
    /// The field.
    fn slot(parent: &mut Self::Parent) -> &mut Related<Self::Value>;
}

/// What a relationship field holds once loaded, built from the rows found for one parent.
#[diagnostic::on_unimplemented(
    message = "a relationship to `{T}` cannot be held in a `Related<{Self}>`",
    label = "expected `Related<{T}>`, `Related<Option<{T}>>` or `Related<Vec<{T}>>`"
)]
pub trait RelatedValue<T>: Sized + Send + 'static {
    /// Builds the value from the children found for one parent.
    fn from_children(children: Vec<T>, meta: &'static RelationMeta) -> Result<Self>;
    /// The loaded children (for nested loads).
    fn children_mut(&mut self) -> Vec<&mut T>;
}

impl<T: Send + 'static> RelatedValue<T> for Vec<T> {
    fn from_children(children: Vec<T>, _: &'static RelationMeta) -> Result<Self> {
        Ok(children)
    }
    fn children_mut(&mut self) -> Vec<&mut T> {
        self.iter_mut().collect()
    }
}

impl<T: Send + 'static> RelatedValue<T> for Option<T> {
    fn from_children(children: Vec<T>, _: &'static RelationMeta) -> Result<Self> {
        Ok(children.into_iter().next())
    }
    fn children_mut(&mut self) -> Vec<&mut T> {
        self.iter_mut().collect()
    }
}

/// A required to-one relationship: exactly one target must exist.
impl<T: Model + Send + 'static> RelatedValue<T> for T {
    fn from_children(children: Vec<T>, meta: &'static RelationMeta) -> Result<Self> {
        children.into_iter().next().ok_or_else(|| {
            Error::invalid_statement(format!(
                "relationship `{}.{}`: the referenced row does not exist",
                meta.model, meta.name
            ))
        })
    }
    fn children_mut(&mut self) -> Vec<&mut T> {
        vec![self]
    }
}

/// Reads a key out of a field: `K` itself, or `Option<K>` (a nullable foreign key). Used by the
/// derive; its bounds are what make a foreign key of the wrong type fail to compile.
#[diagnostic::on_unimplemented(
    message = "a field of type `{Self}` cannot hold a key of type `{K}`",
    label = "the foreign key's type does not match the referenced key"
)]
pub trait KeyOf<K> {
    /// The key, or `None` for a `NULL` foreign key.
    fn key_of(&self) -> Option<K>;
}

impl<K: Clone> KeyOf<K> for K {
    fn key_of(&self) -> Option<K> {
        Some(self.clone())
    }
}

impl<K: Clone> KeyOf<K> for Option<K> {
    fn key_of(&self) -> Option<K> {
        self.clone()
    }
}

/// The typed handle of a relationship: `User::orders`. Choose a loading strategy with
/// [`selectin`](Relationship::selectin) & co, filter through it with
/// [`any`](Relationship::any) / [`has`](Relationship::has), or join along it with
/// `Select::join_rel`.
pub struct Relationship<R>(PhantomData<fn() -> R>);

impl<R> Clone for Relationship<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R> Copy for Relationship<R> {}

impl<R: Relation> fmt::Debug for Relationship<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Relationship({}.{})", R::META.model, R::META.name)
    }
}

impl<R> Relationship<R> {
    /// The handle (generated by the derive).
    pub const fn new() -> Self {
        Relationship(PhantomData)
    }
}

impl<R> Default for Relationship<R> {
    fn default() -> Self {
        Relationship::new()
    }
}

/// How a relationship is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// A second query with the parents' keys as one array.
    SelectIn,
    /// A second query filtering by the parent query as a subquery.
    Subquery,
    /// A `LEFT JOIN` in the parent query.
    Joined,
}

impl<R: Relation> Relationship<R>
where
    R::Target: Clone,
{
    fn strategy(self, strategy: Strategy) -> Load<R> {
        Load {
            strategy,
            nested: Vec::new(),
        }
    }

    /// Load with one extra query per level: `WHERE fk = ANY($1)`, the parents' keys as one
    /// array parameter (so the SQL is the same for any number of parents).
    pub fn selectin(self) -> Load<R> {
        self.strategy(Strategy::SelectIn)
    }

    /// Load with one extra query filtering by the parent query itself (as a subquery); falls
    /// back to `selectin` when there is no parent query (explicit loads).
    pub fn subquery(self) -> Load<R> {
        self.strategy(Strategy::Subquery)
    }

    /// Load in the parent query itself, with a `LEFT JOIN`; the rows are folded back into their
    /// parents (a query with `LIMIT`/`OFFSET`/`DISTINCT`/grouping becomes a subquery so the limit
    /// counts parents). Joins apply to the query's own rows: nested under another load, or for
    /// objects already in hand (`Executor::load`), a joined load runs as `selectin`.
    pub fn joined(self) -> Load<R> {
        self.strategy(Strategy::Joined)
    }
}

impl<R: Relation> Relationship<R> {
    /// `EXISTS (SELECT 1 FROM target WHERE <link> AND condition)`: parents with at least one
    /// related row matching `condition`.
    pub fn any(self, condition: impl Into<Expr<bool>>) -> Expr<bool> {
        exists_related::<R>(Some(condition.into()))
    }

    /// Parents with at least one related row.
    pub fn exists(self) -> Expr<bool> {
        exists_related::<R>(None)
    }

    /// For to-one relationships: parents whose related row matches `condition` (the same
    /// `EXISTS`, named for readability).
    pub fn has(self, condition: impl Into<Expr<bool>>) -> Expr<bool> {
        exists_related::<R>(Some(condition.into()))
    }

    /// The join items that follow this relationship from the parent's table (two for
    /// many-to-many), and whether it resolved.
    pub fn join_items(self, kind: JoinKind) -> Result<Vec<Join>> {
        let meta = R::META;
        if std::ptr::eq(meta.target, meta.parent) {
            return Err(Error::invalid_statement(format!(
                "relationship `{}.{}` joins a table to itself: declare an alias (alias!(Other = {})) and join it with an explicit condition",
                meta.model, meta.name, meta.model
            )));
        }
        let r = meta.resolve()?;
        let parent_q = R::Parent::TABLE.name;
        let target_q = meta.target.name;
        Ok(match &r.secondary {
            None => vec![Join {
                kind,
                item: FromItem::Table {
                    table: meta.target,
                    alias: None,
                },
                on: JoinOn::On(eq_cols(parent_q, &r.parent_cols, target_q, &r.target_cols)),
            }],
            Some((sec, to_parent, to_target)) => vec![
                Join {
                    kind,
                    item: FromItem::Table {
                        table: sec,
                        alias: None,
                    },
                    on: JoinOn::On(eq_cols(sec.name, to_parent, parent_q, &r.parent_cols)),
                },
                Join {
                    kind,
                    item: FromItem::Table {
                        table: meta.target,
                        alias: None,
                    },
                    on: JoinOn::On(eq_cols(target_q, &r.target_cols, sec.name, to_target)),
                },
            ],
        })
    }
}

/// `JOIN association ON association.<to_target> = target.<target_cols>`.
fn association_join(
    sec: &'static Table,
    to_target: &[&'static str],
    target: &'static str,
    target_cols: &[&'static str],
) -> Join {
    Join {
        kind: JoinKind::Inner,
        item: FromItem::Table {
            table: sec,
            alias: None,
        },
        on: JoinOn::On(eq_cols(sec.name, to_target, target, target_cols)),
    }
}

fn col(table: &'static str, name: &'static str) -> Node {
    Node::Column(ColumnRef { table, name })
}

/// `l1 = r1 AND l2 = r2 ...`
fn eq_cols(lt: &'static str, lc: &[&'static str], rt: &'static str, rc: &[&'static str]) -> Node {
    let mut out: Option<Node> = None;
    for (l, r) in lc.iter().zip(rc) {
        let eq = Node::Binary(BinOp::Eq, Box::new(col(lt, l)), Box::new(col(rt, r)));
        out = Some(match out {
            None => eq,
            Some(prev) => Node::Binary(BinOp::And, Box::new(prev), Box::new(eq)),
        });
    }
    out.unwrap_or(Node::Keyword("FALSE"))
}

fn exists_related<R: Relation>(condition: Option<Expr<bool>>) -> Expr<bool> {
    let meta = R::META;
    let r = match meta.resolve() {
        Ok(r) => r,
        // An unresolvable relationship is reported when the statement compiles.
        Err(e) => return Expr::new(Node::Raw(Box::new(crate::raw::RawSql::failing(e)))),
    };
    let parent_q = R::Parent::TABLE.name;
    // A relationship to its own table: the inner table gets an alias (a fresh one per nesting
    // level), and the condition, written with the model's columns meaning the related row, is
    // adapted to it (also inside nested relationship filters, whose links refer to it).
    const ALIASES: [&str; 8] = [
        "orm_t0", "orm_t1", "orm_t2", "orm_t3", "orm_t4", "orm_t5", "orm_t6", "orm_t7",
    ];
    let self_referential = std::ptr::eq(meta.target, meta.parent);
    let mut condition = condition.map(Expr::into_node);
    let (target_q, target_alias) = if self_referential {
        let level = condition.as_ref().map_or(0, |c| c.count_aliases("orm_t"));
        let Some(alias) = ALIASES.get(level) else {
            return Expr::new(Node::Raw(Box::new(crate::raw::RawSql::failing(
                Error::invalid_statement("self-referential relationship filters nest too deep"),
            ))));
        };
        if let Some(c) = condition.as_mut() {
            c.requalify(meta.target.name, alias);
        }
        (*alias, Some(*alias))
    } else {
        (meta.target.name, None)
    };
    let condition = condition.map(Expr::<bool>::new);
    let mut core = SelectCore {
        columns: vec![Node::Keyword("1")],
        from: vec![FromItem::Table {
            table: meta.target,
            alias: target_alias,
        }],
        ..SelectCore::default()
    };
    let link = match &r.secondary {
        None => eq_cols(target_q, &r.target_cols, parent_q, &r.parent_cols),
        Some((sec, to_parent, to_target)) => {
            // The target may be aliased (self-referential): join the association table to it.
            core.joins
                .push(association_join(sec, to_target, target_q, &r.target_cols));
            eq_cols(sec.name, to_parent, parent_q, &r.parent_cols)
        }
    };
    core.filter = Some(match condition {
        None => link,
        Some(c) => Node::Binary(BinOp::And, Box::new(link), Box::new(c.into_node())),
    });
    Expr::new(Node::Exists(Box::new(Query::from(core))))
}

// ----- loading ---------------------------------------------------------------------------

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Access to one row's raw values, for decoding without knowing the driver's row type.
pub trait RowAccess {
    /// The type and raw bytes (`None` for `NULL`) of column `idx`.
    fn raw(&self, idx: usize) -> std::result::Result<(&Type, Option<&[u8]>), BoxError>;
    /// The number of columns.
    fn len(&self) -> usize;
    /// Whether the row has no columns.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The base type of a domain (through nested domains), if `ty` is one.
pub fn domain_base(ty: &Type) -> Option<&Type> {
    match ty.kind() {
        Kind::Domain(base) => Some(domain_base(base).unwrap_or(base)),
        _ => None,
    }
}

impl Row for dyn RowAccess + '_ {
    fn get_at<'a, T: FromSql<'a>>(&'a self, idx: usize) -> std::result::Result<T, BoxError> {
        let (ty, raw) = self.raw(idx)?;
        let ty = if T::accepts(ty) {
            ty
        } else {
            match domain_base(ty) {
                Some(base) if T::accepts(base) => base,
                _ => {
                    return Err(format!(
                        "cannot convert between the Rust type `{}` and the Postgres type `{}`",
                        std::any::type_name::<T>(),
                        ty.name()
                    )
                    .into());
                }
            }
        };
        T::from_sql_nullable(ty, raw)
    }

    fn width(&self) -> usize {
        self.len()
    }
}

/// Receives the rows of one query.
pub type RowSink<'a> = Box<dyn FnMut(&dyn RowAccess) -> Result<()> + Send + 'a>;

/// Runs queries for loaders: the IO seam the driver crate implements.
pub trait QueryRunner: Sync {
    /// Runs the queries (pipelined where possible), feeding each one's rows to its sink;
    /// returns each one's outcome, in order.
    fn run_all<'a>(
        &'a self,
        jobs: Vec<(CompiledQuery, RowSink<'a>)>,
    ) -> BoxFuture<'a, Vec<Result<()>>>;
}

/// A type-erased loader of one relationship (with its nested loads) for parents of type `P`.
pub trait Loader<P>: Send + Sync {
    /// The loader's strategy.
    fn strategy(&self) -> Strategy;
    /// The query that loads the relationship for these parents (`None` when none has a key).
    fn query(&self, parents: &[&P], parent_query: Option<&Query>) -> Result<Option<Query>>;
    /// A buffer decoding the query's rows.
    fn buffer(&self) -> Box<dyn Any + Send>;
    /// Decodes one row into the buffer.
    fn push(&self, buffer: &mut (dyn Any + Send), row: &dyn RowAccess) -> Result<()>;
    /// Assigns the loaded rows to the parents, then runs the nested loads.
    fn assign<'a>(
        &'a self,
        parents: Vec<&'a mut P>,
        buffer: Box<dyn Any + Send>,
        runner: &'a dyn QueryRunner,
        query: Option<Query>,
    ) -> BoxFuture<'a, Result<()>>;

    /// For a joined load: the `LEFT JOIN`s (from the parent qualified by `parent`), the target's
    /// columns and its ordering to add to the parent query; `slot` numbers the aliases.
    fn joined(&self, parent: &'static str, slot: usize) -> Result<JoinedParts>;
    /// For a joined load: the number of columns it adds.
    fn joined_width(&self) -> usize;
    /// For a joined load: a buffer of children per parent.
    fn joined_buffer(&self) -> Box<dyn Any + Send>;
    /// For a joined load: decodes the child at `offset` of `row` for parent number `parent`.
    fn joined_push(
        &self,
        buffer: &mut (dyn Any + Send),
        parent: usize,
        row: &dyn RowAccess,
        offset: usize,
    ) -> Result<()>;
}

/// The loads a statement asks for, and the statement's query (for subquery loading).
pub type LoadPlan<P> = (Vec<Arc<dyn Loader<P>>>, Query);

/// A relationship to load, its strategy, and what to load under it.
pub struct Load<R: Relation> {
    strategy: Strategy,
    nested: Vec<Arc<dyn Loader<R::Target>>>,
}

impl<R: Relation> fmt::Debug for Load<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Load({}.{}, {:?}, {} nested)",
            R::META.model,
            R::META.name,
            self.strategy,
            self.nested.len()
        )
    }
}

impl<R: Relation> Load<R>
where
    R::Target: Clone,
{
    /// Also loads a relationship of the loaded rows: `User::orders.selectin().load(Order::items.selectin())`.
    pub fn load(mut self, nested: impl IntoLoader<R::Target>) -> Self {
        self.nested.push(nested.into_loader());
        self
    }
}

/// Something that becomes a loader for parents `P`: a [`Load`].
pub trait IntoLoader<P> {
    /// The type-erased loader.
    fn into_loader(self) -> Arc<dyn Loader<P>>;
}

impl<R: Relation> IntoLoader<R::Parent> for Load<R>
where
    R::Target: Clone,
{
    fn into_loader(self) -> Arc<dyn Loader<R::Parent>> {
        Arc::new(self)
    }
}

/// Label of the key columns appended to a loader's select list.
const KEY_LABELS: [&str; 8] = [
    "orm_key_0",
    "orm_key_1",
    "orm_key_2",
    "orm_key_3",
    "orm_key_4",
    "orm_key_5",
    "orm_key_6",
    "orm_key_7",
];

impl<R: Relation> Load<R> {
    pub(crate) fn with_strategy(strategy: Strategy) -> Self {
        Load {
            strategy,
            nested: Vec::new(),
        }
    }

    /// The selectin query of these parents (for the session's cascades).
    pub(crate) fn session_query(&self, parents: &[&R::Parent]) -> Result<Option<Query>> {
        self.selectin_query(parents)
    }

    /// The loader query: the target's columns, then the key columns (labelled), filtered by
    /// `key_filter` built over the key column nodes.
    fn build(&self, key_filter: impl FnOnce(&[Node]) -> Result<Node>) -> Result<Query> {
        let meta = R::META;
        let r = meta.resolve()?;
        let target_q = meta.target.name;
        let mut core = SelectCore {
            columns: meta
                .target
                .columns
                .iter()
                .map(|c| col(target_q, c.name))
                .collect(),
            from: vec![FromItem::Table {
                table: meta.target,
                alias: None,
            }],
            ..SelectCore::default()
        };
        let key_nodes: Vec<Node> = match &r.secondary {
            None => r.target_cols.iter().map(|c| col(target_q, c)).collect(),
            Some((sec, to_parent, to_target)) => {
                core.joins
                    .push(association_join(sec, to_target, target_q, &r.target_cols));
                to_parent.iter().map(|c| col(sec.name, c)).collect()
            }
        };
        if key_nodes.len() > KEY_LABELS.len() {
            return Err(Error::invalid_statement(
                "a relationship key has too many columns",
            ));
        }
        for (i, k) in key_nodes.iter().enumerate() {
            core.columns
                .push(Node::Label(Box::new(k.clone()), KEY_LABELS[i]));
        }
        core.filter = Some(key_filter(&key_nodes)?);
        core.order_by = meta.ordering(target_q);
        Ok(Query::from(core))
    }

    fn selectin_query(&self, parents: &[&R::Parent]) -> Result<Option<Query>> {
        let mut seen = std::collections::HashSet::new();
        let keys: Vec<R::Key> = parents
            .iter()
            .filter_map(|p| R::parent_key(p))
            .filter(|k| seen.insert(k.clone()))
            .collect();
        if keys.is_empty() {
            return Ok(None);
        }
        let params = R::key_params(keys);
        let meta = R::META;
        let r = meta.resolve()?;
        let key_tables: Vec<&'static crate::meta::ColumnDef> = match &r.secondary {
            None => r
                .target_cols
                .iter()
                .filter_map(|c| meta.target.column(c))
                .collect(),
            Some((sec, to_parent, _)) => to_parent.iter().filter_map(|c| sec.column(c)).collect(),
        };
        self.build(|keys| {
            if keys.len() == 1 {
                let array = params.into_iter().next().ok_or_else(|| {
                    Error::invalid_statement("relationship key without a parameter")
                })?;
                return Ok(Node::InArray {
                    expr: Box::new(keys[0].clone()),
                    array: Box::new(Node::Param(array)),
                    negated: false,
                });
            }
            // Composite keys: (a, b) IN (SELECT * FROM unnest($1::t1[], $2::t2[])).
            let casts: Vec<Node> = params
                .into_iter()
                .zip(&key_tables)
                .map(|(p, c)| {
                    Node::Cast(Box::new(Node::Param(p)), crate::expr::CastType::Array(c.ty))
                })
                .collect();
            Ok(Node::InSubquery {
                expr: Box::new(Node::Row(keys.to_vec())),
                query: Box::new(Query::from(SelectCore {
                    columns: vec![Node::Keyword("*")],
                    from: vec![FromItem::Function(Node::Func("unnest", casts), "orm_keys")],
                    ..SelectCore::default()
                })),
                negated: false,
            })
        })
        .map(Some)
    }

    fn subquery_query(&self, parent_query: &Query) -> Result<Option<Query>> {
        let meta = R::META;
        let r = meta.resolve()?;
        let parent_cols: Vec<Node> = r.parent_cols.iter().map(|c| col("orm_parent", c)).collect();
        let parent_query = parent_query.clone();
        self.build(move |keys| {
            let sub = SelectCore {
                columns: parent_cols,
                from: vec![FromItem::Subquery {
                    query: Box::new(parent_query),
                    alias: "orm_parent",
                    lateral: false,
                }],
                ..SelectCore::default()
            };
            let expr = if keys.len() == 1 {
                keys[0].clone()
            } else {
                Node::Row(keys.to_vec())
            };
            Ok(Node::InSubquery {
                expr: Box::new(expr),
                query: Box::new(Query::from(sub)),
                negated: false,
            })
        })
        .map(Some)
    }
}

/// What a joined load adds to its parent query.
#[derive(Debug)]
pub struct JoinedParts {
    /// The `LEFT JOIN`s.
    pub joins: Vec<Join>,
    /// The target's columns.
    pub columns: Vec<Node>,
    /// The relationship's ordering of the children (after the parent query's own).
    pub order_by: Vec<OrderBy>,
}

/// Loaded rows and their keys, in query order.
type Buffer<R> = Vec<(<R as Relation>::Target, <R as Relation>::Key)>;

/// Joined children per parent (by parent number), and the identities of those seen.
type JoinedBuffer<R> = Vec<(
    Vec<<R as Relation>::Target>,
    std::collections::HashSet<Vec<u8>>,
)>;

/// The raw bytes of the columns `offset + i` for `i` in `columns`: what identifies a row's part.
fn raw_identity(
    row: &dyn RowAccess,
    offset: usize,
    columns: impl Iterator<Item = usize> + Clone,
) -> Result<Vec<u8>> {
    let mut size = 0;
    for i in columns.clone() {
        size += 5 + row
            .raw(offset + i)
            .map_or(0, |(_, raw)| raw.map_or(0, <[u8]>::len));
    }
    let mut id = Vec::with_capacity(size);
    for i in columns.map(|i| offset + i) {
        let (_, raw) = row
            .raw(i)
            .map_err(|e| Error::decode("row", format!("#{i}"), e))?;
        match raw {
            None => id.push(0),
            Some(bytes) => {
                id.push(1);
                id.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
                id.extend_from_slice(bytes);
            }
        }
    }
    Ok(id)
}

/// Positions of a table's primary-key columns among its columns.
fn meta_key_positions(table: &Table) -> Vec<usize> {
    table
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.primary_key)
        .map(|(i, _)| i)
        .collect()
}

/// Folds the rows of a query with joined loads: the parent part of each row (decoded by `D`)
/// once per parent, in first-seen order, and each joined load's child part into its buffer.
pub struct JoinedFold<'l, D: Decode> {
    loaders: Vec<&'l dyn Loader<D::Output>>,
    buffers: Vec<Box<dyn Any + Send>>,
    parents: Vec<D::Output>,
    seen: HashMap<Vec<u8>, usize>,
    /// The previous row's parent: rows of one parent usually come together.
    last: Option<(Vec<u8>, usize)>,
}

impl<'l, D: Decode> JoinedFold<'l, D> {
    /// A fold for the joined loads among `loaders`.
    pub fn new(loaders: &'l [Arc<dyn Loader<D::Output>>]) -> Self {
        let joined: Vec<&'l dyn Loader<D::Output>> = loaders
            .iter()
            .filter(|l| l.strategy() == Strategy::Joined)
            .map(|l| &**l)
            .collect();
        let buffers = joined.iter().map(|l| l.joined_buffer()).collect();
        JoinedFold {
            loaders: joined,
            buffers,
            parents: Vec::new(),
            seen: HashMap::new(),
            last: None,
        }
    }

    /// Takes one row (the parent's columns, each joined load's columns, then the parent row's
    /// number, which identifies it).
    pub fn push(&mut self, row: &dyn RowAccess) -> Result<()> {
        let last = row.len().checked_sub(1).ok_or_else(|| {
            Error::invalid_statement("a joined load's row has no parent row number")
        })?;
        let identity = raw_identity(row, last, 0..1)?;
        let parent = match &self.last {
            Some((last, i)) if *last == identity => *i,
            _ => {
                let i = match self.seen.get(&identity) {
                    Some(&i) => i,
                    None => {
                        self.parents.push(D::decode(row, 0)?);
                        let i = self.parents.len() - 1;
                        self.seen.insert(identity.clone(), i);
                        i
                    }
                };
                self.last = Some((identity, i));
                i
            }
        };
        let mut offset = D::WIDTH;
        for (l, buffer) in self.loaders.iter().zip(self.buffers.iter_mut()) {
            l.joined_push(&mut **buffer, parent, row, offset)?;
            offset += l.joined_width();
        }
        Ok(())
    }

    /// The parents, with the joined relationships assigned (and their nested loads run).
    pub async fn finish(self, runner: &dyn QueryRunner) -> Result<Vec<D::Output>>
    where
        D::Output: Send,
    {
        let mut parents = self.parents;
        for (l, buffer) in self.loaders.into_iter().zip(self.buffers) {
            let batch: Vec<&mut D::Output> = parents.iter_mut().collect();
            l.assign(batch, buffer, runner, None).await?;
        }
        Ok(parents)
    }
}

impl<R: Relation> Loader<R::Parent> for Load<R>
where
    R::Target: Clone,
{
    fn strategy(&self) -> Strategy {
        self.strategy
    }

    fn query(&self, parents: &[&R::Parent], parent_query: Option<&Query>) -> Result<Option<Query>> {
        match (self.strategy, parent_query) {
            (Strategy::Subquery, Some(q)) => self.subquery_query(q),
            _ => self.selectin_query(parents),
        }
    }

    fn buffer(&self) -> Box<dyn Any + Send> {
        Box::new(Buffer::<R>::new())
    }

    fn push(&self, buffer: &mut (dyn Any + Send), row: &dyn RowAccess) -> Result<()> {
        let buffer = buffer
            .downcast_mut::<Buffer<R>>()
            .ok_or_else(|| Error::invalid_statement("loader buffer of the wrong type"))?;
        let target = <R::Target as FromRow>::from_row(row, 0)?;
        let key = R::Key::decode(row, <R::Target as FromRow>::WIDTH)?;
        buffer.push((target, key));
        Ok(())
    }

    fn joined(&self, parent: &'static str, slot: usize) -> Result<JoinedParts> {
        const TARGET: [&str; 8] = [
            "orm_j0", "orm_j1", "orm_j2", "orm_j3", "orm_j4", "orm_j5", "orm_j6", "orm_j7",
        ];
        const SECONDARY: [&str; 8] = [
            "orm_s0", "orm_s1", "orm_s2", "orm_s3", "orm_s4", "orm_s5", "orm_s6", "orm_s7",
        ];
        let (Some(t), Some(sa)) = (TARGET.get(slot), SECONDARY.get(slot)) else {
            return Err(Error::invalid_statement("at most 8 joined loads per query"));
        };
        let meta = R::META;
        let r = meta.resolve()?;
        let target_item = FromItem::Table {
            table: meta.target,
            alias: Some(t),
        };
        let joins = match &r.secondary {
            None => vec![Join {
                kind: JoinKind::Left,
                item: target_item,
                on: JoinOn::On(eq_cols(parent, &r.parent_cols, t, &r.target_cols)),
            }],
            Some((sec, to_parent, to_target)) => vec![
                Join {
                    kind: JoinKind::Left,
                    item: FromItem::Table {
                        table: sec,
                        alias: Some(sa),
                    },
                    on: JoinOn::On(eq_cols(sa, to_parent, parent, &r.parent_cols)),
                },
                Join {
                    kind: JoinKind::Left,
                    item: target_item,
                    on: JoinOn::On(eq_cols(t, &r.target_cols, sa, to_target)),
                },
            ],
        };
        let columns = meta.target.columns.iter().map(|c| col(t, c.name)).collect();
        let order_by = meta.ordering(t);
        Ok(JoinedParts {
            joins,
            columns,
            order_by,
        })
    }

    fn joined_width(&self) -> usize {
        <R::Target as FromRow>::WIDTH
    }

    fn joined_buffer(&self) -> Box<dyn Any + Send> {
        Box::new(JoinedBuffer::<R>::new())
    }

    fn joined_push(
        &self,
        buffer: &mut (dyn Any + Send),
        parent: usize,
        row: &dyn RowAccess,
        offset: usize,
    ) -> Result<()> {
        let buffer = buffer
            .downcast_mut::<JoinedBuffer<R>>()
            .ok_or_else(|| Error::invalid_statement("loader buffer of the wrong type"))?;
        let Some(child) = crate::model::decode_optional::<R::Target, _>(row, offset)? else {
            return Ok(());
        };
        // A child is identified by its primary key.
        let key_positions = meta_key_positions(R::Target::TABLE);
        let identity = raw_identity(row, offset, key_positions.iter().copied())?;
        if buffer.len() <= parent {
            buffer.resize_with(parent + 1, Default::default);
        }
        let (children, seen) = &mut buffer[parent];
        // The same child on several rows (a product with another joined collection): once.
        if seen.insert(identity) {
            children.push(child);
        }
        Ok(())
    }

    fn assign<'a>(
        &'a self,
        mut parents: Vec<&'a mut R::Parent>,
        buffer: Box<dyn Any + Send>,
        runner: &'a dyn QueryRunner,
        query: Option<Query>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            // Joined rows come per parent (from the parent query's fold); selectin and subquery
            // rows (also a joined load run on objects in hand) come with their keys.
            let buffer = match buffer.downcast::<JoinedBuffer<R>>() {
                Ok(per_parent) => {
                    let mut per_parent = per_parent.into_iter();
                    for p in parents.iter_mut() {
                        let children = per_parent.next().map(|(c, _)| c).unwrap_or_default();
                        R::slot(p).set(R::Value::from_children(children, R::META)?);
                    }
                    None
                }
                Err(other) => Some(other),
            };
            if let Some(buffer) = buffer {
                let rows = *buffer
                    .downcast::<Buffer<R>>()
                    .map_err(|_| Error::invalid_statement("loader buffer of the wrong type"))?;
                assign_rows::<R>(&mut parents, rows)?;
            }
            if !self.nested.is_empty() {
                let mut children: Vec<&mut R::Target> = Vec::new();
                for p in parents.iter_mut() {
                    if let Ok(v) = R::slot(p).get_mut() {
                        children.extend(v.children_mut());
                    }
                }
                run_loads(runner, children, &self.nested, query.as_ref(), false).await?;
            }
            Ok(())
        })
    }
}

/// Groups rows by key and gives each parent its children; rows shared by several parents (a
/// target of many-to-one or many-to-many) are cloned, the last taker gets the original.
fn assign_rows<R: Relation>(parents: &mut [&mut R::Parent], rows: Buffer<R>) -> Result<()>
where
    R::Target: Clone,
{
    let mut by_key: HashMap<R::Key, (Vec<R::Target>, usize)> = HashMap::new();
    for (target, key) in rows {
        by_key.entry(key).or_default().0.push(target);
    }
    let keys: Vec<Option<R::Key>> = parents.iter().map(|p| R::parent_key(p)).collect();
    for k in keys.iter().flatten() {
        if let Some(entry) = by_key.get_mut(k) {
            entry.1 += 1;
        }
    }
    for (parent, key) in parents.iter_mut().zip(keys) {
        let children = key
            .and_then(|k| {
                let entry = by_key.get_mut(&k)?;
                entry.1 -= 1;
                Some(if entry.1 == 0 {
                    std::mem::take(&mut entry.0)
                } else {
                    entry.0.clone()
                })
            })
            .unwrap_or_default();
        let value = R::Value::from_children(children, R::META)?;
        R::slot(parent).set(value);
    }
    Ok(())
}

/// Runs `loaders` for `parents`: their queries together (pipelined by the runner), then each
/// assignment and its nested loads. `joined_done`: the parent query already folded its joined
/// loads (otherwise, e.g. for objects in hand or nested levels, a joined load runs as selectin).
pub fn run_loads<'a, P: Send>(
    runner: &'a dyn QueryRunner,
    parents: Vec<&'a mut P>,
    loaders: &'a [Arc<dyn Loader<P>>],
    parent_query: Option<&'a Query>,
    joined_done: bool,
) -> BoxFuture<'a, Result<()>> {
    Box::pin(async move {
        if parents.is_empty() || loaders.is_empty() {
            return Ok(());
        }
        // One query per loader (none when no parent has a key: the field is still set, empty).
        let mut pending: Vec<Option<(Query, CompiledQuery)>> = Vec::with_capacity(loaders.len());
        {
            let shared: Vec<&P> = parents.iter().map(|p| &**p).collect();
            for l in loaders {
                if joined_done && l.strategy() == Strategy::Joined {
                    // Loaded by the parent query itself (JoinedFold).
                    pending.push(None);
                    continue;
                }
                pending.push(match l.query(&shared, parent_query)? {
                    Some(q) => {
                        let compiled = compile_query(&q)?;
                        Some((q, compiled))
                    }
                    None => None,
                });
            }
        }
        let mut buffers: Vec<Box<dyn Any + Send>> = loaders.iter().map(|l| l.buffer()).collect();
        {
            // All the loaders' queries go out together: the runner pipelines them.
            let mut jobs: Vec<(CompiledQuery, RowSink<'_>)> = Vec::new();
            for ((loader, job), buffer) in loaders.iter().zip(&pending).zip(buffers.iter_mut()) {
                if let Some((_, compiled)) = job {
                    let buffer: &mut (dyn Any + Send) = &mut **buffer;
                    jobs.push((
                        compiled.clone(),
                        Box::new(move |row: &dyn RowAccess| loader.push(buffer, row)),
                    ));
                }
            }
            for outcome in runner.run_all(jobs).await {
                outcome?;
            }
        }
        // Each loader assigns to its own field of the same parents: one after the other.
        let mut parents = parents;
        for ((loader, job), buffer) in loaders.iter().zip(pending).zip(buffers) {
            if joined_done && loader.strategy() == Strategy::Joined {
                // Assigned by the parent query's fold.
                continue;
            }
            let batch: Vec<&mut P> = parents.iter_mut().map(|p| &mut **p).collect();
            loader
                .assign(batch, buffer, runner, job.map(|(q, _)| q))
                .await?;
        }
        Ok(())
    })
}

fn compile_query(q: &Query) -> Result<CompiledQuery> {
    let mut w = SqlWriter::new();
    compile::write_query(&mut w, q);
    compile::finish(w)
}
