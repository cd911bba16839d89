use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use super::body::Body;
use super::derived::{Anonymous, Derived, DerivedName};
use super::keys::KeyList;
use super::option::SelectOption;
use super::source::{Cons, Inner, Nil, Source, table_item, variant_filter};
use super::{Handles, Selection, and_filter};
use crate::ast::{CompoundCore, Cte, Distinct, FromItem, Query, SelectCore, SetOp};
use crate::compile::Shape;
use crate::expr::{Expr, Node, OrderBy, Over, param};
use crate::model::Model;
use crate::row::Decode;

/// A `SELECT` whose rows decode into `O`, reading from the sources `S` (a type list the
/// compiler uses to check selections; see [`source`](super::source)).
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
///
/// let q = select::<User>()
///     .filter(User::name.starts_with("J"))
///     .order_by(User::id.desc())
///     .limit(10);
/// assert_eq!(
///     q.compile().unwrap().sql,
///     r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."name" LIKE $1 ORDER BY "users"."id" DESC LIMIT $2"#
/// );
/// ```
pub struct Select<O, S = Cons<Inner<O>, Nil>> {
    /// Boxed: the builder moves the statement by value at every step, and the body is large.
    /// With the shape its steps gave it, which any change to it drops (`body.rs`).
    pub(super) core: Body,
    /// Options (relationship loads): a `Vec<Arc<dyn SelectOption<O::Output>>>`, type-erased so
    /// `Select` needs no bound on `O`.
    options: Option<Arc<dyn std::any::Any + Send + Sync>>,
    /// Set by [`without_criteria`](Select::without_criteria).
    pub(super) skip_criteria: bool,
    _out: PhantomData<fn() -> (O, S)>,
}

impl<O, S> Clone for Select<O, S> {
    fn clone(&self) -> Self {
        Select {
            core: self.core.clone(),
            options: self.options.clone(),
            skip_criteria: self.skip_criteria,
            _out: PhantomData,
        }
    }
}

impl<O, S> fmt::Debug for Select<O, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt(f)
    }
}

fn source_columns<M: Source>() -> Vec<Node> {
    super::model_select_list(M::Model::TABLE, M::NAME).collect()
}

/// `SELECT` every column of `M` (a model, or an [alias](crate::alias) of one) from its table;
/// rows decode into the model.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>();
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users""#);
/// ```
pub fn select<M: Source>() -> Select<M::Model, Cons<Inner<M>, Nil>> {
    let shape = Shape::origin::<M>();
    let table = M::Model::TABLE;
    // A variant of single-table inheritance filters on its discriminator, a value of its own:
    // built now. Any other source's statement is built when something reads it (`body.rs`).
    let body = match table.discriminator.is_some_and(|d| d.value.is_some()) {
        true => Body::shaped(source_core::<M>(), shape),
        false => Body::planned(source_core::<M>, table, shape),
    };
    Select::from_body(body)
}

/// `select::<M>()`'s tree.
fn source_core<M: Source>() -> SelectCore {
    SelectCore {
        columns: source_columns::<M>(),
        from: vec![table_item::<M>()],
        filter: variant_filter::<M>().map(Expr::into_node),
        ..SelectCore::default()
    }
}

/// `SELECT expr, ...` without a `FROM`: values, functions and expressions.
///
/// ```
/// use orm_core::prelude::*;
///
/// let q = select_values((func::value(41_i64).add(1), func::value("x".to_string())));
/// assert_eq!(
///     q.compile().unwrap().sql,
///     "SELECT CAST($1 AS BIGINT) + $2, CAST($3 AS TEXT)"
/// );
/// ```
pub fn select_values<Sel: Selection<Nil, I>, I>(selection: Sel) -> Select<Sel::Output, Nil> {
    let mut columns = Vec::new();
    selection.push_nodes(&mut columns);
    Select::from_core(SelectCore {
        columns,
        ..SelectCore::default()
    })
}

/// `SELECT ... FROM derived`: reads from a subquery or CTE. Pick the columns with
/// [`columns`](Select::columns) (the derived table's typed handles).
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let (recent, id) = select::<Post>().columns(Post::id).subquery("recent");
/// let q = select_from(&recent).columns(id);
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT "recent"."id" FROM (SELECT "posts"."id" FROM "posts") AS "recent""#);
/// ```
pub fn select_from<D>(derived: &Derived<D>) -> Select<(), Cons<Inner<D>, Nil>> {
    Select::from_core(SelectCore {
        from: vec![derived.item.clone()],
        ..SelectCore::default()
    })
}

