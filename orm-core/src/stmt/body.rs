//! [`Body`]: a `SELECT`'s tree with the [`Shape`] it was built by, which any change to the tree
//! drops: reading goes through `Deref`, and every write through `DerefMut`, which forgets the
//! shape. Only the steps that keep a shape (`by_pk`, `limit`, `offset`) put one back, after
//! their write (see `compile/shape.rs`, which compiles a shape's SQL once).
//!
//! A statement made from a source without values of its own (no single-table inheritance
//! discriminator) by those steps only is not built at first: it is a [`Recipe`], the source's
//! builder and the steps' values, and its tree is built the first time something reads it. A
//! statement compiled from its shape's template is never built: `select::<User>().by_pk(k)`
//! then allocates only its key's parameter (callgrind, issue 17).

use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use super::{and_filter, pk_condition};
use crate::ast::{FromItem, Node, Param, SelectCore};
use crate::compile::{Shape, ShapedSelect, Step};
use crate::expr::Expr;
use crate::meta::Table;

/// A `SELECT`'s tree and, while the builder steps that made it fix its SQL text, its shape.
///
/// Either `built` holds the tree, or `plan` says how to build it (and `memo` keeps it once
/// something read it).
#[derive(Clone)]
pub(super) struct Body {
    built: Option<Box<SelectCore>>,
    plan: Option<Recipe>,
    memo: OnceLock<Box<SelectCore>>,
    shape: Option<Shape>,
}

/// How to build a statement made from a source by shape steps: the source's tree, then `WHERE`
/// the key, `LIMIT` and `OFFSET`.
#[derive(Clone)]
struct Recipe {
    /// The source's own tree (`select::<M>()`'s), which holds no values.
    origin: fn() -> SelectCore,
    /// The source's table, whose primary key `key` is.
    table: &'static Table,
    key: Option<Vec<Param>>,
    limit: Option<Param>,
    offset: Option<Param>,
}

impl Recipe {
    fn build(&self) -> SelectCore {
        let mut core = (self.origin)();
        if let Some(key) = &self.key {
            // The source's own name in `FROM` (an alias's, for `select::<Alias>()`).
            let qualifier = core
                .from
                .first()
                .map_or(self.table.name, FromItem::qualifier);
            let condition = pk_condition(self.table, qualifier, key.iter().cloned());
            core.filter = and_filter(core.filter.take(), Expr::new(condition));
        }
        core.limit = self.limit.clone().map(Node::Param);
        core.offset = self.offset.clone().map(Node::Param);
        core
    }

    /// [`params`](Recipe::params), moved out when a key is all there is (the statement is
    /// about to be dropped), else copied; [`put_back`](Recipe::put_back) undoes it.
    fn take_params(&mut self) -> Vec<Param> {
        match (&self.key, &self.limit, &self.offset) {
            (Some(key), None, None) if !key.is_empty() => self.key.take().unwrap_or_default(),
            _ => self.params(),
        }
    }

    /// Returns what [`take_params`](Recipe::take_params) took: a key it moved out (a copy is
    /// dropped, the recipe kept its own values).
    fn put_back(&mut self, params: Vec<Param>) {
        if self.key.is_none() && self.limit.is_none() && self.offset.is_none() && !params.is_empty()
        {
            self.key = Some(params);
        }
    }

    /// The values in the order the writer numbers them: the key, `LIMIT`, `OFFSET` (the
    /// first compile of the shape checks it against the writer's).
    fn params(&self) -> Vec<Param> {
        let key = self.key.as_deref().unwrap_or_default();
        let mut params = Vec::with_capacity(key.len() + 2);
        params.extend(key.iter().cloned());
        params.extend(self.limit.iter().cloned());
        params.extend(self.offset.iter().cloned());
        params
    }
}

/// The tree `plan` builds (an empty one without a plan, which a body never lacks together with a
/// tree).
fn build(plan: &Option<Recipe>) -> Box<SelectCore> {
    Box::new(
        plan.as_ref()
            .map_or_else(SelectCore::default, Recipe::build),
    )
}

/// Whether the key conditions of `a` and `b` are written alike (the same table name and key
/// columns; a model's `TABLE` is a constant, whose address may differ from use to use).
fn same_key(a: &Table, b: &Table) -> bool {
    std::ptr::eq(a, b)
        || (a.name == b.name
            && a.primary_key()
                .map(|c| c.name)
                .eq(b.primary_key().map(|c| c.name)))
}

