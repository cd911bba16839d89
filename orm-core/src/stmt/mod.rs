//! Statements: `SELECT`, `INSERT`, `UPDATE`, `DELETE`, as plain data with by-value builders.
//!
//! Each statement knows its output type (what a row decodes into) and compiles through
//! [`Statement::compile`] to SQL text plus parameters, or through [`Statement::compile_with`]
//! with global [`Criteria`] added to its tree first (what the session does).

mod body;
mod cached;
mod compound;
mod criteria;
mod deferral;
pub use deferral::LoadList;
mod delete;
mod derived;
mod insert;
mod keys;
mod keyset;
mod locking;
mod option;
pub mod rel_join;
mod select;
mod select_compile;
mod select_join;
#[cfg(test)]
mod shape_tests;
pub mod source;
mod update;

pub use crate::row::NullableRow;
pub use cached::{CachePolicy, Cached};
pub use compound::Compound;
pub use criteria::{Criteria, StatementCheck};
pub use delete::{Delete, delete, delete_model};
pub use derived::{Anonymous, Derived as DerivedTable, DerivedName, NamedDerived};
pub use insert::{
    ColumnList, Conflict, ConflictUpdate, Insert, excluded, insert, insert_many, insert_select,
};
pub use keys::KeyList;
pub use keyset::{Desc, Keyset, KeysetKey, KeysetKeys, Page};
pub use option::{JoinedParts, OptionSet, SelectOption};
pub use select::{Select, exists, recursive_cte, select, select_from, select_values};
pub use source::{HasSource, Source, Star};
pub use update::{Update, update, update_model};

use crate::ast::Query;
use crate::compile::CompiledQuery;
use crate::error::Result;
use crate::expr::{
    AggregateExpr, BinOp, Column, ColumnRef, Expr, Expression, Node, SubqueryOf, WindowFunc,
    WindowSpecified,
};
use crate::model::Model;
use crate::row::Decode;
use crate::types::SqlType;
use source::Free;

/// A statement that compiles to SQL and whose rows decode into [`RowOf<Self>`](RowOf).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a statement",
    label = "expected a select, insert, update or delete statement"
)]
pub trait Statement {
    /// How each returned row decodes (`()` for statements without `RETURNING`); the decoded
    /// type is [`RowOf<Self>`].
    type Row: Decode;

    /// Compiles to SQL text with `$n` placeholders and the parameters, in order.
    fn compile(&self) -> Result<CompiledQuery>;

    /// Compiles with `criteria` added wherever the statement reads a table they name (see
    /// [`Criteria`]); as [`compile`](Statement::compile) after
    /// `without_criteria()`. The session compiles every statement this way. The default, kept
    /// by raw SQL, compiles the statement as written.
    fn compile_with(&self, criteria: &Criteria) -> Result<CompiledQuery> {
        let _ = criteria;
        self.compile()
    }

    /// Compiles for a caller that throws the returned rows away and keeps only the count of
    /// rows affected (`execute`), with `criteria` as [`compile_with`](Statement::compile_with)
    /// when given. A statement may then leave out what only shapes its rows: an `INSERT` made
    /// by [`insert`](fn@insert) or [`insert_many`] drops the `RETURNING` of every column they
    /// add by default (a `RETURNING` chosen with `returning(...)` is kept). The count is the
    /// same either way. The default compiles the statement as written.
    fn compile_discarding_rows(&self, criteria: Option<&Criteria>) -> Result<CompiledQuery> {
        match criteria {
            Some(c) => self.compile_with(c),
            None => self.compile(),
        }
    }

    /// Compiles a statement its caller is done with, with `criteria` as
    /// [`compile_with`](Statement::compile_with) when given: what the executors call. A
    /// statement may move its values into the compiled query instead of copying them (a
    /// [`Select`] built only by steps such as [`by_pk`](Select::by_pk) does: one list of
    /// values less per query). The default compiles the statement as written.
    fn into_compiled(self, criteria: Option<&Criteria>) -> Result<CompiledQuery>
    where
        Self: Sized,
    {
        match criteria {
            Some(c) => self.compile_with(c),
            None => self.compile(),
        }
    }

