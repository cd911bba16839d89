//! The measuring method shared by the benches: configuration from the environment, placement
//! of the client and server processes, interleaved rounds, the report table and the profile
//! loop.
//!
//! A bench describes its work as a [`Workload`]: a few *cases* (row counts, loading strategies),
//! each run by the ORM and by hand. [`measure`] then runs the method described in
//! `benches/select.rs`:
//! 1. **warm-up** per case, the two sides alternating for ~0.3 s, which also calibrates `K`, the
//!    operations per round, so one round of one case takes ~`ORM_BENCH_ROUND_MS` for both sides;
//! 2. **rounds**: per round and per case, `K` operations of each side in chunks of
//!    ~`ORM_BENCH_CHUNK_MS` that alternate sides in an A B B A pattern, the side going first
//!    alternating by round and case;
//! 3. **report** ([`print_report`]): per case, the median over rounds of the time per operation
//!    of each side and the median of the per-round ORM/raw ratios, with its 25th-75th
//!    percentile range.
//!
//! A workload may do untimed work around each batch of one side ([`Workload::prepare`],
//! [`Workload::finish`]: building inputs, beginning and committing a transaction, emptying a
//! table); the timings, the calibration and the profile loop leave it out.
//!
//! Quick mode (`--test`, `ORM_BENCH_QUICK=1`, or started without cargo bench's `--bench`, as
//! `cargo test --benches` does) runs one round of three operations and never judges timings.

use std::fmt::Display;
use std::future::Future;
use std::time::{Duration, Instant};

use crate::{BoxError, Samples, Timing, quantile, thread_cpu_time};

/// What a bench measures: cases, each with an ORM side and a hand-written side.
pub trait Workload {
    /// One case (a row count, a loading strategy); its `Display` labels the table's rows.
    type Case: Copy + Display;

    /// Runs `k` operations of one side of `case` (the results go through
    /// [`black_box`](std::hint::black_box)).
    fn run(
        &self,
        case: Self::Case,
        orm: bool,
        k: u32,
    ) -> impl Future<Output = Result<(), BoxError>>;

    /// Untimed work before [`run`](Workload::run)`(case, orm, k)`: building the inputs of
    /// the `k` operations, beginning a transaction. Nothing by default.
    fn prepare(
        &self,
        case: Self::Case,
        orm: bool,
        k: u32,
    ) -> impl Future<Output = Result<(), BoxError>> {
        let _ = (case, orm, k);
        async { Ok(()) }
    }

    /// Untimed work after [`run`](Workload::run): committing, emptying a table. Nothing by
    /// default.
    fn finish(&self, case: Self::Case, orm: bool) -> impl Future<Output = Result<(), BoxError>> {
        let _ = (case, orm);
        async { Ok(()) }
    }
}

/// Whether the environment variable is `1` or `true`.
pub fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// The environment variable parsed, or `default` when unset or unparsable.
pub fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The run's settings, from the command line and the environment (see `benches/select.rs` for
/// the variables).
#[derive(Debug, Clone)]
pub struct Config {
    /// One short round, timings not judged.
    pub quick: bool,
    /// Rounds (`ORM_BENCH_ROUNDS`).
    pub rounds: usize,
    /// Target time of one round of one case, both sides (`ORM_BENCH_ROUND_MS`).
    pub round_target: Duration,
    /// Warm-up (and calibration) time per case.
    pub warmup: Duration,
    /// Length of the alternating chunks inside a round (`ORM_BENCH_CHUNK_MS`); zero: none.
    pub chunk: Duration,
    /// Exit with an error when a ratio is above the target (`ORM_BENCH_STRICT`).
    pub strict: bool,
    /// Print every round's times to stderr (`ORM_BENCH_VERBOSE`).
    pub verbose: bool,
    /// The 1-minute load average when the run started.
    pub load_before: String,
    /// Placement asked for (`ORM_BENCH_PIN`); `None` when unset.
    pub pin: Option<Pin>,
    /// CPUs available to this process.
    pub cpus: usize,
}

