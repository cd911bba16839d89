//! `select`: load 1, 100 and 10,000 rows into structs through the ORM and through hand-written
//! tokio-postgres, and report the ORM's overhead as a ratio.
//!
//! # What is compared
//! - **ORM:** `db.fetch_all(select::<User>().limit(n))` on a `Database` whose pool holds one
//!   connection, so every call checks out the same connection and hits its prepared-statement
//!   cache. Each call builds and compiles the statement, as user code does.
//! - **raw:** `client.query(&stmt, &[&n])` on a `tokio_postgres::Client` of its own, with
//!   `SELECT id, name, hair_color FROM users LIMIT $1` prepared once, then `row.get(0..3)` into
//!   the same struct.
//!
//! Both run on one tokio **current-thread** runtime, against the table `users` (10,000 rows,
//! created fresh by [`orm_bench::setup`]); both sides are checked to return identical rows first.
//!
//! # Method
//! 1. **Placement:** with the local cluster, the bench thread and the two server processes are
//!    pinned to one CPU (`taskset`, Linux). With one connection per side, a query is a
//!    ping-pong between the client and its server process, and its latency depends heavily on
//!    where the scheduler puts that process: unpinned on a 2-CPU VM, one side was 2-4x slower
//!    than the other for a whole run, in either direction, by luck of placement. On one CPU,
//!    both sides see the same placement and the spread of the ratio drops from ±50 % to ±1 %.
//!    `ORM_BENCH_PIN=split` puts the client on CPU 0 and the server on the last CPU instead;
//!    `ORM_BENCH_PIN=off` leaves placement to the scheduler. With `DATABASE_URL` nothing is
//!    pinned (the server's processes are not ours).
//! 2. **Warm-up:** per size, the two sides alternate for ~0.3 s; the time per pair calibrates
//!    `K`, the iterations per round, so one round of one size takes ~`ORM_BENCH_ROUND_MS`
//!    (250 ms) for both sides together.
//! 3. **Rounds** (`ORM_BENCH_ROUNDS`, 15): per round and per size, `K` iterations of each side,
//!    run in chunks of ~`ORM_BENCH_CHUNK_MS` (5 ms) that alternate sides in an A B B A pattern,
//!    the side going first alternating by round and size, so drift in the machine's load (other
//!    builds, CPU frequency) hits both sides alike. `ORM_BENCH_CHUNK_MS=0` runs the `K`
//!    iterations of each side as one block.
//! 4. **Report:** per size, the median over rounds of the time per operation of each side, and
//!    the **median of the per-round ORM/raw ratios** (with its 25th–75th percentile range),
//!    which is robust to rounds disturbed by other processes. The target is at most 1.10x
//!    everywhere. The CPU columns are this process's CPU time per query
//!    (`/proc/thread-self/schedstat`; kernel time included): the ORM's own cost, since the
//!    server does the same work for both sides.
//!
//! The whole run takes ~15 s plus the build and, without `DATABASE_URL`, the start of the local
//! cluster.
//!
//! # Running
//! ```text
//! cargo bench -p orm-bench                   # full run; prints the table
//! ORM_BENCH_QUICK=1 cargo bench -p orm-bench # smoke test: 1 round, few iterations
//! cargo test -p orm-bench --benches          # the same smoke test (cargo passes no `--bench`)
//! ```
//! Quick mode (`--test`, `ORM_BENCH_QUICK=1`, or started without cargo bench's `--bench`) runs
//! one round of a few iterations and never judges timings.
//!
//! Environment variables:
//! | variable | default | meaning |
//! |---|---|---|
//! | `DATABASE_URL` | local throwaway cluster | the server (its `users` table is replaced!) |
//! | `ORM_BENCH_QUICK` | unset | `1`: quick mode |
//! | `ORM_BENCH_ROUNDS` | 15 | rounds |
//! | `ORM_BENCH_ROUND_MS` | 250 | target time of one round of one size, both sides |
//! | `ORM_BENCH_CHUNK_MS` | 5 | length of the alternating chunks inside a round; 0: none |
//! | `ORM_BENCH_PIN` | `same` (local cluster) | `same`, `split` or `off`, see Method |
//! | `ORM_BENCH_STRICT` | unset | `1`: exit with an error when a ratio is above 1.10 |
//! | `ORM_BENCH_VERBOSE` | unset | `1`: print every round's times to stderr |
//! | `ORM_BENCH_PROFILE` | unset | `orm` or `raw`: only loop that side (for a profiler) |
//! | `ORM_BENCH_SIZE` | 100 | rows per query in profile mode |
//! | `ORM_BENCH_SECONDS` | 10 | duration of profile mode |
//! | `ORM_BENCH_ITERS` | unset | profile mode: run exactly this many queries instead |
//!
//! Profiling one side, e.g. with callgrind (deterministic instruction counts; compare two
//! `ORM_BENCH_ITERS` to cancel the setup):
//! ```text
//! ORM_BENCH_PROFILE=orm ORM_BENCH_SIZE=1 ORM_BENCH_ITERS=5000 \
//!     valgrind --tool=callgrind target/release/deps/select-<hash> --bench
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use orm_bench::{
    BoxError, Env, Samples, Timing, orm_select, quantile, raw_select, thread_cpu_time,
};

