use super::conversions::IntoExpr;
use super::kinds::{
    Arithmetic, ArrayType, Containment, IntervalArith, Numeric, RangeType, Remainder, Signed,
    has_element, interval_op, typed_param_of,
};
use super::{BinOp, CastType, Column, Expr, Node, OrderBy, Ordering, UnaryOp};
use crate::types::{CustomType, Interval, Retype, Retyped, SqlType, TsQuery, TsVector};

/// The base type of an expression's value: what it is compared against.
type Base<E> = <<E as Expression>::Value as SqlType>::Base;

/// Something that yields an SQL value of type [`Value`](Expression::Value): a [`Column`] or an
/// [`Expr`]. Every operator is a method of this trait, so columns and expressions share them.
///
/// Comparisons take anything that is [`IntoExpr`] of the value's *base* type: a column of
/// `Option<String>` compares with `&str`, `String`, another text column or a text expression, and
/// comparing it with an `i64` does not compile.
// `is_in`, `is_null`, ... build SQL predicates (`IN`, `IS NULL`); they are not Rust predicates on
// `self`, so clippy's `is_*` naming rule does not apply.
#[allow(clippy::wrong_self_convention)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an SQL expression",
    label = "expected a column or an expression",
    note = "columns, `Expr`s, aggregates and raw `text(..)` are expressions; a window function (`func::row_number()`, `func::rank()`, `func::lag(..)`, ...) becomes one with `.over(func::window())`"
)]
pub trait Expression: Sized {
    /// The Rust type the expression's value decodes into.
    type Value: SqlType;

    /// Lowers to an untyped node.
    fn into_node(self) -> Node;

    /// Lowers to a typed expression.
    fn expr(self) -> Expr<Self::Value> {
        Expr::new(self.into_node())
    }

    /// The same expression, typed as possibly `NULL`: for columns of a derived table on the
    /// outer side of a join (which the type system does not track), so they decode into
    /// `Option`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::id.nullable());
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id" FROM "users""#);
    /// ```
    fn nullable(self) -> Expr<Option<Base<Self>>> {
        Expr::new(self.into_node())
    }

