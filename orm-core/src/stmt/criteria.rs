//! Global criteria: conditions attached to tables that a statement includes wherever it reads
//! them (SQLAlchemy's `with_loader_criteria`), for soft delete, multi-tenancy and row-level
//! access. The ORM's session applies them to every statement it runs; this module holds the
//! conditions and rewrites a statement's tree with them, before it is compiled (the compiler
//! never sees them).

use std::sync::Arc;

use crate::ast::{
    BinOp, Child, Cte, DeleteCore, FromItem, InsertCore, InsertSource, JoinKind, JoinOn, Query,
    SelectCore, Tree, UpdateCore,
};
use crate::compile::fk_condition;
use crate::error::{Error, Result};
use crate::expr::{ColumnRef, Expr, Node};
use crate::meta::TableRef;
use crate::model::Model;

/// Conditions per table, that statements include wherever they read the table.
///
/// Where a condition goes, for a table read by a `SELECT`:
/// - read in `FROM`, or `CROSS JOIN`ed: `AND`ed into `WHERE`;
/// - `JOIN`ed: `AND`ed into the join's `ON` (a join on a foreign key is resolved first); for a
///   `LEFT JOIN` that keeps the rows it joins to (with `NULL`s), as a joined relationship load
///   needs;
/// - in a query with a `RIGHT` or `FULL` join: the table becomes `(SELECT * FROM t WHERE
///   condition) AS t`, the only form that keeps the outer join's meaning;
/// - in subqueries, CTEs, `EXISTS` and `IN (SELECT ...)`: the same, at every depth.
///
/// An `UPDATE` or `DELETE` gets the condition of its target table (and of its `FROM`/`USING`
/// tables) in `WHERE`, so it never touches a filtered row; an `INSERT ... SELECT` gets them in
/// its query, and an upsert's `DO UPDATE` gets the target's condition in its `WHERE`, so a
/// conflict with a filtered row leaves that row alone. Rows an `INSERT` writes are not checked.
/// Raw SQL is never rewritten. The conditions themselves are not rewritten (criteria do not
/// apply inside criteria). So a raw condition (`text("id <> 3")`) holds only where its table
/// is read alone and under its own name: joined to a table with a column of the same name,
/// its unqualified name is ambiguous (the server's 42702), and a qualified one
/// (`text("posts.id <> 3")`) names nothing under an alias, as a self-referential joined load
/// reads its target (42P01). Write conditions with the expression builder to have them
/// qualified wherever the table is read.
///
/// A condition's values are parameters: the SQL depends only on which tables have criteria,
/// never on the values (a tenant id), so the statement cache keeps working.
///
/// ```
/// use orm_core::prelude::*;
/// use orm_core::stmt::Criteria;
/// # use orm_core::__doc_fixture::{Post, User};
///
/// let mut criteria = Criteria::new();
/// criteria.add::<User>(User::email.is_not_null()).unwrap();
/// let q = select::<Post>().join_fk::<User>();
/// assert_eq!(
///     q.compile_with(&criteria).unwrap().sql,
///     r#"SELECT "posts"."id", "posts"."user_id", "posts"."title" FROM "posts" JOIN "users" ON ("posts"."user_id" = "users"."id") AND ("users"."email" IS NOT NULL)"#
/// );
/// ```
///
/// A model may carry its own condition, `#[model(criteria = path)]` (see the derive's docs):
/// every `Criteria` applies it too, `AND`ed with any added here, until
/// [`remove`](Self::remove) takes it off.
///
/// Criteria may also carry a [check](Self::set_check) that every statement run with them
/// passes before it is sent, relationship loads included: how a sharded session refuses a
/// statement whose shard key is on another shard.
#[derive(Clone, Default)]
pub struct Criteria {
    /// One condition per table, written over the table's own name.
    entries: Vec<(TableRef, Node)>,
    /// The tables whose model's own criteria are off.
    removed: Vec<TableRef>,
    /// What every statement run with the criteria must pass.
    check: Option<StatementCheck>,
    /// Every model's own criteria are off ([`check_only`](Criteria::check_only)).
    own_off: bool,
}