/// Row counts per query.
const SIZES: [i64; 3] = [1, 100, 10_000];
/// The issue's target for ORM/raw.
const TARGET: f64 = 1.10;

struct Config {
    quick: bool,
    rounds: usize,
    round_target: Duration,
    warmup: Duration,
    chunk: Duration,
    strict: bool,
    verbose: bool,
    load_before: String,
    pin: Option<Pin>,
    cpus: usize,
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

impl Config {
    fn from_env() -> Result<Config, BoxError> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let bench_mode = args.iter().any(|a| a == "--bench");
        let quick =
            args.iter().any(|a| a == "--test") || env_flag("ORM_BENCH_QUICK") || !bench_mode;
        Ok(Config {
            quick,
            rounds: if quick {
                1
            } else {
                env_num("ORM_BENCH_ROUNDS", 15usize).max(1)
            },
            round_target: Duration::from_millis(env_num("ORM_BENCH_ROUND_MS", 250u64).max(1)),
            warmup: Duration::from_millis(300),
            chunk: Duration::from_millis(env_num("ORM_BENCH_CHUNK_MS", 5u64)),
            strict: env_flag("ORM_BENCH_STRICT"),
            verbose: env_flag("ORM_BENCH_VERBOSE"),
            load_before: load_average(),
            pin: Pin::from_env()?,
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        })
    }
}

fn main() -> Result<(), BoxError> {
    let config = Config::from_env()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let env = orm_bench::setup().await?;
        for n in SIZES {
            orm_bench::check_same_rows(&env, n).await?;
        }
        // The smoke test leaves placement alone unless asked.
        let requested = match config.pin {
            None if config.quick => Some(Pin::Off),
            other => other,
        };
        let placement = pin(&env, requested).await?;
        if let Ok(side) = std::env::var("ORM_BENCH_PROFILE") {
            return profile(&env, &side).await;
        }
        run(&env, &config, &placement).await
    })
}

/// Where the client thread and the two server processes may run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Pin {
    /// Wherever the scheduler puts them.
    Off,
    /// All three on the last CPU: no cross-CPU wake-ups, the same placement for both sides.
    Same,
    /// The client on CPU 0, both server processes on the last CPU.
    Split,
}

impl Pin {
    /// `ORM_BENCH_PIN`; `None` when unset (then: `Same` when the server is the local cluster).
    fn from_env() -> Result<Option<Pin>, BoxError> {
        match std::env::var("ORM_BENCH_PIN") {
            Err(_) => Ok(None),
            Ok(v) => match v.to_ascii_lowercase().as_str() {
                "0" | "off" | "no" | "false" => Ok(Some(Pin::Off)),
                "1" | "same" | "on" | "yes" | "true" => Ok(Some(Pin::Same)),
                "split" => Ok(Some(Pin::Split)),
                other => {
                    Err(format!("ORM_BENCH_PIN must be same, split or off, not {other:?}").into())
                }
            },
        }
    }
}

/// Applies the placement (Linux, through `taskset`; the server processes only when they belong
/// to this process's local cluster) and describes it. When pinning was not asked for
/// explicitly, a failure only leaves things unpinned.
async fn pin(env: &Env, requested: Option<Pin>) -> Result<String, BoxError> {
    let mode = match requested {
        Some(mode) => mode,
        None if env.local => Pin::Same,
        None => return Ok("not pinned (external server)".into()),
    };
    if mode == Pin::Off {
        return Ok("not pinned".into());
    }
    let applied = async {
        if !env.local {
            return Err::<String, BoxError>(
                "pinning needs the local cluster (unset DATABASE_URL)".into(),
            );
        }
        let cpus = std::thread::available_parallelism()?.get();
        let last = cpus.saturating_sub(1).to_string();
        let client = if mode == Pin::Split {
            "0".to_owned()
        } else {
            last.clone()
        };
        let (orm, raw) = env.backend_pids().await?;
        for (cpu, pid) in [
            (&client, std::process::id().to_string()),
            (&last, orm.to_string()),
            (&last, raw.to_string()),
        ] {
            let status = std::process::Command::new("taskset")
                .args(["-p", "-c", cpu.as_str(), &pid])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()?;
            if !status.success() {
                return Err(format!("taskset -p -c {cpu} {pid} failed").into());
            }
        }
        Ok(format!(
            "client pinned to CPU {client}, server processes (ORM {orm}, raw {raw}) to CPU {last}"
        ))
    }
    .await;
    match (applied, requested) {
        (Ok(placement), _) => Ok(placement),
        (Err(e), Some(_)) => Err(e),
        (Err(e), None) => Ok(format!("not pinned ({e})")),
    }
}

