//! The expression language.
//!
//! Types live at the edges: [`Column<M, T>`] and [`Expr<T>`] carry the Rust type of their value
//! so comparisons are checked by the compiler, and both lower to an untyped [`Node`] tree that the
//! [compiler](crate::compile) walks. Values are never part of the SQL text: they sit in the tree as
//! [`Param`]s and are sent as bound parameters.

mod column;
mod datetime;
mod functions;
mod json;
mod ops;
mod text_search;
mod window;

pub use column::Column;
#[cfg(feature = "decimal")]
pub use datetime::extract;
pub use datetime::{
    Aged, DatePart, ExtractField, IntervalArith, Temporal, Truncatable, age, date_part, date_trunc,
};
#[cfg(feature = "chrono")]
pub use datetime::{current_date, now};
pub use functions::{
    AggregateExpr, Arithmetic, Averageable, CaseWhen, Numeric, Remainder, Signed, SimpleCase,
    SimpleCaseWhen, Summable, TextList, array_agg, avg, bool_and, bool_or, case, case_when,
    coalesce, concat_ws, count, count_all, count_distinct, greatest, least, length, lower, max,
    min, nullif, string_agg, substring, sum, trim, upper,
};
#[cfg(feature = "json")]
pub use json::JsonType;
pub use json::{ArrayType, array_length, cardinality};
pub use ops::{Expression, IntoExpr, OrderBy, Ordering, SubqueryOf, asc, desc, escape_like};
pub use text_search::{
    phraseto_tsquery, plainto_tsquery, to_tsquery, to_tsvector, ts_rank, websearch_to_tsquery,
};
pub use window::{
    ExprList, WindowFunc, WindowSpecified, cume_dist, current_row, dense_rank, first_value,
    following, lag, last_value, lead, nth_value, ntile, percent_rank, preceding, rank, row_number,
    unbounded_following, unbounded_preceding, window,
};

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use postgres_types::ToSql;

use crate::types::SqlType;

/// A bound parameter value.
pub type Param = Arc<dyn ToSql + Send + Sync>;

/// Wraps a value as a parameter.
pub fn param<T: ToSql + Send + Sync + 'static>(value: T) -> Param {
    Arc::new(value)
}

/// A reference to a column of a table, as the compiler prints it: `"table"."column"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnRef {
    /// The table (or alias) qualifying the column.
    pub table: &'static str,
    /// The column's name.
    pub name: &'static str,
}