/// A check of a statement's tree before it is sent: see [`Criteria::set_check`].
pub type StatementCheck = Arc<dyn Fn(Tree<'_>) -> Result<()> + Send + Sync>;

impl std::fmt::Debug for Criteria {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(t, n)| (t.name, n)))
            .finish()
    }
}

impl Criteria {
    /// No criteria.
    pub fn new() -> Self {
        Criteria::default()
    }

    /// Adds a condition on `M`'s rows, `AND`ed with any it already has. The condition may
    /// name only `M`'s own columns (subqueries in it may read other tables); it is checked
    /// here, so a mistake is an error now rather than wrong SQL later.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// use orm_core::stmt::Criteria;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let mut criteria = Criteria::new();
    /// let err = criteria.add::<Post>(User::id.eq(1)).unwrap_err();
    /// assert!(err.to_string().contains("only its own columns"));
    /// ```
    pub fn add<M: Model>(&mut self, condition: impl Into<Expr<bool>>) -> Result<()> {
        let table = M::TABLE;
        let mut node = condition.into().into_node();
        let mut foreign: Option<ColumnRef> = None;
        own_columns(&mut node, table.name, &mut foreign);
        if let Some(c) = foreign {
            return Err(Error::invalid_statement(format!(
                "a criteria of `{}` may name only its own columns (of {:?}), not {:?}.{:?}",
                table.model, table.name, c.table, c.name
            )));
        }
        let key = table.as_ref();
        match self.entries.iter_mut().find(|(t, _)| *t == key) {
            Some((_, prev)) => {
                let before = std::mem::replace(prev, Node::Keyword("TRUE"));
                *prev = Node::binary(BinOp::And, before, node);
            }
            None => self.entries.push((key, node)),
        }
        Ok(())
    }

    /// Removes every condition on `M`, the model's own (`#[model(criteria)]`) too; whether it
    /// had any. Conditions added afterwards apply (the model's own stays off).
    pub fn remove<M: Model>(&mut self) -> bool {
        let before = self.entries.len();
        let key = M::TABLE.as_ref();
        self.entries.retain(|(t, _)| *t != key);
        let own = key.criteria.is_some() && !self.own_off && !self.removed.contains(&key);
        if own {
            self.removed.push(key);
        }
        self.entries.len() != before || own
    }

