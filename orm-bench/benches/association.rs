//! `association`: load 100 users with their posts (10 each) and the posts' comments (10 each,
//! 10,000 in all) into nested structs, through the ORM and through hand-written tokio-postgres,
//! and report the ORM's overhead as a ratio (Diesel's association benchmark).
//!
//! # What is compared
//! - **ORM, `selectin`:** `db.fetch_all(select::<User>().order_by(User::id)
//!   .load(User::posts.selectin().load(Post::comments.selectin())))` on a `Database` whose pool
//!   holds one connection (warm prepared-statement cache): three statements, one per level.
//! - **ORM, `joined`:** the same with `User::posts.joined()`: the users query `LEFT JOIN`s the
//!   posts and its rows are folded back into users; the comments are still `selectin`: two
//!   statements.
//! - **raw:** three statements prepared once on a `tokio_postgres::Client` of its own
//!   (`SELECT id, name FROM users ORDER BY id`, `SELECT id, user_id, title, body FROM posts
//!   WHERE user_id = ANY($1)`, `SELECT id, post_id, text FROM comments WHERE post_id =
//!   ANY($1)`), each level's keys as the next one's array, then the rows grouped into the same
//!   structs with `HashMap`s. The same raw side is timed against each ORM strategy.
//!
//! Before timing, both ORM loads are checked to return exactly the raw side's structs, and to
//! send 3 (`selectin`) and 2 (`joined`) statements (`Database::statement_count`), in quick mode
//! too. See `orm_bench::association` for the schema and both sides' code.
//!
//! # Method
//! The `select` bench's (see `benches/select.rs` and `orm_bench::harness`): client and server
//! processes pinned to one CPU with the local cluster, a warm-up that calibrates the loads per
//! round, 15 interleaved rounds of ~500 ms per strategy alternating sides in ~5 ms chunks, and
//! the median of the per-round ORM/raw ratios. The target is at most 1.20x. The whole run takes
//! ~16 s plus the build and the start of the local cluster.
//!
//! # Running
//! ```text
//! cargo bench -p orm-bench --bench association                   # full run; prints the table
//! ORM_BENCH_QUICK=1 cargo bench -p orm-bench --bench association # smoke test
//! cargo test -p orm-bench --benches                              # the same smoke test
//! ```
//! The environment variables are the `select` bench's (`ORM_BENCH_ROUNDS`, `ORM_BENCH_ROUND_MS`,
//! default 500 here, `ORM_BENCH_CHUNK_MS`, `ORM_BENCH_PIN`, `ORM_BENCH_STRICT` (exit with an
//! error above 1.20x), `ORM_BENCH_VERBOSE`, `ORM_BENCH_SECONDS`, `ORM_BENCH_ITERS`), except
//! that `ORM_BENCH_PROFILE` is `selectin`, `joined` or `raw`:
//! ```text
//! ORM_BENCH_PROFILE=selectin ORM_BENCH_ITERS=50 \
//!     valgrind --tool=callgrind target/release/deps/association-<hash> --bench
//! ```
//! **The bench drops and recreates the tables `comments`, `posts` and `users`.**

use std::fmt;
use std::hint::black_box;

use orm_bench::BoxError;
use orm_bench::association::{self, Env, StatementCounts, orm_load, orm_load_joined, raw_load};
use orm_bench::harness::{self, Config, Report, Workload};

/// The issue's target for ORM/raw.
const TARGET: f64 = 1.20;

/// How the ORM loads the posts (the comments are always `selectin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
    SelectIn,
    Joined,
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Strategy::SelectIn => "posts selectin, comments selectin",
            Strategy::Joined => "posts joined, comments selectin",
        })
    }
}

const CASES: [Strategy; 2] = [Strategy::SelectIn, Strategy::Joined];

/// The workload: one case per ORM strategy, each against the same hand-written side.
struct Association<'a>(&'a Env);

impl Workload for Association<'_> {
    type Case = Strategy;

    async fn run(&self, strategy: Strategy, orm: bool, k: u32) -> Result<(), BoxError> {
        let env = self.0;
        match (orm, strategy) {
            (false, _) => {
                for _ in 0..k {
                    black_box(raw_load(&env.raw).await?);
                }
            }
            (true, Strategy::SelectIn) => {
                for _ in 0..k {
                    black_box(orm_load(&env.db).await?);
                }
            }
            (true, Strategy::Joined) => {
                for _ in 0..k {
                    black_box(orm_load_joined(&env.db).await?);
                }
            }
        }
        Ok(())
    }
}

fn main() -> Result<(), BoxError> {
    let config = Config::from_env(15, 500)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let env = association::setup().await?;
        // A correctness check, in quick mode too: same structs, one statement per level.
        let counts = association::check(&env).await?;
        let placement = harness::pin(&env.raw.client, env.local, config.pin_request()).await?;
        if let Ok(side) = std::env::var("ORM_BENCH_PROFILE") {
            return profile(&env, &side).await;
        }
        run(&env, &config, &placement, counts).await
    })
}

async fn run(
    env: &Env,
    config: &Config,
    placement: &str,
    counts: StatementCounts,
) -> Result<(), BoxError> {
    let measured = harness::measure(&Association(env), config, &CASES, "load").await?;
    let report = Report {
        title: "orm-bench association: 100 users -> 1,000 posts -> 10,000 comments into nested \
                structs, ORM vs hand-written tokio-postgres (3 prepared statements + HashMap \
                grouping)",
        server_version: &env.server_version,
        server: env.server,
        placement,
        case_header: "ORM strategy",
        op: "load",
        target: TARGET,
    };
    harness::print_report(&report, config, &measured);
    println!(
        "statements per load: ORM posts selectin {}, ORM posts joined {}, raw 3 \
         (checked before timing: the same nested structs on every side)",
        counts.selectin, counts.joined
    );

    if config.quick {
        println!("quick mode: timings above are not meaningful and are not judged");
        return Ok(());
    }
    let over = measured.over(TARGET);
    if config.strict && !over.is_empty() {
        return Err(format!("ORM/raw above {TARGET:.2}x for {over:?}").into());
    }
    Ok(())
}

/// Loops one side only, for a profiler.
async fn profile(env: &Env, side: &str) -> Result<(), BoxError> {
    let (strategy, orm) = match side {
        "selectin" | "orm" => (Strategy::SelectIn, true),
        "joined" => (Strategy::Joined, true),
        "raw" => (Strategy::SelectIn, false),
        other => {
            return Err(format!(
                "ORM_BENCH_PROFILE must be selectin, joined or raw, not {other:?}"
            )
            .into());
        }
    };
    let seconds: f64 = harness::env_num("ORM_BENCH_SECONDS", 10.0);
    let iters: u64 = harness::env_num("ORM_BENCH_ITERS", 0);
    let (ops, per_op) = harness::profile(&Association(env), strategy, orm, seconds, iters).await?;
    println!(
        "profile {side}: {ops} loads, {} per load",
        harness::fmt_duration(per_op)
    );
    Ok(())
}