/// `EXISTS (subquery)` as a condition. A plain `SELECT` is written `SELECT 1 ...`: what it
/// selects does not matter (unless its list holds an aggregate or a function, which may change
/// how many rows there are: `SELECT count(*)` has one row even of an empty table; such a list
/// is kept).
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().filter(exists(select::<Post>().filter(Post::title.eq("hi")).columns(Post::id)));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE EXISTS (SELECT 1 FROM "posts" WHERE "posts"."title" = $1)"#);
/// ```
pub fn exists(subquery: impl Into<Query>) -> Expr<bool> {
    let query = match subquery.into() {
        Query::Select(mut core) => {
            if rows_unchanged_without(&mut core.columns) {
                core.columns = vec![Node::Keyword("1")];
            }
            Query::Select(core)
        }
        other => other,
    };
    Expr::new(Node::Exists(Box::new(query)))
}

/// Whether a select list can be replaced (by `1`, by `count(*)`) without changing how many
/// rows the query has: no aggregate (which makes one row of none), no call of a function
/// other than the builder's plain scalar ones (a set-returning one makes more or fewer rows,
/// and `func("max", ..)` is an aggregate), no window or raw SQL.
fn rows_unchanged_without(columns: &mut [Node]) -> bool {
    fn neutral(n: &mut Node) -> bool {
        match n {
            Node::Func(name, _) if !super::option::STABLE_FUNCTIONS.contains(name) => false,
            Node::CountStar | Node::Aggregate(_) | Node::Window(..) | Node::Raw(_) => false,
            _ => {
                let mut ok = true;
                n.walk_mut(&mut |child| {
                    if let crate::ast::Child::Node(c) = child {
                        ok &= neutral(c);
                    }
                });
                ok
            }
        }
    }
    // (Mutable only because the walk is; nothing is changed.)
    columns.iter_mut().all(neutral)
}

/// Output-column names for a derived table: labels, else column names, else `c1`, `c2`, ...;
/// duplicates get the positional name too. Relabels the select list to match.
pub(super) fn name_columns(columns: &mut [Node]) -> Vec<&'static str> {
    const POSITIONAL: [&str; 32] = [
        "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12", "c13", "c14",
        "c15", "c16", "c17", "c18", "c19", "c20", "c21", "c22", "c23", "c24", "c25", "c26", "c27",
        "c28", "c29", "c30", "c31", "c32",
    ];
    let mut names: Vec<&'static str> = Vec::with_capacity(columns.len());
    for (i, node) in columns.iter_mut().enumerate() {
        let natural = match node {
            Node::Label(_, l) => Some(*l),
            Node::Column(c) => Some(c.name),
            _ => None,
        };
        let name = match natural {
            Some(n) if !names.contains(&n) => n,
            _ => POSITIONAL.get(i).copied().unwrap_or("c"),
        };
        if natural != Some(name) || !matches!(node, Node::Label(..) | Node::Column(_)) {
            let inner = match std::mem::replace(node, Node::Keyword("NULL")) {
                Node::Label(inner, _) => *inner,
                other => other,
            };
            *node = Node::Label(Box::new(inner), name);
        }
        names.push(name);
    }
    names
}

/// A recursive CTE: `WITH RECURSIVE name AS (base UNION ALL step)`.
///
/// `step` builds the recursive part from a reference to the CTE (to join) and its typed
/// columns; both parts must select the same types. Returns the CTE and its columns.
pub fn recursive_cte<O, S, S2, F>(
    name: &'static str,
    base: Select<O, S>,
    step: F,
) -> (Derived, O::Handles<Anonymous>)
where
    O: Handles,
    F: FnOnce(&Derived, O::Handles<Anonymous>) -> Select<O, S2>,
{
    let mut base = base.core;
    let columns = name_columns(&mut base.columns);
    let handles = O::handles(name, &mut columns.iter());
    let reference = Derived::from_item(FromItem::CteRef(name));
    let step = step(&reference, handles).core;
    let query = Query::Compound(Box::new(CompoundCore {
        op: SetOp::UnionAll,
        left: Query::from(base),
        right: Query::from(step),
        order_by: Vec::new(),
        limit: None,
        offset: None,
    }));
    let cte = Cte {
        name,
        columns,
        query,
        recursive: true,
    };
    (Derived::from_item(FromItem::Cte(Arc::new(cte))), handles)
}