    /// Sets the check every statement run with these criteria passes first (replacing any):
    /// the session runs it on the tree of each statement it sends, relationship loads
    /// included, and also on statements that opted out of the conditions
    /// (`without_criteria()`); an error refuses the statement, with nothing sent. Raw SQL has
    /// no tree and is not checked; neither is the flush (it has its own hooks,
    /// `Session::on_before_flush`).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// use orm_core::stmt::Criteria;
    /// use orm_core::ast::Tree;
    /// # use orm_core::__doc_fixture::User;
    /// let mut criteria = Criteria::new();
    /// criteria.set_check(|tree| match tree {
    ///     Tree::Delete(..) => Err(orm_core::Error::invalid_statement("no deletes here")),
    ///     _ => Ok(()),
    /// });
    /// assert!(criteria.check(delete::<User>().tree()).is_err());
    /// assert!(criteria.check(select::<User>().tree()).is_ok());
    /// ```
    pub fn set_check(&mut self, check: impl Fn(Tree<'_>) -> Result<()> + Send + Sync + 'static) {
        self.check = Some(Arc::new(check));
    }

    /// Criteria that add no condition, not even the models' own (`#[model(criteria)]`), and
    /// only run `check` on every statement (see [`set_check`](Self::set_check)): how a
    /// checked transaction on one shard (`orm_postgres::ShardTransaction`) refuses a statement
    /// of another shard while running the Core's statements as written. Conditions
    /// [added](Self::add) later apply.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// use orm_core::stmt::Criteria;
    /// # use orm_core::__doc_fixture::User;
    /// let criteria = Criteria::check_only(|_| Err(orm_core::Error::invalid_statement("no")));
    /// assert!(!criteria.adds_conditions());
    /// assert!(criteria.check(select::<User>().tree()).is_err());
    /// ```
    pub fn check_only(check: impl Fn(Tree<'_>) -> Result<()> + Send + Sync + 'static) -> Self {
        let mut criteria = Criteria {
            own_off: true,
            ..Criteria::default()
        };
        criteria.set_check(check);
        criteria
    }

    /// Whether a statement run with these criteria may change: `false` only for
    /// [`check_only`](Self::check_only) criteria with nothing added, whose statements the
    /// caller compiles as they are (after the check).
    pub fn adds_conditions(&self) -> bool {
        !(self.own_off && self.entries.is_empty())
    }

    /// Runs the [check](Self::set_check) on a statement's tree (`None`, raw SQL, passes).
    pub fn check(&self, tree: Option<Tree<'_>>) -> Result<()> {
        match (&self.check, tree) {
            (Some(check), Some(tree)) => check(tree),
            _ => Ok(()),
        }
    }

    /// Whether `M` has a condition (its own, or one added here).
    pub fn covers<M: Model>(&self) -> bool {
        self.condition(M::TABLE.as_ref()).is_some()
    }

    /// Whether no condition was added here. The models' own criteria (`#[model(criteria)]`)
    /// still apply: they are not held here but in each model's table.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The condition on a table, written over the table's name: the model's own (unless
    /// removed) `AND` the one added here.
    pub fn condition(&self, table: TableRef) -> Option<Node> {
        let own = table
            .criteria
            .filter(|_| !self.own_off && !self.removed.contains(&table))
            .and_then(|build| build().downcast::<Node>().ok())
            .map(|node| *node);
        let added = self
            .entries
            .iter()
            .find(|(t, _)| *t == table)
            .map(|(_, n)| n.clone());
        match (own, added) {
            (Some(own), Some(added)) => Some(Node::binary(BinOp::And, own, added)),
            (own, added) => own.or(added),
        }
    }

    /// Adds the conditions to a query, at every depth.
    pub fn apply_query(&self, query: &mut Query) {
        Rewrite::new(self).query(query);
    }

    /// Adds the conditions to a `SELECT` body, at every depth.
    pub fn apply_select(&self, core: &mut SelectCore) {
        Rewrite::new(self).select(core);
    }

    /// Adds the conditions to an `UPDATE`: its target's and its `FROM` tables' in `WHERE`.
    pub fn apply_update(&self, core: &mut UpdateCore) {
        let values = core.sets.iter_mut().map(|(_, n)| n);
        let nodes = values.chain(core.returning.iter_mut());
        self.apply_dml(core.table, &mut core.from, nodes, &mut core.filter);
    }

    /// Adds the conditions to a `DELETE`: its target's and its `USING` tables' in `WHERE`.
    pub fn apply_delete(&self, core: &mut DeleteCore) {
        let nodes = core.returning.iter_mut();
        self.apply_dml(core.table, &mut core.using, nodes, &mut core.filter);
    }

    /// An `UPDATE` or `DELETE` of `target` reading `items` too, with `nodes` besides its
    /// filter: their subqueries, then the tables' conditions in `WHERE`.
    fn apply_dml<'n>(
        &self,
        target: TableRef,
        items: &mut [FromItem],
        nodes: impl Iterator<Item = &'n mut Node>,
        filter: &mut Option<Node>,
    ) {
        let mut r = Rewrite::new(self);
        items.iter_mut().for_each(|i| r.item(i));
        nodes.for_each(|n| r.node(n));
        if let Some(f) = filter {
            r.node(f);
        }
        let conditions = self.dml_conditions(target, items);
        and_all(filter, conditions);
    }

    /// Adds the conditions to an `INSERT`: to its `SELECT`, and to the `WHERE` of an upsert's
    /// `DO UPDATE` (the target's condition, so a conflicting filtered row is left alone).
    pub fn apply_insert(&self, core: &mut InsertCore) {
        let mut r = Rewrite::new(self);
        if let InsertSource::Query(q) = &mut core.source {
            r.query(q);
        }
        core.returning.iter_mut().for_each(|n| r.node(n));
        let own = self.condition(core.table);
        if let Some(crate::ast::OnConflict {
            action: crate::ast::ConflictAction::Update { sets, filter },
            ..
        }) = &mut core.on_conflict
        {
            sets.iter_mut().for_each(|(_, n)| r.node(n));
            if let Some(f) = filter.as_mut() {
                r.node(f);
            }
            and_all(filter, own);
        }
    }

    /// The conditions of a DML statement's target (qualified by its name) and of its other
    /// tables.
    fn dml_conditions(&self, target: TableRef, others: &[FromItem]) -> Vec<Node> {
        self.condition(target)
            .into_iter()
            .chain(others.iter().filter_map(|i| self.condition_for(i)))
            .collect()
    }

    /// The condition for a table item, qualified by the name the query reads it under.
    fn condition_for(&self, item: &FromItem) -> Option<Node> {
        let FromItem::Table { table, alias } = item else {
            return None;
        };
        let mut cond = self.condition(table.as_ref())?;
        if let Some(a) = alias {
            cond.requalify(table.name, a);
        }
        Some(cond)
    }
}

/// Finds a column outside subqueries that is not qualified by `table`.
fn own_columns(node: &mut Node, table: &str, foreign: &mut Option<ColumnRef>) {
    if let Node::Column(c) = node {
        if c.table != table && foreign.is_none() {
            *foreign = Some(*c);
        }
        return;
    }
    node.walk_mut(&mut |child| {
        if let Child::Node(n) = child {
            own_columns(n, table, foreign);
        }
    });
}

/// `AND`s conditions onto an optional filter.
fn and_all(filter: &mut Option<Node>, conditions: impl IntoIterator<Item = Node>) {
    for cond in conditions {
        *filter = Some(match filter.take() {
            None => cond,
            Some(prev) => Node::binary(BinOp::And, prev, cond),
        });
    }
}

/// One rewrite of a statement: the criteria, and the CTEs already rewritten (a CTE used twice
/// must stay one CTE).
struct Rewrite<'c> {
    criteria: &'c Criteria,
    ctes: Vec<(usize, Arc<Cte>)>,
}

