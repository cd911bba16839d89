//! Relationships between models: the field type [`Related`], the [`Relation`] trait the derive
//! implements for each `#[relationship]` field, and the typed [`Relationship`] handle used in
//! queries (`User::orders.any(...)`, `select::<User>().join_rel(User::orders)`).
//!
//! How a relationship loads is chosen per query, by a strategy of the [`load`](crate::load)
//! module; reading a relationship that was not loaded is a
//! [`NotLoaded`](crate::ErrorKind::NotLoaded) error (the *raise* strategy, the default), never a
//! query. The relationship's static metadata is [`RelationMeta`], next to the table metadata.

use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;

use crate::ast::{Join, JoinKind};
use crate::error::{Error, ErrorKind, Result};
use crate::expr::Expr;
pub use crate::meta::{Cascade, RelationKeys, RelationKind, RelationMeta};
use crate::model::Model;
use crate::row::Decode;
use crate::stmt::source::{Cons, Inner, Outer};
use crate::stmt::{Select, rel_join};
use crate::types::Param;

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
    /// The field; `None` when this parent has no such field (a relationship of an inheritance
    /// enum that only some of its variants declare, for an object of another variant).
    fn slot(parent: &mut Self::Parent) -> Option<&mut Related<Self::Value>>;
}

/// Not public API: `Self`, the target of the relationship a `back_populates` names, leads back
/// to `M`, the model declaring the `back_populates`: they are the same model, or `Self` is an
/// inheritance enum and `M` one of its variant structs (whose relationships are the enum's).
/// The derive checks it at compile time.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`back_populates` names a relationship of the other model that leads to `{Self}`, not back to `{M}`",
    label = "this relationship's target is `{Self}`",
    note = "`back_populates` names the relationship of the target model whose target is this model"
)]
pub trait BackTo<M: ?Sized> {}

impl<M: ?Sized> BackTo<M> for M {}

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

impl<R: Relation> Relationship<R> {
    /// `EXISTS (SELECT 1 FROM target WHERE <link> AND condition)`: parents with at least one
    /// related row matching `condition`.
    pub fn any(self, condition: impl Into<Expr<bool>>) -> Expr<bool> {
        rel_join::exists_related(R::META, Some(condition.into()))
    }

    /// Parents with at least one related row.
    pub fn exists(self) -> Expr<bool> {
        rel_join::exists_related(R::META, None)
    }

    /// For to-one relationships: parents whose related row matches `condition` (the same
    /// `EXISTS`, named for readability).
    pub fn has(self, condition: impl Into<Expr<bool>>) -> Expr<bool> {
        rel_join::exists_related(R::META, Some(condition.into()))
    }

    /// The join items that follow this relationship from the parent's table (two for
    /// many-to-many), or why it does not resolve.
    pub fn join_items(self, kind: JoinKind) -> Result<Vec<Join>> {
        rel_join::join_items(R::META, kind)
    }
}

impl<M: Model, S> Select<M, S> {
    /// `JOIN` along a relationship (through the association table for many-to-many), on its
    /// declared foreign keys.
    pub fn join_rel<R: Relation<Parent = M>>(
        self,
        rel: Relationship<R>,
    ) -> Select<M, Cons<Inner<R::Target>, S>> {
        self.join_along(
            rel.join_items(JoinKind::Inner),
            JoinKind::Inner,
            R::Target::TABLE,
        )
    }

    /// `LEFT JOIN` along a relationship: the target's columns come back as `Option`.
    pub fn left_join_rel<R: Relation<Parent = M>>(
        self,
        rel: Relationship<R>,
    ) -> Select<M, Cons<Outer<R::Target>, S>> {
        self.join_along(
            rel.join_items(JoinKind::Left),
            JoinKind::Left,
            R::Target::TABLE,
        )
    }
}