impl<O, S> Select<O, S> {
    fn from_core(core: SelectCore) -> Self {
        Select::from_body(Body::new(core))
    }

    fn from_body(core: Body) -> Self {
        Select {
            core,
            options: None,
            skip_criteria: false,
            _out: PhantomData,
        }
    }

    /// The same query with another row type: options (which belong to the row type)
    /// are dropped.
    pub(super) fn retype<O2, S2>(self) -> Select<O2, S2> {
        Select {
            core: self.core.forget_shape(),
            options: None,
            skip_criteria: self.skip_criteria,
            _out: PhantomData,
        }
    }

    /// The same query reading more sources: rows, and their options, stay.
    pub(super) fn with_sources<S2>(self) -> Select<O, S2> {
        Select {
            core: self.core.forget_shape(),
            options: self.options,
            skip_criteria: self.skip_criteria,
            _out: PhantomData,
        }
    }

    /// The untyped body.
    pub fn core(&self) -> &SelectCore {
        &self.core
    }

    /// The shape the builder steps gave this statement, while they alone fix its SQL text.
    #[cfg(test)]
    pub(crate) fn shape(&self) -> Option<Shape> {
        crate::compile::ShapedSelect::shape(&self.core)
    }

    /// The untyped query.
    pub fn into_query(self) -> Query {
        Query::Select(self.core.into_box())
    }

    /// Replaces the selected columns; rows then decode into the selection's output: a value, a
    /// model (`Source::star`), or a tuple of them. Columns of outer-joined tables come back as
    /// `Option`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns((User::id, User::name));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name" FROM "users""#);
    /// ```
    pub fn columns<Sel: Selection<S, I>, I>(self, selection: Sel) -> Select<Sel::Output, S> {
        let mut columns = Vec::new();
        selection.push_nodes(&mut columns);
        let skip = self.skip_criteria;
        Select::from_core(SelectCore {
            columns,
            ..*self.core.into_box()
        })
        .skipping_criteria(skip)
    }

    /// Decodes rows into `R` (e.g. a `#[derive(FromRow)]` struct) instead: its fields take the
    /// selected columns in order. A width mismatch is an error when the statement compiles.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// #[derive(FromRow)]
    /// # #[from_row(crate = "orm_core")]
    /// struct Named {
    ///     id: i64,
    ///     name: String,
    /// }
    ///
    /// let q = select::<User>().columns((User::id, User::name)).into_rows::<Named>();
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name" FROM "users""#);
    /// ```
    pub fn into_rows<R: crate::row::FromRow>(self) -> Select<R, S> {
        self.retype()
    }

    /// Adds a `WHERE` condition, `AND`ed with any earlier one.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::name.eq("Jane")).filter(User::email.is_null());
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE ("users"."name" = $1) AND ("users"."email" IS NULL)"#);
    /// ```
    pub fn filter(mut self, condition: impl Into<Expr<bool>>) -> Self {
        self.core.filter = and_filter(self.core.filter.take(), condition.into());
        self
    }

    /// Adds a `WHERE` condition only when `condition` is `Some`: for optional user input.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let name: Option<&str> = None;
    /// let q = select::<User>().filter_opt(name.map(|n| User::name.eq(n)));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users""#);
    /// ```
    pub fn filter_opt(self, condition: Option<Expr<bool>>) -> Self {
        match condition {
            Some(c) => self.filter(c),
            None => self,
        }
    }

    /// Appends an `ORDER BY` item (a column or expression sorts ascending).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().order_by(User::name).order_by(User::id.desc());
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" ORDER BY "users"."name", "users"."id" DESC"#);
    /// ```
    pub fn order_by(mut self, order: impl Into<OrderBy>) -> Self {
        self.core.order_by.push(order.into());
        self
    }

    /// `LIMIT n` (sent as a parameter, so the SQL does not change with `n`).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().limit(10);
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" LIMIT $1"#);
    /// ```
    pub fn limit(mut self, n: i64) -> Self {
        self.core.limit(param(n), false);
        self
    }

