//! `statement_mode`: what the unnamed statement mode (for pgbouncer in transaction mode) costs
//! against the cached one, on a select by primary key — the workload where parsing and planning
//! each statement weighs most.
//!
//! # What is compared
//! Two cases, each the ORM against the same protocol written by hand:
//! - **cached:** `db.fetch_one(select::<User>().by_pk(id))` on a `Database` in the default
//!   [`StatementMode::Cached`] (one connection, warm statement cache), against
//!   `client.query_one(&stmt, &[&id])` with `SELECT ... WHERE id = $1` prepared once;
//! - **unnamed:** the same call on a `Database` in [`StatementMode::Unnamed`], against
//!   `client.query_typed(sql, &[(&id, Type::INT4)])` by hand (the unnamed statement, parsed
//!   every time).
//!
//! The ids cycle through the table's 10,000 rows. Each case's ORM/raw ratio is the ORM's own
//! cost in that mode; the last line, **unnamed / cached**, is what choosing the unnamed mode
//! costs per query (the medians of the two ORM sides).
//!
//! # Method
//! The `select` bench's (see `benches/select.rs`): on the local cluster the client and the three
//! server processes are pinned to one CPU, a warm-up calibrates the iterations per round, 15
//! interleaved rounds of ~250 ms per case alternate sides in ~5 ms chunks, and the medians are
//! over rounds. No target: this bench reports a cost.
//!
//! # Running
//! ```text
//! cargo bench -p orm-bench --bench statement_mode                   # full run
//! ORM_BENCH_QUICK=1 cargo bench -p orm-bench --bench statement_mode # smoke test
//! ```
//! The environment variables are the `select` bench's (`ORM_BENCH_ROUNDS`, `ORM_BENCH_ROUND_MS`,
//! `ORM_BENCH_CHUNK_MS`, `ORM_BENCH_PIN`, `ORM_BENCH_VERBOSE`, `ORM_BENCH_SECONDS`,
//! `ORM_BENCH_ITERS`), except that `ORM_BENCH_PROFILE` is `cached`, `unnamed`, `raw-cached` or
//! `raw-unnamed`, or `pool`: the peers bench's pool workload on the ORM side only (64 spawned
//! tasks, each `ORM_BENCH_ITERS` lookups by key, default 200, on a `Database` of 8
//! connections, on the current-thread runtime), for a profiler:
//! ```text
//! ORM_BENCH_PROFILE=pool ORM_BENCH_ITERS=200 valgrind --tool=callgrind target/release/deps/statement_mode-<hash> --bench
//! ```

use std::cell::Cell;
use std::fmt;
use std::hint::black_box;

use orm_bench::harness::{self, Config, Report, Workload};
use orm_bench::{BoxError, Env, ROWS, User};
use orm_postgres::prelude::*;
use orm_postgres::{Database, StatementMode};
use tokio_postgres::types::Type;

/// The hand-written select by key, as the ORM compiles it.
const BY_KEY: &str = "SELECT id, name, hair_color FROM users WHERE id = $1";

/// `application_name` of the unnamed-mode pool's connection.
const UNNAMED_APPLICATION_NAME: &str = "orm-bench-unnamed";

#[derive(Clone, Copy)]
struct Mode(StatementMode);

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

struct ByKey<'a> {
    env: &'a Env,
    unnamed: Database,
    prepared: tokio_postgres::Statement,
    next: Cell<i32>,
}

impl ByKey<'_> {
    fn id(&self) -> i32 {
        let id = self.next.get() % ROWS as i32 + 1;
        self.next.set(id);
        id
    }

    fn from_row(row: &tokio_postgres::Row) -> User {
        User {
            id: row.get(0),
            name: row.get(1),
            hair_color: row.get(2),
        }
    }
}

impl Workload for ByKey<'_> {
    type Case = Mode;

    async fn run(&self, mode: Mode, orm: bool, k: u32) -> Result<(), BoxError> {
        let client = &self.env.raw.client;
        for _ in 0..k {
            let id = black_box(self.id());
            let user = match (mode.0, orm) {
                (StatementMode::Unnamed, true) => {
                    self.unnamed.fetch_one(select::<User>().by_pk(id)).await?
                }
                (_, true) => self.env.db.fetch_one(select::<User>().by_pk(id)).await?,
                (StatementMode::Unnamed, false) => {
                    Self::from_row(&client.query_typed(BY_KEY, &[(&id, Type::INT4)]).await?[0])
                }
                (_, false) => Self::from_row(&client.query_one(&self.prepared, &[&id]).await?),
            };
            black_box(user);
        }
        Ok(())
    }
}

fn main() -> Result<(), BoxError> {
    let config = Config::from_env(15, 250)?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(bench(&config))
}