impl Config {
    /// Reads the settings; `default_rounds` and `default_round_ms` apply when
    /// `ORM_BENCH_ROUNDS` / `ORM_BENCH_ROUND_MS` are unset.
    pub fn from_env(default_rounds: usize, default_round_ms: u64) -> Result<Config, BoxError> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let bench_mode = args.iter().any(|a| a == "--bench");
        let quick =
            args.iter().any(|a| a == "--test") || env_flag("ORM_BENCH_QUICK") || !bench_mode;
        Ok(Config {
            quick,
            rounds: if quick {
                1
            } else {
                env_num("ORM_BENCH_ROUNDS", default_rounds).max(1)
            },
            round_target: Duration::from_millis(
                env_num("ORM_BENCH_ROUND_MS", default_round_ms).max(1),
            ),
            warmup: Duration::from_millis(300),
            chunk: Duration::from_millis(env_num("ORM_BENCH_CHUNK_MS", 5u64)),
            strict: env_flag("ORM_BENCH_STRICT"),
            verbose: env_flag("ORM_BENCH_VERBOSE"),
            load_before: load_average(),
            pin: Pin::from_env()?,
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        })
    }

    /// The placement to apply: the one asked for; unset, none in quick mode (the smoke test
    /// leaves placement alone unless asked).
    pub fn pin_request(&self) -> Option<Pin> {
        match self.pin {
            None if self.quick => Some(Pin::Off),
            other => other,
        }
    }
}

/// Where the client thread and the two server processes may run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pin {
    /// Wherever the scheduler puts them.
    Off,
    /// All three on the last CPU: no cross-CPU wake-ups, the same placement for both sides.
    Same,
    /// The client on CPU 0, both server processes on the last CPU.
    Split,
}

