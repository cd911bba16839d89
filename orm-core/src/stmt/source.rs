//! What a query reads from, at the type level, so the compiler checks selections.
//!
//! A [`Select<O, S>`](super::Select) carries its sources `S` as a type list: `select::<User>()`
//! has `Cons<Inner<User>, Nil>`; `.left_join::<Order>(..)` makes it
//! `Cons<Outer<Order>, Cons<Inner<User>, Nil>>`. Selecting `Order::total` then yields an
//! `Option<i32>` (the outer side may be missing), and selecting a column of a table that is not
//! in the query does not compile.

use std::marker::PhantomData;

use crate::ast::{FromItem, JoinOn};
use crate::expr::{BinOp, Column, ColumnRef, Expr, Node, param};
use crate::model::Model;
use crate::row::{Decode, NullableRow};

/// A table a query can read from: a model's table, or an alias of it (declared with
/// [`alias!`](crate::alias)). Models are sources of themselves.
pub trait Source: 'static {
    /// The model whose rows it holds.
    type Model: Model;
    /// The name its columns are qualified by: the table's name, or the alias.
    const NAME: &'static str;
    /// The alias, if this is one.
    const ALIAS: Option<&'static str>;

    /// The same column, qualified by this source: `Manager::col(Employee::first_name)`.
    fn col<T, A>(column: Column<Self::Model, T, A>) -> Column<Self, T, A>
    where
        Self: Sized,
    {
        Column::new(Self::NAME, column.name())
    }

    /// All of this source's columns, decoded into its model: `.columns((User::star(),
    /// Order::star()))`.
    fn star() -> Star<Self>
    where
        Self: Sized,
    {
        Star(PhantomData)
    }
}

impl<M: Model> Source for M {
    type Model = M;
    const NAME: &'static str = M::TABLE.name;
    const ALIAS: Option<&'static str> = None;
}

/// Every column of a source, as a selection decoding into its model.
pub struct Star<S>(PhantomData<fn() -> S>);

impl<S> Clone for Star<S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S> Copy for Star<S> {}

/// Declares an alias of a model's table, for self-joins and joining a table twice.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
///
/// orm_core::alias!(Referrer = User);
///
/// let q = select::<User>()
///     .left_join::<Referrer>(Referrer::col(User::id).eq(User::id.add(1)))
///     .columns((User::name, Referrer::col(User::name)));
/// // The alias's columns come back as `Option`: it is the outer side of the join.
/// let _: &Select<(String, Option<String>), _> = &q;
/// ```
#[macro_export]
macro_rules! alias {
    ($(#[$meta:meta])* $vis:vis $name:ident = $model:ty) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        $vis struct $name;
        impl $crate::stmt::Source for $name {
            type Model = $model;
            const NAME: &'static str = ::core::stringify!($name);
            const ALIAS: ::core::option::Option<&'static str> =
                ::core::option::Option::Some(::core::stringify!($name));
        }
    };
}

/// The empty source list.
pub struct Nil;
/// A source list: `H` followed by `T`.
pub struct Cons<H, T>(PhantomData<fn() -> (H, T)>);
/// A source whose rows are always there (the `FROM` table, inner joins).
pub struct Inner<S>(PhantomData<fn() -> S>);
/// A source whose rows may be missing (the outer side of an outer join): its columns decode
/// into `Option`s.
pub struct Outer<S>(PhantomData<fn() -> S>);

/// Index: the source is at the head of the list.
pub struct Here;
/// Index: the source is further down the list.
pub struct There<I>(PhantomData<fn() -> I>);
/// Index of selections that belong to no particular source (expressions, derived columns).
pub struct Free;

/// Proof that source `S` is in this list at index `I`, and how its values come back.
#[diagnostic::on_unimplemented(
    message = "`{S}` is not in this query's FROM or JOIN list",
    label = "selected here",
    note = "join it first, e.g. `.join::<{S}>(condition)`"
)]
pub trait HasSource<S, I> {
    /// `O` itself for inner sources, `O::Nullable` for outer ones.
    type Wrap<O: NullableRow>: Decode;
}

impl<S, R> HasSource<S, Here> for Cons<Inner<S>, R> {
    type Wrap<O: NullableRow> = O;
}

impl<S, R> HasSource<S, Here> for Cons<Outer<S>, R> {
    type Wrap<O: NullableRow> = O::Nullable;
}

impl<S, H, R, I> HasSource<S, There<I>> for Cons<H, R>
where
    R: HasSource<S, I>,
{
    type Wrap<O: NullableRow> = R::Wrap<O>;
}

/// Every source of the list made outer (for `RIGHT` and `FULL` joins).
pub trait AllOuter {
    /// The list with every source outer.
    type Out;
}

impl AllOuter for Nil {
    type Out = Nil;
}

impl<S, R: AllOuter> AllOuter for Cons<Inner<S>, R> {
    type Out = Cons<Outer<S>, R::Out>;
}

impl<S, R: AllOuter> AllOuter for Cons<Outer<S>, R> {
    type Out = Cons<Outer<S>, R::Out>;
}

/// The `FROM` item of a source (a table, possibly under an alias).
pub(crate) fn table_item<J: Source>() -> FromItem {
    FromItem::Table {
        table: J::Model::TABLE,
        alias: J::ALIAS,
    }
}

/// `source.discriminator = $1` when `J` is a variant of single-table inheritance (its table has
/// a discriminator with a value): the condition every query of `J`'s rows adds, so that
/// `select::<Manager>()` reads managers only.
pub(crate) fn variant_filter<J: Source>() -> Option<Expr<bool>> {
    let d = J::Model::TABLE.discriminator?;
    let value = d.value?;
    Some(Expr::new(Node::binary(
        BinOp::Eq,
        Node::Column(ColumnRef {
            table: J::NAME,
            name: d.column,
        }),
        Node::Param(param(value.to_owned())),
    )))
}

/// `ON condition`, with [`variant_filter`] of the joined source `AND`ed to it.
pub(crate) fn join_on<J: Source>(on: Expr<bool>) -> JoinOn {
    let on = on.into_node();
    JoinOn::On(match variant_filter::<J>() {
        Some(f) => Node::binary(BinOp::And, on, f.into_node()),
        None => on,
    })
}
