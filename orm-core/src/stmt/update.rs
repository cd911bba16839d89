use std::fmt;
use std::marker::PhantomData;

use super::criteria::Criteria;
use super::derived::Derived;
use super::pk_filter;
use super::source::{Cons, Inner, Nil, Source, table_item};
use super::{Selection, Statement, and_filter, model_columns};
use crate::ast::UpdateCore;
use crate::compile::{self, CompiledQuery};
use crate::error::Result;
use crate::expr::access::Writable;
use crate::expr::{Column, Expr, IntoExpr, Node};
use crate::model::Model;
use crate::row::Decode;
use crate::types::SqlType;

/// The type parameters of a statement, held without owning any value of them.
type Types<M, O, S> = PhantomData<fn() -> (M, O, S)>;

/// An `UPDATE` of model `M`'s table whose `RETURNING` rows decode into `O`, reading from the
/// sources `S` (`M` itself, then the tables added with [`from`](Update::from); see
/// [`source`](super::source)).
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
///
/// let q = update::<User>()
///     .set(User::email, None::<String>)
///     .filter(User::id.eq(7));
/// assert_eq!(
///     q.compile().unwrap().sql,
///     r#"UPDATE "users" SET "email" = $1 WHERE "users"."id" = $2"#
/// );
/// ```
pub struct Update<M, O = (), S = Cons<Inner<M>, Nil>> {
    pub(crate) core: UpdateCore,
    /// Set by [`without_criteria`](Update::without_criteria).
    pub(super) skip_criteria: bool,
    _out: Types<M, O, S>,
}

impl<M, O, S> Clone for Update<M, O, S> {
    fn clone(&self) -> Self {
        Update {
            core: UpdateCore {
                joined: self.core.joined,
                table: self.core.table,
                sets: self.core.sets.clone(),
                from: self.core.from.clone(),
                filter: self.core.filter.clone(),
                returning: self.core.returning.clone(),
            },
            skip_criteria: self.skip_criteria,
            _out: PhantomData,
        }
    }
}

impl<M, O, S> fmt::Debug for Update<M, O, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Update")
            .field("table", &self.core.table)
            .field("sets", &self.core.sets)
            .field("from", &self.core.from)
            .field("filter", &self.core.filter)
            .field("returning", &self.core.returning)
            .finish()
    }
}

/// `UPDATE` rows of `M`'s table; add [`set`](Update::set) and [`filter`](Update::filter).
/// Without a filter every row is updated, as in SQL.
pub fn update<M: Model>() -> Update<M> {
    Update {
        core: UpdateCore {
            joined: M::TABLE.joined.map(|_| M::TABLE),
            table: M::TABLE.as_ref(),
            sets: Vec::new(),
            from: Vec::new(),
            filter: super::source::variant_filter::<M>().map(Expr::into_node),
            returning: Vec::new(),
        },
        skip_criteria: false,
        _out: PhantomData,
    }
}

/// `UPDATE table SET <every non-key column> WHERE <key> RETURNING *`: saves one object.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let jane = User { id: 7, name: "Jane".into(), email: None };
/// let q = update_model(&jane);
/// assert_eq!(q.compile().unwrap().sql, r#"UPDATE "users" SET "name" = $1, "email" = $2 WHERE "users"."id" = $3 RETURNING "users"."id", "users"."name", "users"."email""#);
/// ```
pub fn update_model<M: Model>(row: &M) -> Update<M, M> {
    let sets = M::TABLE
        .update_columns()
        .map(|c| c.name)
        .zip(row.update_params().into_iter().map(Node::Param))
        .collect();
    Update {
        core: UpdateCore {
            joined: M::TABLE.joined.map(|_| M::TABLE),
            table: M::TABLE.as_ref(),
            sets,
            from: Vec::new(),
            filter: pk_filter::<M>(row.pk()).into_node().into(),
            returning: model_columns(M::TABLE),
        },
        skip_criteria: false,
        _out: PhantomData,
    }
}

impl<M: Model, O, S> Update<M, O, S> {
    fn retype<O2, S2>(self, returning: Vec<Node>) -> Update<M, O2, S2> {
        Update {
            core: UpdateCore {
                joined: self.core.joined,
                table: self.core.table,
                sets: self.core.sets,
                from: self.core.from,
                filter: self.core.filter,
                returning,
            },
            skip_criteria: self.skip_criteria,
            _out: PhantomData,
        }
    }

    /// `SET column = value`. The value is anything comparable with the column: a value, `None`
    /// for `NULL` on a nullable column, another column or an expression (`User::n.add(1)`),
    /// also of a table added with [`from`](Update::from).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = update::<User>().set(User::name, "Jane").set(User::email, None::<String>).filter(User::id.eq(7));
    /// assert_eq!(q.compile().unwrap().sql, r#"UPDATE "users" SET "name" = $1, "email" = $2 WHERE "users"."id" = $3"#);
    /// ```
    pub fn set<T: SqlType, A: Writable, V: IntoExpr<T::Base>>(
        mut self,
        column: Column<M, T, A>,
        value: V,
    ) -> Self {
        self.core.sets.push((column.name(), value.into_expr_node()));
        self
    }

