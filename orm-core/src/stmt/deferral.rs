//! What a query of a model loads of its deferred columns (`#[model(deferred)]`):
//! [`undefer`](Select::undefer), [`defer`](Select::defer) and [`load_only`](Select::load_only).
//!
//! A model's `SELECT` lists a deferred column as a `NULL::void` placeholder
//! ([`DEFERRED_PLACEHOLDER`]), which decodes as "not loaded"; these methods swap the placeholder
//! and the column in place, so the row keeps its width and decodes by position as before.

use super::{DEFERRED_PLACEHOLDER, Select};
use crate::expr::access::Deferrable;
use crate::expr::{Column, ColumnRef, Node};
use crate::meta::Table;
use crate::model::{Model, PartOf};

impl<M: Model, S> Select<M, S> {
    /// Loads a deferred column with the rest of the model. A query of an inheritance enum
    /// names its variants' columns (`select::<Employee>().undefer(Manager::notes)`).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::Article;
    /// let q = select::<Article>();
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "articles"."id", "articles"."title", NULL::void FROM "articles""#);
    /// let q = select::<Article>().undefer(Article::body);
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "articles"."id", "articles"."title", "articles"."body" FROM "articles""#);
    /// ```
    pub fn undefer<N: PartOf<M>, T>(mut self, column: Column<N, T, Deferrable>) -> Self {
        self.load_column(column.table(), column.name(), true);
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
    pub fn defer<N: PartOf<M>, T>(mut self, column: Column<N, T, Deferrable>) -> Self {
        self.load_column(column.table(), column.name(), false);
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
    pub fn load_only<C: LoadList<M>>(mut self, columns: C) -> Self {
        let mut named = Vec::new();
        columns.push_columns(&mut named);
        let table = M::TABLE;
        for c in table.columns.iter().filter(|c| c.deferred) {
            let home = c.qualifier(table.name);
            let load = named.iter().any(|&(t, n)| n == c.name && t == home);
            self.load_column(home, c.name, load);
        }
        self
    }

    /// Puts the column `table.name` (or the placeholder) in its place in the model's select
    /// list.
    fn load_column(&mut self, table: &'static str, name: &'static str, load: bool) {
        let Some(i) = column_index(M::TABLE, table, name) else {
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
                    table: M::TABLE.columns[i].qualifier(qualifier),
                    name,
                })
            } else {
                DEFERRED_PLACEHOLDER
            };
        }
    }
}

/// The position of the column a handle names (`table.name`, its table being the model's or,
/// for a joined-table variant's own column, its home table) in `model`'s columns.
fn column_index(model: &'static Table, table: &str, name: &str) -> Option<usize> {
    let columns = model.columns;
    columns
        .iter()
        .position(|c| c.name == name && c.qualifier(model.name) == table)
        .or_else(|| columns.iter().position(|c| c.name == name))
}

/// The columns [`Select::load_only`] names: a column of the model (or, for an inheritance
/// enum, of one of its variant structs), or a tuple of them.
pub trait LoadList<M> {
    /// Appends each column's `(table, name)`.
    fn push_columns(self, out: &mut Vec<(&'static str, &'static str)>);
}

impl<M, N: PartOf<M>, T, A> LoadList<M> for Column<N, T, A> {
    fn push_columns(self, out: &mut Vec<(&'static str, &'static str)>) {
        out.push((self.table(), self.name()));
    }
}

macro_rules! tuple_load_list {
    ($($name:ident $idx:tt)+) => {
        impl<M, $($name: LoadList<M>),+> LoadList<M> for ($($name,)+) {
            fn push_columns(self, out: &mut Vec<(&'static str, &'static str)>) {
                $(self.$idx.push_columns(out);)+
            }
        }
    };
}

tuple_load_list!(A 0);
tuple_load_list!(A 0 B 1);
tuple_load_list!(A 0 B 1 C 2);
tuple_load_list!(A 0 B 1 C 2 D 3);
tuple_load_list!(A 0 B 1 C 2 D 3 E 4);
tuple_load_list!(A 0 B 1 C 2 D 3 E 4 F 5);
tuple_load_list!(A 0 B 1 C 2 D 3 E 4 F 5 G 6);
tuple_load_list!(A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7);
