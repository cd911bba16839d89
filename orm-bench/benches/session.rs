//! `session`: the unit of work (`Session`) against hand-written tokio-postgres doing the same
//! work: inserting 100,000 new objects, flushing N changed objects, and loading 10,000 rows into
//! the identity map; plus the cost of a flush as the session tracks more objects.
//!
//! # What is compared
//! Every case runs both sides in the same process, on one tokio current-thread runtime, the ORM
//! on a `Database` whose pool holds one connection and the hand-written side on a
//! `tokio_postgres::Client` of its own with its statements prepared once. The hand-written
//! statements are the exact text the ORM sends (checked), so the server does the same work and
//! the ratio measures the client. See `orm_bench::session` for the schema and both sides' code.
//! 1. **insert** 100,000 new objects (`name text, email text` (half null), `age integer, score
//!    bigint`, key `bigserial`): ORM: a fresh `db.session()` (default options), `s.add_all(v)`,
//!    `s.commit()` — `BEGIN`, the keys from the sequence (`SELECT nextval(...) FROM
//!    generate_series(1, n)`), a binary `COPY` with them (from the session's `COPY` threshold,
//!    1,000 objects; below it one `INSERT ... SELECT ... FROM unnest($1::TEXT[], ...)
//!    RETURNING "id"`), `COMMIT`, the generated keys written into
//!    the tracked objects. Raw: `BEGIN`, that `INSERT` with the columns as `Vec` arrays
//!    borrowed from the structs, the returned keys written into the structs, `COMMIT`. Timed:
//!    everything from the `Vec` of structs to the dropped results (session included); untimed:
//!    building the input `Vec` and `TRUNCATE` between inserts. Reported as rows/s too; the
//!    target is at least 250,000 rows/s for the ORM. A second row, for information, runs the
//!    ORM side with `SessionOptions::expire_on_commit(false)` (what expiring 100,000 objects at
//!    the commit costs).
//! 2. **flush N dirty objects** (N = 1, 10, 100, 1,000), two columns (`age`, `score`) changed:
//!    ORM: a session (`expire_on_commit(false)`) holding the N objects; per operation, both
//!    columns of every object set through `Tracked::write` and `s.flush()` — one `UPDATE
//!    "session_users" SET "age" = "orm_v"."v0", "score" = "orm_v"."v1" FROM unnest($1::INTEGER[],
//!    $2::BIGINT[], $3::BIGINT[]) AS "orm_v"(...) WHERE "session_users"."id" = "orm_v"."k0"`,
//!    row count checked. Raw: the same change to N plain structs, then the same statement with
//!    `Vec` arrays of the new values and the keys, row count checked. Both sides update the same
//!    rows (never concurrently; each case its own rows, `N+1..=2N`) inside an open transaction:
//!    each chunk of ~1 ms of one side runs in one transaction, `BEGIN` and `COMMIT` untimed (the
//!    ORM's `s.connection()` and `s.commit()`, the raw side's `BEGIN` / `COMMIT`). Target:
//!    ORM/raw at most 1.30x.
//! 3. **flush 1 dirty object among 10,000 tracked** against **flush 1 dirty object in a session
//!    tracking only it** (ORM against ORM, as in 2.; the table's `raw` columns are the session
//!    tracking one object): the cost of a flush must not grow with the tracked objects. Target
//!    at most 1.10x.
//! 4. **load 10,000 rows into the identity map**: ORM: a fresh `db.session()`,
//!    `s.all(select::<User>())` (`BEGIN`, the `SELECT`, every row a new tracked object),
//!    `s.rollback()` (which also expires the 10,000 objects), the session and the objects
//!    dropped. Raw: `BEGIN`, the prepared `SELECT` mapped into the same structs, `ROLLBACK`, the
//!    structs dropped: three statements on both sides. Target at most 1.30x.
//!
//! `session_users` is compacted (`VACUUM FULL ANALYZE`, untimed) before the flushes and before
//! the load, so the load does not scan the dead row versions the flushes leave behind.
//!
//! Before timing, in quick mode too: the hand-written statements are the ORM's text; both
//! inserts write exactly the objects (values, keys written back, the table's rows) and the
//! ORM's takes 4 statements (`BEGIN`, keys, `COPY`, `COMMIT`; 3 below the `COPY` threshold);
//! both flushes leave the new values in
//! the table and the ORM's takes exactly 1 statement for N objects with the same 2 changed
//! columns, for every N and with 10,000 objects tracked; both loads return the same 10,000 rows
//! and the ORM's takes 3 statements (`Database::statement_count`).
//!
//! # Method
//! The `select` bench's (see `benches/select.rs` and `orm_bench::harness`): client and server
//! processes pinned to one CPU with the local cluster, a warm-up that calibrates the operations
//! per round, 15 interleaved rounds of ~250 ms per case alternating sides in ~5 ms chunks (the
//! flushes: ~1 ms chunks, each one transaction, so that a transaction updates the same rows a
//! few dozen times at most: the server walks the chain of a row's versions at each update; the
//! inserts: 12 rounds of one insert per side, an insert taking longer than a round), and the
//! median of the per-round ORM/raw ratios. The whole run takes ~1 minute (about half of it the
//! inserts) plus the build and the start of the local cluster.
//!
//! # Running
//! ```text
//! cargo bench -p orm-bench --bench session                   # full run; prints the tables
//! ORM_BENCH_QUICK=1 cargo bench -p orm-bench --bench session # smoke test (inserts of 2,000)
//! cargo test -p orm-bench --benches                          # the same smoke test
//! ```
//! The environment variables are the `select` bench's (`ORM_BENCH_ROUNDS`, `ORM_BENCH_ROUND_MS`,
//! `ORM_BENCH_CHUNK_MS` (default 5, 1 for the flushes), `ORM_BENCH_PIN`, `ORM_BENCH_STRICT` (exit with an error when a target
//! is missed), `ORM_BENCH_VERBOSE`, `ORM_BENCH_SECONDS`, `ORM_BENCH_ITERS`), plus
//! `ORM_BENCH_INSERT_ROWS` (objects per insert; 100,000, quick mode 2,000) and
//! `ORM_BENCH_INSERT_ROUNDS` (rounds of the inserts; 12). `ORM_BENCH_PROFILE` loops one side
//! only: `insert`, `insert-no-expire`, `flush` (`ORM_BENCH_SIZE` objects, 100), `tracked` (1 of
//! 10,000), `load`, each with `-raw` for the other side (`tracked-raw`: the session tracking
//! one object); the profiled time leaves out the untimed work, as the rounds do. With callgrind,
//! `--toggle-collect` keeps the setup and the untimed work out of the counts (and small
//! inserts keep the checks cheap); `perf` needs DWARF call graphs (no frame pointers):
//! ```text
//! ORM_BENCH_PROFILE=flush ORM_BENCH_SIZE=1000 ORM_BENCH_ITERS=200 ORM_BENCH_INSERT_ROWS=1000 \
//!     valgrind --tool=callgrind '--toggle-collect=*orm_flush*' \
//!     target/release/deps/session-<hash> --bench
//! ORM_BENCH_PROFILE=load ORM_BENCH_SECONDS=10 \
//!     perf record --call-graph dwarf target/release/deps/session-<hash> --bench
//! ```
//! **The bench drops and recreates the tables `session_users` and `session_new_users`.**

