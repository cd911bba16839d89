use std::fmt;
use std::marker::PhantomData;

use super::criteria::Criteria;
use super::derived::Derived;
use super::pk_filter;
use super::source::table_item;
use super::source::{Cons, Inner, Nil, Source};
use super::{Selection, Statement, and_filter, model_columns};
use crate::ast::DeleteCore;
use crate::compile::{self, CompiledQuery};
use crate::error::Result;
use crate::expr::{Expr, Node};
use crate::model::Model;
use crate::row::Decode;

/// The type parameters of a statement, held without owning any value of them.
type Types<M, O, S> = PhantomData<fn() -> (M, O, S)>;

/// A `DELETE` from model `M`'s table whose `RETURNING` rows decode into `O`, reading from the
/// sources `S` (`M` itself, then the tables added with [`using`](Delete::using)).
pub struct Delete<M, O = (), S = Cons<Inner<M>, Nil>> {
    pub(crate) core: DeleteCore,
    /// Set by [`without_criteria`](Delete::without_criteria).
    pub(super) skip_criteria: bool,
    _out: Types<M, O, S>,
}

impl<M, O, S> Clone for Delete<M, O, S> {
    fn clone(&self) -> Self {
        Delete {
            core: DeleteCore {
                joined: self.core.joined,
                table: self.core.table,
                using: self.core.using.clone(),
                filter: self.core.filter.clone(),
                returning: self.core.returning.clone(),
            },
            skip_criteria: self.skip_criteria,
            _out: PhantomData,
        }
    }
}

impl<M, O, S> fmt::Debug for Delete<M, O, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delete")
            .field("table", &self.core.table)
            .field("using", &self.core.using)
            .field("filter", &self.core.filter)
            .field("returning", &self.core.returning)
            .finish()
    }
}

/// `DELETE FROM` `M`'s table; add a [`filter`](Delete::filter). Without one every row goes, as in
/// SQL.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = delete::<User>().filter(User::email.is_null());
/// assert_eq!(q.compile().unwrap().sql, r#"DELETE FROM "users" WHERE "users"."email" IS NULL"#);
/// ```
pub fn delete<M: Model>() -> Delete<M> {
    Delete {
        core: DeleteCore {
            joined: M::TABLE.joined.map(|_| M::TABLE),
            table: M::TABLE.as_ref(),
            using: Vec::new(),
            filter: super::source::variant_filter::<M>().map(Expr::into_node),
            returning: Vec::new(),
        },
        skip_criteria: false,
        _out: PhantomData,
    }
}

/// `DELETE FROM table WHERE <key>`: deletes one object by its primary key.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let jane = User { id: 7, name: "Jane".into(), email: None };
/// let q = delete_model(&jane);
/// assert_eq!(q.compile().unwrap().sql, r#"DELETE FROM "users" WHERE "users"."id" = $1"#);
/// ```
pub fn delete_model<M: Model>(row: &M) -> Delete<M> {
    delete::<M>().filter(pk_filter::<M>(row.pk()))
}

impl<M: Model, O, S> Delete<M, O, S> {
    fn retype<O2, S2>(self, returning: Vec<Node>) -> Delete<M, O2, S2> {
        Delete {
            core: DeleteCore {
                joined: self.core.joined,
                table: self.core.table,
                using: self.core.using,
                filter: self.core.filter,
                returning,
            },
            skip_criteria: self.skip_criteria,
            _out: PhantomData,
        }
    }

    /// Adds a `WHERE` condition, `AND`ed with any earlier one.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = delete::<Post>().filter(Post::user_id.eq(7)).filter(Post::title.eq(""));
    /// assert_eq!(q.compile().unwrap().sql, r#"DELETE FROM "posts" WHERE ("posts"."user_id" = $1) AND ("posts"."title" = $2)"#);
    /// ```
    pub fn filter(mut self, condition: impl Into<Expr<bool>>) -> Self {
        self.core.filter = and_filter(self.core.filter.take(), condition.into());
        self
    }