impl Pin {
    /// `ORM_BENCH_PIN`; `None` when unset (then: `Same` when the server is the local cluster).
    pub fn from_env() -> Result<Option<Pin>, BoxError> {
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
/// to this process's local cluster, `local`) and describes it. `client` is the hand-written
/// side's client, used to find the two server processes by their `application_name`. When
/// pinning was not asked for explicitly, a failure only leaves things unpinned.
pub async fn pin(
    client: &tokio_postgres::Client,
    local: bool,
    requested: Option<Pin>,
) -> Result<String, BoxError> {
    let mode = match requested {
        Some(mode) => mode,
        None if local => Pin::Same,
        None => return Ok("not pinned (external server)".into()),
    };
    if mode == Pin::Off {
        return Ok("not pinned".into());
    }
    let applied = async {
        if !local {
            return Err::<String, BoxError>(
                "pinning needs the local cluster (unset DATABASE_URL)".into(),
            );
        }
        let cpus = std::thread::available_parallelism()?.get();
        let last = cpus.saturating_sub(1).to_string();
        let client_cpu = if mode == Pin::Split {
            "0".to_owned()
        } else {
            last.clone()
        };
        let (orm, raw) = crate::backend_pids(client).await?;
        for (cpu, pid) in [
            (&client_cpu, std::process::id().to_string()),
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
            "client pinned to CPU {client_cpu}, server processes (ORM {orm}, raw {raw}) to CPU {last}"
        ))
    }
    .await;
    match (applied, requested) {
        (Ok(placement), _) => Ok(placement),
        (Err(e), Some(_)) => Err(e),
        (Err(e), None) => Ok(format!("not pinned ({e})")),
    }
}

/// Runs `k` operations of one side and returns the total time (wall clock and this thread's
/// CPU), the workload's [`prepare`](Workload::prepare) and [`finish`](Workload::finish)
/// around them untimed.
pub async fn time_side<W: Workload>(
    w: &W,
    case: W::Case,
    orm: bool,
    k: u32,
) -> Result<Timing, BoxError> {
    w.prepare(case, orm, k).await?;
    let cpu_start = thread_cpu_time();
    let start = Instant::now();
    w.run(case, orm, k).await?;
    let wall = start.elapsed();
    let cpu = match (cpu_start, thread_cpu_time()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    w.finish(case, orm).await?;
    Ok(Timing { wall, cpu })
}

/// Operations per round (`k`) and per chunk for one case.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Operations of each side per round.
    pub k: u32,
    /// Operations of one side per chunk.
    pub chunk: u32,
}

/// Alternates single operations of both sides for at least `d` (and 3 pairs); returns the
/// timed seconds per pair (without the workload's untimed `prepare` and `finish`).
async fn alternate<W: Workload>(w: &W, case: W::Case, d: Duration) -> Result<f64, BoxError> {
    let start = Instant::now();
    let mut pairs = 0u32;
    let mut timed = Duration::ZERO;
    while pairs < 3 || start.elapsed() < d {
        timed += time_side(w, case, false, 1).await?.wall;
        timed += time_side(w, case, true, 1).await?.wall;
        pairs += 1;
    }
    Ok(timed.as_secs_f64() / f64::from(pairs))
}

/// Warms both sides up for `case` and plans its rounds.
async fn warm_up<W: Workload>(w: &W, config: &Config, case: W::Case) -> Result<Plan, BoxError> {
    if config.quick {
        time_side(w, case, false, 2).await?;
        time_side(w, case, true, 2).await?;
        return Ok(Plan { k: 3, chunk: 3 });
    }
    // The first half only warms up; the second calibrates.
    alternate(w, case, config.warmup / 2).await?;
    let per_pair = alternate(w, case, config.warmup / 2).await?;
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

/// One round of one case: `k` operations of each side, in chunks that alternate sides in an
/// A B B A ... pattern starting with the ORM when `orm_first`. Returns the time per operation
/// of (raw, ORM).
async fn round<W: Workload>(
    w: &W,
    case: W::Case,
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
            let t = time_side(w, case, side_is_orm, c).await?;
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

/// The outcome of [`measure`]: per case, its plan and samples.
#[derive(Debug, Clone)]
pub struct Measured<C> {
    /// The cases, in order.
    pub cases: Vec<C>,
    /// Per case: operations per round and per chunk.
    pub plans: Vec<Plan>,
    /// Per case: one sample per round.
    pub samples: Vec<Samples>,
    /// Time spent in the rounds (after the warm-up).
    pub elapsed: Duration,
}

impl<C: Copy> Measured<C> {
    /// The cases whose median ratio is above `target`.
    pub fn over(&self, target: f64) -> Vec<C> {
        self.cases
            .iter()
            .zip(&self.samples)
            .filter(|(_, s)| quantile(&s.ratios(), 0.5) > target)
            .map(|(c, _)| *c)
            .collect()
    }
}

/// Warms every case up, then runs the rounds (see the module docs). `label` names the cases in
/// the verbose output (`rows`, `load`).
pub async fn measure<W: Workload>(
    w: &W,
    config: &Config,
    cases: &[W::Case],
    label: &str,
) -> Result<Measured<W::Case>, BoxError> {
    let mut plans = Vec::with_capacity(cases.len());
    for &case in cases {
        plans.push(warm_up(w, config, case).await?);
    }

    let mut samples = vec![Samples::default(); cases.len()];
    let started = Instant::now();
    for r in 0..config.rounds {
        for (i, &case) in cases.iter().enumerate() {
            let (raw, orm) = round(w, case, plans[i], (r + i) % 2 == 1).await?;
            samples[i].push(raw, orm);
            if config.verbose {
                eprintln!(
                    "round {r:>2} {label} {case:>5}: raw {} ORM {} ratio {:.3}; client CPU raw {} ORM {}",
                    fmt_duration(raw.wall),
                    fmt_duration(orm.wall),
                    orm.wall.as_secs_f64() / raw.wall.as_secs_f64(),
                    fmt_opt(raw.cpu),
                    fmt_opt(orm.cpu),
                );
            }
        }
    }
    Ok(Measured {
        cases: cases.to_vec(),
        plans,
        samples,
        elapsed: started.elapsed(),
    })
}

/// What the report says around the table.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    /// The first line.
    pub title: &'a str,
    /// `SHOW server_version`.
    pub server_version: &'a str,
    /// Where the server is.
    pub server: &'a str,
    /// The placement, as [`pin`] described it.
    pub placement: &'a str,
    /// The header of the case column (`rows`, `load`).
    pub case_header: &'a str,
    /// What one operation is, for the notes (`query`, `load`).
    pub op: &'a str,
    /// The target ratio; `f64::INFINITY` when there is none (the verdict column shows `-`).
    pub target: f64,
}

/// Prints the environment, the method and the table.
pub fn print_report<C: Display>(report: &Report<'_>, config: &Config, measured: &Measured<C>) {
    let load = load_average();
    println!();
    println!("{}", report.title);
    println!(
        "environment: PostgreSQL {} ({}), tokio current-thread runtime, ORM pool of 1 connection, \
         {} CPUs, 1-min load average {} before / {load} after (the bench itself adds 1-2)",
        report.server_version, report.server, config.cpus, config.load_before
    );
    println!("placement: {}", report.placement);
    println!(
        "method: {} interleaved round(s) in {:.1} s, sides alternating first; medians over rounds",
        config.rounds,
        measured.elapsed.as_secs_f64()
    );
    println!();
    let labels: Vec<String> = measured.cases.iter().map(ToString::to_string).collect();
    let w = labels
        .iter()
        .map(|l| l.chars().count())
        .chain([report.case_header.len(), 6])
        .max()
        .unwrap_or(6);
    let target = if report.target.is_finite() {
        format!("<={:.2}x", report.target)
    } else {
        "target".to_owned()
    };
    println!(
        "| {:>w$} | {:>11} | {:>13} | {:>13} | {:>8} | {:>11} | {:>7} | {:>10} | {:>10} | {:>8} |",
        report.case_header,
        "iters/round",
        "raw median/op",
        "ORM median/op",
        "ORM/raw",
        "p25-p75",
        target,
        "raw CPU/op",
        "ORM CPU/op",
        "CPU ORM/raw"
    );
    println!(
        "|{:-<w2$}|{:-<13}|{:-<15}|{:-<15}|{:-<10}|{:-<13}|{:-<9}|{:-<12}|{:-<12}|{:-<13}|",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        w2 = w + 2
    );
    for ((label, plan), s) in labels.iter().zip(&measured.plans).zip(&measured.samples) {
        let ratios = s.ratios();
        let median = quantile(&ratios, 0.5);
        let verdict = if config.quick || !report.target.is_finite() {
            "-"
        } else if median <= report.target {
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
            "| {:>w$} | {:>11} | {:>13} | {:>13} | {:>7.3}x | {:>11} | {:>7} | {:>10} | {:>10} | {:>11} |",
            label,
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
         CPU: this process's CPU time per {} (client work only; the server's is the same for both).",
        report.op
    );
    println!();
}

/// Loops one side of `case` only, for a profiler: exactly `iters` operations when non-zero,
/// otherwise batches of 100 for `seconds`. Returns the operations run and the timed time per
/// operation (without the workload's untimed `prepare` and `finish`).
pub async fn profile<W: Workload>(
    w: &W,
    case: W::Case,
    orm: bool,
    seconds: f64,
    iters: u64,
) -> Result<(u64, Duration), BoxError> {
    profile_batches(w, case, orm, seconds, iters, 100).await
}

/// [`profile`] with batches of `batch` operations (long operations; operations whose untimed
/// `prepare` and `finish` must come often).
pub async fn profile_batches<W: Workload>(
    w: &W,
    case: W::Case,
    orm: bool,
    seconds: f64,
    iters: u64,
    batch: u32,
) -> Result<(u64, Duration), BoxError> {
    let start = Instant::now();
    let mut ops = 0u64;
    let mut timed = Duration::ZERO;
    if iters > 0 {
        timed += time_side(w, case, orm, u32::try_from(iters)?).await?.wall;
        ops = iters;
    } else {
        let batch = batch.max(1);
        while start.elapsed().as_secs_f64() < seconds {
            timed += time_side(w, case, orm, batch).await?.wall;
            ops += u64::from(batch);
        }
    }
    let per_op = timed / u32::try_from(ops.max(1)).unwrap_or(u32::MAX);
    Ok((ops, per_op))
}

/// The 1-minute load average (Linux), or `?`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// A duration, or `n/a`.
pub fn fmt_opt(d: Option<Duration>) -> String {
    d.map_or_else(|| "n/a".into(), fmt_duration)
}

/// A duration in µs below a millisecond, in ms above.
pub fn fmt_duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else {
        format!("{:.3} ms", us / 1000.0)
    }
}
