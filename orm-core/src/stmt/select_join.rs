//! Joins of a `SELECT`: inner, outer and cross joins of sources, joins on a declared foreign
//! key, of derived tables and `LATERAL` subqueries. Each join adds its source to the query's
//! type-level source list, so columns of a joined table can be selected (as `Option` when the
//! join is outer).

use super::Select;
use super::derived::Derived;
use super::source::{AllOuter, Cons, Inner, Outer, Source, join_on, table_item};
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
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().join::<Post>(Post::user_id.eq(User::id)).columns((User::name, Post::title));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."name", "posts"."title" FROM "users" JOIN "posts" ON "posts"."user_id" = "users"."id""#);
    /// ```
    pub fn join<J: Source>(self, on: Expr<bool>) -> Select<O, Cons<Inner<J>, S>> {
        self.add_join(JoinKind::Inner, table_item::<J>(), join_on::<J>(on))
    }

    /// `LEFT JOIN j ON condition`: `j`'s columns come back as `Option`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// // `Post::title` comes back as `Option<String>`.
    /// let q = select::<User>().left_join::<Post>(Post::user_id.eq(User::id)).columns((User::name, Post::title));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."name", "posts"."title" FROM "users" LEFT JOIN "posts" ON "posts"."user_id" = "users"."id""#);
    /// ```
    pub fn left_join<J: Source>(self, on: Expr<bool>) -> Select<O, Cons<Outer<J>, S>> {
        self.add_join(JoinKind::Left, table_item::<J>(), join_on::<J>(on))
    }

    /// `RIGHT JOIN j ON condition`: every earlier source's columns come back as `Option`, and
    /// so does the current output.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<Post>().right_join::<User>(Post::user_id.eq(User::id)).columns((Post::title, User::name));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "posts"."title", "users"."name" FROM "posts" RIGHT JOIN "users" ON "posts"."user_id" = "users"."id""#);
    /// ```
    pub fn right_join<J: Source>(
        self,
        on: Expr<bool>,
    ) -> Select<O::Nullable, Cons<Inner<J>, S::Out>>
    where
        O: NullableRow,
        S: AllOuter,
    {
        self.add_join::<S>(JoinKind::Right, table_item::<J>(), join_on::<J>(on))
            .retype()
    }

    /// `FULL JOIN j ON condition`: every source's columns come back as `Option`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<Post>().full_join::<User>(Post::user_id.eq(User::id)).columns((Post::title, User::name));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "posts"."title", "users"."name" FROM "posts" FULL JOIN "users" ON "posts"."user_id" = "users"."id""#);
    /// ```
    pub fn full_join<J: Source>(self, on: Expr<bool>) -> Select<O::Nullable, Cons<Outer<J>, S::Out>>
    where
        O: NullableRow,
        S: AllOuter,
    {
        self.add_join::<S>(JoinKind::Full, table_item::<J>(), join_on::<J>(on))
            .retype()
    }

    /// `CROSS JOIN j`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().cross_join::<Post>().columns((User::id, Post::id));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "posts"."id" FROM "users" CROSS JOIN "posts""#);
    /// ```
    pub fn cross_join<J: Source>(self) -> Select<O, Cons<Inner<J>, S>> {
        self.add_join(JoinKind::Cross, table_item::<J>(), JoinOn::None)
    }

    /// `JOIN j ON <declared foreign key>`: the condition comes from the one foreign key between
    /// `j` and a table already in the query (an error when the statement compiles if there is
    /// none, or more than one).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<Post>().join_fk::<User>().columns((Post::title, User::name));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "posts"."title", "users"."name" FROM "posts" JOIN "users" ON "posts"."user_id" = "users"."id""#);
    /// ```
    pub fn join_fk<J: Source>(self) -> Select<O, Cons<Inner<J>, S>> {
        self.add_join(JoinKind::Inner, table_item::<J>(), JoinOn::ForeignKey)
    }

    /// `LEFT JOIN j ON <declared foreign key>`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<Post>().left_join_fk::<User>().columns((Post::title, User::name));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "posts"."title", "users"."name" FROM "posts" LEFT JOIN "users" ON "posts"."user_id" = "users"."id""#);
    /// ```
    pub fn left_join_fk<J: Source>(self) -> Select<O, Cons<Outer<J>, S>> {
        self.add_join(JoinKind::Left, table_item::<J>(), JoinOn::ForeignKey)
    }

    /// `JOIN derived ON condition` for a subquery or CTE.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let (counts, (user_id, n)) = select::<Post>().columns((Post::user_id, func::count_all())).group_by(Post::user_id).subquery("counts");
    /// let q = select::<User>().join_derived(&counts, User::id.eq(user_id)).columns((User::name, n));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."name", "counts"."c2" FROM "users" JOIN (SELECT "posts"."user_id", count(*) AS "c2" FROM "posts" GROUP BY "posts"."user_id") AS "counts" ON "users"."id" = "counts"."user_id""#);
    /// ```
    pub fn join_derived<D>(
        self,
        derived: &Derived<D>,
        on: Expr<bool>,
    ) -> Select<O, Cons<Inner<D>, S>> {
        self.add_join(
            JoinKind::Inner,
            derived.item.clone(),
            JoinOn::On(on.into_node()),
        )
    }

    /// `LEFT JOIN derived ON condition` for a subquery or CTE. When it is named by a
    /// [`derived!`](crate::derived) type, its columns come back as `Option` (a row without a
    /// match decodes to `None`); a string-named one's handles select as their own type, so
    /// select those through `Option` types yourself.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// orm_core::derived!(Counts = "counts");
    /// let (counts, (user_id, n)) = select::<Post>().columns((Post::user_id, func::count_all())).group_by(Post::user_id).subquery(Counts);
    /// let q = select::<User>().left_join_derived(&counts, User::id.eq(user_id)).columns((User::name, n));
    /// let _: &Select<(String, Option<i64>), _> = &q;
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."name", "counts"."c2" FROM "users" LEFT JOIN (SELECT "posts"."user_id", count(*) AS "c2" FROM "posts" GROUP BY "posts"."user_id") AS "counts" ON "users"."id" = "counts"."user_id""#);
    /// ```
    pub fn left_join_derived<D>(
        self,
        derived: &Derived<D>,
        on: Expr<bool>,
    ) -> Select<O, Cons<Outer<D>, S>> {
        self.add_join(
            JoinKind::Left,
            derived.item.clone(),
            JoinOn::On(on.into_node()),
        )
    }

    /// `CROSS JOIN LATERAL (subquery) AS alias`: the subquery may refer to the sources before
    /// it. Make `derived` with [`subquery`](Select::subquery).
    pub fn join_lateral<D>(self, derived: &Derived<D>) -> Select<O, Cons<Inner<D>, S>> {
        self.add_join(JoinKind::Cross, lateral(derived), JoinOn::None)
    }

    /// `LEFT JOIN LATERAL (subquery) AS alias ON TRUE`: like
    /// [`left_join_derived`](Select::left_join_derived), the columns of a subquery named by a
    /// [`derived!`](crate::derived) type come back as `Option`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// orm_core::derived!(Latest = "latest");
    /// let (latest, title) = select::<Post>().filter(Post::user_id.eq(User::id)).order_by(Post::id.desc()).limit(1).columns(Post::title).subquery(Latest);
    /// let q = select::<User>().left_join_lateral(&latest).columns((User::name, title));
    /// let _: &Select<(String, Option<String>), _> = &q;
    /// ```
    pub fn left_join_lateral<D>(self, derived: &Derived<D>) -> Select<O, Cons<Outer<D>, S>> {
        self.add_join(
            JoinKind::Left,
            lateral(derived),
            JoinOn::On(Node::Keyword("TRUE")),
        )
    }
}

fn lateral<D>(derived: &Derived<D>) -> FromItem {
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