    /// Adds a `WHERE` condition, `AND`ed with any earlier one.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = update::<User>().set(User::email, None::<String>).filter(User::name.eq("Jane")).filter(User::id.gt(1));
    /// assert_eq!(q.compile().unwrap().sql, r#"UPDATE "users" SET "email" = $1 WHERE ("users"."name" = $2) AND ("users"."id" > $3)"#);
    /// ```
    pub fn filter(mut self, condition: impl Into<Expr<bool>>) -> Self {
        self.core.filter = and_filter(self.core.filter.take(), condition.into());
        self
    }

    /// `UPDATE ... FROM j`: the rows of `j` (a model, or an [alias](crate::alias) of one) are
    /// joined with the updated rows; give the join condition with [`filter`](Update::filter).
    /// Its columns may be used in `SET` values, the filter and `RETURNING`.
    ///
    /// A target row that matches several rows of `j` is updated with one of them, unspecified
    /// which (as in SQL).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::User;
    /// orm_core::alias!(Other = User);
    ///
    /// let q = update::<User>()
    ///     .from::<Other>()
    ///     .set(User::email, Other::col(User::email))
    ///     .filter(Other::col(User::name).eq(User::name.concat(" (old)")))
    ///     .returning((User::id, Other::col(User::id)));
    /// assert_eq!(
    ///     q.compile().unwrap().sql,
    ///     r#"UPDATE "users" SET "email" = "Other"."email" FROM "users" AS "Other" WHERE "Other"."name" = ("users"."name" || $1) RETURNING "users"."id", "Other"."id""#
    /// );
    /// ```
    pub fn from<J: Source>(mut self) -> Update<M, O, Cons<Inner<J>, S>> {
        self.core.from.push(table_item::<J>());
        let returning = std::mem::take(&mut self.core.returning);
        self.retype(returning)
    }

    /// `UPDATE ... FROM (subquery) AS alias` or `FROM cte`: a derived table made by
    /// [`Select::subquery`](super::Select::subquery) or [`Select::cte`](super::Select::cte). A CTE
    /// is defined in the statement's `WITH` clause (`WITH cte AS (...) UPDATE ...`).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let (authors, author_id) = select::<Post>().columns(Post::user_id).distinct().subquery("authors");
    /// let q = update::<User>().from_derived(&authors).set(User::email, None::<String>).filter(User::id.eq(author_id));
    /// assert_eq!(q.compile().unwrap().sql, r#"UPDATE "users" SET "email" = $1 FROM (SELECT DISTINCT "posts"."user_id" FROM "posts") AS "authors" WHERE "users"."id" = "authors"."user_id""#);
    /// ```
    pub fn from_derived(mut self, derived: &Derived) -> Self {
        self.core.from.push(derived.item().clone());
        self
    }

    /// `RETURNING` the given columns or expressions: of the updated table (with their new
    /// values), of the tables added with [`from`](Update::from), or computed from them.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = update::<User>().set(User::email, None::<String>).filter(User::id.eq(7)).returning(User::name);
    /// assert_eq!(q.compile().unwrap().sql, r#"UPDATE "users" SET "email" = $1 WHERE "users"."id" = $2 RETURNING "users"."name""#);
    /// ```
    pub fn returning<Sel: Selection<S, I>, I>(self, selection: Sel) -> Update<M, Sel::Output, S> {
        let mut returning = Vec::new();
        selection.push_nodes(&mut returning);
        self.retype(returning)
    }

    /// `RETURNING` every column of the model.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = update::<User>().set(User::email, None::<String>).filter(User::id.eq(7)).returning_model();
    /// assert_eq!(q.compile().unwrap().sql, r#"UPDATE "users" SET "email" = $1 WHERE "users"."id" = $2 RETURNING "users"."id", "users"."name", "users"."email""#);
    /// ```
    pub fn returning_model(self) -> Update<M, M, S> {
        self.retype(model_columns(M::TABLE))
    }
}

impl<M, O, S> Update<M, O, S> {
    /// The escape hatch: this `UPDATE` takes no criteria, even run through a session that has
    /// some.
    pub fn without_criteria(mut self) -> Self {
        self.skip_criteria = true;
        self
    }
}

impl<M: Model, O: Decode, S> Statement for Update<M, O, S> {
    type Row = O;

    fn tree(&self) -> Option<crate::ast::Tree<'_>> {
        Some(crate::ast::Tree::Update(&self.core, M::TABLE))
    }

    fn compile(&self) -> Result<CompiledQuery> {
        compile::update(&self.core)
    }

    fn compile_with(&self, criteria: &Criteria) -> Result<CompiledQuery> {
        if self.skip_criteria {
            return self.compile();
        }
        let mut core = self.core.clone();
        criteria.apply_update(&mut core);
        compile::update(&core)
    }

    fn uses_criteria(&self) -> bool {
        !self.skip_criteria
    }
}