impl<'c> Rewrite<'c> {
    fn new(criteria: &'c Criteria) -> Self {
        Rewrite {
            criteria,
            ctes: Vec::new(),
        }
    }

    fn query(&mut self, q: &mut Query) {
        match q {
            Query::Select(core) => self.select(core),
            Query::Compound(c) => {
                self.query(&mut c.left);
                self.query(&mut c.right);
            }
        }
    }

    fn node(&mut self, n: &mut Node) {
        n.walk_mut(&mut |child| match child {
            Child::Node(n) => self.node(n),
            Child::Query(q) => self.query(q),
        });
    }

    fn item(&mut self, item: &mut FromItem) {
        match item {
            FromItem::Subquery { query, .. } => self.query(query),
            FromItem::Function(call, _) => self.node(call),
            FromItem::Cte(cte) => {
                let id = Arc::as_ptr(cte) as usize;
                if let Some((_, done)) = self.ctes.iter().find(|(i, _)| *i == id) {
                    *cte = done.clone();
                    return;
                }
                let mut query = cte.query.clone();
                self.query(&mut query);
                let done = Arc::new(Cte {
                    name: cte.name,
                    columns: cte.columns.clone(),
                    query,
                    recursive: cte.recursive,
                });
                self.ctes.push((id, done.clone()));
                *cte = done;
            }
            FromItem::Table { .. } | FromItem::CteRef(_) => {}
        }
    }