    /// Whether the statement takes criteria: `false` after `without_criteria()`, and then its
    /// relationship loads take none either.
    fn uses_criteria(&self) -> bool {
        true
    }

    /// The options the statement carries for whoever runs it (relationship loads, see
    /// [`Select::option`]), and its query.
    fn options(&self) -> Option<OptionSet<RowOf<Self>>> {
        None
    }

    /// The query, when the statement reads a joined-table inheritance enum with
    /// [`PolymorphicLoad::SelectIn`](crate::meta::PolymorphicLoad): the driver then runs it
    /// through [`load::fetch_selectin`](crate::load::fetch_selectin) instead of as it is.
    fn polymorphic_selectin(&self) -> Option<Query> {
        None
    }

    /// The result-cache policy the statement asks for ([`Cached`]); none by default.
    fn cache_policy(&self) -> Option<&CachePolicy> {
        None
    }

    /// The statement's tree, for routing it by what it reads or writes (a sharded database
    /// finds the shard key in its filter or rows). `None`, the default, for raw SQL: its text
    /// cannot be routed.
    fn tree(&self) -> Option<crate::ast::Tree<'_>> {
        None
    }
}

/// What each row of statement `S` decodes into.
pub type RowOf<S> = <<S as Statement>::Row as Decode>::Output;

impl<S: Statement + ?Sized> Statement for &S {
    type Row = S::Row;
    fn compile(&self) -> Result<CompiledQuery> {
        (**self).compile()
    }
    fn compile_with(&self, criteria: &Criteria) -> Result<CompiledQuery> {
        (**self).compile_with(criteria)
    }
    fn compile_discarding_rows(&self, criteria: Option<&Criteria>) -> Result<CompiledQuery> {
        (**self).compile_discarding_rows(criteria)
    }
    fn uses_criteria(&self) -> bool {
        (**self).uses_criteria()
    }
    fn options(&self) -> Option<OptionSet<RowOf<Self>>> {
        (**self).options()
    }
    fn polymorphic_selectin(&self) -> Option<Query> {
        (**self).polymorphic_selectin()
    }
    fn cache_policy(&self) -> Option<&CachePolicy> {
        (**self).cache_policy()
    }
    fn tree(&self) -> Option<crate::ast::Tree<'_>> {
        (**self).tree()
    }
}

/// What a `SELECT` list or `RETURNING` clause can be, in a query reading from sources `S`: a
/// column of one of the sources, a source's [`star`](Source::star), an expression, a derived
/// table's column, or a tuple of them (up to 12). Its output is what a row decodes into;
/// columns of outer-joined sources come back as `Option`.
///
/// `I` is an index the compiler infers; you never name it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be selected from this query",
    label = "not a column, expression or tuple of them, or its table is not in the query"
)]
pub trait Selection<S, I> {
    /// The row decoder.
    type Output: Decode;
    /// Appends the selected expressions.
    fn push_nodes(self, out: &mut Vec<Node>);
}

impl<S, M, T, A, I> Selection<S, I> for Column<M, T, A>
where
    M: Source,
    T: SqlType,
    S: HasSource<M, I>,
{
    type Output = S::Wrap<T>;
    fn push_nodes(self, out: &mut Vec<Node>) {
        out.push(self.node());
    }
}

impl<S, M, I> Selection<S, I> for Star<M>
where
    M: Source,
    S: HasSource<M, I>,
{
    type Output = S::Wrap<M::Model>;
    fn push_nodes(self, out: &mut Vec<Node>) {
        out.extend(model_select_list(M::Model::TABLE, M::NAME));
    }
}

impl<S, T: SqlType> Selection<S, Free> for Expr<T> {
    type Output = T;
    fn push_nodes(self, out: &mut Vec<Node>) {
        out.push(self.into_node());
    }
}

