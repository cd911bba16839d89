//! `EXPLAIN` on any statement the builder makes, run with its real parameters: the plan as
//! PostgreSQL prints it, and as a typed tree parsed from `FORMAT JSON`, with the questions a
//! test asks of it (which index, any sequential scan).
//!
//! ```no_run
//! use orm_postgres::prelude::*;
//! use orm_postgres::ExplainOptions;
//! # use orm_postgres::__doc_fixture::User;
//! # async fn run(db: Database) -> orm_postgres::Result<()> {
//! let plan = db.explain(select::<User>().filter(User::id.eq(7))).await?;
//! plan.assert_uses_index("users_pkey");
//! let analyzed = db
//!     .explain_with(select::<User>(), ExplainOptions::new().analyze().buffers())
//!     .await?;
//! println!("{}", analyzed.text());
//! # Ok(()) }
//! ```

use std::fmt::Write as _;
use std::sync::Mutex;

use orm_core::driver::{BoxFuture, QueryRunner, RowSink, load_plan};
use serde_json::Value;

use crate::executor::fetch_loaded_through;
use crate::executor::sealed::Acquire;
use crate::stmt::Statement;
use crate::{CompiledQuery, Database, Error, Result};

/// What `EXPLAIN` reports besides the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExplainOptions {
    /// Run the statement and report actual rows, times and loops. A write runs in a
    /// transaction that is rolled back.
    pub analyze: bool,
    /// Buffer usage (shared, local, temp blocks hit and read).
    pub buffers: bool,
    /// Output columns, schema-qualified names.
    pub verbose: bool,
    /// Planner settings that differ from their defaults.
    pub settings: bool,
    /// Estimated costs (on by default).
    pub costs: bool,
}

impl Default for ExplainOptions {
    fn default() -> Self {
        ExplainOptions {
            analyze: false,
            buffers: false,
            verbose: false,
            settings: false,
            costs: true,
        }
    }
}

impl ExplainOptions {
    /// The plan only, with costs.
    pub fn new() -> Self {
        Self::default()
    }

    /// `ANALYZE`: run the statement (a write inside a rolled-back transaction).
    pub fn analyze(mut self) -> Self {
        self.analyze = true;
        self
    }

    /// `BUFFERS`.
    pub fn buffers(mut self) -> Self {
        self.buffers = true;
        self
    }

    /// `VERBOSE`.
    pub fn verbose(mut self) -> Self {
        self.verbose = true;
        self
    }

    /// `SETTINGS`.
    pub fn settings(mut self) -> Self {
        self.settings = true;
        self
    }

    /// `COSTS false`.
    pub fn without_costs(mut self) -> Self {
        self.costs = false;
        self
    }

    /// `EXPLAIN (...)` in front of `sql`, in `format` (`TEXT` or `JSON`).
    fn prefix(&self, format: &str, sql: &str) -> String {
        let mut opts = vec![format!("FORMAT {format}")];
        for (on, name) in [
            (self.analyze, "ANALYZE"),
            (self.buffers, "BUFFERS"),
            (self.verbose, "VERBOSE"),
            (self.settings, "SETTINGS"),
        ] {
            if on {
                opts.push(name.to_string());
            }
        }
        if !self.costs {
            opts.push("COSTS false".to_string());
        }
        format!("EXPLAIN ({}) {sql}", opts.join(", "))
    }
}

/// A plan: the tree, the planner's and executor's times, and the raw JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The top node.
    pub root: PlanNode,
    /// Planning time in milliseconds (with `ANALYZE`).
    pub planning_ms: Option<f64>,
    /// Execution time in milliseconds (with `ANALYZE`).
    pub execution_ms: Option<f64>,
    /// What the server returned (`FORMAT JSON`), for what the typed tree leaves out.
    pub json: Value,
}

