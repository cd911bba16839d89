//! Keyset pagination: [`Select::keyset`] orders a query by typed keys (each ascending, or
//! descending with [`Desc`]) and returns a [`Keyset`] statement, whose rows come with the key
//! values of the last one: the cursor of the next page ([`Page`], built by
//! `Executor::fetch_page`).
//!
//! The condition after a cursor is a row comparison, `(k1, k2) > ($1, $2)` (`<` when every key
//! is descending), which an index on the keys serves; with mixed directions it is spelled out,
//! `k1 < $1 OR (k1 = $1 AND k2 > $2)`. Keys must not be nullable: a `NULL` key compares as
//! unknown, so its row would silently fall out of every page. A nullable column is refused at
//! compile time; page over `func::coalesce(column, fallback)` instead (and end the keys with a
//! unique column, so that no two rows share a cursor).

use std::marker::PhantomData;

use super::{Criteria, Select, Statement, and_filter};
use crate::ast::{Ordering, Query};
use crate::compile::CompiledQuery;
use crate::error::{Error, Result};
use crate::expr::{BinOp, Expr, Expression, Node, OrderBy, param};
use crate::row::Decode;
use crate::types::{SqlType, param_of};

/// A descending keyset key: `Desc(User::created_at)`.
#[derive(Debug, Clone, Copy)]
pub struct Desc<E>(pub E);

/// One key of a keyset: a non-nullable column or expression (ascending), or [`Desc`] of one.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a keyset key",
    label = "a nullable column or not an expression",
    note = "keys must not be nullable: a NULL key compares as unknown and its row would drop out of every page; page over `func::coalesce(column, fallback)` instead"
)]
pub trait KeysetKey {
    /// The key's value in a cursor.
    type Value: SqlType + Clone;
    /// The key and whether it is descending.
    fn key(self) -> (Node, Ordering);
}

impl<E> KeysetKey for E
where
    E: Expression,
    E::Value: SqlType<Base = E::Value> + Clone,
{
    type Value = E::Value;
    fn key(self) -> (Node, Ordering) {
        (self.into_node(), Ordering::Asc)
    }
}

impl<E> KeysetKey for Desc<E>
where
    E: Expression,
    E::Value: SqlType<Base = E::Value> + Clone,
{
    type Value = E::Value;
    fn key(self) -> (Node, Ordering) {
        (self.0.into_node(), Ordering::Desc)
    }
}

/// The keys of a keyset: one [`KeysetKey`], or a tuple of them (up to six).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the keys of a keyset",
    label = "a nullable column, or not a key or tuple of keys",
    note = "keys must not be nullable: a NULL key compares as unknown and its row would drop out of every page; page over `func::coalesce(column, fallback)` instead",
    note = "a key is a non-nullable column or expression (ascending) or `Desc(key)`; several keys are a tuple of up to six"
)]
pub trait KeysetKeys {
    /// A cursor: the keys' values (a value, or a tuple of them).
    type Values: Decode<Output = Self::Values> + Clone + Send + 'static;
    /// The keys and their directions.
    fn keys(self) -> Vec<(Node, Ordering)>;
    /// A cursor's values as parameters, in key order: one per key. (A query whose cursor has
    /// another number of values does not compile, [`InvalidStatement`](crate::ErrorKind::InvalidStatement);
    /// turned into a [`Query`] it selects no row.)
    fn params(values: &Self::Values) -> Vec<Node>;
}

impl<K: KeysetKey> KeysetKeys for K
where
    K::Value: Decode<Output = K::Value>,
{
    type Values = K::Value;
    fn keys(self) -> Vec<(Node, Ordering)> {
        vec![self.key()]
    }
    fn params(values: &K::Value) -> Vec<Node> {
        vec![Node::Param(param_of(values.clone()))]
    }
}

macro_rules! tuple_keyset {
    ($($name:ident $idx:tt)+) => {
        impl<$($name: KeysetKey),+> KeysetKeys for ($($name,)+)
        where
            $($name::Value: Decode<Output = $name::Value>,)+
        {
            type Values = ($($name::Value,)+);
            fn keys(self) -> Vec<(Node, Ordering)> {
                vec![$(self.$idx.key()),+]
            }
            fn params(values: &Self::Values) -> Vec<Node> {
                vec![$(Node::Param(param_of(values.$idx.clone()))),+]
            }
        }
    };
}

tuple_keyset!(A 0);
tuple_keyset!(A 0 B 1);
tuple_keyset!(A 0 B 1 C 2);
tuple_keyset!(A 0 B 1 C 2 D 3);
tuple_keyset!(A 0 B 1 C 2 D 3 E 4);
tuple_keyset!(A 0 B 1 C 2 D 3 E 4 F 5);