impl<S, T: SqlType> Selection<S, Free> for AggregateExpr<T> {
    type Output = T;
    fn push_nodes(self, out: &mut Vec<Node>) {
        out.push(self.into_node());
    }
}

impl<S, T: SqlType> Selection<S, Free> for WindowFunc<T>
where
    WindowFunc<T>: WindowSpecified,
{
    type Output = T;
    fn push_nodes(self, out: &mut Vec<Node>) {
        out.push(self.into_node());
    }
}

impl<S, T: SqlType> Selection<S, Free> for SubColumn<T> {
    type Output = T;
    fn push_nodes(self, out: &mut Vec<Node>) {
        out.push(self.node());
    }
}

/// A column of a derived table named by a [`derived!`](crate::derived) type selects through
/// the query's source list: as `Option` when the table is the outer side of a join.
impl<S, T, D, I> Selection<S, I> for SubColumn<T, D>
where
    T: SqlType,
    D: NamedDerived,
    S: HasSource<D, I>,
{
    type Output = S::Wrap<T>;
    fn push_nodes(self, out: &mut Vec<Node>) {
        out.push(self.node());
    }
}

/// A selection with an output name: `expr AS "label"`. Made by [`label`].
pub struct Labeled<E> {
    inner: E,
    label: &'static str,
}

/// Names a selected expression: `func::label(func::sum(Order::total), "total")` selects
/// `... AS "total"`.
pub fn label<E>(inner: E, label: &'static str) -> Labeled<E> {
    Labeled { inner, label }
}

impl<S, I, E: Selection<S, I>> Selection<S, I> for Labeled<E> {
    type Output = E::Output;
    fn push_nodes(self, out: &mut Vec<Node>) {
        let start = out.len();
        self.inner.push_nodes(out);
        if out.len() == start + 1 {
            if let Some(node) = out.pop() {
                out.push(Node::Label(Box::new(node), self.label));
            }
        }
    }
}

macro_rules! tuple_selection {
    ($($name:ident $idx:tt $ix:ident)+) => {
        impl<S, $($name: Selection<S, $ix>, $ix),+> Selection<S, ($($ix,)+)> for ($($name,)+) {
            type Output = ($($name::Output,)+);
            fn push_nodes(self, out: &mut Vec<Node>) {
                $(self.$idx.push_nodes(out);)+
            }
        }
    };
}

tuple_selection!(A 0 IA);
tuple_selection!(A 0 IA B 1 IB);
tuple_selection!(A 0 IA B 1 IB C 2 IC);
tuple_selection!(A 0 IA B 1 IB C 2 IC D 3 ID);
tuple_selection!(A 0 IA B 1 IB C 2 IC D 3 ID E 4 IE);
tuple_selection!(A 0 IA B 1 IB C 2 IC D 3 ID E 4 IE F 5 IF);
tuple_selection!(A 0 IA B 1 IB C 2 IC D 3 ID E 4 IE F 5 IF G 6 IG);
tuple_selection!(A 0 IA B 1 IB C 2 IC D 3 ID E 4 IE F 5 IF G 6 IG H 7 IH);
tuple_selection!(A 0 IA B 1 IB C 2 IC D 3 ID E 4 IE F 5 IF G 6 IG H 7 IH I 8 II);
tuple_selection!(A 0 IA B 1 IB C 2 IC D 3 ID E 4 IE F 5 IF G 6 IG H 7 IH I 8 II J 9 IJ);
tuple_selection!(A 0 IA B 1 IB C 2 IC D 3 ID E 4 IE F 5 IF G 6 IG H 7 IH I 8 II J 9 IJ K 10 IK);
tuple_selection!(A 0 IA B 1 IB C 2 IC D 3 ID E 4 IE F 5 IF G 6 IG H 7 IH I 8 II J 9 IJ K 10 IK L 11 IL);

/// A column of a derived table (subquery or CTE), typed by its value. Made by
/// [`Select::subquery`] and [`Select::cte`]; use it like any column.
///
/// `D` is the derived table's name type ([`Anonymous`] for a string name).
pub struct SubColumn<T, D = Anonymous> {
    table: &'static str,
    name: &'static str,
    _type: std::marker::PhantomData<fn() -> (T, D)>,
}