    fn select(&mut self, core: &mut SelectCore) {
        // What the query already holds first: the conditions added below are not rewritten.
        core.from.iter_mut().for_each(|i| self.item(i));
        for j in &mut core.joins {
            self.item(&mut j.item);
            if let JoinOn::On(n) = &mut j.on {
                self.node(n);
            }
        }
        let nodes = core
            .columns
            .iter_mut()
            .chain(core.filter.iter_mut())
            .chain(core.group_by.iter_mut())
            .chain(core.having.iter_mut())
            .chain(core.order_by.iter_mut().map(|o| &mut o.node))
            .chain(core.limit.iter_mut())
            .chain(core.offset.iter_mut());
        for n in nodes {
            self.node(n);
        }
        if let crate::ast::Distinct::On(keys) = &mut core.distinct {
            keys.iter_mut().for_each(|n| self.node(n));
        }
        for (_, over) in &mut core.windows {
            over.walk_mut(&mut |n| self.node(n));
        }
        self.add_conditions(core);
    }

    /// Puts each table's condition where it keeps the query's meaning.
    fn add_conditions(&self, core: &mut SelectCore) {
        let c = self.criteria;
        let covered = |i: &FromItem| c.condition_for(i).is_some();
        if !core
            .from
            .iter()
            .chain(core.joins.iter().map(|j| &j.item))
            .any(covered)
        {
            return;
        }
        // Joins on a foreign key are resolved now: the condition is ANDed to them, and a
        // table made a subquery below would no longer be found by the compiler.
        for i in 0..core.joins.len() {
            if matches!(core.joins[i].on, JoinOn::ForeignKey) {
                let earlier: Vec<&FromItem> = core
                    .from
                    .iter()
                    .chain(core.joins[..i].iter().map(|j| &j.item))
                    .collect();
                if let Ok(on) = fk_condition(&core.joins[i].item, &earlier) {
                    core.joins[i].on = JoinOn::On(on);
                }
            }
        }
        let outer = core
            .joins
            .iter()
            .any(|j| matches!(j.kind, JoinKind::Right | JoinKind::Full));
        let mut filter = Vec::new();
        for item in &mut core.from {
            if outer {
                self.wrap(item);
            } else if let Some(cond) = c.condition_for(item) {
                filter.push(cond);
            }
        }
        for j in &mut core.joins {
            if outer {
                self.wrap(&mut j.item);
                continue;
            }
            let Some(cond) = c.condition_for(&j.item) else {
                continue;
            };
            match (&mut j.on, j.kind) {
                (JoinOn::On(on), _) => {
                    let before = std::mem::replace(on, Node::Keyword("TRUE"));
                    *on = Node::binary(BinOp::And, before, cond);
                }
                (on @ JoinOn::None, JoinKind::Left) => *on = JoinOn::On(cond),
                // An inner or cross join filters like WHERE; an unresolved foreign key join
                // fails to compile anyway.
                _ => filter.push(cond),
            }
        }
        and_all(&mut core.filter, filter);
    }

    /// `t` → `(SELECT * FROM t WHERE condition) AS t`, keeping the name the query reads it by.
    fn wrap(&self, item: &mut FromItem) {
        let FromItem::Table { table, .. } = *item else {
            return;
        };
        let Some(cond) = self.criteria.condition(table.as_ref()) else {
            return;
        };
        let inner = SelectCore {
            columns: vec![Node::Keyword("*")],
            from: vec![FromItem::Table { table, alias: None }],
            filter: Some(cond),
            ..SelectCore::default()
        };
        *item = FromItem::Subquery {
            query: Box::new(Query::from(inner)),
            alias: item.qualifier(),
            lateral: false,
        };
    }
}