    /// `OFFSET n` (sent as a parameter).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().order_by(User::id).offset(20);
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" ORDER BY "users"."id" OFFSET $1"#);
    /// ```
    pub fn offset(mut self, n: i64) -> Self {
        self.core.limit(param(n), true);
        self
    }

    /// Page `page` (from 1; 0 and below read as 1) of `per_page` rows: `LIMIT per_page OFFSET
    /// (page - 1) * per_page`.
    /// Order the query for stable pages.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().order_by(User::id).page(3, 20); // rows 41..60
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" ORDER BY "users"."id" LIMIT $1 OFFSET $2"#);
    /// ```
    pub fn page(self, page: i64, per_page: i64) -> Self {
        self.limit(per_page)
            .offset(page.saturating_sub(1).max(0).saturating_mul(per_page))
    }

    /// Keyset pagination: rows after `cursor` in the ascending order of `keys`, i.e.
    /// `WHERE (k1, k2) > ($1, $2) ORDER BY k1, k2` (the keys replace any ordering given
    /// before: in another order, pages would skip and repeat rows). `keys` should end with a
    /// unique column.
    /// For descending or mixed directions, keys checked to be non-nullable and the next page's
    /// cursor, use [`keyset`](Select::keyset).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().after((User::name, User::id), ("Jane".to_string(), 7_i64));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE ("users"."name", "users"."id") > ($1, $2) ORDER BY "users"."name", "users"."id""#);
    /// ```
    pub fn after<K: KeyList>(mut self, keys: K, cursor: K::Values) -> Self {
        let (key_nodes, value_nodes) = keys.nodes(cursor);
        self.core.order_by = key_nodes
            .iter()
            .map(|k| OrderBy::from_node(k.clone()))
            .collect();
        self.filter(Expr::<bool>::new(Node::binary(
            crate::expr::BinOp::Gt,
            Node::Row(key_nodes),
            Node::Row(value_nodes),
        )))
    }

    /// `SELECT DISTINCT`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::email).distinct();
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT DISTINCT "users"."email" FROM "users""#);
    /// ```
    pub fn distinct(mut self) -> Self {
        self.core.distinct = Distinct::All;
        self
    }

    /// `SELECT DISTINCT ON (exprs)`: the first row of each group, in `ORDER BY` order.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<Post>().distinct_on(Post::user_id).order_by(Post::user_id).order_by(Post::id.desc());
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT DISTINCT ON ("posts"."user_id") "posts"."id", "posts"."user_id", "posts"."title" FROM "posts" ORDER BY "posts"."user_id", "posts"."id" DESC"#);
    /// ```
    pub fn distinct_on<K: KeyList>(mut self, keys: K) -> Self {
        self.core.distinct = Distinct::On(keys.key_nodes());
        self
    }

    /// `GROUP BY` columns or expressions (one, or a tuple).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<Post>().columns((Post::user_id, func::count_all())).group_by(Post::user_id);
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "posts"."user_id", count(*) FROM "posts" GROUP BY "posts"."user_id""#);
    /// ```
    pub fn group_by<K: KeyList>(mut self, keys: K) -> Self {
        self.core.group_by.extend(keys.key_nodes());
        self
    }

    /// `HAVING condition`, `AND`ed with any earlier one.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<Post>()
    ///     .columns((Post::user_id, func::count_all()))
    ///     .group_by(Post::user_id)
    ///     .having(func::count_all().gt(10));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "posts"."user_id", count(*) FROM "posts" GROUP BY "posts"."user_id" HAVING count(*) > $1"#);
    /// ```
    pub fn having(mut self, condition: impl Into<Expr<bool>>) -> Self {
        self.core.having = and_filter(self.core.having.take(), condition.into());
        self
    }

    /// `WINDOW name AS (spec)`: a named window for window functions' `over_named(name)`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<Post>()
    ///     .columns((Post::id, func::row_number().over_named("w")))
    ///     .window("w", func::window().partition_by(Post::user_id).order_by(Post::id));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "posts"."id", row_number() OVER "w" FROM "posts" WINDOW "w" AS (PARTITION BY "posts"."user_id" ORDER BY "posts"."id")"#);
    /// ```
    pub fn window(mut self, name: &'static str, spec: Over) -> Self {
        self.core.windows.push((name, spec));
        self
    }