/// A page of a keyset query: its rows and the cursor of the next page (`None` on the last).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<R, C> {
    /// The rows, at most the page size.
    pub rows: Vec<R>,
    /// The cursor after the last row, when more rows follow.
    pub next: Option<C>,
}

impl<R, C: Clone> Page<R, C> {
    /// The page of `limit` rows out of `rows` (a query for `limit + 1` rows, each with its
    /// cursor): the extra row, if any, says a next page exists.
    pub fn from_rows(mut rows: Vec<(R, C)>, limit: usize) -> Self {
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more {
            rows.last().map(|(_, c)| c.clone())
        } else {
            None
        };
        Page {
            rows: rows.into_iter().map(|(r, _)| r).collect(),
            next,
        }
    }
}

/// A keyset-paginated query: [`Select::keyset`]. Run it with `Executor::fetch_page`, which
/// returns a [`Page`]; as a statement its rows are `(row, cursor)` pairs, one more than the
/// page size.
pub struct Keyset<O, S, K: KeysetKeys> {
    select: Select<O, S>,
    keys: Vec<(Node, Ordering)>,
    after: Option<K::Values>,
    limit: i64,
    _keys: PhantomData<fn() -> K>,
}

impl<O, S> Select<O, S> {
    /// Keyset pagination over `keys` (a key or a tuple of keys, each ascending or
    /// [`Desc`]ending; end them with a unique column). Replaces the query's `ORDER BY` with
    /// the keys'; pick the page with [`after`](Keyset::after) and its size with
    /// [`limit`](Keyset::limit) (default 50). A select with a `LIMIT` or `OFFSET` of its own
    /// is refused ([`InvalidStatement`](crate::ErrorKind::InvalidStatement)).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// use orm_core::stmt::Desc;
    /// # use orm_core::__doc_fixture::User;
    /// let q = select::<User>()
    ///     .keyset((Desc(User::name), User::id))
    ///     .after(Some(("Jane".to_string(), 7_i64)))
    ///     .limit(20);
    /// assert_eq!(
    ///     q.compile().unwrap().sql,
    ///     r#"SELECT "users"."id", "users"."name", "users"."email", "users"."name", "users"."id" FROM "users" WHERE ("users"."name" < $1) OR (("users"."name" = $1) AND ("users"."id" > $2)) ORDER BY "users"."name" DESC, "users"."id" LIMIT $3"#
    /// );
    /// ```
    pub fn keyset<K: KeysetKeys>(self, keys: K) -> Keyset<O, S, K> {
        Keyset {
            select: self,
            keys: keys.keys(),
            after: None,
            limit: 50,
            _keys: PhantomData,
        }
    }
}

impl<O, S, K: KeysetKeys> Keyset<O, S, K> {
    /// The page after `cursor` (a previous page's [`Page::next`]); `None` for the first page.
    pub fn after(mut self, cursor: Option<K::Values>) -> Self {
        self.after = cursor;
        self
    }

    /// The page size (at least 1).
    pub fn limit(mut self, n: i64) -> Self {
        self.limit = n.max(1);
        self
    }

    /// The page size.
    pub fn page_size(&self) -> usize {
        usize::try_from(self.limit).unwrap_or(usize::MAX)
    }

    /// The condition for rows after the cursor; `None` when the cursor does not have one value
    /// per key (a [`KeysetKeys`] written by hand).
    fn after_condition(&self, values: &K::Values) -> Option<Node> {
        let params = K::params(values);
        if self.keys.is_empty() || params.len() != self.keys.len() {
            return None;
        }
        let op = |o: Ordering| match o {
            Ordering::Asc => BinOp::Gt,
            Ordering::Desc => BinOp::Lt,
        };
        let first = self.keys[0].1;
        if self.keys.iter().all(|(_, o)| *o == first) {
            let keys: Vec<Node> = self.keys.iter().map(|(k, _)| k.clone()).collect();
            return Some(match (keys.len(), params.len()) {
                (1, 1) => Node::binary(op(first), keys[0].clone(), params[0].clone()),
                _ => Node::binary(op(first), Node::Row(keys), Node::Row(params)),
            });
        }
        // k1 op1 v1 OR (k1 = v1 AND k2 op2 v2) OR ...
        let mut any: Option<Node> = None;
        for i in 0..self.keys.len() {
            let mut all = Node::binary(
                op(self.keys[i].1),
                self.keys[i].0.clone(),
                params[i].clone(),
            );
            for j in (0..i).rev() {
                let eq = Node::binary(BinOp::Eq, self.keys[j].0.clone(), params[j].clone());
                all = Node::binary(BinOp::And, eq, all);
            }
            any = Some(match any {
                None => all,
                Some(prev) => Node::binary(BinOp::Or, prev, all),
            });
        }
        any
    }