use std::cell::{Cell, RefCell};
use std::fmt;
use std::hint::black_box;
use std::time::Duration;

use orm_bench::harness::{self, Config, Measured, Report, Workload};
use orm_bench::session::{
    self, Env, NewUser, USERS, User, orm_flush, orm_insert, orm_load, raw_flush, raw_insert,
    raw_load,
};
use orm_bench::{BoxError, quantile};
use orm_postgres::Session;
use orm_postgres::prelude::*;

/// Objects per insert.
const INSERT_ROWS: usize = 100_000;
/// Objects per insert in quick mode.
const QUICK_INSERT_ROWS: usize = 2_000;
/// The issue's target for the ORM's insert rate, rows/s.
const INSERT_TARGET: f64 = 250_000.0;
/// Dirty objects per flush.
const FLUSH_SIZES: [usize; 4] = [1, 10, 100, 1_000];
/// The issue's target for ORM/raw of the flushes and the load.
const TARGET: f64 = 1.30;
/// The issue's target for a flush among 10,000 tracked objects against one among 1.
const TRACKED_TARGET: f64 = 1.10;
/// The key of the dirty object of the `tracked` case (in none of the flush cases' ranges).
const TRACKED_ID: i64 = 5_000;
/// Default length of the flush groups' chunks, ms: each chunk of one side is one transaction.
const FLUSH_CHUNK_MS: u64 = 1;