impl Body {
    /// A tree of no known shape.
    pub(super) fn new(core: SelectCore) -> Self {
        Body {
            built: Some(Box::new(core)),
            plan: None,
            memo: OnceLock::new(),
            shape: None,
        }
    }

    /// A tree made from a source as `shape` says.
    pub(super) fn shaped(core: SelectCore, shape: Shape) -> Self {
        Body {
            shape: Some(shape),
            ..Body::new(core)
        }
    }

    /// The tree `origin` builds, for a source of `table` without values of its own, not
    /// built yet.
    pub(super) fn planned(origin: fn() -> SelectCore, table: &'static Table, shape: Shape) -> Self {
        Body {
            built: None,
            plan: Some(Recipe {
                origin,
                table,
                key: None,
                limit: None,
                offset: None,
            }),
            memo: OnceLock::new(),
            shape: Some(shape),
        }
    }

    /// The table the statement reads first (its `FROM` table), without building the tree.
    pub(super) fn first_table(&self) -> Option<&'static Table> {
        if let (None, Some(plan)) = (&self.built, &self.plan) {
            return Some(plan.table);
        }
        match self.from.first() {
            Some(FromItem::Table { table, .. }) => Some(*table),
            _ => None,
        }
    }

    /// The plan, while the tree is not built to be changed; a step on it drops the tree built
    /// to be read.
    fn plan_mut(&mut self) -> Option<&mut Recipe> {
        if self.built.is_some() {
            return None;
        }
        self.memo.take();
        self.plan.as_mut()
    }

    /// `WHERE` the primary key of `table` is `key`, a step that keeps the shape.
    pub(super) fn by_pk(&mut self, table: &'static Table, key: Vec<Param>) {
        let after = self.shape.and_then(|s| s.then(Step::ByPk));
        let same_table = self.first_table().is_some_and(|t| same_key(t, table));
        match self.plan_mut() {
            Some(plan) if plan.key.is_none() && same_table => plan.key = Some(key),
            _ => {
                let core: &mut SelectCore = self;
                // The `FROM` table's alias when it is this table (`select::<Alias>()`).
                let qualifier = match core.from.first() {
                    Some(item) if same_table => item.qualifier(),
                    _ => table.name,
                };
                let condition = pk_condition(table, qualifier, key);
                core.filter = and_filter(core.filter.take(), Expr::new(condition));
            }
        }
        // Another model's key (through `into_rows`, say) is not what the shape says.
        self.shape = after.filter(|_| same_table);
    }

    /// `LIMIT` (`offset: false`) or `OFFSET` `value`, a step that keeps the shape.
    pub(super) fn limit(&mut self, value: Param, offset: bool) {
        let step = if offset { Step::Offset } else { Step::Limit };
        let after = self.shape.and_then(|s| s.then(step));
        match self.plan_mut() {
            Some(plan) if offset => plan.offset = Some(value),
            Some(plan) => plan.limit = Some(value),
            None => {
                let core: &mut SelectCore = self;
                let slot = if offset {
                    &mut core.offset
                } else {
                    &mut core.limit
                };
                *slot = Some(Node::Param(value));
            }
        }
        self.shape = after;
    }

    /// Forgets the shape (the statement's type changes, so its steps would mean others).
    pub(super) fn forget_shape(mut self) -> Self {
        self.shape = None;
        self
    }

    /// The tree, boxed.
    pub(super) fn into_box(mut self) -> Box<SelectCore> {
        match self.built.take() {
            Some(core) => core,
            None => self.memo.take().unwrap_or_else(|| build(&self.plan)),
        }
    }
}

impl Deref for Body {
    type Target = SelectCore;
    fn deref(&self) -> &SelectCore {
        match &self.built {
            Some(core) => core,
            None => self.memo.get_or_init(|| build(&self.plan)),
        }
    }
}

impl DerefMut for Body {
    /// The tree, to change (built first if it was not): its shape is forgotten.
    fn deref_mut(&mut self) -> &mut SelectCore {
        self.shape = None;
        if self.built.is_none() {
            let core = self.memo.take().unwrap_or_else(|| build(&self.plan));
            self.plan = None;
            return self.built.insert(core);
        }
        self.built.get_or_insert_with(|| build(&None))
    }
}

