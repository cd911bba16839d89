//! What a query of a model loads of its deferred columns (`#[model(deferred)]`):
//! [`undefer`](Select::undefer), [`defer`](Select::defer) and [`load_only`](Select::load_only).
//!
//! A model's `SELECT` lists a deferred column as a `NULL::void` placeholder
//! ([`DEFERRED_PLACEHOLDER`]), which decodes as "not loaded"; these methods swap the placeholder
//! and the column in place, so the row keeps its width and decodes by position as before.

use super::insert::ColumnList;
use super::{DEFERRED_PLACEHOLDER, Select};
use crate::expr::access::Deferrable;
use crate::expr::{Column, ColumnRef, Node};
use crate::model::Model;

impl<M: Model, S> Select<M, S> {
    /// Loads a deferred column with the rest of the model.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::Article;
    /// let q = select::<Article>();
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "articles"."id", "articles"."title", NULL::void FROM "articles""#);
    /// let q = select::<Article>().undefer(Article::body);
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "articles"."id", "articles"."title", "articles"."body" FROM "articles""#);
    /// ```
    pub fn undefer<T>(mut self, column: Column<M, T, Deferrable>) -> Self {
        self.load_column(column.name(), true);
        self
    }

    /// Leaves a deferred column out again (after [`undefer`](Self::undefer) or
    /// [`load_only`](Self::load_only)).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::Article;
    /// let q = select::<Article>().undefer(Article::body).defer(Article::body);
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "articles"."id", "articles"."title", NULL::void FROM "articles""#);
    /// ```
    pub fn defer<T>(mut self, column: Column<M, T, Deferrable>) -> Self {
        self.load_column(column.name(), false);
        self
    }

    /// Loads exactly the deferred columns named (a column or a tuple of columns of the model);
    /// the other deferred columns are left out. Columns that are not deferred are always loaded
    /// (their fields cannot be "not loaded"), so naming them changes nothing.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::Article;
    /// let q = select::<Article>().load_only((Article::id, Article::body));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "articles"."id", "articles"."title", "articles"."body" FROM "articles""#);
    /// ```
    pub fn load_only<C: ColumnList<M>>(mut self, columns: C) -> Self {
        let names = columns.names();
        for c in M::TABLE.columns.iter().filter(|c| c.deferred) {
            self.load_column(c.name, names.contains(&c.name));
        }
        self
    }

    /// Puts the column `name` (or the placeholder) in its place in the model's select list.
    fn load_column(&mut self, name: &'static str, load: bool) {
        let Some(i) = M::TABLE.columns.iter().position(|c| c.name == name) else {
            return;
        };
        // The model's columns come first; they are qualified by its table or alias, which a
        // key column (never deferred) shows.
        let qualifier = self.core.columns[..M::TABLE.columns.len().min(self.core.columns.len())]
            .iter()
            .find_map(|n| match n {
                Node::Column(c) => Some(c.table),
                _ => None,
            })
            .unwrap_or(M::TABLE.name);
        if let Some(slot) = self.core.columns.get_mut(i) {
            *slot = if load {
                Node::Column(ColumnRef {
                    table: qualifier,
                    name,
                })
            } else {
                DEFERRED_PLACEHOLDER
            };
        }
    }
}