/// One case; each table of the report holds the cases of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    /// Insert this many new objects; the ORM's session with `expire_on_commit` (the default)
    /// or without.
    Insert { rows: usize, expire: bool },
    /// Flush this many dirty objects.
    Flush(usize),
    /// Flush 1 dirty object among [`USERS`] tracked, against 1 among 1.
    Tracked,
    /// Load [`USERS`] rows into a fresh session.
    Load,
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self {
            Case::Insert { rows, expire: true } => format!("{rows} objects"),
            Case::Insert {
                rows,
                expire: false,
            } => format!("{rows} objects, no expire"),
            Case::Flush(n) => format!("{n}"),
            Case::Tracked => format!("1 of {USERS}"),
            Case::Load => format!("{USERS} rows"),
        };
        f.pad(&label)
    }
}

/// A session holding objects, with no transaction open between batches.
struct Tracking {
    /// Taken out while a batch runs (the session is borrowed mutably across `.await`s).
    session: RefCell<Option<Session>>,
    /// The objects each flush changes.
    dirty: Vec<Tracked<User>>,
}

impl Tracking {
    /// A session holding `ids`, whose objects with keys in `dirty` are changed by the flushes.
    async fn new(env: &Env, ids: &[i64], dirty: &[i64]) -> Result<Tracking, BoxError> {
        let (s, objects) = session::tracking_session(&env.db, ids).await?;
        let dirty: Vec<Tracked<User>> = objects
            .into_iter()
            .filter(|t| dirty.contains(&t.read().id))
            .collect();
        Ok(Tracking {
            session: RefCell::new(Some(s)),
            dirty,
        })
    }

    fn take(&self) -> Result<Session, BoxError> {
        self.session
            .borrow_mut()
            .take()
            .ok_or_else(|| "the session is in use".into())
    }

    fn put(&self, s: Session) {
        *self.session.borrow_mut() = Some(s);
    }

    /// `k` flushes, each changing the dirty objects.
    async fn flushes(&self, counter: &Cell<i32>, k: u32) -> Result<(), BoxError> {
        let mut s = self.take()?;
        for _ in 0..k {
            orm_flush(&mut s, &self.dirty, next(counter)).await?;
        }
        self.put(s);
        Ok(())
    }

    /// Begins the session's transaction (`BEGIN`).
    async fn begin(&self) -> Result<(), BoxError> {
        let mut s = self.take()?;
        s.connection().await?;
        self.put(s);
        Ok(())
    }

    /// Commits the session's transaction.
    async fn commit(&self) -> Result<(), BoxError> {
        let mut s = self.take()?;
        s.commit().await?;
        self.put(s);
        Ok(())
    }

    /// Checks one flush of the dirty objects; returns its statements.
    async fn check(&self, env: &Env, counter: &Cell<i32>) -> Result<u64, BoxError> {
        let mut s = self.take()?;
        let statements = session::check_orm_flush(env, &mut s, &self.dirty, next(counter)).await?;
        self.put(s);
        Ok(statements)
    }
}

/// The next value the flushes write (never the one before: every flush changes both columns).
fn next(counter: &Cell<i32>) -> i32 {
    let v = counter.get().wrapping_add(1);
    counter.set(v);
    v
}

