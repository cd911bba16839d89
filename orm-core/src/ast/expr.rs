//! Expression nodes: the untyped tree the typed builders lower to and the compiler walks.
//! Values are never part of the SQL text: they sit in the tree as [`Param`]s and are sent as
//! bound parameters.

pub use crate::types::{Param, param};
use std::fmt;

/// A reference to a column of a table, as the compiler prints it: `"table"."column"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnRef {
    /// The table (or alias) qualifying the column.
    pub table: &'static str,
    /// The column's name.
    pub name: &'static str,
}

/// An untyped SQL expression node. Built through [`Column`](crate::expr::Column) and
/// [`Expr`](crate::expr::Expr); read by the compiler.
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
    /// `a AND b AND ...` or `a OR b OR ...` (`op` is [`BinOp::And`] or [`BinOp::Or`]): two
    /// or more operands, kept in one list so that a long chain (`func::any` over thousands of
    /// conditions, a filter added to in a loop) is one level deep, not one level per operand
    /// (which overflowed the stack of whatever walked it).
    Logic(BinOp, Vec<Node>),
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
    Exists(Box<super::Query>),
    /// A scalar subquery: `(SELECT ...)`.
    Subquery(Box<super::Query>),
    /// `expr [NOT] IN (subquery)`.
    InSubquery {
        /// The tested expression.
        expr: Box<Node>,
        /// The subquery.
        query: Box<super::Query>,
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
    /// An attribute of a composite value: `(expr)."name"`.
    Field(Box<Node>, &'static str),
    /// A raw SQL fragment with named bound parameters.
    Raw(Box<super::RawSql>),
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
    /// `&&` (arrays or ranges overlap)
    Overlaps,
    /// `-|-` (ranges are adjacent)
    Adjacent,
    /// `@@` (full-text match)
    TsMatch,
    /// `^` (power)
    Pow,
    /// `~` (an `ltree` matches an `lquery`)
    Match,
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
            BinOp::Adjacent => "-|-",
            BinOp::TsMatch => "@@",
            BinOp::Pow => "^",
            BinOp::Match => "~",
        }
    }
}

/// An aggregate call: `name([DISTINCT] args [ORDER BY ...]) [FILTER (WHERE ...)]`.
#[derive(Clone, Debug)]
pub struct Aggregate {
    /// The function's name (a library constant, or the caller's for [`func`](crate::expr::func)-style escape hatches).
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

impl Over {
    /// Calls `node` on each expression of the window: partitions, ordering, frame offsets.
    pub fn walk_mut(&mut self, node: &mut dyn FnMut(&mut Node)) {
        self.partition_by.iter_mut().for_each(&mut *node);
        self.order_by.iter_mut().for_each(|o| node(&mut o.node));
        if let Some(frame) = &mut self.frame {
            for bound in std::iter::once(&mut frame.start).chain(frame.end.as_mut()) {
                if let FrameBound::Preceding(n) | FrameBound::Following(n) = bound {
                    node(n);
                }
            }
        }
    }
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
    /// A column type (from [`SqlType::COLUMN_TYPE`](crate::types::SqlType::COLUMN_TYPE)).
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
            Node::Logic(op, operands) => f.debug_tuple("Logic").field(op).field(operands).finish(),
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
            Node::Field(e, n) => f.debug_tuple("Field").field(e).field(n).finish(),
            Node::Raw(r) => r.fmt(f),
        }
    }
}

impl Node {
    /// Rewrites every column qualified by `from` to be qualified by `to` (to adapt a condition
    /// to an aliased table), also inside subqueries, except those whose own `FROM`/`JOIN` define
    /// `from` (there the name means their own table).
    pub fn requalify(&mut self, from: &str, to: &'static str) {
        if let Node::Column(c) = self {
            if c.table == from {
                c.table = to;
            }
            return;
        }
        self.walk_mut(&mut |child| match child {
            Child::Node(n) => n.requalify(from, to),
            Child::Query(q) => q.requalify(from, to),
        });
    }

