//! `CASE` expressions: searched (`CASE WHEN cond THEN … END`, [`case_when`]) and simple
//! (`CASE operand WHEN value THEN … END`, [`case`]), typed by their branches' values.

use std::fmt;
use std::marker::PhantomData;

use super::functions::Base;
use super::kinds::typed_param_of;
use super::{Case, Expr, Expression, IntoExpr, Node};
use crate::types::SqlType;

// ---------------------------------------------------------------------------------------------
// CASE
// ---------------------------------------------------------------------------------------------

/// A searched `CASE WHEN ... THEN ... END` whose branches are `R` values; made by
/// [`case_when`]. Finish it with [`otherwise`](Self::otherwise) (`ELSE`, an `Expr<R>`) or
/// [`end`](Self::end) (no `ELSE`: `NULL` when no branch matches, an `Expr<Option<R>>`).
#[must_use = "finish the CASE with .otherwise(value) or .end()"]
pub struct CaseWhen<R> {
    case: Case,
    _type: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for CaseWhen<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.case.fmt(f)
    }
}

impl<R> Clone for CaseWhen<R> {
    fn clone(&self) -> Self {
        CaseWhen {
            case: self.case.clone(),
            _type: PhantomData,
        }
    }
}

/// `CASE WHEN condition THEN value ...`: the first branch of a searched `CASE`. A bare value in
/// a branch is sent as a parameter cast to its type (`CAST($1 AS INTEGER)`), since the server
/// cannot infer it.
///
/// The result is typed by the branches' base type: a branch that can be `NULL` (a nullable
/// column) needs [`end`](CaseWhen::end) or [`Expression::nullable`] to decode safely.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
///
/// let size = func::case_when(User::id.lt(10), "small")
///     .when(User::id.lt(100), "medium")
///     .otherwise("large");
/// let q = select::<User>().columns(size);
/// assert_eq!(
///     q.compile().unwrap().sql,
///     r#"SELECT CASE WHEN "users"."id" < $1 THEN CAST($2 AS TEXT) WHEN "users"."id" < $3 THEN CAST($4 AS TEXT) ELSE CAST($5 AS TEXT) END FROM "users""#
/// );
/// ```
pub fn case_when<R, V>(condition: impl Into<Expr<bool>>, then: V) -> CaseWhen<R>
where
    R: SqlType,
    V: IntoExpr<R>,
{
    CaseWhen {
        case: Case {
            operand: None,
            whens: Vec::new(),
            else_: None,
        },
        _type: PhantomData,
    }
    .when(condition, then)
}

impl<R: SqlType> CaseWhen<R> {
    /// Another `WHEN condition THEN value` branch.
    pub fn when<V: IntoExpr<R>>(mut self, condition: impl Into<Expr<bool>>, then: V) -> Self {
        self.case.whens.push((
            condition.into().into_node(),
            typed_param_of::<R>(then.into_expr_node()),
        ));
        self
    }

    /// `ELSE value END`.
    pub fn otherwise<V: IntoExpr<R>>(mut self, value: V) -> Expr<R> {
        self.case.else_ = Some(typed_param_of::<R>(value.into_expr_node()));
        Expr::new(Node::Case(Box::new(self.case)))
    }

    /// `END` without `ELSE`: `NULL` when no branch matches.
    pub fn end(self) -> Expr<Option<R>> {
        Expr::new(Node::Case(Box::new(self.case)))
    }
}

/// A simple `CASE operand` before its first branch; made by [`case`].
#[must_use = "add branches with .when(value, result)"]
pub struct SimpleCase<O> {
    operand: Node,
    _type: PhantomData<fn() -> O>,
}

impl<O> fmt::Debug for SimpleCase<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SimpleCase").field(&self.operand).finish()
    }
}

/// A simple `CASE operand WHEN value THEN result ...` with `R` results; finish it like
/// [`CaseWhen`].
#[must_use = "finish the CASE with .otherwise(value) or .end()"]
pub struct SimpleCaseWhen<O, R> {
    case: Case,
    _type: PhantomData<fn() -> (O, R)>,
}

impl<O, R> fmt::Debug for SimpleCaseWhen<O, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.case.fmt(f)
    }
}

/// `CASE operand WHEN value THEN result ...`: compares `operand` with each branch's value (of
/// the operand's type).
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
///
/// let label = func::case(User::id).when(1, "one").when(2, "two").otherwise("many");
/// let q = select::<User>().columns(label);
/// assert_eq!(
///     q.compile().unwrap().sql,
///     r#"SELECT CASE "users"."id" WHEN $1 THEN CAST($2 AS TEXT) WHEN $3 THEN CAST($4 AS TEXT) ELSE CAST($5 AS TEXT) END FROM "users""#
/// );
/// ```
pub fn case<E: Expression>(operand: E) -> SimpleCase<Base<E>> {
    SimpleCase {
        operand: operand.into_node(),
        _type: PhantomData,
    }
}

impl<O: SqlType> SimpleCase<O> {
    /// The first `WHEN value THEN result` branch; it fixes the result type `R`.
    pub fn when<R, W, V>(self, value: W, then: V) -> SimpleCaseWhen<O, R>
    where
        R: SqlType,
        W: IntoExpr<O>,
        V: IntoExpr<R>,
    {
        SimpleCaseWhen {
            case: Case {
                operand: Some(self.operand),
                whens: Vec::new(),
                else_: None,
            },
            _type: PhantomData,
        }
        .when(value, then)
    }
}

impl<O: SqlType, R: SqlType> SimpleCaseWhen<O, R> {
    /// Another `WHEN value THEN result` branch.
    pub fn when<W: IntoExpr<O>, V: IntoExpr<R>>(mut self, value: W, then: V) -> Self {
        self.case.whens.push((
            value.into_expr_node(),
            typed_param_of::<R>(then.into_expr_node()),
        ));
        self
    }

    /// `ELSE value END`.
    pub fn otherwise<V: IntoExpr<R>>(mut self, value: V) -> Expr<R> {
        self.case.else_ = Some(typed_param_of::<R>(value.into_expr_node()));
        Expr::new(Node::Case(Box::new(self.case)))
    }

    /// `END` without `ELSE`: `NULL` when no branch matches.
    pub fn end(self) -> Expr<Option<R>> {
        Expr::new(Node::Case(Box::new(self.case)))
    }
}