/// The workload: every case's state.
struct SessionBench<'a> {
    env: &'a Env,
    /// The objects each insert starts from (cloned, untimed, into `inputs`).
    template: Vec<NewUser>,
    inputs: RefCell<Vec<Vec<NewUser>>>,
    /// Per flush size: the ORM's session and the raw side's structs (the same rows).
    flush_orm: Vec<Tracking>,
    flush_raw: Vec<RefCell<Vec<User>>>,
    /// Every row tracked, one dirty.
    tracked_many: Tracking,
    /// Only the dirty row tracked.
    tracked_one: Tracking,
    counter: Cell<i32>,
}

impl<'a> SessionBench<'a> {
    async fn new(env: &'a Env, insert_rows: usize) -> Result<SessionBench<'a>, BoxError> {
        let mut flush_orm = Vec::new();
        let mut flush_raw = Vec::new();
        for n in FLUSH_SIZES {
            // Each case its own rows (`n + 1 ..= 2n`), the same for both sides.
            let n = i64::try_from(n)?;
            let ids: Vec<i64> = (n + 1..=2 * n).collect();
            flush_orm.push(Tracking::new(env, &ids, &ids).await?);
            flush_raw.push(RefCell::new(session::users_in_db(&env.raw, &ids).await?));
        }
        let all: Vec<i64> = (1..=USERS).collect();
        Ok(SessionBench {
            env,
            template: session::new_users(insert_rows),
            inputs: RefCell::new(Vec::new()),
            flush_orm,
            flush_raw,
            tracked_many: Tracking::new(env, &all, &[TRACKED_ID]).await?,
            tracked_one: Tracking::new(env, &[TRACKED_ID], &[TRACKED_ID]).await?,
            counter: Cell::new(0),
        })
    }

    fn flush_index(n: usize) -> Result<usize, BoxError> {
        FLUSH_SIZES
            .iter()
            .position(|&s| s == n)
            .ok_or_else(|| format!("no flush case for {n} objects").into())
    }

    /// The ORM session of a flush case (`Tracked`: `orm` picks many or one).
    fn tracking(&self, case: Case, orm: bool) -> Result<Option<&Tracking>, BoxError> {
        Ok(match case {
            Case::Flush(n) if orm => Some(&self.flush_orm[Self::flush_index(n)?]),
            Case::Tracked if orm => Some(&self.tracked_many),
            Case::Tracked => Some(&self.tracked_one),
            _ => None,
        })
    }

    /// Checks every case's correctness and statement counts (see the module docs).
    async fn check(&self) -> Result<Counts, BoxError> {
        session::check_sql()?;
        let insert = session::check_insert(self.env, self.template.len()).await?;
        let mut flush = Vec::new();
        for (orm, raw) in self.flush_orm.iter().zip(&self.flush_raw) {
            flush.push(orm.check(self.env, &self.counter).await?);
            session::check_raw_flush(self.env, raw, next(&self.counter)).await?;
        }
        let tracked = self.tracked_many.check(self.env, &self.counter).await?;
        self.tracked_one.check(self.env, &self.counter).await?;
        if self.tracked_many.take().map(|s| {
            let n = s.unit_of_work().len();
            self.tracked_many.put(s);
            n
        })? != usize::try_from(USERS)?
        {
            return Err(format!("the large session does not track {USERS} objects").into());
        }
        let load = session::check_load(self.env).await?;
        Ok(Counts {
            insert,
            flush,
            tracked,
            load,
        })
    }
}

/// Statements of one ORM operation, as checked.
struct Counts {
    insert: u64,
    flush: Vec<u64>,
    tracked: u64,
    load: u64,
}

impl Workload for SessionBench<'_> {
    type Case = Case;