/// One node of a plan.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct PlanNode {
    /// `Seq Scan`, `Index Scan`, `Hash Join`, `ModifyTable`, ...
    pub node_type: String,
    /// `Insert`, `Update`, `Delete` or `Merge`, for a `ModifyTable` node.
    pub operation: Option<String>,
    /// The table scanned, for scans.
    pub relation: Option<String>,
    /// Its alias in the statement.
    pub alias: Option<String>,
    /// The index used, for index scans.
    pub index: Option<String>,
    /// `Inner`, `Left`, ... for joins.
    pub join_type: Option<String>,
    /// The index condition.
    pub index_cond: Option<String>,
    /// The filter applied to rows.
    pub filter: Option<String>,
    /// Estimated startup cost.
    pub startup_cost: f64,
    /// Estimated total cost.
    pub total_cost: f64,
    /// Estimated rows.
    pub plan_rows: f64,
    /// Actual rows per loop (with `ANALYZE`).
    pub actual_rows: Option<f64>,
    /// Actual loops (with `ANALYZE`).
    pub actual_loops: Option<f64>,
    /// Actual total time per loop, in milliseconds (with `ANALYZE`).
    pub actual_total_ms: Option<f64>,
    /// Shared buffers hit (with `BUFFERS`).
    pub shared_hit_blocks: Option<i64>,
    /// Shared buffers read (with `BUFFERS`).
    pub shared_read_blocks: Option<i64>,
    /// The nodes under it.
    pub children: Vec<PlanNode>,
}

impl PlanNode {
    fn parse(v: &Value) -> PlanNode {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let f = |k: &str| v.get(k).and_then(Value::as_f64);
        let i = |k: &str| v.get(k).and_then(Value::as_i64);
        PlanNode {
            node_type: s("Node Type").unwrap_or_default(),
            operation: s("Operation"),
            relation: s("Relation Name"),
            alias: s("Alias"),
            index: s("Index Name"),
            join_type: s("Join Type"),
            index_cond: s("Index Cond"),
            filter: s("Filter"),
            startup_cost: f("Startup Cost").unwrap_or_default(),
            total_cost: f("Total Cost").unwrap_or_default(),
            plan_rows: f("Plan Rows").unwrap_or_default(),
            actual_rows: f("Actual Rows"),
            actual_loops: f("Actual Loops"),
            actual_total_ms: f("Actual Total Time"),
            shared_hit_blocks: i("Shared Hit Blocks"),
            shared_read_blocks: i("Shared Read Blocks"),
            children: v
                .get("Plans")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(PlanNode::parse).collect())
                .unwrap_or_default(),
        }
    }

    /// This node and every node under it, parents first.
    pub fn walk(&self) -> Vec<&PlanNode> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.walk());
        }
        out
    }

    fn line(&self) -> String {
        // A ModifyTable prints as its operation (`Delete on users`), as in the text format.
        let mut l = self
            .operation
            .clone()
            .unwrap_or_else(|| self.node_type.clone());
        if let Some(i) = &self.index {
            let _ = write!(l, " using {i}");
        }
        if let Some(r) = &self.relation {
            let _ = write!(l, " on {r}");
            if let Some(a) = self.alias.as_ref().filter(|a| *a != r) {
                let _ = write!(l, " {a}");
            }
        }
        let _ = write!(
            l,
            "  (cost={:.2}..{:.2} rows={})",
            self.startup_cost, self.total_cost, self.plan_rows
        );
        if let (Some(rows), Some(loops), Some(ms)) =
            (self.actual_rows, self.actual_loops, self.actual_total_ms)
        {
            let _ = write!(l, " (actual time=..{ms:.3} rows={rows} loops={loops})");
        }
        l
    }

    fn render(&self, depth: usize, out: &mut String) {
        let pad = "      ".repeat(depth);
        let arrow = if depth == 0 { "" } else { "->  " };
        let _ = writeln!(out, "{pad}{arrow}{}", self.line());
        let detail = format!("{pad}{}", if depth == 0 { "  " } else { "      " });
        if let Some(c) = &self.index_cond {
            let _ = writeln!(out, "{detail}Index Cond: {c}");
        }
        if let Some(c) = &self.filter {
            let _ = writeln!(out, "{detail}Filter: {c}");
        }
        for c in &self.children {
            c.render(depth + 1, out);
        }
    }
}

impl Plan {
    fn parse(json: Value) -> Result<Plan> {
        let top = json
            .as_array()
            .and_then(|a| a.first())
            .ok_or_else(|| Error::invalid_statement("EXPLAIN returned no plan"))?;
        let root = top
            .get("Plan")
            .map(PlanNode::parse)
            .ok_or_else(|| Error::invalid_statement("EXPLAIN returned a plan without a root"))?;
        Ok(Plan {
            root,
            planning_ms: top.get("Planning Time").and_then(Value::as_f64),
            execution_ms: top.get("Execution Time").and_then(Value::as_f64),
            json,
        })
    }

    /// Every node, parents first.
    pub fn nodes(&self) -> Vec<&PlanNode> {
        self.root.walk()
    }