    /// `self = v`
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::name.eq("Jane"));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."name" = $1"#);
    /// ```
    fn eq<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<bool> {
        compare(self, BinOp::Eq, v)
    }

    /// `self <> v`
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::name.ne("Jane"));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."name" <> $1"#);
    /// ```
    fn ne<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<bool> {
        compare(self, BinOp::Ne, v)
    }

    /// `self IS DISTINCT FROM v`: `<>` where `NULL` is a value like any other, so the result is
    /// never `NULL` (`NULL IS DISTINCT FROM NULL` is false, `1 IS DISTINCT FROM NULL` is true,
    /// where `<>` gives `NULL` for both and a `WHERE` drops the row). `v` is what [`eq`](Self::eq)
    /// takes, `Option` included: `None` is the SQL `NULL`, sent as a typed parameter.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::email.is_distinct_from(None::<String>));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."email" IS DISTINCT FROM $1"#);
    /// ```
    fn is_distinct_from<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<bool> {
        compare(self, BinOp::IsDistinctFrom, v)
    }

    /// `self IS NOT DISTINCT FROM v`: `=` where `NULL` equals `NULL`, never `NULL` itself; the
    /// null-safe equality to compare a nullable column with an `Option` (`eq(None)` matches no
    /// row, this matches the rows holding `NULL`).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let email: Option<&str> = None;
    /// let q = select::<User>().filter(User::email.is_not_distinct_from(email));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."email" IS NOT DISTINCT FROM $1"#);
    /// ```
    fn is_not_distinct_from<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<bool> {
        compare(self, BinOp::IsNotDistinctFrom, v)
    }

    /// `self < v`
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::id.lt(10));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."id" < $1"#);
    /// ```
    fn lt<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<bool> {
        compare(self, BinOp::Lt, v)
    }

    /// `self <= v`
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::id.le(10));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."id" <= $1"#);
    /// ```
    fn le<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<bool> {
        compare(self, BinOp::Le, v)
    }

    /// `self > v`
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::id.gt(10));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."id" > $1"#);
    /// ```
    fn gt<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<bool> {
        compare(self, BinOp::Gt, v)
    }

    /// `self >= v`
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::id.ge(10));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."id" >= $1"#);
    /// ```
    fn ge<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<bool> {
        compare(self, BinOp::Ge, v)
    }

    /// `self BETWEEN low AND high`
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::id.between(10, 20));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."id" BETWEEN $1 AND $2"#);
    /// ```
    fn between<L: IntoExpr<Base<Self>>, H: IntoExpr<Base<Self>>>(
        self,
        low: L,
        high: H,
    ) -> Expr<bool> {
        Expr::new(Node::Between {
            expr: Box::new(self.into_node()),
            low: Box::new(low.into_expr_node()),
            high: Box::new(high.into_expr_node()),
            negated: false,
        })
    }

    /// `self NOT BETWEEN low AND high`
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::id.not_between(10, 20));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."id" NOT BETWEEN $1 AND $2"#);
    /// ```
    fn not_between<L: IntoExpr<Base<Self>>, H: IntoExpr<Base<Self>>>(
        self,
        low: L,
        high: H,
    ) -> Expr<bool> {
        Expr::new(Node::Between {
            expr: Box::new(self.into_node()),
            low: Box::new(low.into_expr_node()),
            high: Box::new(high.into_expr_node()),
            negated: true,
        })
    }

    /// `self IN (values)`, compiled as `self = ANY($n)` with the values as one array parameter,
    /// so the SQL text is the same for any number of values. An empty list matches nothing.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// // One array parameter, whatever the number of values: the SQL never changes.
    /// let q = select::<User>().filter(User::id.is_in([1, 2, 3]));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."id" = ANY($1)"#);
    /// ```
    fn is_in<I>(self, values: I) -> Expr<bool>
    where
        I: IntoIterator,
        I::Item: Into<Base<Self>>,
    {
        in_array(self, values, false)
    }

    /// `self NOT IN (values)`, compiled as `self <> ALL($n)`. An empty list matches every non-null
    /// value.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::id.not_in([1, 2, 3]));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."id" <> ALL($1)"#);
    /// ```
    fn not_in<I>(self, values: I) -> Expr<bool>
    where
        I: IntoIterator,
        I::Item: Into<Base<Self>>,
    {
        in_array(self, values, true)
    }

    /// `self IN (subquery)`: the subquery selects one column of the same type.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::id.in_query(select::<Post>().columns(Post::user_id)));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."id" IN (SELECT "posts"."user_id" FROM "posts")"#);
    /// ```
    fn in_query<Q: SubqueryOf<Base<Self>>>(self, subquery: Q) -> Expr<bool> {
        Expr::new(Node::InSubquery {
            expr: Box::new(self.into_node()),
            query: Box::new(subquery.into_query()),
            negated: false,
        })
    }

    /// `self NOT IN (subquery)`. Beware SQL's rule: if the subquery returns a `NULL`, nothing
    /// matches; prefer `NOT EXISTS` for nullable columns.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::id.not_in_query(select::<Post>().columns(Post::user_id)));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."id" NOT IN (SELECT "posts"."user_id" FROM "posts")"#);
    /// ```
    fn not_in_query<Q: SubqueryOf<Base<Self>>>(self, subquery: Q) -> Expr<bool> {
        Expr::new(Node::InSubquery {
            expr: Box::new(self.into_node()),
            query: Box::new(subquery.into_query()),
            negated: true,
        })
    }

    /// `self IS NULL`
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::email.is_null());
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."email" IS NULL"#);
    /// ```
    fn is_null(self) -> Expr<bool> {
        Expr::new(Node::unary(UnaryOp::IsNull, self.into_node()))
    }

    /// `self IS NOT NULL`
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::email.is_not_null());
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."email" IS NOT NULL"#);
    /// ```
    fn is_not_null(self) -> Expr<bool> {
        Expr::new(Node::unary(UnaryOp::IsNotNull, self.into_node()))
    }

    /// `self LIKE pattern`; `%` and `_` in `pattern` are wildcards, `\` escapes.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::name.like("J%"));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."name" LIKE $1"#);
    /// ```
    fn like<V: IntoExpr<String>>(self, pattern: V) -> Expr<bool>
    where
        Self::Value: SqlType<Base = String>,
    {
        Expr::new(Node::binary(
            BinOp::Like,
            self.into_node(),
            pattern.into_expr_node(),
        ))
    }

    /// `self NOT LIKE pattern`
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::name.not_like("J%"));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."name" NOT LIKE $1"#);
    /// ```
    fn not_like<V: IntoExpr<String>>(self, pattern: V) -> Expr<bool>
    where
        Self::Value: SqlType<Base = String>,
    {
        Expr::new(Node::binary(
            BinOp::NotLike,
            self.into_node(),
            pattern.into_expr_node(),
        ))
    }

    /// `self ILIKE pattern` (case-insensitive `LIKE`).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::name.ilike("j%"));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."name" ILIKE $1"#);
    /// ```
    fn ilike<V: IntoExpr<String>>(self, pattern: V) -> Expr<bool>
    where
        Self::Value: SqlType<Base = String>,
    {
        Expr::new(Node::binary(
            BinOp::ILike,
            self.into_node(),
            pattern.into_expr_node(),
        ))
    }

    /// `self NOT ILIKE pattern`
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::name.not_ilike("j%"));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."name" NOT ILIKE $1"#);
    /// ```
    fn not_ilike<V: IntoExpr<String>>(self, pattern: V) -> Expr<bool>
    where
        Self::Value: SqlType<Base = String>,
    {
        Expr::new(Node::binary(
            BinOp::NotILike,
            self.into_node(),
            pattern.into_expr_node(),
        ))
    }

    /// The text contains `needle` literally: `self LIKE '%needle%'` with `%`, `_` and `\` in
    /// `needle` escaped.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// // `%`, `_` and `\` in the needle are escaped: it matches itself literally.
    /// let q = select::<User>().filter(User::name.contains("50%"));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."name" LIKE $1"#);
    /// ```
    fn contains(self, needle: &str) -> Expr<bool>
    where
        Self::Value: SqlType<Base = String>,
    {
        self.like(format!("%{}%", escape_like(needle)))
    }

    /// The text starts with `prefix` literally (wildcards escaped).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::name.starts_with("J"));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."name" LIKE $1"#);
    /// ```
    fn starts_with(self, prefix: &str) -> Expr<bool>
    where
        Self::Value: SqlType<Base = String>,
    {
        self.like(format!("{}%", escape_like(prefix)))
    }

    /// The text ends with `suffix` literally (wildcards escaped).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::name.ends_with("son"));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."name" LIKE $1"#);
    /// ```
    fn ends_with(self, suffix: &str) -> Expr<bool>
    where
        Self::Value: SqlType<Base = String>,
    {
        self.like(format!("%{}", escape_like(suffix)))
    }

    /// `self + v`, for numbers and intervals (for dates and timestamps, see `add_interval`).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::id.add(1));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id" + $1 FROM "users""#);
    /// ```
    fn add<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<Self::Value>
    where
        Base<Self>: Arithmetic,
    {
        arith(self, BinOp::Add, v)
    }

    /// `self - v`, for numbers and intervals (for dates and timestamps, see `sub_interval`
    /// and `age`).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::id.sub(1));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id" - $1 FROM "users""#);
    /// ```
    fn sub<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<Self::Value>
    where
        Base<Self>: Arithmetic,
    {
        arith(self, BinOp::Sub, v)
    }

    /// `self * v`, for numbers.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::id.mul(2));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id" * $1 FROM "users""#);
    /// ```
    fn mul<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<Self::Value>
    where
        Base<Self>: Numeric,
    {
        arith(self, BinOp::Mul, v)
    }

    /// `self / v`, for numbers (integer division for integers, as in SQL).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::id.div(2));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id" / $1 FROM "users""#);
    /// ```
    fn div<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<Self::Value>
    where
        Base<Self>: Numeric,
    {
        arith(self, BinOp::Div, v)
    }

    /// `self || v` (text concatenation).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::name.concat("!"));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."name" || $1 FROM "users""#);
    /// ```
    fn concat<V: IntoExpr<String>>(self, v: V) -> Expr<Self::Value>
    where
        Self::Value: SqlType<Base = String>,
    {
        arith(self, BinOp::Concat, v)
    }

    /// `-self`
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::id.neg());
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT -"users"."id" FROM "users""#);
    /// ```
    fn neg(self) -> Expr<Self::Value>
    where
        Base<Self>: Signed,
    {
        Expr::new(Node::unary(UnaryOp::Neg, self.into_node()))
    }

    /// `self % v` (remainder of integer or numeric division).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::id.rem(2).eq(0));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE ("users"."id" % $1) = $2"#);
    /// ```
    fn rem<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<Self::Value>
    where
        Base<Self>: Remainder,
    {
        arith(self, BinOp::Rem, v)
    }

    /// `self ^ exponent`, computed by the server in `double precision` for integers and floats
    /// (so the exponent is an `f64` and so is the result), in `numeric` for `numeric`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::id.pow(2.0));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id" ^ CAST($1 AS DOUBLE PRECISION) FROM "users""#);
    /// ```
    fn pow<V>(self, exponent: V) -> Expr<Retyped<Self::Value, <Base<Self> as Numeric>::Power>>
    where
        Base<Self>: Numeric,
        Self::Value: Retype<<Base<Self> as Numeric>::Power>,
        V: IntoExpr<<Base<Self> as Numeric>::Power>,
    {
        Expr::new(Node::binary(
            BinOp::Pow,
            typed_param_of::<Base<Self>>(self.into_node()),
            typed_param_of::<<Base<Self> as Numeric>::Power>(exponent.into_expr_node()),
        ))
    }

    /// `CAST(self AS type)`: the value converted by the server to `U`'s column type
    /// (`.cast::<String>()` is `CAST(x AS TEXT)`, `.cast::<i64>()` is `CAST(x AS BIGINT)`). A
    /// value the server cannot convert is an error from the server; a `NULL` stays `NULL`, so
    /// cast a nullable expression to an `Option`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::id.cast::<String>());
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT CAST("users"."id" AS TEXT) FROM "users""#);
    /// ```
    fn cast<U: SqlType>(self) -> Expr<U> {
        Expr::new(Node::Cast(
            Box::new(self.into_node()),
            CastType::Column(U::COLUMN_TYPE),
        ))
    }

    /// A [custom type](crate::CustomType)'s value seen as its representation, with that type's
    /// operators and functions: `User::email.repr().ends_with("@example.com")` on an `Email`
    /// stored as text. The SQL is unchanged (the column already holds the representation); a
    /// nullable column stays nullable.
    fn repr(self) -> Expr<Retyped<Self::Value, <Base<Self> as CustomType>::Repr>>
    where
        Base<Self>: CustomType,
        Self::Value: Retype<<Base<Self> as CustomType>::Repr>,
    {
        Expr::new(self.into_node())
    }

    /// `self + interval`: a date (giving a timestamp, as on the server), time, timestamp or
    /// interval moved by an [`Interval`]. A bare value is sent as `CAST($n AS INTERVAL)`.
    fn add_interval<V: IntoExpr<Interval>>(
        self,
        interval: V,
    ) -> Expr<Retyped<Self::Value, <Base<Self> as IntervalArith>::Output>>
    where
        Base<Self>: IntervalArith,
        Self::Value: Retype<<Base<Self> as IntervalArith>::Output>,
    {
        Expr::new(interval_op(
            BinOp::Add,
            self.into_node(),
            interval.into_expr_node(),
        ))
    }

    /// `self - interval`; see [`add_interval`](Self::add_interval).
    fn sub_interval<V: IntoExpr<Interval>>(
        self,
        interval: V,
    ) -> Expr<Retyped<Self::Value, <Base<Self> as IntervalArith>::Output>>
    where
        Base<Self>: IntervalArith,
        Self::Value: Retype<<Base<Self> as IntervalArith>::Output>,
    {
        Expr::new(interval_op(
            BinOp::Sub,
            self.into_node(),
            interval.into_expr_node(),
        ))
    }

    /// `self @> v`: the array contains every element of `v`; the range contains the whole
    /// range `v`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// use orm_core::types::Range;
    /// # use orm_core::__doc_fixture::Booking;
    /// let q = select::<Booking>().filter(Booking::during.contains_all(Range::closed_open(1, 5)));
    /// assert!(q.compile().unwrap().sql.ends_with(r#"WHERE "bookings"."during" @> CAST($1 AS INT4RANGE)"#));
    /// ```
    fn contains_all<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<bool>
    where
        Base<Self>: Containment,
    {
        containment(self, BinOp::Contains, v)
    }

    /// `self <@ v`: every element of the array is in `v`; the range lies within `v`.
    fn contained_by<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<bool>
    where
        Base<Self>: Containment,
    {
        containment(self, BinOp::ContainedBy, v)
    }

    /// `self && v`: the arrays have an element in common; the ranges share a value.
    fn overlaps<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<bool>
    where
        Base<Self>: Containment,
    {
        containment(self, BinOp::Overlaps, v)
    }

    /// `self @> element`: the range contains the value (a bare value is cast to the element
    /// type).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::Booking;
    /// let q = select::<Booking>().filter(Booking::during.contains_elem(3));
    /// assert!(q.compile().unwrap().sql.ends_with(r#"WHERE "bookings"."during" @> CAST($1 AS INTEGER)"#));
    /// ```
    fn contains_elem<V>(self, element: V) -> Expr<bool>
    where
        Base<Self>: RangeType,
        V: IntoExpr<<Base<Self> as RangeType>::Element>,
    {
        let element =
            typed_param_of::<<Base<Self> as RangeType>::Element>(element.into_expr_node());
        Expr::new(Node::binary(BinOp::Contains, self.into_node(), element))
    }

    /// `self -|- v`: the ranges are adjacent (one ends where the other starts, with no gap and
    /// no overlap).
    fn adjacent<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<bool>
    where
        Base<Self>: RangeType,
    {
        containment(self, BinOp::Adjacent, v)
    }

    /// `element = ANY(self)`: the array has the element.
    fn has_element<V>(self, element: V) -> Expr<bool>
    where
        Base<Self>: ArrayType,
        V: IntoExpr<<Base<Self> as ArrayType>::Element>,
    {
        Expr::new(has_element(self.into_node(), element.into_expr_node()))
    }

    /// `self @@ query`: the text search document matches the query.
    fn matches<Q: IntoExpr<TsQuery>>(self, query: Q) -> Expr<bool>
    where
        Self::Value: SqlType<Base = TsVector>,
    {
        Expr::new(Node::binary(
            BinOp::TsMatch,
            self.into_node(),
            query.into_expr_node(),
        ))
    }

    /// Ascending order (the default).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().order_by(User::email.asc().nulls_last());
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" ORDER BY "users"."email" NULLS LAST"#);
    /// ```
    fn asc(self) -> OrderBy {
        OrderBy::new(self.into_node(), Ordering::Asc)
    }

    /// Descending order.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().order_by(User::id.desc());
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" ORDER BY "users"."id" DESC"#);
    /// ```
    fn desc(self) -> OrderBy {
        OrderBy::new(self.into_node(), Ordering::Desc)
    }
}

