//! `cache`: what a result-cache hit costs against a real one-row query.
//!
//! # What is compared
//! Two cases, each against the same hand-written query (`client.query_one(&stmt, &[&id])` with
//! `SELECT id, name, hair_color FROM users WHERE id = $1` prepared once):
//! - **hit:** `db.fetch_one(select::<User>().by_pk(id).cached(60 s))` on a `Database` with a
//!   [`ResultCache`], the ids cycling through 100 keys that the warm-up stored: every timed call
//!   is a hit (compile, encode the key, look it up, check the tables' generations, decode the
//!   stored row again);
//! - **uncached:** the same select without `.cached`, on the bench's plain `Database`.
//!
//! The ORM/raw ratio of **hit** is the hit path's cost as a fraction of a real query on
//! loopback; the last line is **hit / uncached** (the medians of the two ORM sides).
//!
//! # Method
//! The `select` bench's (see `benches/select.rs`): pinned processes, a calibrating warm-up, 15
//! interleaved rounds, medians over rounds. No target: this bench reports a cost.
//!
//! # Running
//! ```text
//! cargo bench -p orm-bench --bench cache                   # full run
//! ORM_BENCH_QUICK=1 cargo bench -p orm-bench --bench cache # smoke test
//! ```

use std::cell::Cell;
use std::fmt;
use std::hint::black_box;
use std::time::Duration;

use orm_bench::harness::{self, Config, Report, Workload};
use orm_bench::{BoxError, Env, User};
use orm_postgres::prelude::*;
use orm_postgres::{Database, ResultCache};

/// The hand-written select by key, as the ORM compiles it.
const BY_KEY: &str = "SELECT id, name, hair_color FROM users WHERE id = $1";

/// The keys cycled through (all stored by the warm-up).
const KEYS: i32 = 100;

#[derive(Clone, Copy, PartialEq)]
enum Case {
    Hit,
    Uncached,
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Case::Hit => "hit",
            Case::Uncached => "uncached",
        })
    }
}

struct ByKey<'a> {
    env: &'a Env,
    cached: Database,
    prepared: tokio_postgres::Statement,
    next: Cell<i32>,
}

impl ByKey<'_> {
    fn id(&self) -> i32 {
        let id = self.next.get() % KEYS + 1;
        self.next.set(id);
        id
    }

    async fn hit(&self, id: i32) -> orm_postgres::Result<User> {
        self.cached
            .fetch_one(select::<User>().by_pk(id).cached(Duration::from_secs(60)))
            .await
    }
}

impl Workload for ByKey<'_> {
    type Case = Case;

    async fn run(&self, case: Case, orm: bool, k: u32) -> Result<(), BoxError> {
        for _ in 0..k {
            let id = black_box(self.id());
            let user = match (case, orm) {
                (Case::Hit, true) => self.hit(id).await?,
                (Case::Uncached, true) => self.env.db.fetch_one(select::<User>().by_pk(id)).await?,
                (_, false) => {
                    let row = self
                        .env
                        .raw
                        .client
                        .query_one(&self.prepared, &[&id])
                        .await?;
                    User {
                        id: row.get(0),
                        name: row.get(1),
                        hair_color: row.get(2),
                    }
                }
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
    let cached = Database::builder(url)
        .max_connections(1)
        .application_name("orm-bench-cache")
        .result_cache(ResultCache::new())
        .connect()
        .await?;
    let prepared = env.raw.client.prepare(BY_KEY).await?;
    let work = ByKey {
        env: &env,
        cached,
        prepared,
        next: Cell::new(0),
    };
    // Every key stored, and a hit returns the row the server does.
    for id in 1..=KEYS {
        let stored = work.hit(id).await?;
        let plain = env.db.fetch_one(select::<User>().by_pk(id)).await?;
        if stored != plain || work.hit(id).await? != plain {
            return Err("a cached row differs from the server's".into());
        }
    }
    let before = work.cached.metrics().cache;
    let placement = harness::pin(&env.raw.client, env.local, config.pin_request()).await?;
    let cases = [Case::Hit, Case::Uncached];
    let measured = harness::measure(&work, config, &cases, "case").await?;
    let after = work.cached.metrics().cache;
    if after.misses != before.misses {
        return Err(format!("the hit case missed {} times", after.misses - before.misses).into());
    }
    let report = Report {
        title: "orm-bench cache: a result-cache hit and an uncached select by key, each against the same query by hand",
        server_version: &env.server_version,
        server: env.server,
        placement: &placement,
        case_header: "case",
        op: "query",
        target: f64::INFINITY,
    };
    harness::print_report(&report, config, &measured);
    let hit = measured.samples[0].orm_median().as_secs_f64();
    let uncached = measured.samples[1].orm_median().as_secs_f64();
    println!();
    println!(
        "hit / uncached (ORM medians per query): {:.3}x ({} hits)",
        hit / uncached,
        after.hits - before.hits
    );
    if config.quick {
        println!("quick mode: timings above are not meaningful");
    }
    Ok(())
}