    async fn prepare(&self, case: Case, orm: bool, k: u32) -> Result<(), BoxError> {
        match case {
            Case::Insert { .. } => {
                let mut inputs = self.inputs.borrow_mut();
                inputs.clear();
                inputs.extend((0..k).map(|_| self.template.clone()));
            }
            Case::Flush(_) | Case::Tracked => match self.tracking(case, orm)? {
                Some(t) => t.begin().await?,
                None => self.env.raw.client.batch_execute("BEGIN").await?,
            },
            Case::Load => {}
        }
        Ok(())
    }

    async fn run(&self, case: Case, orm: bool, k: u32) -> Result<(), BoxError> {
        let env = self.env;
        match case {
            Case::Insert { expire, .. } => {
                for _ in 0..k {
                    let input = self.inputs.borrow_mut().pop().ok_or("no input prepared")?;
                    if orm {
                        black_box(orm_insert(&env.db, input, expire).await?);
                    } else {
                        black_box(raw_insert(&env.raw, input).await?);
                    }
                }
            }
            Case::Flush(n) => match self.tracking(case, orm)? {
                Some(t) => t.flushes(&self.counter, k).await?,
                None => {
                    let structs = &self.flush_raw[Self::flush_index(n)?];
                    for _ in 0..k {
                        raw_flush(&env.raw, structs, next(&self.counter)).await?;
                    }
                }
            },
            Case::Tracked => {
                if let Some(t) = self.tracking(case, orm)? {
                    t.flushes(&self.counter, k).await?;
                }
            }
            Case::Load => {
                for _ in 0..k {
                    if orm {
                        black_box(orm_load(&env.db).await?);
                    } else {
                        black_box(raw_load(&env.raw).await?);
                    }
                }
            }
        }
        Ok(())
    }

    async fn finish(&self, case: Case, orm: bool) -> Result<(), BoxError> {
        match case {
            Case::Insert { .. } => session::truncate_new_users(&self.env.raw).await?,
            Case::Flush(_) | Case::Tracked => match self.tracking(case, orm)? {
                Some(t) => t.commit().await?,
                None => self.env.raw.client.batch_execute("COMMIT").await?,
            },
            Case::Load => {}
        }
        Ok(())
    }
}

fn main() -> Result<(), BoxError> {
    let config = Config::from_env(15, 250)?;
    let insert_config = Config {
        rounds: if config.quick {
            1
        } else {
            harness::env_num("ORM_BENCH_INSERT_ROUNDS", 12usize).max(1)
        },
        ..config.clone()
    };
    let insert_rows = harness::env_num(
        "ORM_BENCH_INSERT_ROWS",
        if config.quick {
            QUICK_INSERT_ROWS
        } else {
            INSERT_ROWS
        },
    )
    .max(1);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let env = session::setup().await?;
        let bench = SessionBench::new(&env, insert_rows).await?;
        // Correctness and statement counts, in quick mode too.
        let counts = bench.check().await?;
        let placement = harness::pin(&env.raw.client, env.local, config.pin_request()).await?;
        if let Ok(side) = std::env::var("ORM_BENCH_PROFILE") {
            return profile(&bench, &side).await;
        }
        run(&bench, &config, &insert_config, &placement, &counts).await
    })
}