pub(super) fn compare<E: Expression, V: IntoExpr<Base<E>>>(e: E, op: BinOp, v: V) -> Expr<bool> {
    Expr::new(Node::binary(op, e.into_node(), v.into_expr_node()))
}

/// `e op v` between arrays or ranges, `v` sent as its type needs (see [`Containment`]).
fn containment<E, V>(e: E, op: BinOp, v: V) -> Expr<bool>
where
    E: Expression,
    Base<E>: Containment,
    V: IntoExpr<Base<E>>,
{
    let v = <Base<E> as Containment>::operand(v.into_expr_node());
    Expr::new(Node::binary(op, e.into_node(), v))
}

fn arith<E: Expression, B, V: IntoExpr<B>>(e: E, op: BinOp, v: V) -> Expr<E::Value> {
    Expr::new(Node::binary(op, e.into_node(), v.into_expr_node()))
}

fn in_array<E, I>(e: E, values: I, negated: bool) -> Expr<bool>
where
    E: Expression,
    I: IntoIterator,
    I::Item: Into<Base<E>>,
{
    let array: Vec<Base<E>> = values.into_iter().map(Into::into).collect();
    Expr::new(Node::InArray {
        expr: Box::new(e.into_node()),
        array: Box::new(Node::Param(crate::types::declared_array(array))),
        negated,
    })
}

/// A query that selects one column whose base type is `B`: usable with
/// [`in_query`](Expression::in_query) and as a scalar subquery.
#[diagnostic::on_unimplemented(
    message = "this query does not select one column of type `{B}`",
    label = "expected a query selecting a single `{B}` column"
)]
pub trait SubqueryOf<B> {
    /// The untyped query.
    fn into_query(self) -> crate::ast::Query;
}

/// Escapes `\`, `%` and `_` so `text` matches itself literally in a `LIKE` pattern (PostgreSQL's
/// default escape character is `\`).
///
/// ```
/// assert_eq!(orm_core::expr::escape_like(r"50%_off\"), r"50\%\_off\\");
/// ```
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl<M, T: SqlType, A> Expression for Column<M, T, A> {
    type Value = T;
    fn into_node(self) -> Node {
        self.node()
    }
}

impl<T: SqlType> Expression for Expr<T> {
    type Value = T;
    fn into_node(self) -> Node {
        Expr::into_node(self)
    }
}