    /// Counts the rows this query would return: `SELECT count(*) FROM ... WHERE ...`, or over a
    /// subquery when the query has `DISTINCT`, grouping, `LIMIT` or `OFFSET`. Ordering is dropped.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::email.is_null()).count();
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT count(*) FROM "users" WHERE "users"."email" IS NULL"#);
    /// ```
    pub fn count(self) -> Select<i64, S> {
        let skip = self.skip_criteria;
        let mut core = self.core;
        let simple = matches!(core.distinct, Distinct::None)
            && core.group_by.is_empty()
            && core.having.is_none()
            && core.limit.is_none()
            && core.offset.is_none()
            && rows_unchanged_without(&mut core.columns);
        if !simple {
            return Select::from_core(SelectCore {
                columns: vec![Node::CountStar],
                from: vec![FromItem::Subquery {
                    query: Box::new(Query::from(core)),
                    alias: "sub",
                    lateral: false,
                }],
                ..SelectCore::default()
            })
            .skipping_criteria(skip);
        }
        Select::from_core(SelectCore {
            columns: vec![Node::CountStar],
            order_by: Vec::new(),
            lock: None,
            ..*core.into_box()
        })
        .skipping_criteria(skip)
    }

    /// Whether this query returns any row: `SELECT EXISTS (SELECT 1 FROM ... WHERE ...)`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::name.eq("Jane")).exists();
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT EXISTS (SELECT 1 FROM "users" WHERE "users"."name" = $1)"#);
    /// ```
    pub fn exists(self) -> Select<bool, Nil> {
        let mut inner = SelectCore {
            order_by: Vec::new(),
            ..*self.core.into_box()
        };
        // As `exists(subquery)`: the list is kept when replacing it could change the rows.
        if rows_unchanged_without(&mut inner.columns) {
            inner.columns = vec![Node::Keyword("1")];
        }
        Select::from_core(SelectCore {
            columns: vec![Node::Exists(Box::new(Query::from(inner)))],
            ..SelectCore::default()
        })
        .skipping_criteria(self.skip_criteria)
    }

    /// The query as a scalar subquery expression: `(SELECT ...)`, typed by its one column
    /// (optional: a subquery that returns no row yields `NULL`).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let posts = select::<Post>().filter(Post::user_id.eq(1)).columns(Post::title).limit(1);
    /// let q = select::<User>().columns((User::id, posts.scalar()));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", (SELECT "posts"."title" FROM "posts" WHERE "posts"."user_id" = $1 LIMIT $2) FROM "users""#);
    /// ```
    pub fn scalar(self) -> Expr<Option<O::Base>>
    where
        O: crate::types::SqlType,
    {
        Expr::new(Node::Subquery(Box::new(self.into_query())))
    }

    /// The query as a subquery in `FROM` under `alias`, with typed handles to its columns
    /// (named by their labels or column names, else `c1`, `c2`, ...). Name it with a type
    /// declared by [`derived!`](crate::derived) instead of a string for handles that come
    /// back as `Option` when the subquery is the outer side of a join.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::User;
    ///
    /// let (named, (id, name)) = select::<User>()
    ///     .filter(User::name.is_not_null())
    ///     .columns((User::id, User::name))
    ///     .subquery("named");
    /// let q = select_from(&named).columns(name).filter(id.gt(10));
    /// assert_eq!(
    ///     q.compile().unwrap().sql,
    ///     r#"SELECT "named"."name" FROM (SELECT "users"."id", "users"."name" FROM "users" WHERE "users"."name" IS NOT NULL) AS "named" WHERE "named"."id" > $1"#
    /// );
    /// ```
    pub fn subquery<N: DerivedName>(mut self, alias: N) -> (Derived<N::Tag>, O::Handles<N::Tag>)
    where
        O: Handles,
    {
        let alias = alias.sql_name();
        let names = name_columns(&mut self.core.columns);
        let handles = O::handles(alias, &mut names.iter());
        let item = FromItem::Subquery {
            query: Box::new(self.into_query()),
            alias,
            lateral: false,
        };
        (Derived::from_item(item), handles)
    }