    fn query(&self) -> Select<O, S> {
        let mut select = self.select.clone();
        let core = &mut select.core;
        core.columns
            .extend(self.keys.iter().map(|(k, _)| k.clone()));
        core.order_by = self
            .keys
            .iter()
            .map(|(k, o)| OrderBy::new(k.clone(), *o))
            .collect();
        if let Some(values) = &self.after {
            let after = self
                .after_condition(values)
                .unwrap_or(Node::Keyword("FALSE"));
            core.filter = and_filter(core.filter.take(), Expr::<bool>::new(after));
        }
        // One more than the page: whether a next page exists.
        core.limit = Some(Node::Param(param(self.limit.saturating_add(1))));
        select
    }
}

impl<O: Decode, S, K: KeysetKeys> Statement for Keyset<O, S, K> {
    type Row = (O, K::Values);

    fn tree(&self) -> Option<crate::ast::Tree<'_>> {
        self.select.tree()
    }

    fn compile(&self) -> Result<CompiledQuery> {
        self.compile_criteria(None)
    }

    fn compile_with(&self, criteria: &Criteria) -> Result<CompiledQuery> {
        self.compile_criteria(Some(criteria).filter(|_| self.select.uses_criteria()))
    }

    fn uses_criteria(&self) -> bool {
        self.select.uses_criteria()
    }
}

impl<O: Decode, S, K: KeysetKeys> Keyset<O, S, K> {
    /// The page's statement, with `criteria` applied to every table it reads (as the
    /// select's own would be).
    fn compile_criteria(&self, criteria: Option<&Criteria>) -> Result<CompiledQuery> {
        if self.select.options().is_some() {
            return Err(Error::invalid_statement(
                "a keyset page runs no relationship loads: load them into the page's rows with `load`",
            ));
        }
        if self.keys.is_empty() {
            return Err(Error::invalid_statement("a keyset needs at least one key"));
        }
        // The page's size is the keyset's `limit`, its place the cursor: a LIMIT or OFFSET of
        // the select's own would be replaced or skip rows after every cursor.
        if self.select.core.limit.is_some() || self.select.core.offset.is_some() {
            return Err(Error::invalid_statement(
                "a keyset page takes no LIMIT or OFFSET of the select's: size it with the keyset's `limit(n)`",
            ));
        }
        if let Some(values) = &self.after {
            let n = K::params(values).len();
            if n != self.keys.len() {
                return Err(Error::invalid_statement(format!(
                    "a keyset cursor has {n} values for {} keys",
                    self.keys.len()
                )));
            }
        }
        // The page's own select: the criteria go into it, no copy.
        let mut query = self.query();
        if let Some(c) = criteria {
            c.apply_select(&mut query.core);
        }
        let out = crate::compile::Output::of::<(O, K::Values)>(<(O, K::Values) as Decode>::WIDTH);
        crate::compile::select_statement(query.core(), out)
    }
}

impl<O, S, K: KeysetKeys> From<Keyset<O, S, K>> for Query {
    fn from(k: Keyset<O, S, K>) -> Query {
        k.query().into_query()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::__doc_fixture::User;
    use crate::prelude::*;

    /// Keys written by hand whose cursor has no value for a key.
    struct Short;

    impl KeysetKeys for Short {
        type Values = i64;
        fn keys(self) -> Vec<(Node, Ordering)> {
            vec![
                (User::name.into_node(), Ordering::Desc),
                (User::id.into_node(), Ordering::Asc),
            ]
        }
        fn params(_: &i64) -> Vec<Node> {
            Vec::new()
        }
    }

    #[test]
    fn a_cursor_without_a_value_per_key_is_refused_not_a_panic() {
        let page = || select::<User>().keyset(Short).after(Some(7));
        let e = page().compile().expect_err("refused");
        assert!(
            e.to_string()
                .contains("a keyset cursor has 0 values for 2 keys"),
            "{e}"
        );
        // As a query, where nothing can be refused: no row after a cursor it cannot read.
        let query: Query = page().into();
        let sql = crate::compile::query_statement(&query, crate::compile::Output::of::<User>(5))
            .expect("compiles")
            .sql;
        assert!(sql.contains("WHERE FALSE"), "{sql}");
    }
}
