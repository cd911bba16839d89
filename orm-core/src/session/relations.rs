//! Relationships as the session sees them: taking loaded or new children out of a model's
//! `Related` fields and linking them to their parent ([`RelationOps`] of [`TypedRelation`]).
//! The statements of a relationship (many-to-many rows, cascade loads) are in `flush/links.rs`.

use std::any::Any;
use std::sync::Arc;

use super::merge::TypedMerge;
use super::persist::{MergeBatch, Persist, RelationOps, TypedRelation};
use super::unit::{Collection, ErasedEntry, ErasedRelation, UnitOfWork, collection_key};
use crate::error::{Error, Result};
use crate::relation::{RelatedValue, Relation, RelationKind, RelationMeta};

impl<R: Relation> RelationOps<R::Parent> for TypedRelation<R>
where
    R::Parent: Persist,
    R::Target: Persist,
{
    fn meta(&self) -> &'static RelationMeta {
        R::META
    }

    fn take(&self, parent: &mut R::Parent) -> Option<Box<dyn Any + Send>> {
        let mut value = R::slot(parent)?.take()?;
        let children: Vec<R::Target> = value
            .children_mut()
            .into_iter()
            .map(|c| std::mem::replace(c, c.copy_columns()))
            .collect();
        Some(Box::new(children))
    }

    fn attach(
        &self,
        uow: &mut UnitOfWork,
        parent: &Arc<dyn ErasedEntry>,
        children: Box<dyn Any + Send>,
        loaded: bool,
    ) -> Result<()> {
        let children = children
            .downcast::<Vec<R::Target>>()
            .map_err(|_| Error::object_state("relationship value of the wrong type"))?;
        let mut items = Vec::with_capacity(children.len());
        for child in *children {
            let t = if loaded {
                uow.register_loaded(child)?
            } else {
                uow.add(child)
            };
            items.push(t.erased());
        }
        // The other side of a has-many (declared with back_populates) learns its parent.
        if loaded && R::META.kind == RelationKind::HasMany {
            if let Some(back) = R::META.back_populates {
                if let Some(rev) = <R::Target as Persist>::RELATIONS
                    .iter()
                    .find(|r| r.meta().name == back && r.meta().kind == RelationKind::BelongsTo)
                {
                    let rev_meta = rev.meta();
                    for child in &items {
                        let key = collection_key(child.id(), rev_meta);
                        if let std::collections::hash_map::Entry::Vacant(slot) =
                            uow.collections.entry(key)
                        {
                            slot.insert(Collection {
                                rel: reverse_relation(rev_meta, &items)?,
                                parent: child.clone(),
                                items: vec![parent.clone()],
                                original: None,
                                complete: true,
                            });
                        }
                    }
                }
            }
        }
        let change = if loaded { None } else { Some("add") };
        uow.replace_collection(parent, TypedRelation::<R>::ERASED, items, change)
    }

    fn erased(&self) -> &'static dyn ErasedRelation {
        TypedRelation::<R>::ERASED
    }

    fn merge_children(
        &self,
        children: Box<dyn Any + Send>,
        parent: Arc<dyn ErasedEntry>,
    ) -> Result<Box<dyn MergeBatch>> {
        let children = children
            .downcast::<Vec<R::Target>>()
            .map_err(|_| Error::object_state("relationship value of the wrong type"))?;
        Ok(Box::new(TypedMerge::children(
            *children,
            parent,
            TypedRelation::<R>::ERASED,
        )))
    }
}

/// The erased operations of the reverse relationship named by `back_populates`, found through
/// a collection of the session that already uses it, or through the target's own list.
fn reverse_relation(
    meta: &'static RelationMeta,
    children: &[Arc<dyn ErasedEntry>],
) -> Result<&'static dyn ErasedRelation> {
    children
        .first()
        .and_then(|c| c.erased_model().relation_by_meta(meta))
        .ok_or_else(|| Error::object_state("back_populates: relationship not found"))
}