async fn run(
    bench: &SessionBench<'_>,
    config: &Config,
    insert_config: &Config,
    placement: &str,
    counts: &Counts,
) -> Result<(), BoxError> {
    let env = bench.env;
    let report = |title, case_header, op, target| Report {
        title,
        server_version: &env.server_version,
        server: env.server,
        placement,
        case_header,
        op,
        target,
    };
    let mut missed: Vec<String> = Vec::new();
    // Short chunks for the flushes: each is one transaction, updating the same rows again and
    // again (the server walks a longer chain of row versions at each update of a transaction).
    let flush_config = Config {
        chunk: Duration::from_millis(harness::env_num("ORM_BENCH_CHUNK_MS", FLUSH_CHUNK_MS)),
        ..config.clone()
    };

    // 1. Insert.
    let rows = bench.template.len();
    let cases = [true, false].map(|expire| Case::Insert { rows, expire });
    let insert = harness::measure(bench, insert_config, &cases, "insert").await?;
    harness::print_report(
        &report(
            "orm-bench session 1/4: insert new objects, s.add_all + s.commit in a fresh session \
             vs hand-written BEGIN + INSERT ... SELECT FROM unnest(arrays) RETURNING id + COMMIT",
            "insert",
            "insert",
            f64::INFINITY,
        ),
        insert_config,
        &insert,
    );
    missed.extend(print_rates(&insert, rows, insert_config.quick));
    println!(
        "statements per insert: ORM {} (BEGIN, INSERT, COMMIT; or from the session's COPY \
         threshold BEGIN, keys from the sequence, COPY, COMMIT), raw 3 (checked before timing: \
         the same rows in the table, the keys written back)",
        counts.insert
    );

    // 2. Flush N dirty objects.
    vacuum(env).await?;
    let cases: Vec<Case> = FLUSH_SIZES.iter().map(|&n| Case::Flush(n)).collect();
    let flush = harness::measure(bench, &flush_config, &cases, "flush").await?;
    harness::print_report(
        &report(
            "orm-bench session 2/4: flush N dirty objects (2 changed columns) in an open \
             transaction, Tracked::write + s.flush vs hand-written UPDATE ... FROM unnest(arrays)",
            "dirty objects",
            "flush",
            TARGET,
        ),
        &flush_config,
        &flush,
    );
    let flush_counts: Vec<String> = FLUSH_SIZES
        .iter()
        .zip(&counts.flush)
        .map(|(n, c)| format!("{n}: {c}"))
        .collect();
    println!(
        "statements per flush, ORM: {} (raw: 1); BEGIN and COMMIT around each ~5 ms batch \
         untimed on both sides",
        flush_counts.join(", ")
    );
    missed.extend(judge(&flush, TARGET, config.quick));

    // 3. The same flush as the session tracks more objects.
    let tracked = harness::measure(bench, &flush_config, &[Case::Tracked], "flush").await?;
    harness::print_report(
        &report(
            "orm-bench session 3/4: flush 1 dirty object, session tracking 10,000 objects \
             (\"ORM\" columns) vs tracking only that object (\"raw\" columns); ORM vs ORM",
            "tracked",
            "flush",
            TRACKED_TARGET,
        ),
        &flush_config,
        &tracked,
    );
    println!(
        "statements per flush among {USERS} tracked: {} (checked before timing)",
        counts.tracked
    );
    missed.extend(judge(&tracked, TRACKED_TARGET, config.quick));

    // 4. Load into the identity map.
    vacuum(env).await?;
    let load = harness::measure(bench, config, &[Case::Load], "load").await?;
    harness::print_report(
        &report(
            "orm-bench session 4/4: load rows into the identity map, s.all(select) in a fresh \
             session + s.rollback vs hand-written BEGIN + prepared SELECT into structs + ROLLBACK",
            "load",
            "load",
            TARGET,
        ),
        config,
        &load,
    );
    println!(
        "statements per load: ORM {} (BEGIN, SELECT, ROLLBACK), raw 3 (checked before timing: \
         the same {USERS} rows)",
        counts.load
    );
    missed.extend(judge(&load, TARGET, config.quick));

    if config.quick {
        println!("quick mode: timings above are not meaningful and are not judged");
        return Ok(());
    }
    if config.strict && !missed.is_empty() {
        return Err(format!("targets missed: {}", missed.join("; ")).into());
    }
    Ok(())
}

/// `VACUUM FULL ANALYZE session_users` (untimed, before the flushes and before the load): the
/// flushes leave dead row versions and a larger table behind, by an amount that depends on the
/// calibration, and a sequential scan reads all of it; compacted, every run reads the same
/// table.
async fn vacuum(env: &Env) -> Result<(), BoxError> {
    env.raw
        .client
        .batch_execute("VACUUM FULL ANALYZE session_users")
        .await?;
    Ok(())
}