impl ShapedSelect for Body {
    fn shape(&self) -> Option<Shape> {
        self.shape
    }

    fn tree(&self) -> &SelectCore {
        self
    }

    fn known_params(&self) -> Option<Vec<Param>> {
        match (&self.built, &self.plan) {
            (None, Some(plan)) => Some(plan.params()),
            _ => None,
        }
    }

    fn take_known_params(&mut self) -> Option<Vec<Param>> {
        match (&self.built, &mut self.plan) {
            (None, Some(plan)) => {
                // A tree built to be read holds the values too: it no longer matches the plan.
                self.memo.take();
                Some(plan.take_params())
            }
            _ => None,
        }
    }

    fn put_back_params(&mut self, params: Vec<Param>) {
        if let (None, Some(plan)) = (&self.built, &mut self.plan) {
            plan.put_back(params);
        }
    }
}

impl From<Body> for crate::ast::Query {
    fn from(body: Body) -> Self {
        crate::ast::Query::Select(body.into_box())
    }
}

#[cfg(test)]
mod tests {
    use crate::__doc_fixture::User;
    use crate::prelude::*;
    use crate::stmt::Statement;

    fn built(q: &Select<User>) -> bool {
        q.core.built.is_some() || q.core.memo.get().is_some()
    }

    #[test]
    fn a_key_lookup_served_from_its_template_is_never_built() {
        select::<User>()
            .by_pk(1)
            .limit(2)
            .compile()
            .expect("compiles");
        let q = select::<User>().by_pk(3).limit(4);
        assert!(!built(&q));
        let compiled = q.compile().expect("compiles");
        assert!(!built(&q), "a hit built the tree");
        assert_eq!(format!("{:?}", compiled.params), "[3, 4]");
    }

    #[test]
    fn a_step_after_a_read_rebuilds_what_is_read() {
        let q = select::<User>().limit(1);
        assert!(q.core().limit.is_some() && built(&q));
        let q = q.limit(2).by_pk(9);
        assert!(!built(&q), "the tree read before the steps was kept");
        let sql = q.compile().expect("compiles").to_string();
        assert!(sql.ends_with("LIMIT $2\n-- params: [9, 2]"), "{sql}");
        // A change through any other step builds the tree with every value.
        let q = q.filter(User::name.eq("x"));
        assert!(q.core.built.is_some() && q.shape().is_none());
        let sql = q.compile().expect("compiles").to_string();
        assert!(sql.ends_with("-- params: [9, \"x\", 2]"), "{sql}");
    }

    #[test]
    fn a_statement_about_to_be_dropped_gives_its_key_list_away() {
        use crate::compile::ShapedSelect;
        let mut q = select::<User>().by_pk(1);
        let key = q.core.plan.as_ref().and_then(|p| p.key.as_ref());
        let key = key.map(|k| k.as_ptr()).expect("a key list");
        let params = q.core.take_known_params().expect("known values");
        // The list itself, moved out: no second list allocated.
        assert_eq!(params.as_ptr(), key);
        assert_eq!(format!("{params:?}"), "[1]");
        // Given back (the template could not serve it), the statement compiles as before.
        q.core.put_back_params(params);
        let sql = q.compile().expect("compiles").to_string();
        assert!(
            sql.ends_with("\"users\".\"id\" = $1\n-- params: [1]"),
            "{sql}"
        );
        // With a `LIMIT` too, the values are copied and the statement keeps its own.
        let mut q = select::<User>().by_pk(2).limit(3);
        let params = q.core.take_known_params().expect("known values");
        assert_eq!(format!("{params:?}"), "[2, 3]");
        q.core.put_back_params(params);
        let sql = q.compile().expect("compiles").to_string();
        assert!(sql.ends_with("-- params: [2, 3]"), "{sql}");
        // A `LIMIT` alone is given back as a `LIMIT`, not taken for a key.
        let mut q = select::<User>().limit(4);
        let params = q.core.take_known_params().expect("known values");
        q.core.put_back_params(params);
        let sql = q.compile().expect("compiles").to_string();
        assert!(
            sql.ends_with("FROM \"users\" LIMIT $1\n-- params: [4]"),
            "{sql}"
        );
    }
}