async fn bench(config: &Config) -> Result<(), BoxError> {
    let env = orm_bench::setup().await?;
    let (url, _) = orm_bench::server_url()?;
    let unnamed = Database::builder(url)
        .max_connections(1)
        .application_name(UNNAMED_APPLICATION_NAME)
        .statement_mode(StatementMode::Unnamed)
        .connect()
        .await?;
    let prepared = env.raw.client.prepare(BY_KEY).await?;
    let work = ByKey {
        env: &env,
        unnamed,
        prepared,
        next: Cell::new(0),
    };
    // Both modes and both sides return the same row.
    let raw = ByKey::from_row(&env.raw.client.query_one(&work.prepared, &[&42]).await?);
    let cached = env.db.fetch_one(select::<User>().by_pk(42)).await?;
    let unnamed = work.unnamed.fetch_one(select::<User>().by_pk(42)).await?;
    if cached != raw || unnamed != raw || raw.id != 42 {
        return Err("the ORM's rows differ from the hand-written ones".into());
    }
    let mut placement = harness::pin(&env.raw.client, env.local, config.pin_request()).await?;
    if let Ok(side) = std::env::var("ORM_BENCH_PROFILE") {
        return profile(&work, &side).await;
    }
    if placement.starts_with("client pinned") {
        pin_backend(&env.raw.client, UNNAMED_APPLICATION_NAME).await?;
        placement.push_str(", the unnamed pool's server process too");
    }
    let cases = [Mode(StatementMode::Cached), Mode(StatementMode::Unnamed)];
    let measured = harness::measure(&work, config, &cases, "mode").await?;
    let report = Report {
        title: "orm-bench statement_mode: select by key, each mode against the same protocol by hand",
        server_version: &env.server_version,
        server: env.server,
        placement: &placement,
        case_header: "mode",
        op: "query",
        target: f64::INFINITY,
    };
    harness::print_report(&report, config, &measured);
    let cached = measured.samples[0].orm_median().as_secs_f64();
    let unnamed = measured.samples[1].orm_median().as_secs_f64();
    println!();
    println!(
        "unnamed / cached (ORM medians per query): {:.2}x",
        unnamed / cached
    );
    if config.quick {
        println!("quick mode: timings above are not meaningful");
    }
    Ok(())
}

/// Loops one side of one mode only, for a profiler: `ORM_BENCH_PROFILE` is `cached`,
/// `unnamed`, `raw-cached` or `raw-unnamed`.
async fn profile(work: &ByKey<'_>, side: &str) -> Result<(), BoxError> {
    if side == "pool" {
        return profile_pool().await;
    }
    let (mode, orm) = match side {
        "cached" => (StatementMode::Cached, true),
        "unnamed" => (StatementMode::Unnamed, true),
        "raw-cached" => (StatementMode::Cached, false),
        "raw-unnamed" => (StatementMode::Unnamed, false),
        other => {
            return Err(format!(
                "ORM_BENCH_PROFILE must be cached, unnamed, raw-cached, raw-unnamed or pool, not {other:?}"
            )
            .into());
        }
    };
    let seconds: f64 = harness::env_num("ORM_BENCH_SECONDS", 10.0);
    let iters: u64 = harness::env_num("ORM_BENCH_ITERS", 0);
    let (ops, per_op) = harness::profile(work, Mode(mode), orm, seconds, iters).await?;
    println!(
        "profile {side}: {ops} queries, {} per query",
        harness::fmt_duration(per_op)
    );
    Ok(())
}

/// Tasks of the pool profile, and the pool's connections (the peers bench's pool workload).
const POOL_TASKS: i32 = 64;
const POOL_SIZE: usize = 8;

/// The pool profile: [`POOL_TASKS`] tasks, each `ORM_BENCH_ITERS` (200) lookups by key, on
/// one `Database` of [`POOL_SIZE`] connections; checks every row came back.
async fn profile_pool() -> Result<(), BoxError> {
    let (url, _) = orm_bench::server_url()?;
    let db = Database::builder(url)
        .max_connections(POOL_SIZE)
        .connect()
        .await?;
    let lookups: i32 = harness::env_num("ORM_BENCH_ITERS", 200);
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..POOL_TASKS {
        let db = db.clone();
        tasks.spawn(async move {
            let mut found = 0;
            for i in 0..lookups {
                let id = (t * lookups + i) % ROWS as i32 + 1;
                let user = db.fetch_one(select::<User>().by_pk(black_box(id))).await?;
                found += i32::from(user.id == id);
            }
            Ok::<i32, orm_postgres::Error>(found)
        });
    }
    let mut found = 0;
    while let Some(result) = tasks.join_next().await {
        found += result??;
    }
    if found != POOL_TASKS * lookups {
        return Err(format!(
            "{found} of {} lookups found their row",
            POOL_TASKS * lookups
        )
        .into());
    }
    println!(
        "profile pool: {POOL_TASKS} tasks x {lookups} lookups on {POOL_SIZE} connections in {}",
        harness::fmt_duration(started.elapsed())
    );
    Ok(())
}

/// Pins the server process of the connection named `application_name` to the last CPU, where
/// [`harness::pin`] put the others.
async fn pin_backend(
    client: &tokio_postgres::Client,
    application_name: &str,
) -> Result<(), BoxError> {
    let pid: i32 = client
        .query_one(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
            &[&application_name],
        )
        .await?
        .get(0);
    let last = std::thread::available_parallelism()?
        .get()
        .saturating_sub(1);
    let status = std::process::Command::new("taskset")
        .args(["-p", "-c", &last.to_string(), &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        return Err(format!("taskset -p -c {last} {pid} failed").into());
    }
    Ok(())
}