/// The cases above `target`, described.
fn judge(measured: &Measured<Case>, target: f64, quick: bool) -> Vec<String> {
    if quick {
        return Vec::new();
    }
    measured
        .over(target)
        .iter()
        .map(|c| format!("{c} above {target:.2}x"))
        .collect()
}

/// Prints the inserts as rows/s; returns the missed target, if any (judged on the default
/// session, the first case).
fn print_rates(measured: &Measured<Case>, rows: usize, quick: bool) -> Option<String> {
    let rate = |d: std::time::Duration| rows as f64 / d.as_secs_f64().max(f64::MIN_POSITIVE);
    let w = measured
        .cases
        .iter()
        .map(|c| c.to_string().len())
        .max()
        .unwrap_or(0)
        .max(7);
    println!(
        "| {:>w$} | {:>10} | {:>10} | {:>8} | {:>17} | {:>4} |",
        "insert", "raw rows/s", "ORM rows/s", "ORM/raw", "target ORM rows/s", "met"
    );
    println!(
        "|{:-<w2$}|{:-<12}|{:-<12}|{:-<10}|{:-<19}|{:-<6}|",
        "",
        "",
        "",
        "",
        "",
        "",
        w2 = w + 2
    );
    let mut missed = None;
    for (i, (case, s)) in measured.cases.iter().zip(&measured.samples).enumerate() {
        let (raw, orm) = (rate(s.raw_median()), rate(s.orm_median()));
        let judged = i == 0;
        let verdict = match (quick || !judged, orm >= INSERT_TARGET) {
            (true, _) => "-",
            (false, true) => "yes",
            (false, false) => {
                missed = Some(format!(
                    "ORM insert rate {orm:.0} rows/s below {INSERT_TARGET:.0}"
                ));
                "NO"
            }
        };
        let target = if judged {
            format!(">= {INSERT_TARGET:.0}")
        } else {
            "(not judged)".to_owned()
        };
        println!(
            "| {:>w$} | {:>10.0} | {:>10.0} | {:>7.3}x | {:>17} | {:>4} |",
            case.to_string(),
            raw,
            orm,
            quantile(&s.ratios(), 0.5),
            target,
            verdict
        );
    }
    println!(
        "rows/s: objects per insert over the median time per insert of each side; \"no expire\": \
         the same with SessionOptions::expire_on_commit(false) (information, not the issue's case)"
    );
    missed
}

/// Loops one side only, for a profiler.
async fn profile(bench: &SessionBench<'_>, side: &str) -> Result<(), BoxError> {
    let (name, orm) = match side.strip_suffix("-raw") {
        Some(name) => (name, false),
        None => (side, true),
    };
    let case = match name {
        "insert" | "insert-no-expire" => Case::Insert {
            rows: bench.template.len(),
            expire: name == "insert",
        },
        "flush" => Case::Flush(harness::env_num("ORM_BENCH_SIZE", 100usize)),
        "tracked" => Case::Tracked,
        "load" => Case::Load,
        other => {
            return Err(format!(
                "ORM_BENCH_PROFILE must be insert, insert-no-expire, flush, tracked or load (or \
                 with -raw), not {other:?}"
            )
            .into());
        }
    };
    let seconds: f64 = harness::env_num("ORM_BENCH_SECONDS", 10.0);
    let iters: u64 = harness::env_num("ORM_BENCH_ITERS", 0);
    // Batches (one transaction each for the flushes) about as long as the rounds' chunks: a
    // transaction updating the same rows 100 times makes the server walk long version chains.
    let batch = match case {
        Case::Insert { .. } => 1,
        Case::Flush(n) => u32::try_from(400 / n.max(1))?.clamp(1, 40),
        Case::Tracked => 40,
        Case::Load => 10,
    };
    let (ops, per_op) = harness::profile_batches(bench, case, orm, seconds, iters, batch).await?;
    println!(
        "profile {side} ({case}): {ops} operations, {} per operation",
        harness::fmt_duration(per_op)
    );
    Ok(())
}