    /// The query as a CTE named `name` (`WITH name AS (...)`, written once at the top of any
    /// statement that uses it), with typed handles to its columns. Like
    /// [`subquery`](Select::subquery), a [`derived!`](crate::derived) name types them by how
    /// the CTE is joined.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let (authors, author_id) = select::<Post>().columns(Post::user_id).distinct().cte("authors");
    /// let q = select::<User>().join_derived(&authors, User::id.eq(author_id));
    /// assert_eq!(q.compile().unwrap().sql, r#"WITH "authors" AS (SELECT DISTINCT "posts"."user_id" FROM "posts") SELECT "users"."id", "users"."name", "users"."email" FROM "users" JOIN "authors" ON "users"."id" = "authors"."user_id""#);
    /// ```
    pub fn cte<N: DerivedName>(mut self, name: N) -> (Derived<N::Tag>, O::Handles<N::Tag>)
    where
        O: Handles,
    {
        let name = name.sql_name();
        let columns = name_columns(&mut self.core.columns);
        let handles = O::handles(name, &mut columns.iter());
        let cte = Cte {
            name,
            columns: Vec::new(),
            query: self.into_query(),
            recursive: false,
        };
        (Derived::from_item(FromItem::Cte(Arc::new(cte))), handles)
    }
}

impl<O, S> Select<O, S> {
    /// The escape hatch: this query (and its relationship loads) takes no criteria, even run
    /// through a session that has some (an administrator's view of soft-deleted rows, say).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// use orm_core::stmt::Criteria;
    /// # use orm_core::__doc_fixture::User;
    /// let mut criteria = Criteria::new();
    /// criteria.add::<User>(User::email.is_not_null()).unwrap();
    /// let q = select::<User>().without_criteria();
    /// assert_eq!(q.compile_with(&criteria).unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users""#);
    /// ```
    pub fn without_criteria(self) -> Self {
        self.skipping_criteria(true)
    }

    /// Carries over the flag of the query this one was made from.
    pub(super) fn skipping_criteria(mut self, skip: bool) -> Self {
        self.skip_criteria |= skip;
        self
    }
}

impl<M: Model, S> Select<M, S> {
    /// Filters on the model's primary key.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().by_pk(7);
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."id" = $1"#);
    /// ```
    pub fn by_pk(mut self, pk: M::Pk) -> Self {
        self.core.by_pk(M::TABLE, M::pk_params(pk));
        self
    }
}

impl<O: Decode, S> Select<O, S> {
    /// Attaches an option for whoever runs the statement (see [`SelectOption`]); relationship
    /// loads are added this way by [`load`](Select::load).
    pub fn option(mut self, option: impl SelectOption<O::Output>) -> Self {
        let mut options: Vec<Arc<dyn SelectOption<O::Output>>> =
            self.option_list().cloned().unwrap_or_default();
        options.push(Arc::new(option));
        self.options = Some(Arc::new(options));
        self
    }

    /// How this query loads a joined-table inheritance enum's subtype columns, instead of the
    /// enum's default (`#[model(polymorphic = "...")]`): [`PolymorphicLoad::Joined`] reads the
    /// base table `LEFT JOIN` every subtype table in one query; [`PolymorphicLoad::SelectIn`]
    /// reads the base rows' keys first, then each variant present with `WHERE key = ANY($1)`
    /// (its filters and ordering may name base-table columns only). No effect on other
    /// queries.
    ///
    /// ```
    /// # use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::Employee;
    /// use orm_core::meta::PolymorphicLoad;
    /// let q = select::<Employee>().polymorphic(PolymorphicLoad::SelectIn);
    /// # let _ = q;
    /// ```
    ///
    /// [`PolymorphicLoad::Joined`]: crate::meta::PolymorphicLoad::Joined
    /// [`PolymorphicLoad::SelectIn`]: crate::meta::PolymorphicLoad::SelectIn
    pub fn polymorphic(self, load: crate::meta::PolymorphicLoad) -> Self {
        self.option(super::option::Polymorphic(load))
    }

    pub(super) fn option_list(&self) -> Option<&Vec<Arc<dyn SelectOption<O::Output>>>> {
        self.options
            .as_ref()?
            .downcast_ref::<Vec<Arc<dyn SelectOption<O::Output>>>>()
    }
}

impl<O, S> Select<O, S> {
    /// Whether options (relationship loads, a polymorphic loading) were attached.
    pub(super) fn has_options(&self) -> bool {
        self.options.is_some()
    }
}

impl<O, S> From<Select<O, S>> for Query {
    fn from(s: Select<O, S>) -> Query {
        s.into_query()
    }
}
