//! Loading relationships: the strategies a query chooses, and the machinery that runs them.
//!
//! | strategy | what runs |
//! |---|---|
//! | *raise* (the default) | nothing: reading the field is a [`NotLoaded`](crate::ErrorKind::NotLoaded) error ([`Related::get`](crate::relation::Related::get)) |
//! | [`selectin`](crate::relation::Relationship::selectin) (`load/selectin.rs`) | one more query per relationship level: `WHERE fk = ANY($1)` with the parents' keys as one array |
//! | [`subquery`](crate::relation::Relationship::subquery) (`load/subquery.rs`) | one more query per level, filtering by the parent query itself as a subquery |
//! | [`joined`](crate::relation::Relationship::joined) (`load/joined.rs`) | nothing more: the parent query `LEFT JOIN`s the target and rows are folded into their parents |
//!
//! Loading never happens behind the reader's back: the query says what to load
//! ([`Select::load`](crate::stmt::Select::load)), or `Executor::load` does it later, with an `await` the reader can see.
//! Loads of several relationships of the same parents go out together (pipelined on one
//! connection); nested loads (`users -> orders -> items`) cost one query per level, whatever the
//! row counts. A load rides on the select through its option slot
//! ([`SelectOption`]), so the statement layer knows nothing of it.
//!
//! This module does no IO itself: the driver crate runs the queries (`load/runner.rs` is the
//! seam it implements, `load/run.rs` drives a statement's loads).

mod identity;
pub(crate) mod joined;
mod polymorphic;
pub(crate) mod run;
pub(crate) mod runner;
mod selectin;
mod subquery;

pub use polymorphic::{SelectinPlan, fetch_selectin};
use run::run_loads;
use runner::{BoxFuture, QueryRunner};
pub(crate) use runner::{RowAccess, RowSink};

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::ast::Query;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::relation::{Related, RelatedValue, Relation};
use crate::row::FromRow;
use crate::stmt::{JoinedParts, Select, SelectOption};

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
        self.keyed_buffer()
    }

    fn push(&self, buffer: &mut (dyn Any + Send), row: &dyn RowAccess) -> Result<()> {
        self.push_keyed(buffer, row)
    }

    fn joined(&self, parent: &'static str, slot: usize) -> Result<JoinedParts> {
        self.joined_parts(parent, slot)
    }

    fn joined_width(&self) -> usize {
        <R::Target as FromRow>::WIDTH
    }

    fn joined_buffer(&self) -> Box<dyn Any + Send> {
        self.joined_children_buffer()
    }

    fn joined_push(
        &self,
        buffer: &mut (dyn Any + Send),
        parent: usize,
        row: &dyn RowAccess,
        offset: usize,
    ) -> Result<()> {
        self.push_joined(buffer, parent, row, offset)
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
            let buffer = match buffer.downcast::<joined::JoinedBuffer<R>>() {
                Ok(joined) => {
                    let mut per_parent = joined.per_parent.into_iter();
                    for p in parents.iter_mut() {
                        let children = per_parent.next().unwrap_or_default();
                        if let Some(slot) = R::slot(p) {
                            slot.set(R::Value::from_children(children, R::META)?);
                        }
                    }
                    None
                }
                Err(other) => Some(other),
            };
            if let Some(buffer) = buffer {
                let rows = *buffer
                    .downcast::<selectin::Buffer<R>>()
                    .map_err(|_| Error::invalid_statement("loader buffer of the wrong type"))?;
                selectin::assign_rows::<R>(&mut parents, rows)?;
            }
            if !self.nested.is_empty() {
                let mut children: Vec<&mut R::Target> = Vec::new();
                for p in parents.iter_mut() {
                    if let Some(Ok(v)) = R::slot(p).map(Related::get_mut) {
                        children.extend(v.children_mut());
                    }
                }
                run_loads(runner, children, &self.nested, query.as_ref(), false).await?;
            }
            Ok(())
        })
    }
}

/// A load riding on a select's option slot.
pub(crate) struct LoadOption<P: 'static>(pub(crate) Arc<dyn Loader<P>>);

impl<P: Send + 'static> SelectOption<P> for LoadOption<P> {
    fn joined_width(&self) -> Option<usize> {
        (self.0.strategy() == Strategy::Joined).then(|| self.0.joined_width())
    }

    fn joined_parts(&self, parent: &'static str, slot: usize) -> Result<JoinedParts> {
        self.0.joined(parent, slot)
    }

    fn as_any(&self) -> &(dyn Any + Send + Sync) {
        self
    }
}

impl<M: Model, S> Select<M, S> {
    /// Loads a relationship of the rows with the given strategy, after they are read:
    /// `select::<User>().load(User::orders.selectin().load(Order::items.selectin()))` runs three
    /// queries whatever the row counts. Several loads of the same rows go out together.
    pub fn load(self, load: impl IntoLoader<M>) -> Self {
        self.option(LoadOption(load.into_loader()))
    }
}