    /// `DELETE ... USING j`: the rows of `j` (a model, or an [alias](crate::alias) of one) are
    /// joined with the target's; give the join condition with [`filter`](Delete::filter). Its
    /// columns may be used in the filter and `RETURNING`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::User;
    /// orm_core::alias!(Newer = User);
    ///
    /// // Delete users whose name is taken by a newer user.
    /// let q = delete::<User>()
    ///     .using::<Newer>()
    ///     .filter(Newer::col(User::name).eq(User::name) & Newer::col(User::id).gt(User::id));
    /// assert_eq!(
    ///     q.compile().unwrap().sql,
    ///     r#"DELETE FROM "users" USING "users" AS "Newer" WHERE ("Newer"."name" = "users"."name") AND ("Newer"."id" > "users"."id")"#
    /// );
    /// ```
    pub fn using<J: Source>(mut self) -> Delete<M, O, Cons<Inner<J>, S>> {
        self.core.using.push(table_item::<J>());
        let returning = std::mem::take(&mut self.core.returning);
        self.retype(returning)
    }

    /// `DELETE ... USING (subquery) AS alias` or `USING cte`: a derived table made by
    /// [`Select::subquery`](super::Select::subquery) or [`Select::cte`](super::Select::cte).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let (old, old_id) = select::<Post>().columns(Post::id).filter(Post::title.eq("")).subquery("old");
    /// let q = delete::<Post>().using_derived(&old).filter(Post::id.eq(old_id));
    /// assert_eq!(q.compile().unwrap().sql, r#"DELETE FROM "posts" USING (SELECT "posts"."id" FROM "posts" WHERE "posts"."title" = $1) AS "old" WHERE "posts"."id" = "old"."id""#);
    /// ```
    pub fn using_derived(mut self, derived: &Derived) -> Self {
        self.core.using.push(derived.item().clone());
        self
    }

    /// `RETURNING` the given columns or expressions (of the deleted rows, of the tables added
    /// with [`using`](Delete::using), or computed from them).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = delete::<Post>().filter(Post::user_id.eq(7)).returning(Post::id);
    /// assert_eq!(q.compile().unwrap().sql, r#"DELETE FROM "posts" WHERE "posts"."user_id" = $1 RETURNING "posts"."id""#);
    /// ```
    pub fn returning<Sel: Selection<S, I>, I>(self, selection: Sel) -> Delete<M, Sel::Output, S> {
        let mut returning = Vec::new();
        selection.push_nodes(&mut returning);
        self.retype(returning)
    }

    /// `RETURNING` every column of the model.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = delete::<Post>().filter(Post::user_id.eq(7)).returning_model();
    /// assert_eq!(q.compile().unwrap().sql, r#"DELETE FROM "posts" WHERE "posts"."user_id" = $1 RETURNING "posts"."id", "posts"."user_id", "posts"."title""#);
    /// ```
    pub fn returning_model(self) -> Delete<M, M, S> {
        self.retype(model_columns(M::TABLE))
    }
}

impl<M, O, S> Delete<M, O, S> {
    /// The escape hatch: this `DELETE` takes no criteria, even run through a session that has
    /// some (a purge of soft-deleted rows, say).
    pub fn without_criteria(mut self) -> Self {
        self.skip_criteria = true;
        self
    }
}

impl<M: Model, O: Decode, S> Statement for Delete<M, O, S> {
    type Row = O;

    fn tree(&self) -> Option<crate::ast::Tree<'_>> {
        Some(crate::ast::Tree::Delete(&self.core, M::TABLE))
    }

    fn compile(&self) -> Result<CompiledQuery> {
        compile::delete(&self.core)
    }

    fn compile_with(&self, criteria: &Criteria) -> Result<CompiledQuery> {
        if self.skip_criteria {
            return self.compile();
        }
        let mut core = self.core.clone();
        criteria.apply_delete(&mut core);
        compile::delete(&core)
    }

    fn uses_criteria(&self) -> bool {
        !self.skip_criteria
    }
}