impl<T, D> Clone for SubColumn<T, D> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T, D> Copy for SubColumn<T, D> {}

impl<T, D> std::fmt::Debug for SubColumn<T, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SubColumn({}.{})", self.table, self.name)
    }
}

impl<T, D> SubColumn<T, D> {
    /// `table.name` as a typed column.
    pub const fn new(table: &'static str, name: &'static str) -> Self {
        SubColumn {
            table,
            name,
            _type: std::marker::PhantomData,
        }
    }

    /// The column as an untyped node.
    pub fn node(&self) -> Node {
        Node::Column(ColumnRef {
            table: self.table,
            name: self.name,
        })
    }

    /// The column's name.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl<T: SqlType, D> crate::expr::Expression for SubColumn<T, D> {
    type Value = T;
    fn into_node(self) -> Node {
        self.node()
    }
}

impl<T: SqlType, D> crate::expr::IntoExpr<T::Base> for SubColumn<T, D> {
    fn into_expr_node(self) -> Node {
        self.node()
    }
}

impl<T: SqlType, D> From<SubColumn<T, D>> for crate::expr::OrderBy {
    fn from(c: SubColumn<T, D>) -> Self {
        crate::expr::Expression::asc(c)
    }
}

/// Output types that can be columns of a derived table: values and tuples of values. Gives the
/// typed handles of a subquery's or CTE's columns.
pub trait Handles: Decode {
    /// The handles of a derived table named by `D`: a [`SubColumn`], or a tuple of them.
    type Handles<D>: Copy;
    /// Builds the handles for `table`, taking column names in order.
    fn handles<D>(
        table: &'static str,
        names: &mut std::slice::Iter<'_, &'static str>,
    ) -> Self::Handles<D>;
}

impl<T: SqlType> Handles for T {
    type Handles<D> = SubColumn<T, D>;
    fn handles<D>(
        table: &'static str,
        names: &mut std::slice::Iter<'_, &'static str>,
    ) -> SubColumn<T, D> {
        SubColumn::new(table, names.next().copied().unwrap_or("?"))
    }
}

macro_rules! tuple_handles {
    ($($name:ident)+) => {
        impl<$($name: Handles),+> Handles for ($($name,)+) {
            type Handles<Tag> = ($($name::Handles<Tag>,)+);
            fn handles<Tag>(table: &'static str, names: &mut std::slice::Iter<'_, &'static str>) -> Self::Handles<Tag> {
                ($($name::handles::<Tag>(table, names),)+)
            }
        }
    };
}

tuple_handles!(A);
tuple_handles!(A B);
tuple_handles!(A B C);
tuple_handles!(A B C D);
tuple_handles!(A B C D E);
tuple_handles!(A B C D E F);
tuple_handles!(A B C D E F G);
tuple_handles!(A B C D E F G H);
tuple_handles!(A B C D E F G H I);
tuple_handles!(A B C D E F G H I J);
tuple_handles!(A B C D E F G H I J K);
tuple_handles!(A B C D E F G H I J K L);

/// All columns of a model's table, qualified by the table name.
pub(crate) fn model_columns(table: &'static crate::meta::Table) -> Vec<Node> {
    table
        .columns
        .iter()
        .map(|c| {
            Node::Column(ColumnRef {
                table: c.qualifier(table.name),
                name: c.name,
            })
        })
        .chain(property_nodes(table))
        .collect()
}

