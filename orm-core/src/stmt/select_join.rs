//! Joins of a `SELECT`: inner, outer and cross joins of sources, joins on a declared foreign
//! key, of derived tables and `LATERAL` subqueries. Each join adds its source to the query's
//! type-level source list, so columns of a joined table can be selected (as `Option` when the
//! join is outer).

use super::Select;
use super::derived::Derived;
use super::source::{AllOuter, Cons, Inner, Outer, Source, table_item};
use crate::ast::{FromItem, Join, JoinKind, JoinOn, Node, RawSql};
use crate::error::Result;
use crate::expr::Expr;
use crate::meta::Table;
use crate::row::NullableRow;

impl<O, S> Select<O, S> {
    fn add_join<S2>(mut self, kind: JoinKind, item: FromItem, on: JoinOn) -> Select<O, S2> {
        self.core.joins.push(Join { kind, item, on });
        self.with_sources()
    }

    /// `JOIN j ON condition`.
    pub fn join<J: Source>(self, on: Expr<bool>) -> Select<O, Cons<Inner<J>, S>> {
        self.add_join(
            JoinKind::Inner,
            table_item::<J>(),
            JoinOn::On(on.into_node()),
        )
    }

    /// `LEFT JOIN j ON condition`: `j`'s columns come back as `Option`.
    pub fn left_join<J: Source>(self, on: Expr<bool>) -> Select<O, Cons<Outer<J>, S>> {
        self.add_join(
            JoinKind::Left,
            table_item::<J>(),
            JoinOn::On(on.into_node()),
        )
    }

    /// `RIGHT JOIN j ON condition`: every earlier source's columns come back as `Option`, and
    /// so does the current output.
    pub fn right_join<J: Source>(
        self,
        on: Expr<bool>,
    ) -> Select<O::Nullable, Cons<Inner<J>, S::Out>>
    where
        O: NullableRow,
        S: AllOuter,
    {
        self.add_join::<S>(
            JoinKind::Right,
            table_item::<J>(),
            JoinOn::On(on.into_node()),
        )
        .retype()
    }

    /// `FULL JOIN j ON condition`: every source's columns come back as `Option`.
    pub fn full_join<J: Source>(self, on: Expr<bool>) -> Select<O::Nullable, Cons<Outer<J>, S::Out>>
    where
        O: NullableRow,
        S: AllOuter,
    {
        self.add_join::<S>(
            JoinKind::Full,
            table_item::<J>(),
            JoinOn::On(on.into_node()),
        )
        .retype()
    }

    /// `CROSS JOIN j`.
    pub fn cross_join<J: Source>(self) -> Select<O, Cons<Inner<J>, S>> {
        self.add_join(JoinKind::Cross, table_item::<J>(), JoinOn::None)
    }

    /// `JOIN j ON <declared foreign key>`: the condition comes from the one foreign key between
    /// `j` and a table already in the query (an error when the statement compiles if there is
    /// none, or more than one).
    pub fn join_fk<J: Source>(self) -> Select<O, Cons<Inner<J>, S>> {
        self.add_join(JoinKind::Inner, table_item::<J>(), JoinOn::ForeignKey)
    }

    /// `LEFT JOIN j ON <declared foreign key>`.
    pub fn left_join_fk<J: Source>(self) -> Select<O, Cons<Outer<J>, S>> {
        self.add_join(JoinKind::Left, table_item::<J>(), JoinOn::ForeignKey)
    }

    /// `JOIN derived ON condition` for a subquery or CTE.
    pub fn join_derived(self, derived: &Derived, on: Expr<bool>) -> Self {
        self.add_join(
            JoinKind::Inner,
            derived.item.clone(),
            JoinOn::On(on.into_node()),
        )
    }

    /// `LEFT JOIN derived ON condition` for a subquery or CTE. Its columns are not typed as
    /// optional: select them through `Option` types yourself.
    pub fn left_join_derived(self, derived: &Derived, on: Expr<bool>) -> Self {
        self.add_join(
            JoinKind::Left,
            derived.item.clone(),
            JoinOn::On(on.into_node()),
        )
    }

    /// `CROSS JOIN LATERAL (subquery) AS alias`: the subquery may refer to the sources before
    /// it. Make `derived` with [`subquery`](Select::subquery).
    pub fn join_lateral(self, derived: &Derived) -> Self {
        self.add_join(JoinKind::Cross, lateral(derived), JoinOn::None)
    }

    /// `LEFT JOIN LATERAL (subquery) AS alias ON TRUE`.
    pub fn left_join_lateral(self, derived: &Derived) -> Self {
        self.add_join(
            JoinKind::Left,
            lateral(derived),
            JoinOn::On(Node::Keyword("TRUE")),
        )
    }
}

fn lateral(derived: &Derived) -> FromItem {
    match &derived.item {
        FromItem::Subquery { query, alias, .. } => FromItem::Subquery {
            query: query.clone(),
            alias,
            lateral: true,
        },
        other => other.clone(),
    }
}

impl<O, S> Select<O, S> {
    /// Adds the joins that follow a relationship (built by the ORM's `join_rel`); joins that do
    /// not resolve make the statement fail when it compiles, with their error.
    pub(crate) fn join_along<S2>(
        mut self,
        joins: Result<Vec<Join>>,
        kind: JoinKind,
        target: &'static Table,
    ) -> Select<O, S2> {
        match joins {
            Ok(joins) => self.core.joins.extend(joins),
            Err(e) => self.core.joins.push(Join {
                kind,
                item: FromItem::Table {
                    table: target,
                    alias: None,
                },
                on: JoinOn::On(Node::Raw(Box::new(RawSql::failing(e)))),
            }),
        }
        self.with_sources()
    }
}
