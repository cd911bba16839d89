//! [`KeyPositions`]: a relationship's key columns as positions in their tables, which is how
//! the session reads and writes them (by position, through [`Persist`](super::Persist)).

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::meta::Table;
use crate::relation::{RelationKind, RelationMeta};

/// A relationship's key columns as positions in their tables (its column names are in
/// [`RelationKeys`](crate::relation::RelationKeys)).
#[derive(Debug)]
#[doc(hidden)]
pub struct KeyPositions {
    /// The foreign-key columns, in the table holding them (the target for has-many/has-one,
    /// the parent for belongs-to).
    pub(crate) fk_cols: Arc<[usize]>,
    /// The referenced key columns, in the referenced table.
    pub(crate) key_cols: Arc<[usize]>,
    /// For many-to-many: the association table and its columns.
    pub(crate) association: Option<AssociationColumns>,
}

/// The association table of a many-to-many relationship: its columns towards the parent and
/// the target, and the positions of the keys they hold in the parent and target tables.
#[derive(Debug)]
#[doc(hidden)]
pub struct AssociationColumns {
    pub(crate) table: &'static Table,
    pub(crate) to_parent: Vec<&'static str>,
    pub(crate) to_target: Vec<&'static str>,
    pub(crate) parent_key: Vec<usize>,
    pub(crate) target_key: Vec<usize>,
}

fn positions(
    table: &'static Table,
    names: &[&'static str],
    meta: &RelationMeta,
) -> Result<Arc<[usize]>> {
    names
        .iter()
        .map(|n| {
            table
                .columns
                .iter()
                .position(|c| c.name == *n)
                .ok_or_else(|| {
                    Error::invalid_statement(format!(
                        "relationship `{}.{}`: no column {n:?} in table {:?}",
                        meta.model, meta.name, table.name
                    ))
                })
        })
        .collect()
}

impl KeyPositions {
    pub(crate) fn new(meta: &'static RelationMeta) -> Result<Self> {
        let r = meta.resolve()?;
        Ok(match meta.kind {
            RelationKind::BelongsTo => KeyPositions {
                fk_cols: positions(meta.parent, &r.parent_cols, meta)?,
                key_cols: positions(meta.target, &r.target_cols, meta)?,
                association: None,
            },
            RelationKind::HasMany | RelationKind::HasOne => KeyPositions {
                fk_cols: positions(meta.target, &r.target_cols, meta)?,
                key_cols: positions(meta.parent, &r.parent_cols, meta)?,
                association: None,
            },
            RelationKind::ManyToMany => {
                let (table, to_parent, to_target) = r.secondary.ok_or_else(|| {
                    Error::invalid_statement(format!(
                        "relationship `{}.{}`: many_to_many needs secondary = Model",
                        meta.model, meta.name
                    ))
                })?;
                let parent_key = positions(meta.parent, &r.parent_cols, meta)?.to_vec();
                let target_key = positions(meta.target, &r.target_cols, meta)?.to_vec();
                KeyPositions {
                    fk_cols: Arc::from(Vec::new()),
                    key_cols: Arc::from(Vec::new()),
                    association: Some(AssociationColumns {
                        table,
                        to_parent,
                        to_target,
                        parent_key,
                        target_key,
                    }),
                }
            }
        })
    }
}
