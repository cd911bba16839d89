//! `peers` (feature `peers`): the ORM against SQLx, Diesel + diesel-async, SeaORM and
//! deadpool-postgres on the seven workloads of issue 17, each side's time per operation as a
//! ratio to hand-written tokio-postgres with statements prepared once (64 tasks on a pool of
//! 8: to deadpool-postgres with `prepare_cached`). See `orm_bench::peers` for what each side
//! does; every side's output is checked equal to the baseline's before anything is timed.
//!
//! # Method
//! The `select` bench's (see `benches/select.rs` and `orm_bench::harness`), per workload with
//! one case per side: a warm-up that calibrates the operations per round, interleaved rounds
//! in which that side and the baseline alternate in ~5 ms chunks (A B B A), and per side the
//! median over rounds of the per-round ratio. With the local cluster the bench process and
//! every server process are pinned to the last CPU (`ORM_BENCH_PIN=off` leaves them to the
//! scheduler). Inserts build their input rows untimed; their table is emptied before each
//! workload.
//!
//! # Running
//! ```text
//! cargo bench -p orm-bench --features peers --bench peers                    # prints the table
//! ORM_BENCH_WRITE=1 cargo bench -p orm-bench --features peers --bench peers  # and rewrites the
//!     # README's Performance table and docs/performance.svg
//! ORM_BENCH_QUICK=1 cargo bench -p orm-bench --features peers --bench peers  # smoke test
//! ```
//! `ORM_BENCH_ROUNDS` (default 9), `ORM_BENCH_ROUND_MS` (250), `ORM_BENCH_CHUNK_MS`,
//! `ORM_BENCH_PIN`, `ORM_BENCH_VERBOSE` as in the `select` bench; `ORM_BENCH_ONLY` runs the
//! workloads whose label contains it (the 100,000-row inserts empty their table after every
//! timed chunk, untimed); `ORM_BENCH_NOTE` is added to the chart's caption and the
//! README (say what else ran on the machine). `ORM_BENCH_LATENCY_US=250` puts every side
//! behind a proxy that holds each byte 250 µs each way (`orm_bench::latency`: a network's
//! round trip, which loopback lacks; use it with `ORM_BENCH_PIN=off`).
//!
//! Profiling one side of one workload (deterministic instruction counts: compare two
//! `ORM_BENCH_ITERS` to cancel the setup):
//! ```text
//! ORM_BENCH_PROFILE=orm ORM_BENCH_ONLY="by key" ORM_BENCH_ITERS=2000 \
//!     valgrind --tool=callgrind target/release/deps/peers-<hash> --bench
//! ```
//! `ORM_BENCH_PROFILE` is a side's column header (`orm`, `sqlx`, `diesel-async`, `sea-orm`,
//! `deadpool raw`) or `raw` (the baseline).

use std::cell::RefCell;
use std::hint::black_box;

use orm_bench::BoxError;
use orm_bench::harness::{self, Config, Workload};
use orm_bench::peers::report::{self, Row};
use orm_bench::peers::{NewRow, Peers, Side, Work};

/// One workload, with one case per side; the baseline is the `orm = false` side.
struct PeerWork<'a> {
    peers: &'a Peers,
    work: Work,
    /// The inputs of the next operations (inserts), built untimed by `prepare`.
    inputs: RefCell<Vec<Vec<NewRow>>>,
}

impl Workload for PeerWork<'_> {
    type Case = Side;

    async fn prepare(&self, _side: Side, _orm: bool, k: u32) -> Result<(), BoxError> {
        let mut inputs = self.inputs.borrow_mut();
        inputs.clear();
        inputs.extend((0..k).map(|_| self.peers.inputs(self.work)));
        Ok(())
    }

    async fn finish(&self, _side: Side, _orm: bool) -> Result<(), BoxError> {
        if self.work.is_bulk() {
            self.peers.finish(self.work).await?;
        }
        Ok(())
    }

    async fn run(&self, side: Side, orm: bool, k: u32) -> Result<(), BoxError> {
        for _ in 0..k {
            let rows = self.inputs.borrow_mut().pop().unwrap_or_default();
            black_box(
                self.peers
                    .run(self.work, orm.then_some(side), black_box(rows))
                    .await?,
            );
        }
        Ok(())
    }
}

fn main() -> Result<(), BoxError> {
    let config = Config::from_env(9, 250)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(config))
}

