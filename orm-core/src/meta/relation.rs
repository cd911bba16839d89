//! Relationship metadata: what the derive knows about each `#[relationship]` field (kind,
//! tables, keys, ordering, cascades), and how its join columns resolve from the declared
//! foreign keys. Plain data, next to the table metadata; loading lives in the ORM layer.

use super::Table;
use crate::error::{Error, Result};

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
/// | `merge` | merging the parent (`Session::merge`) merges the related objects loaded on it and sets the relationship to them (default) |
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
#[derive(Debug, Clone, Copy)]
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

    /// The same relationship as one of an inheritance enum `model` (table `parent`): the
    /// variants declare it, the enum's derive lists it.
    pub const fn inherited(mut self, model: &'static str, parent: &'static Table) -> Self {
        self.model = model;
        self.parent = parent;
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

    /// The join between this model's table and the target's (through the association table for
    /// many-to-many), resolving foreign keys from the metadata. Named foreign keys may be Rust
    /// field names or column names.
    pub fn resolve(&self) -> Result<RelationKeys> {
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
                RelationKind::BelongsTo => RelationKeys {
                    parent_cols: to_columns(self.parent, r.parent_cols),
                    ..r
                },
                _ => RelationKeys {
                    target_cols: to_columns(self.target, r.target_cols),
                    ..r
                },
            },
            Some((sec, to_parent, to_target)) => RelationKeys {
                secondary: Some((sec, to_columns(sec, to_parent), to_columns(sec, to_target))),
                ..r
            },
        })
    }

    fn resolve_raw(&self) -> Result<RelationKeys> {
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
            RelationKind::BelongsTo => RelationKeys {
                parent_cols: pick(
                    self.foreign_key,
                    fks_between(self.parent, self.target),
                    format!("{:?} to {:?}", self.parent.name, self.target.name),
                )?,
                target_cols: pk(self.target),
                secondary: None,
            },
            RelationKind::HasOne | RelationKind::HasMany => RelationKeys {
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
                RelationKeys {
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
pub struct RelationKeys {
    /// Columns of the parent table holding the key.
    pub parent_cols: Vec<&'static str>,
    /// Columns of the target table matched against it (for many-to-many: the target's key,
    /// matched by the association table).
    pub target_cols: Vec<&'static str>,
    /// For many-to-many: the association table, its columns towards the parent and towards the
    /// target.
    pub secondary: Option<(&'static Table, Vec<&'static str>, Vec<&'static str>)>,
}