/// Runs `k` iterations of one side and returns the total time (wall clock and this thread's
/// CPU).
async fn time_side(env: &Env, orm: bool, n: i64, k: u32) -> Result<Timing, BoxError> {
    let cpu_start = thread_cpu_time();
    let start = Instant::now();
    if orm {
        for _ in 0..k {
            black_box(orm_select(&env.db, black_box(n)).await?);
        }
    } else {
        for _ in 0..k {
            black_box(raw_select(&env.raw, black_box(n)).await?);
        }
    }
    let wall = start.elapsed();
    let cpu = match (cpu_start, thread_cpu_time()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    Ok(Timing { wall, cpu })
}

/// Iterations per round (`k`) and per chunk for one size.
#[derive(Clone, Copy)]
struct Plan {
    k: u32,
    chunk: u32,
}

/// Alternates single queries of both sides for at least `d` (and 3 pairs); returns the seconds
/// per pair.
async fn alternate(env: &Env, n: i64, d: Duration) -> Result<f64, BoxError> {
    let start = Instant::now();
    let mut pairs = 0u32;
    while pairs < 3 || start.elapsed() < d {
        time_side(env, false, n, 1).await?;
        time_side(env, true, n, 1).await?;
        pairs += 1;
    }
    Ok(start.elapsed().as_secs_f64() / f64::from(pairs))
}

/// Warms both sides up for size `n` and plans its rounds.
async fn warm_up(env: &Env, config: &Config, n: i64) -> Result<Plan, BoxError> {
    if config.quick {
        time_side(env, false, n, 2).await?;
        time_side(env, true, n, 2).await?;
        return Ok(Plan { k: 3, chunk: 3 });
    }
    // The first half only warms up; the second calibrates.
    alternate(env, n, config.warmup / 2).await?;
    let per_pair = alternate(env, n, config.warmup / 2).await?;
    let k = (config.round_target.as_secs_f64() / per_pair)
        .round()
        .clamp(1.0, 1_000_000.0) as u32;
    let chunk = if config.chunk.is_zero() {
        k
    } else {
        ((config.chunk.as_secs_f64() / per_pair).round() as u32).clamp(1, k)
    };
    Ok(Plan { k, chunk })
}

/// One round of one size: `k` iterations of each side, in chunks that alternate sides in an
/// A B B A ... pattern starting with the ORM when `orm_first`. Returns the time per operation
/// of (raw, ORM).
async fn round(
    env: &Env,
    n: i64,
    plan: Plan,
    orm_first: bool,
) -> Result<(Timing, Timing), BoxError> {
    let (mut raw, mut orm) = (Timing::default(), Timing::default());
    raw.cpu = Some(Duration::ZERO);
    orm.cpu = Some(Duration::ZERO);
    let mut done = 0;
    let mut orm_next = orm_first;
    while done < plan.k {
        let c = plan.chunk.min(plan.k - done);
        for side_is_orm in [orm_next, !orm_next] {
            let t = time_side(env, side_is_orm, n, c).await?;
            if side_is_orm {
                orm.add(t);
            } else {
                raw.add(t);
            }
        }
        // The side that went second goes first next time: A B B A A B ...
        orm_next = !orm_next;
        done += c;
    }
    Ok((raw.per_op(plan.k), orm.per_op(plan.k)))
}

async fn run(env: &Env, config: &Config, placement: &str) -> Result<(), BoxError> {
    let mut plans = Vec::with_capacity(SIZES.len());
    for n in SIZES {
        plans.push(warm_up(env, config, n).await?);
    }

    let mut samples = vec![Samples::default(); SIZES.len()];
    let started = Instant::now();
    for r in 0..config.rounds {
        for (i, &n) in SIZES.iter().enumerate() {
            let (raw, orm) = round(env, n, plans[i], (r + i) % 2 == 1).await?;
            samples[i].push(raw, orm);
            if config.verbose {
                eprintln!(
                    "round {r:>2} rows {n:>5}: raw {} ORM {} ratio {:.3}; client CPU raw {} ORM {}",
                    fmt_duration(raw.wall),
                    fmt_duration(orm.wall),
                    orm.wall.as_secs_f64() / raw.wall.as_secs_f64(),
                    fmt_opt(raw.cpu),
                    fmt_opt(orm.cpu),
                );
            }
        }
    }
    let measured = started.elapsed();

    print_report(env, config, placement, &plans, &samples, measured);

    if config.quick {
        println!("quick mode: timings above are not meaningful and are not judged");
        return Ok(());
    }
    let over: Vec<i64> = SIZES
        .iter()
        .zip(&samples)
        .filter(|(_, s)| quantile(&s.ratios(), 0.5) > TARGET)
        .map(|(n, _)| *n)
        .collect();
    if config.strict && !over.is_empty() {
        return Err(format!("ORM/raw above {TARGET:.2}x for sizes {over:?}").into());
    }
    Ok(())
}

fn print_report(
    env: &Env,
    config: &Config,
    placement: &str,
    plans: &[Plan],
    samples: &[Samples],
    measured: Duration,
) {
    let load = load_average();
    println!();
    println!("orm-bench select: ORM vs hand-written tokio-postgres (prepared statement)");
    println!(
        "environment: PostgreSQL {} ({}), tokio current-thread runtime, ORM pool of 1 connection, \
         {} CPUs, 1-min load average {} before / {load} after (the bench itself adds 1-2)",
        env.server_version, env.server, config.cpus, config.load_before
    );
    println!("placement: {placement}");
    println!(
        "method: {} interleaved round(s) in {:.1} s, sides alternating first; medians over rounds",
        config.rounds,
        measured.as_secs_f64()
    );
    println!();
    println!(
        "| {:>6} | {:>11} | {:>13} | {:>13} | {:>8} | {:>11} | {:>7} | {:>10} | {:>10} | {:>8} |",
        "rows",
        "iters/round",
        "raw median/op",
        "ORM median/op",
        "ORM/raw",
        "p25-p75",
        "<=1.10x",
        "raw CPU/op",
        "ORM CPU/op",
        "CPU ORM/raw"
    );
    println!(
        "|{:-<8}|{:-<13}|{:-<15}|{:-<15}|{:-<10}|{:-<13}|{:-<9}|{:-<12}|{:-<12}|{:-<13}|",
        "", "", "", "", "", "", "", "", "", ""
    );
    for ((n, plan), s) in SIZES.iter().zip(plans).zip(samples) {
        let ratios = s.ratios();
        let median = quantile(&ratios, 0.5);
        let verdict = if config.quick {
            "-"
        } else if median <= TARGET {
            "yes"
        } else {
            "NO"
        };
        let cpu_ratios = s.cpu_ratios();
        let cpu_ratio = if cpu_ratios.is_empty() {
            "n/a".to_owned()
        } else {
            format!("{:.3}x", quantile(&cpu_ratios, 0.5))
        };
        println!(
            "| {:>6} | {:>11} | {:>13} | {:>13} | {:>7.3}x | {:>11} | {:>7} | {:>10} | {:>10} | {:>11} |",
            n,
            plan.k,
            fmt_duration(s.raw_median()),
            fmt_duration(s.orm_median()),
            median,
            format!(
                "{:.3}-{:.3}",
                quantile(&ratios, 0.25),
                quantile(&ratios, 0.75)
            ),
            verdict,
            fmt_opt(s.raw_cpu_median()),
            fmt_opt(s.orm_cpu_median()),
            cpu_ratio,
        );
    }
    println!(
        "ORM/raw: median over rounds of the per-round ratio of wall times (p25-p75: its spread). \
         CPU: this process's CPU time per query (client work only; the server's is the same for both)."
    );
    println!();
}

/// The 1-minute load average (Linux), or `?`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

fn fmt_opt(d: Option<Duration>) -> String {
    d.map_or_else(|| "n/a".into(), fmt_duration)
}

fn fmt_duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else {
        format!("{:.3} ms", us / 1000.0)
    }
}

/// Loops one side only, for a profiler.
async fn profile(env: &Env, side: &str) -> Result<(), BoxError> {
    let orm = match side {
        "orm" => true,
        "raw" => false,
        other => return Err(format!("ORM_BENCH_PROFILE must be orm or raw, not {other:?}").into()),
    };
    let n: i64 = env_num("ORM_BENCH_SIZE", 100);
    let seconds: f64 = env_num("ORM_BENCH_SECONDS", 10.0);
    let iters: u64 = env_num("ORM_BENCH_ITERS", 0);
    let start = Instant::now();
    let mut ops = 0u64;
    if iters > 0 {
        black_box(time_side(env, orm, n, u32::try_from(iters)?).await?);
        ops = iters;
    } else {
        while start.elapsed().as_secs_f64() < seconds {
            black_box(time_side(env, orm, n, 100).await?);
            ops += 100;
        }
    }
    let per_op = start.elapsed() / u32::try_from(ops).unwrap_or(u32::MAX);
    println!(
        "profile {side}: {ops} queries of {n} row(s), {} per query",
        fmt_duration(per_op)
    );
    Ok(())
}