async fn run(config: Config) -> Result<(), BoxError> {
    let peers = Peers::open().await?;
    if let Ok(side) = std::env::var("ORM_BENCH_PROFILE") {
        return profile(&peers, &side).await;
    }
    peers.check().await?;
    let placement = match config.pin_request() {
        Some(harness::Pin::Off) => "not pinned".to_owned(),
        _ if !peers.local => "not pinned (external server)".to_owned(),
        _ => report::pin_all(&peers.raw.client).await?,
    };
    let only = std::env::var("ORM_BENCH_ONLY").ok();
    let mut rows = Vec::new();
    let started = std::time::Instant::now();
    for work in Work::ALL {
        if only.as_deref().is_some_and(|o| !work.label().contains(o)) {
            continue;
        }
        // The pool workload's baseline is deadpool itself.
        let sides: Vec<Side> = work
            .sides()
            .iter()
            .copied()
            .filter(|&s| !(work == Work::Pool && s == Side::Deadpool))
            .collect();
        peers.finish(work).await?;
        let w = PeerWork {
            peers: &peers,
            work,
            inputs: RefCell::new(Vec::new()),
        };
        let measured = harness::measure(&w, &config, &sides, work.label()).await?;
        let mut ratios = Vec::new();
        let mut baselines = Vec::new();
        for (side, s) in sides.iter().zip(&measured.samples) {
            let r = s.ratios();
            ratios.push((
                *side,
                orm_bench::quantile(&r, 0.5),
                orm_bench::quantile(&r, 0.25),
                orm_bench::quantile(&r, 0.75),
            ));
            baselines.push(s.raw_median());
        }
        let row = Row {
            work,
            ratios,
            baseline: orm_bench::median_duration(baselines),
        };
        eprintln!(
            "{:<36} {}",
            work.label(),
            row.ratios
                .iter()
                .map(|(s, m, lo, hi)| format!("{s} {m:.3}x ({lo:.3}-{hi:.3})"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        rows.push(row);
    }
    let load = harness::load_average();
    let note = std::env::var("ORM_BENCH_NOTE").unwrap_or_default();
    let caption = format!(
        "PostgreSQL {} ({}), {} CPUs, tokio current-thread runtime, {placement}; \
         {} rounds, medians of per-round ratios; 1-min load {} before / {load} after{}{}",
        peers.server_version,
        peers.server,
        config.cpus,
        config.rounds,
        config.load_before,
        if note.is_empty() { "" } else { "; " },
        note
    );
    println!();
    println!("peers: time per operation as a ratio to the hand-written baseline (lower is better)");
    println!("{caption}");
    println!("rounds took {:.0} s", started.elapsed().as_secs_f64());
    println!();
    print!("{}", report::markdown(&rows));
    if config.quick {
        println!("(quick mode: one short round, no timing claims)");
    } else if harness::env_flag("ORM_BENCH_WRITE") {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let readme_path = root.join("README.md");
        let readme = std::fs::read_to_string(&readme_path)?;
        let table = format!("{}\n_Measured: {caption}._\n", report::markdown(&rows));
        std::fs::write(&readme_path, report::splice(&readme, &table)?)?;
        std::fs::create_dir_all(root.join("docs"))?;
        std::fs::write(
            root.join("docs/performance.svg"),
            report::svg(&rows, &caption),
        )?;
        println!("wrote README.md's Performance table and docs/performance.svg");
    }
    Ok(())
}

/// Loops one side of the first workload `ORM_BENCH_ONLY` names, `ORM_BENCH_ITERS` times (1,000
/// by default), for a profiler.
async fn profile(peers: &Peers, side: &str) -> Result<(), BoxError> {
    let only = std::env::var("ORM_BENCH_ONLY").unwrap_or_default();
    let work = Work::ALL
        .into_iter()
        .find(|w| w.label().contains(only.as_str()))
        .ok_or("ORM_BENCH_ONLY names no workload")?;
    let side = match side {
        "raw" => None,
        name => Some(
            Side::ALL
                .into_iter()
                .find(|s| s.label() == name)
                .ok_or("ORM_BENCH_PROFILE must be raw or a side's column header")?,
        ),
    };
    let iters: u64 = harness::env_num("ORM_BENCH_ITERS", 1_000);
    // Only the profiled workload is checked (and its pools' connections opened).
    peers.check_work(work).await?;
    peers.finish(work).await?;
    let start = std::time::Instant::now();
    for _ in 0..iters {
        black_box(peers.run(work, side, peers.inputs(work)).await?);
    }
    let per_op = start.elapsed() / u32::try_from(iters.max(1)).unwrap_or(u32::MAX);
    println!(
        "profile: {iters} x {work} by {}: {} per operation",
        side.map_or("raw", Side::label),
        harness::fmt_duration(per_op)
    );
    Ok(())
}