/// The expressions of a model's column properties, selected after its columns. A property of
/// an inheritance enum's variant is computed for that variant's rows only: `CASE WHEN
/// "t"."kind" = $n THEN <expr> END` (the others do not decode it).
pub(crate) fn property_nodes(table: &'static crate::meta::Table) -> impl Iterator<Item = Node> {
    table.properties.iter().map(move |p| {
        // The derive builds a `Node`; anything else would be a bug of generated code, and
        // selecting `NULL` then fails the decode with the field named.
        let node = (p.expr)()
            .downcast::<Node>()
            .map_or(Node::Keyword("NULL"), |n| *n);
        match (p.variant, table.discriminator) {
            (Some(value), Some(d)) => {
                let is_variant = Node::binary(
                    BinOp::Eq,
                    Node::Column(ColumnRef {
                        table: table.name,
                        name: d.column,
                    }),
                    Node::Param(crate::expr::param(value.to_owned())),
                );
                Node::Case(Box::new(crate::ast::Case {
                    operand: None,
                    whens: vec![(is_variant, node)],
                    else_: None,
                }))
            }
            _ => node,
        }
    })
}

/// The select-list entry of a deferred column that is not loaded: `NULL::void`, which keeps
/// the row's width (rows decode by position) and which [`Deferred`](crate::deferred::Deferred)
/// tells from a value by its type (no column has type `void`).
pub(crate) const DEFERRED_PLACEHOLDER: Node = Node::Keyword(DEFERRED_KEYWORD);

/// The text of [`DEFERRED_PLACEHOLDER`].
const DEFERRED_KEYWORD: &str = "NULL::void";

/// Whether `node` is [`DEFERRED_PLACEHOLDER`].
pub(crate) fn is_deferred_placeholder(node: &Node) -> bool {
    matches!(node, Node::Keyword(k) if *k == DEFERRED_KEYWORD)
}

/// A model's select list, its columns qualified by `qualifier`: deferred columns
/// (`#[model(deferred)]`) as [`DEFERRED_PLACEHOLDER`], then the column properties' expressions
/// (which name the table itself: a query of an alias still reads them from the table).
pub(crate) fn model_select_list(
    table: &'static crate::meta::Table,
    qualifier: &'static str,
) -> impl Iterator<Item = Node> {
    table
        .columns
        .iter()
        .map(move |c| {
            if c.deferred {
                DEFERRED_PLACEHOLDER
            } else {
                Node::Column(ColumnRef {
                    table: c.qualifier(qualifier),
                    name: c.name,
                })
            }
        })
        .chain(property_nodes(table))
}

/// ANDs a new condition onto an optional filter.
pub(crate) fn and_filter(filter: Option<Node>, cond: Expr<bool>) -> Option<Node> {
    Some(match filter {
        None => cond.into_node(),
        Some(prev) => Node::binary(crate::expr::BinOp::And, prev, cond.into_node()),
    })
}

/// `pk1 = $1 AND pk2 = $2 ...` for a model's key.
pub fn pk_filter<M: Model>(pk: M::Pk) -> Expr<bool> {
    Expr::new(pk_condition(M::TABLE, M::TABLE.name, M::pk_params(pk)))
}

/// `pk1 = $1 AND pk2 = $2 ...` for the key `values` of `table`, its columns qualified by
/// `qualifier` (the table's name, or its alias in the `FROM` list).
pub(crate) fn pk_condition(
    table: &'static crate::meta::Table,
    qualifier: &'static str,
    values: impl IntoIterator<Item = crate::ast::Param>,
) -> Node {
    let mut node: Option<Node> = None;
    for (col, value) in table.primary_key().zip(values) {
        let eq = Node::binary(
            BinOp::Eq,
            Node::Column(ColumnRef {
                table: qualifier,
                name: col.name,
            }),
            Node::Param(value),
        );
        node = Some(match node {
            None => eq,
            Some(prev) => Node::binary(BinOp::And, prev, eq),
        });
    }
    // A model always has a key: the derive refuses a struct without one.
    node.unwrap_or(Node::Keyword("FALSE"))
}

// Selects and set operations selecting one column are subqueries of that column's type.
impl<O, S, B> SubqueryOf<B> for Select<O, S>
where
    O: SqlType<Base = B>,
{
    fn into_query(self) -> Query {
        Select::into_query(self)
    }
}

impl<O, B> SubqueryOf<B> for Compound<O>
where
    O: SqlType<Base = B>,
{
    fn into_query(self) -> Query {
        Compound::into_query(self)
    }
}