/// An untyped SQL expression node. Built through [`Column`] and [`Expr`]; read by the compiler.
#[derive(Clone)]
#[non_exhaustive]
pub enum Node {
    /// A column of a table.
    Column(ColumnRef),
    /// A bound value, printed as `$n`.
    Param(Param),
    /// A prefix or postfix operator.
    Unary(UnaryOp, Box<Node>),
    /// A binary operator.
    Binary(BinOp, Box<Node>, Box<Node>),
    /// `expr = ANY(array)` or, negated, `expr <> ALL(array)`.
    InArray {
        /// The tested expression.
        expr: Box<Node>,
        /// The array (one parameter).
        array: Box<Node>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `expr [NOT] BETWEEN low AND high`.
    Between {
        /// The tested expression.
        expr: Box<Node>,
        /// Lower bound.
        low: Box<Node>,
        /// Upper bound.
        high: Box<Node>,
        /// `NOT BETWEEN`.
        negated: bool,
    },
    /// A function call; `name` is printed as written (it is never user input).
    Func(&'static str, Vec<Node>),
    /// `count(*)`.
    CountStar,
    /// A fixed SQL keyword or literal written by the library (`TRUE`, `NULL`, ...).
    Keyword(&'static str),
    /// `EXISTS (subquery)`.
    Exists(Box<crate::stmt::Query>),
    /// A scalar subquery: `(SELECT ...)`.
    Subquery(Box<crate::stmt::Query>),
    /// `expr [NOT] IN (subquery)`.
    InSubquery {
        /// The tested expression.
        expr: Box<Node>,
        /// The subquery.
        query: Box<crate::stmt::Query>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `expr op ANY(array)` or `expr op ALL(array)`.
    Quantified {
        /// The left operand.
        expr: Box<Node>,
        /// The comparison.
        op: BinOp,
        /// The array expression.
        array: Box<Node>,
        /// `ALL` rather than `ANY`.
        all: bool,
    },
    /// An aggregate call.
    Aggregate(Box<Aggregate>),
    /// A window function call: `call OVER (...)`.
    Window(Box<Node>, Box<Over>),
    /// `CASE [operand] WHEN ... THEN ... [ELSE ...] END`.
    Case(Box<Case>),
    /// `CAST(expr AS type)`.
    Cast(Box<Node>, CastType),
    /// `EXTRACT(field FROM expr)`; `field` is one of the library's constants.
    Extract(&'static str, Box<Node>),
    /// A row constructor: `(a, b, ...)`, e.g. for keyset pagination.
    Row(Vec<Node>),
    /// `EXCLUDED."column"` inside `ON CONFLICT DO UPDATE`.
    Excluded(&'static str),
    /// `expr AS "label"` (in select lists and `RETURNING`).
    Label(Box<Node>, &'static str),
    /// An unqualified column name: `"name"` (output columns of a set operation, CTE columns).
    Name(&'static str),
    /// A raw SQL fragment with named bound parameters.
    Raw(Box<crate::raw::RawSql>),
}

/// Prefix and postfix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnaryOp {
    /// `NOT x`
    Not,
    /// `x IS NULL`
    IsNull,
    /// `x IS NOT NULL`
    IsNotNull,
    /// `-x`
    Neg,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BinOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `AND`
    And,
    /// `OR`
    Or,
    /// `LIKE`
    Like,
    /// `NOT LIKE`
    NotLike,
    /// `ILIKE`
    ILike,
    /// `NOT ILIKE`
    NotILike,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `||`
    Concat,
    /// `IS DISTINCT FROM`
    IsDistinctFrom,
    /// `IS NOT DISTINCT FROM`
    IsNotDistinctFrom,
    /// `->` (JSON field or element)
    JsonGet,
    /// `->>` (JSON field or element as text)
    JsonGetText,
    /// `#>` (JSON at a path)
    JsonPath,
    /// `#>>` (JSON at a path as text)
    JsonPathText,
    /// `@>` (JSON or array contains)
    Contains,
    /// `<@` (JSON or array is contained by)
    ContainedBy,
    /// `?` (JSON object has key)
    HasKey,
    /// `&&` (arrays overlap)
    Overlaps,
    /// `@@` (full-text match)
    TsMatch,
    /// `^` (power)
    Pow,
}

impl BinOp {
    /// The operator as written in SQL.
    pub fn as_sql(self) -> &'static str {
        match self {
            BinOp::Eq => "=",
            BinOp::Ne => "<>",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "AND",
            BinOp::Or => "OR",
            BinOp::Like => "LIKE",
            BinOp::NotLike => "NOT LIKE",
            BinOp::ILike => "ILIKE",
            BinOp::NotILike => "NOT ILIKE",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Concat => "||",
            BinOp::IsDistinctFrom => "IS DISTINCT FROM",
            BinOp::IsNotDistinctFrom => "IS NOT DISTINCT FROM",
            BinOp::JsonGet => "->",
            BinOp::JsonGetText => "->>",
            BinOp::JsonPath => "#>",
            BinOp::JsonPathText => "#>>",
            BinOp::Contains => "@>",
            BinOp::ContainedBy => "<@",
            BinOp::HasKey => "?",
            BinOp::Overlaps => "&&",
            BinOp::TsMatch => "@@",
            BinOp::Pow => "^",
        }
    }
}

/// An aggregate call: `name([DISTINCT] args [ORDER BY ...]) [FILTER (WHERE ...)]`.
#[derive(Clone, Debug)]
pub struct Aggregate {
    /// The function's name (a library constant, or the caller's for [`func`]-style escape hatches).
    pub name: &'static str,
    /// `DISTINCT` inside the call.
    pub distinct: bool,
    /// Arguments; empty with `star` for `count(*)`.
    pub args: Vec<Node>,
    /// `*` as the argument.
    pub star: bool,
    /// `ORDER BY` inside the call (`string_agg`, `array_agg`).
    pub order_by: Vec<OrderBy>,
    /// `FILTER (WHERE ...)`.
    pub filter: Option<Node>,
}

/// The `OVER` clause of a window function.
#[derive(Clone, Debug, Default)]
pub struct Over {
    /// A named window (`OVER w`, or the base of the spec).
    pub name: Option<&'static str>,
    /// `PARTITION BY`.
    pub partition_by: Vec<Node>,
    /// `ORDER BY`.
    pub order_by: Vec<OrderBy>,
    /// The frame clause, e.g. `ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW`.
    pub frame: Option<Frame>,
}

/// A window frame.
#[derive(Clone, Debug)]
pub struct Frame {
    /// `ROWS`, `RANGE` or `GROUPS`.
    pub units: FrameUnits,
    /// Start bound.
    pub start: FrameBound,
    /// End bound (`BETWEEN start AND end`), if any.
    pub end: Option<FrameBound>,
}

/// Frame units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameUnits {
    /// `ROWS`
    Rows,
    /// `RANGE`
    Range,
    /// `GROUPS`
    Groups,
}

/// A frame bound.
#[derive(Clone, Debug)]
pub enum FrameBound {
    /// `UNBOUNDED PRECEDING`
    UnboundedPreceding,
    /// `n PRECEDING` (n is a parameter)
    Preceding(Box<Node>),
    /// `CURRENT ROW`
    CurrentRow,
    /// `n FOLLOWING`
    Following(Box<Node>),
    /// `UNBOUNDED FOLLOWING`
    UnboundedFollowing,
}

/// `CASE` expression parts.
#[derive(Clone, Debug)]
pub struct Case {
    /// `CASE operand WHEN value ...` (simple form) when set.
    pub operand: Option<Node>,
    /// `WHEN condition THEN result` pairs.
    pub whens: Vec<(Node, Node)>,
    /// `ELSE result`.
    pub else_: Option<Node>,
}

/// The target type of a cast.
#[derive(Clone, Copy, Debug)]
pub enum CastType {
    /// A column type (from [`SqlType::COLUMN_TYPE`]).
    Column(crate::types::ColumnType),
    /// A type written by the library (`interval`, `tsquery`, `text`, ...).
    Named(&'static str),
    /// An array of a column type: `type[]`.
    Array(crate::types::ColumnType),
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Column(c) => write!(f, "{}.{}", c.table, c.name),
            Node::Param(p) => write!(f, "Param({p:?})"),
            Node::Unary(op, e) => f.debug_tuple("Unary").field(op).field(e).finish(),
            Node::Binary(op, l, r) => f.debug_tuple("Binary").field(op).field(l).field(r).finish(),
            Node::InArray {
                expr,
                array,
                negated,
            } => f
                .debug_struct("InArray")
                .field("expr", expr)
                .field("array", array)
                .field("negated", negated)
                .finish(),
            Node::Between {
                expr,
                low,
                high,
                negated,
            } => f
                .debug_struct("Between")
                .field("expr", expr)
                .field("low", low)
                .field("high", high)
                .field("negated", negated)
                .finish(),
            Node::Func(name, args) => f.debug_tuple("Func").field(name).field(args).finish(),
            Node::CountStar => f.write_str("CountStar"),
            Node::Keyword(k) => f.write_str(k),
            Node::Exists(s) => f.debug_tuple("Exists").field(s).finish(),
            Node::Subquery(q) => f.debug_tuple("Subquery").field(q).finish(),
            Node::InSubquery {
                expr,
                query,
                negated,
            } => f
                .debug_struct("InSubquery")
                .field("expr", expr)
                .field("query", query)
                .field("negated", negated)
                .finish(),
            Node::Quantified {
                expr,
                op,
                array,
                all,
            } => f
                .debug_struct("Quantified")
                .field("expr", expr)
                .field("op", op)
                .field("array", array)
                .field("all", all)
                .finish(),
            Node::Aggregate(a) => a.fmt(f),
            Node::Window(call, over) => f.debug_tuple("Window").field(call).field(over).finish(),
            Node::Case(c) => c.fmt(f),
            Node::Cast(e, t) => f.debug_tuple("Cast").field(e).field(t).finish(),
            Node::Extract(field, e) => f.debug_tuple("Extract").field(field).field(e).finish(),
            Node::Row(items) => f.debug_tuple("Row").field(items).finish(),
            Node::Excluded(c) => write!(f, "EXCLUDED.{c}"),
            Node::Label(e, l) => f.debug_tuple("Label").field(e).field(l).finish(),
            Node::Name(n) => write!(f, "Name({n})"),
            Node::Raw(r) => r.fmt(f),
        }
    }
}

impl Node {
    /// Rewrites every column qualified by `from` to be qualified by `to` (to adapt a condition
    /// to an aliased table), also inside subqueries, except those whose own `FROM`/`JOIN` define
    /// `from` (there the name means their own table).
    pub fn requalify(&mut self, from: &str, to: &'static str) {
        let mut go = |n: &mut Node| n.requalify(from, to);
        match self {
            Node::Column(c) => {
                if c.table == from {
                    c.table = to;
                }
            }
            Node::Unary(_, e) | Node::Cast(e, _) | Node::Extract(_, e) | Node::Label(e, _) => go(e),
            Node::Binary(_, l, r) => {
                go(l);
                go(r);
            }
            Node::InArray { expr, array, .. } => {
                go(expr);
                go(array);
            }
            Node::Quantified { expr, array, .. } => {
                go(expr);
                go(array);
            }
            Node::Between {
                expr, low, high, ..
            } => {
                go(expr);
                go(low);
                go(high);
            }
            Node::Func(_, args) | Node::Row(args) => args.iter_mut().for_each(go),
            Node::Aggregate(a) => {
                a.args.iter_mut().for_each(&mut go);
                a.order_by.iter_mut().for_each(|o| go(&mut o.node));
                if let Some(f) = &mut a.filter {
                    go(f);
                }
            }
            Node::Window(call, over) => {
                go(call);
                over.partition_by.iter_mut().for_each(&mut go);
                over.order_by.iter_mut().for_each(|o| go(&mut o.node));
            }
            Node::Case(c) => {
                if let Some(o) = &mut c.operand {
                    go(o);
                }
                for (w, t) in &mut c.whens {
                    go(w);
                    go(t);
                }
                if let Some(e) = &mut c.else_ {
                    go(e);
                }
            }
            Node::InSubquery { expr, query, .. } => {
                go(expr);
                query.requalify(from, to);
            }
            Node::Exists(q) | Node::Subquery(q) => q.requalify(from, to),
            Node::Param(_)
            | Node::CountStar
            | Node::Keyword(_)
            | Node::Excluded(_)
            | Node::Name(_)
            | Node::Raw(_) => {}
        }
    }

    /// The aliases the library gave to tables in subqueries of this expression that start with
    /// `prefix` (to pick a fresh one when nesting).
    pub fn count_aliases(&self, prefix: &str) -> usize {
        let mut n = 0;
        let mut visit = |node: &Node| n += node.count_aliases(prefix);
        match self {
            Node::Exists(q) | Node::Subquery(q) => return q.count_aliases(prefix),
            Node::InSubquery { expr, query, .. } => {
                return expr.count_aliases(prefix) + query.count_aliases(prefix);
            }
            Node::Unary(_, e) | Node::Cast(e, _) | Node::Extract(_, e) | Node::Label(e, _) => {
                visit(e)
            }
            Node::Binary(_, l, r) => {
                visit(l);
                visit(r);
            }
            Node::Func(_, args) | Node::Row(args) => args.iter().for_each(visit),
            _ => {}
        }
        n
    }

    pub(crate) fn binary(op: BinOp, left: Node, right: Node) -> Node {
        Node::Binary(op, Box::new(left), Box::new(right))
    }

    pub(crate) fn unary(op: UnaryOp, expr: Node) -> Node {
        Node::Unary(op, Box::new(expr))
    }
}

/// A typed SQL expression whose value decodes into `T`.
///
/// Built from columns, values and operators: `User::age.gt(18)` is an `Expr<bool>`,
/// `count_star()` an `Expr<i64>`. Combine conditions with [`and`](Expr::and) /
/// [`or`](Expr::or) / [`not`](Expr::not) or the `&`, `|` and `!` operators.
pub struct Expr<T> {
    node: Node,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Expr<T> {
    fn clone(&self) -> Self {
        Expr::new(self.node.clone())
    }
}

impl<T> fmt::Debug for Expr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}

impl<T> Expr<T> {
    /// Wraps an untyped node. The caller vouches that it yields a `T`.
    pub fn new(node: Node) -> Self {
        Expr {
            node,
            _type: PhantomData,
        }
    }

    /// The untyped node.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Unwraps the untyped node.
    pub fn into_node(self) -> Node {
        self.node
    }
}

impl Expr<bool> {
    /// `self AND other`.
    pub fn and(self, other: Expr<bool>) -> Expr<bool> {
        Expr::new(Node::binary(BinOp::And, self.node, other.node))
    }

    /// `self OR other`.
    pub fn or(self, other: Expr<bool>) -> Expr<bool> {
        Expr::new(Node::binary(BinOp::Or, self.node, other.node))
    }

    /// `NOT self`.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Expr<bool> {
        Expr::new(Node::unary(UnaryOp::Not, self.node))
    }

    /// `TRUE`: the neutral element of [`all`].
    pub fn true_() -> Expr<bool> {
        Expr::new(Node::Keyword("TRUE"))
    }

    /// `FALSE`: the neutral element of [`any`].
    pub fn false_() -> Expr<bool> {
        Expr::new(Node::Keyword("FALSE"))
    }
}

/// A nullable condition is a condition: in `WHERE`, `HAVING` and `ON`, `NULL` counts as false,
/// as in SQL.
impl From<Expr<Option<bool>>> for Expr<bool> {
    fn from(e: Expr<Option<bool>>) -> Expr<bool> {
        Expr::new(e.into_node())
    }
}

impl std::ops::BitAnd for Expr<bool> {
    type Output = Expr<bool>;
    fn bitand(self, rhs: Expr<bool>) -> Expr<bool> {
        self.and(rhs)
    }
}

impl std::ops::BitOr for Expr<bool> {
    type Output = Expr<bool>;
    fn bitor(self, rhs: Expr<bool>) -> Expr<bool> {
        self.or(rhs)
    }
}

impl std::ops::Not for Expr<bool> {
    type Output = Expr<bool>;
    fn not(self) -> Expr<bool> {
        Expr::not(self)
    }
}

/// All conditions joined with `AND`; `TRUE` when there are none.
///
/// For filters built at run time from optional input.
pub fn all(conditions: impl IntoIterator<Item = Expr<bool>>) -> Expr<bool> {
    conditions
        .into_iter()
        .reduce(Expr::and)
        .unwrap_or_else(Expr::true_)
}

/// Any of the conditions joined with `OR`; `FALSE` when there are none.
pub fn any(conditions: impl IntoIterator<Item = Expr<bool>>) -> Expr<bool> {
    conditions
        .into_iter()
        .reduce(Expr::or)
        .unwrap_or_else(Expr::false_)
}

/// A call of any server function, typed by what it returns: the escape hatch for functions the
/// builder has no method for. `name` is written into the SQL as given, so it must be a constant
/// of your program, never user input.
///
/// ```
/// use orm_core::prelude::*;
/// use orm_core::expr;
///
/// let upper = expr::func::<String>("upper", [func::value("abc".to_string()).into_node()]);
/// let q = select_values(upper);
/// assert_eq!(q.compile().unwrap().sql, "SELECT upper(CAST($1 AS TEXT))");
/// ```
pub fn func<T>(name: &'static str, args: impl IntoIterator<Item = Node>) -> Expr<T> {
    Expr::new(Node::Func(name, args.into_iter().collect()))
}

/// An output column of the query by its name, unqualified: to order a set operation by a
/// label of its first query (`.order_by(output::<String>("kind"))`).
///
/// ```
/// use orm_core::prelude::*;
/// use orm_core::expr::output;
/// # use orm_core::__doc_fixture::User;
///
/// let q = select::<User>()
///     .columns((User::name, func::label(func::value("user".to_string()), "kind")))
///     .union(select::<User>().columns((User::name, func::value("admin".to_string()))))
///     .order_by(output::<String>("kind").desc());
/// assert!(q.compile().unwrap().sql.ends_with(r#"ORDER BY "kind" DESC"#));
/// ```
pub fn output<T>(name: &'static str) -> Expr<T> {
    Expr::new(Node::Name(name))
}

/// `count(*)`.
pub fn count_star() -> Expr<i64> {
    Expr::new(Node::CountStar)
}

/// A bound value as an expression, cast to its SQL type (`CAST($1 AS INTEGER)`), so it has a
/// type wherever it stands: in a select list, a `UNION`, a CTE, or on the left of an operator.
pub fn value<T: SqlType>(v: T) -> Expr<T> {
    Expr::new(Node::Cast(
        Box::new(Node::Param(param(v))),
        CastType::Column(T::COLUMN_TYPE),
    ))
}