    /// Calls `f` on each direct child of this expression: its operands, and the subqueries it
    /// holds (`EXISTS`, scalar, `IN (SELECT ...)`). `f` recurses if it wants to.
    pub fn walk_mut(&mut self, f: &mut dyn FnMut(Child<'_>)) {
        let mut node = |n: &mut Node| f(Child::Node(n));
        match self {
            Node::Unary(_, e)
            | Node::Cast(e, _)
            | Node::Extract(_, e)
            | Node::Label(e, _)
            | Node::Field(e, _) => node(e),
            Node::Binary(_, l, r) => {
                node(l);
                node(r);
            }
            Node::InArray { expr, array, .. } | Node::Quantified { expr, array, .. } => {
                node(expr);
                node(array);
            }
            Node::Between {
                expr, low, high, ..
            } => {
                node(expr);
                node(low);
                node(high);
            }
            Node::Func(_, args) | Node::Row(args) | Node::Logic(_, args) => {
                args.iter_mut().for_each(node)
            }
            Node::Aggregate(a) => {
                a.args.iter_mut().for_each(&mut node);
                a.order_by.iter_mut().for_each(|o| node(&mut o.node));
                if let Some(filter) = &mut a.filter {
                    node(filter);
                }
            }
            Node::Window(call, over) => {
                node(call);
                over.walk_mut(&mut node);
            }
            Node::Case(c) => {
                let whens = c.whens.iter_mut().flat_map(|(w, t)| [w, t]);
                c.operand
                    .iter_mut()
                    .chain(whens)
                    .chain(c.else_.iter_mut())
                    .for_each(node);
            }
            Node::InSubquery { expr, query, .. } => {
                node(expr);
                f(Child::Query(query));
            }
            Node::Exists(q) | Node::Subquery(q) => f(Child::Query(q)),
            Node::Column(_)
            | Node::Param(_)
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
            Node::Unary(_, e)
            | Node::Cast(e, _)
            | Node::Extract(_, e)
            | Node::Label(e, _)
            | Node::Field(e, _) => visit(e),
            Node::Binary(_, l, r) => {
                visit(l);
                visit(r);
            }
            Node::Func(_, args) | Node::Row(args) | Node::Logic(_, args) => {
                args.iter().for_each(visit)
            }
            _ => {}
        }
        n
    }

    /// `left op right`; for `AND` and `OR`, a [`Node::Logic`] that `right` joins when `left`
    /// is already one of the same operator (`a AND b`, then `AND c`: one list of three).
    pub(crate) fn binary(op: BinOp, left: Node, right: Node) -> Node {
        match (op, left) {
            (BinOp::And | BinOp::Or, Node::Logic(o, mut operands)) if o == op => {
                operands.push(right);
                Node::Logic(op, operands)
            }
            (BinOp::And | BinOp::Or, left) => Node::Logic(op, vec![left, right]),
            (op, left) => Node::Binary(op, Box::new(left), Box::new(right)),
        }
    }

    pub(crate) fn unary(op: UnaryOp, expr: Node) -> Node {
        Node::Unary(op, Box::new(expr))
    }
}

/// A direct child of an expression, as [`Node::walk_mut`] hands it over.
pub enum Child<'a> {
    /// An operand.
    Node(&'a mut Node),
    /// A subquery.
    Query(&'a mut super::Query),
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    /// `ASC`
    Asc,
    /// `DESC`
    Desc,
}

/// One `ORDER BY` item.
#[derive(Debug, Clone)]
pub struct OrderBy {
    pub(crate) node: Node,
    pub(crate) ordering: Ordering,
    pub(crate) nulls_first: Option<bool>,
}

impl OrderBy {
    /// Ascending order of an untyped node.
    pub fn from_node(node: Node) -> Self {
        OrderBy::new(node, Ordering::Asc)
    }

    /// An item ordering `node` in `ordering` direction.
    pub fn new(node: Node, ordering: Ordering) -> Self {
        OrderBy {
            node,
            ordering,
            nulls_first: None,
        }
    }

    /// `NULLS FIRST`
    pub fn nulls_first(mut self) -> Self {
        self.nulls_first = Some(true);
        self
    }

    /// `NULLS LAST`
    pub fn nulls_last(mut self) -> Self {
        self.nulls_first = Some(false);
        self
    }
}