    /// Whether some node scans with the index `name`.
    pub fn uses_index(&self, name: &str) -> bool {
        self.nodes()
            .iter()
            .any(|n| n.index.as_deref() == Some(name))
    }

    /// The tables read by a sequential scan.
    pub fn seq_scans(&self) -> Vec<&str> {
        self.nodes()
            .iter()
            .filter(|n| n.node_type == "Seq Scan")
            .filter_map(|n| n.relation.as_deref())
            .collect()
    }

    /// The plan as indented text, one node a line, in the shape of PostgreSQL's text format.
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.root.render(0, &mut out);
        if let Some(ms) = self.planning_ms {
            let _ = writeln!(out, "Planning Time: {ms:.3} ms");
        }
        if let Some(ms) = self.execution_ms {
            let _ = writeln!(out, "Execution Time: {ms:.3} ms");
        }
        out
    }

    /// Panics, printing the plan, unless a node scans with the index `name`: pins a plan in a
    /// test.
    #[track_caller]
    pub fn assert_uses_index(&self, name: &str) {
        assert!(
            self.uses_index(name),
            "expected a scan using index {name}, the plan is:\n{}",
            self.text()
        );
    }

    /// Panics, printing the plan, if a node reads `table` with a sequential scan.
    #[track_caller]
    pub fn assert_no_seq_scan(&self, table: &str) {
        assert!(
            !self.seq_scans().contains(&table),
            "expected no sequential scan of {table}, the plan is:\n{}",
            self.text()
        );
    }
}

impl Database {
    /// The plan of `statement` (its main query; for the statements its relationship loads
    /// send, see [`explain_loads`](Self::explain_loads)), with its real parameters. See
    /// [`explain_with`](Self::explain_with).
    pub async fn explain<S: Statement>(&self, statement: S) -> Result<Plan> {
        self.explain_with(statement, ExplainOptions::new()).await
    }

    /// `EXPLAIN ANALYZE`: the plan with actual rows and times. A write runs inside a
    /// transaction that is rolled back.
    pub async fn explain_analyze<S: Statement>(&self, statement: S) -> Result<Plan> {
        self.explain_with(statement, ExplainOptions::new().analyze().buffers())
            .await
    }

    /// `EXPLAIN (FORMAT JSON, ...)` of `statement`, parsed into a [`Plan`].
    pub async fn explain_with<S: Statement>(
        &self,
        statement: S,
        options: ExplainOptions,
    ) -> Result<Plan> {
        self.explain_compiled(statement.compile()?, options).await
    }

    /// The plan of a compiled query.
    async fn explain_compiled(&self, q: CompiledQuery, options: ExplainOptions) -> Result<Plan> {
        let explained = CompiledQuery::new(options.prefix("JSON", &q.sql), q.params);
        let rows = self
            .run_explain::<Value>(&explained, options.analyze)
            .await?;
        let json = rows
            .into_iter()
            .next()
            .ok_or_else(|| Error::invalid_statement("EXPLAIN returned no row"))?;
        Plan::parse(json)
    }

    /// The plans of a query and of every statement its relationship loads send: the query
    /// runs, its rows give the loads their real keys, the loads run (nested ones too, level by
    /// level), and each statement they sent is explained with the parameters it was sent with.
    /// Loads folded into the query itself (`joined`) are in the query's plan. See
    /// [`explain_loads_with`](Self::explain_loads_with).
    ///
    /// ```no_run
    /// use orm_postgres::prelude::*;
    /// # #[derive(Model, Debug, Clone)]
    /// # #[model(table = "authors")]
    /// # struct Author {
    /// #     #[model(primary_key, generated)]
    /// #     id: i64,
    /// #     #[relationship(has_many = Book, foreign_key = "author_id")]
    /// #     books: Related<Vec<Book>>,
    /// # }
    /// # #[derive(Model, Debug, Clone)]
    /// # #[model(table = "books")]
    /// # struct Book {
    /// #     #[model(primary_key, generated)]
    /// #     id: i64,
    /// #     #[model(references = "authors.id", index)]
    /// #     author_id: i64,
    /// # }
    /// # async fn run(db: Database) -> orm_postgres::Result<()> {
    /// let plans = db.explain_loads(select::<Author>().load(Author::books.selectin())).await?;
    /// let books = &plans.loads[0]; // SELECT ... FROM "books" WHERE "books"."author_id" = ANY($1)
    /// books.plan.assert_uses_index("ix_books_author_id");
    /// plans.assert_no_seq_scan("books");
    /// # Ok(()) }
    /// ```
    pub async fn explain_loads<S: Statement>(&self, statement: S) -> Result<QueryPlans> {
        self.explain_loads_with(statement, ExplainOptions::new())
            .await
    }

    /// [`explain_loads`](Self::explain_loads) with options; with `ANALYZE` each statement runs
    /// once more to be measured (the loads' keys come from the first run).
    pub async fn explain_loads_with<S: Statement>(
        &self,
        statement: S,
        options: ExplainOptions,
    ) -> Result<QueryPlans> {
        let q = statement.compile()?;
        let query = self.explain_compiled(q.clone(), options).await?;
        let mut loads = Vec::new();
        if let Some(plan) = load_plan(&statement) {
            let sent = {
                let conn = self.acquire().await?;
                let recorder = Recorder {
                    runner: &*conn,
                    sent: Mutex::new(Vec::new()),
                };
                fetch_loaded_through::<S::Row>(&conn, &recorder, &q, &plan).await?;
                recorder
                    .sent
                    .into_inner()
                    .unwrap_or_else(|p| p.into_inner())
            };
            for q in sent {
                let sql = q.sql.to_string();
                let plan = self.explain_compiled(q, options).await?;
                loads.push(LoaderPlan { sql, plan });
            }
        }
        Ok(QueryPlans { query, loads })
    }

    /// The plan as PostgreSQL prints it (`FORMAT TEXT`), one line per row.
    pub async fn explain_text<S: Statement>(
        &self,
        statement: S,
        options: ExplainOptions,
    ) -> Result<Vec<String>> {
        let q = statement.compile()?;
        let explained = CompiledQuery::new(options.prefix("TEXT", &q.sql), q.params);
        self.run_explain::<String>(&explained, options.analyze)
            .await
    }

    /// Runs an `EXPLAIN`; with `ANALYZE`, inside a transaction rolled back afterwards, so a
    /// write leaves nothing.
    async fn run_explain<O>(&self, q: &CompiledQuery, analyze: bool) -> Result<Vec<O>>
    where
        O: crate::Decode<Output = O>,
    {
        if !analyze {
            return self.acquire().await?.fetch_all::<O>(q).await;
        }
        let tx = self.begin().await?;
        let rows = tx.acquire().await?.fetch_all::<O>(q).await;
        tx.rollback().await?;
        rows
    }
}

/// The plans of a query and of the statements its relationship loads sent
/// ([`Database::explain_loads`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct QueryPlans {
    /// The query's own plan (with its `joined` loads).
    pub query: Plan,
    /// Each statement the loads sent, in the order sent: a level's loads together, then the
    /// next level's.
    pub loads: Vec<LoaderPlan>,
}

impl QueryPlans {
    /// The query's plan, then each load's.
    pub fn plans(&self) -> impl Iterator<Item = &Plan> {
        std::iter::once(&self.query).chain(self.loads.iter().map(|l| &l.plan))
    }

    /// The load whose statement reads `table` (its `FROM` names it), if any.
    pub fn load_of(&self, table: &str) -> Option<&LoaderPlan> {
        let from = format!("FROM \"{table}\"");
        self.loads.iter().find(|l| l.sql.contains(&from))
    }

    /// Panics, printing the plans, if any of them reads `table` with a sequential scan.
    #[track_caller]
    pub fn assert_no_seq_scan(&self, table: &str) {
        for p in self.plans() {
            p.assert_no_seq_scan(table);
        }
    }
}

/// One statement a relationship load sent, and its plan.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LoaderPlan {
    /// The statement as sent (`... WHERE "posts"."user_id" = ANY($1)`).
    pub sql: String,
    /// Its plan, for the keys it was sent with.
    pub plan: Plan,
}

/// A runner that keeps a copy of each statement it runs.
struct Recorder<'r> {
    runner: &'r dyn QueryRunner,
    sent: Mutex<Vec<CompiledQuery>>,
}

impl QueryRunner for Recorder<'_> {
    fn run_all<'a>(
        &'a self,
        jobs: Vec<(CompiledQuery, RowSink<'a>)>,
    ) -> BoxFuture<'a, Vec<Result<()>>> {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(jobs.iter().map(|(q, _)| q.clone()));
        self.runner.run_all(jobs)
    }

    fn criteria(&self) -> Option<&orm_core::stmt::Criteria> {
        self.runner.criteria()
    }
}
