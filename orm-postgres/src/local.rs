//! The throwaway local PostgreSQL cluster that tests and examples start when `DATABASE_URL` is not
//! set.
//!
//! [`LocalCluster::start`] runs the server binaries of an installed PostgreSQL (`initdb`, `pg_ctl`,
//! `postgres`) on a fresh temporary directory: trust authentication, listening only on `127.0.0.1`
//! on a free port, `fsync=off`. [`shared`] starts one such cluster per process and makes sure it is
//! stopped and removed when the process ends, however it ends.
//!
//! # Finding the server binaries
//!
//! In this order:
//! 1. the directory named by the environment variable `ORM_PG_BIN` (an error if it lacks one of
//!    the three binaries);
//! 2. the first directory on `PATH` whose `initdb` sits next to `pg_ctl` and `postgres` (symbolic
//!    links are followed to the real installation);
//! 3. `/usr/lib/postgresql/<version>/bin` (the Debian and Ubuntu layout), newest version first.
//!
//! When none is found, the error says what to install: `apt-get install postgresql`.
//!
//! # Running as root
//!
//! `initdb` and `postgres` refuse to run as root. When the process runs as root, the server
//! binaries run as the `postgres` system user (which the Debian package creates) and the temporary
//! directory belongs to that user.
//!
//! # Authentication
//!
//! Every role is trusted on `127.0.0.1` and `::1`, except the role `orm_password_check`, which must
//! give its password (`scram-sha-256`), so that tests can check how a wrong password is reported.
//! There is no Unix-domain socket.
//!
//! # Cleanup
//!
//! A cluster is stopped (`pg_ctl stop -m immediate`) and its directory removed by
//! [`LocalCluster::stop`] or when it is dropped. The cluster of [`shared`] lives in a static, which
//! is never dropped: an `atexit` handler stops it when the process exits normally (the test harness
//! exits normally after failing tests too). Every cluster also has a watchdog, a small detached
//! shell process in its own session that checks every half second whether this process is still
//! alive; when it is gone (killed, crashed, aborted), the watchdog stops the server and removes the
//! directory. The watchdog ends by itself as soon as the directory is gone.
//!
//! ```no_run
//! use orm_postgres::local;
//!
//! let cluster = local::shared()?;
//! let url = cluster.url("postgres"); // postgres://postgres@127.0.0.1:<port>/postgres
//! # Ok::<(), orm_postgres::Error>(())
//! ```

use std::env;
use std::ffi::{CString, OsString};
use std::fs;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::{BoxError, Error, ErrorKind, Result};

/// Environment variable naming the directory that holds `initdb`, `pg_ctl` and `postgres`.
pub const BIN_DIR_ENV: &str = "ORM_PG_BIN";

/// The role that must authenticate with a password (`scram-sha-256`); every other role is trusted.
pub const PASSWORD_CHECK_ROLE: &str = "orm_password_check";

/// What to do when no server binaries are found.
const INSTALL_HINT: &str = "install the PostgreSQL server binaries: `apt-get install postgresql` \
                            on Debian/Ubuntu, or set DATABASE_URL to a running server";

/// The binaries the cluster needs, all in one directory.
const SERVER_BINARIES: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

/// Where the Debian and Ubuntu packages install the server binaries: `<root>/<version>/bin`.
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// How many times the server start is tried with a new port when the port was taken meanwhile.
const START_ATTEMPTS: usize = 5;

/// How much of a failed command's output or of the server log an error carries.
const TAIL_LINES: usize = 25;

/// `pg_hba.conf`: the password-checking role first (the first matching line wins), then trust.
const PG_HBA: &str = "\
# Written by orm-postgres for a throwaway test cluster.
# TYPE  DATABASE     USER                ADDRESS        METHOD
host    all          orm_password_check  127.0.0.1/32   scram-sha-256
host    all          orm_password_check  ::1/128        scram-sha-256
host    all          all                 127.0.0.1/32   trust
host    all          all                 ::1/128        trust
host    replication  all                 127.0.0.1/32   trust
host    replication  all                 ::1/128        trust
";

/// The watchdog: `$1` our pid, `$2` the temporary directory, `$3` the data directory, `$4` the
/// `pg_ctl` to run (empty when we are root: `pg_ctl` refuses root, and signals do the same work).
///
/// The outer shell starts the loop in the background and exits at once, so the loop is adopted by
/// init (or the nearest subreaper) and never lingers as a zombie of ours.
const WATCHDOG: &str = r#"
watch() {
  pid=$1 dir=$2 data=$3 pg_ctl=$4
  while [ -d "$dir" ]; do
    if kill -0 "$pid" 2>/dev/null; then
      sleep 0.5
      continue
    fi
    if [ -n "$pg_ctl" ] && [ -f "$data/postmaster.pid" ]; then
      "$pg_ctl" -D "$data" -m immediate -w -t 30 stop
    fi
    if [ -f "$data/postmaster.pid" ]; then
      pm=
      read -r pm < "$data/postmaster.pid"
      case "$pm" in
        ''|*[!0-9]*) ;;
        *)
          # what `pg_ctl stop -m immediate` does: SIGQUIT, then wait
          kill -QUIT "$pm" 2>/dev/null
          n=0
          # the server removes postmaster.pid when it is done (a zombie still answers kill -0)
          while [ "$n" -lt 100 ] && [ -f "$data/postmaster.pid" ] && kill -0 "$pm" 2>/dev/null; do
            sleep 0.1
            n=$((n + 1))
          done
          [ -f "$data/postmaster.pid" ] && kill -0 "$pm" 2>/dev/null && kill -KILL "$pm" 2>/dev/null
          ;;
      esac
    fi
    rm -rf "$dir"
    exit 0
  done
}
watch "$@" </dev/null >/dev/null 2>&1 &
"#;

/// A throwaway PostgreSQL cluster in a temporary directory, listening on `127.0.0.1`.
///
/// Stopped and removed by [`LocalCluster::stop`] or on drop. Use [`shared`] for the one cluster of
/// the process.
#[derive(Debug)]
pub struct LocalCluster {
    /// The temporary directory: holds `data/` and `log`.
    dir: PathBuf,
    data_dir: PathBuf,
    log_file: PathBuf,
    bin_dir: PathBuf,
    port: u16,
    /// The user the server runs as, when this process is root.
    user: Option<ServerUser>,
    /// `true` once stopped and removed.
    stopped: Mutex<bool>,
}

/// A system user (uid and gid) to run the server binaries as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ServerUser {
    uid: u32,
    gid: u32,
}

impl LocalCluster {
    /// Creates a fresh cluster in a new temporary directory and starts its server.
    ///
    /// Runs `initdb` (UTF-8, no locale, user `postgres`, trust authentication), writes
    /// `pg_hba.conf`, and starts the server with `pg_ctl` on a free port of `127.0.0.1`, with
    /// durability off (`fsync`, `synchronous_commit`, `full_page_writes`) and 200 connections.
    /// Takes a second or two.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LocalDatabase`] when no server binaries are found (the message says what to
    /// install), when running as root without a `postgres` system user, or when `initdb` or the
    /// server fails (the message carries the end of their output or of the server log).
    pub fn start() -> Result<LocalCluster> {
        let began = Instant::now();
        let bin_dir = find_bin_dir(
            env::var_os(BIN_DIR_ENV),
            env::var_os("PATH"),
            Path::new(DEBIAN_ROOT),
        )?;
        let user = server_user()?;
        let dir = create_temp_dir(user)?;
        let mut cluster = LocalCluster {
            data_dir: dir.join("data"),
            log_file: dir.join("log"),
            dir,
            bin_dir,
            port: 0,
            user,
            stopped: Mutex::new(false),
        };
        // From here on, dropping `cluster` (on any error) stops the server and removes the
        // directory; the watchdog does the same if this process dies.
        cluster.spawn_watchdog()?;
        cluster.initdb()?;
        cluster.write_config()?;
        cluster.start_server()?;
        tracing::debug!(
            dir = %cluster.dir.display(),
            port = cluster.port,
            elapsed = ?began.elapsed(),
            "started local PostgreSQL cluster"
        );
        Ok(cluster)
    }

    /// The connection URL of `database` as the superuser `postgres`:
    /// `postgres://postgres@127.0.0.1:<port>/<database>`.
    ///
    /// Characters of `database` that have a meaning in URLs are percent-encoded.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{}",
            self.port,
            percent_encode(database)
        )
    }

    /// The TCP port the server listens on (on `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's data directory (`PGDATA`).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The server log, for diagnosing failures. Removed with the cluster.
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// Stops the server (`pg_ctl stop -m immediate`) and removes the temporary directory.
    ///
    /// Idempotent: calling it again, or dropping the cluster afterwards, does nothing. Concurrent
    /// callers wait for the first one to finish.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LocalDatabase`] when the server could not be stopped or the directory not
    /// removed; a later call tries again.
    pub fn stop(&self) -> Result<()> {
        let mut stopped = self.stopped.lock().unwrap_or_else(PoisonError::into_inner);
        if *stopped {
            return Ok(());
        }
        let mut problems = Vec::new();
        if self.data_dir.join("postmaster.pid").exists() {
            let out = self
                .command("pg_ctl")
                .arg("-D")
                .arg(&self.data_dir)
                .args(["-m", "immediate", "-w", "-t", "30", "stop"])
                .output();
            match out {
                Ok(out) if out.status.success() => {}
                Ok(out) => problems.push(format!(
                    "`pg_ctl stop` failed ({}): {}",
                    out.status,
                    tail(&combined(&out))
                )),
                Err(e) => problems.push(format!("cannot run `pg_ctl stop`: {e}")),
            }
            if !problems.is_empty() {
                // Do by hand what pg_ctl does, so the directory is not removed under a running
                // server.
                kill_postmaster(&self.data_dir);
            }
        }
        if let Err(e) = remove_dir(&self.dir) {
            problems.push(format!("cannot remove {}: {e}", self.dir.display()));
        }
        if problems.is_empty() {
            *stopped = true;
            Ok(())
        } else {
            Err(local_error(
                format!(
                    "stopping the cluster in {}: {}",
                    self.dir.display(),
                    problems.join("; ")
                ),
                None,
            ))
        }
    }

    /// A command running one of the server binaries, as the server user when we are root.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(program));
        // Messages in English (the port-taken check reads them); no stray client settings.
        cmd.current_dir(&self.dir)
            .env("LC_ALL", "C")
            .env_remove("PGDATA")
            .env_remove("PGPORT")
            .env_remove("PGHOST")
            .env_remove("PGOPTIONS")
            .stdin(Stdio::null());
        if let Some(user) = self.user {
            cmd.uid(user.uid).gid(user.gid);
        }
        cmd
    }

    /// Starts the detached watchdog that cleans up after this process when it dies.
    fn spawn_watchdog(&self) -> Result<()> {
        let pg_ctl = if self.user.is_some() {
            OsString::new()
        } else {
            self.bin_dir.join("pg_ctl").into_os_string()
        };
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(WATCHDOG)
            .arg("orm-postgres-watchdog")
            .arg(std::process::id().to_string())
            .arg(&self.dir)
            .arg(&self.data_dir)
            .arg(pg_ctl)
            .current_dir("/")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: the closure runs in the forked child before exec and calls only `setsid`, which
        // is async-signal-safe; it touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                // A session of its own: no terminal signals (Ctrl-C, hang-up) reach the watchdog.
                if libc::setsid() == -1 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        match cmd.status() {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(local_error(
                format!("the cleanup watchdog (/bin/sh) failed to start: {status}"),
                None,
            )),
            Err(e) => Err(local_error(
                "cannot start the cleanup watchdog (/bin/sh)",
                Some(Box::new(e)),
            )),
        }
    }

    /// `initdb` into `<dir>/data`.
    fn initdb(&self) -> Result<()> {
        let out = self
            .command("initdb")
            .arg("-D")
            .arg(&self.data_dir)
            .args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ])
            .output()
            .map_err(|e| {
                local_error(
                    format!("cannot run {}", self.bin_dir.join("initdb").display()),
                    Some(Box::new(e)),
                )
            })?;
        if out.status.success() {
            return Ok(());
        }
        let mut message = format!(
            "`{} -D {}` failed ({}):\n{}",
            self.bin_dir.join("initdb").display(),
            self.data_dir.display(),
            out.status,
            tail(&combined(&out))
        );
        if self.user.is_some() && message.contains("Permission denied") {
            message.push_str(&format!(
                "\n(running as the `postgres` system user because this process is root; that \
                 user must be able to reach {})",
                self.dir.display()
            ));
        }
        Err(local_error(message, None))
    }

    /// Writes `pg_hba.conf` (initdb created it; overwriting keeps its owner and mode).
    fn write_config(&self) -> Result<()> {
        let path = self.data_dir.join("pg_hba.conf");
        fs::write(&path, PG_HBA).map_err(|e| {
            local_error(
                format!("cannot write {}", path.display()),
                Some(Box::new(e)),
            )
        })?;
        if let Some(user) = self.user {
            chown(&path, user)?;
        }
        Ok(())
    }

    /// `pg_ctl start` on a free port, again with a new port if that one was taken meanwhile.
    fn start_server(&mut self) -> Result<()> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = free_port()?;
            let log_start = fs::metadata(&self.log_file).map_or(0, |m| m.len());
            let out = self
                .command("pg_ctl")
                .arg("-D")
                .arg(&self.data_dir)
                .arg("-l")
                .arg(&self.log_file)
                .args(["-w", "-t", "60", "-o", &server_options(port), "start"])
                .output()
                .map_err(|e| {
                    local_error(
                        format!("cannot run {}", self.bin_dir.join("pg_ctl").display()),
                        Some(Box::new(e)),
                    )
                })?;
            if out.status.success() {
                self.port = port;
                return Ok(());
            }
            let log = read_from(&self.log_file, log_start);
            if attempt < START_ATTEMPTS && log.contains("Address already in use") {
                tracing::debug!(
                    port,
                    "port taken, starting the local cluster on another port"
                );
                continue;
            }
            return Err(local_error(
                format!(
                    "the server did not start (`pg_ctl start` {}):\n{}\n--- end of the server log ---\n{}",
                    out.status,
                    tail(&combined(&out)),
                    tail(&log)
                ),
                None,
            ));
        }
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!("{e}");
        }
    }
}

/// The start outcome of the shared cluster; a failure is kept as its message (errors are not
/// `Clone`).
static SHARED: OnceLock<std::result::Result<LocalCluster, String>> = OnceLock::new();

/// The one cluster of this process, started on first use.
///
/// Concurrent first callers wait for the same start. The cluster is stopped and its directory
/// removed when the process exits (an `atexit` handler), and also when the process is killed (its
/// watchdog).
///
/// # Errors
///
/// [`ErrorKind::LocalDatabase`] when the start failed: the first caller gets the original error,
/// later callers an error with the same message (the start is not retried).
pub fn shared() -> Result<&'static LocalCluster> {
    let mut first_error = None;
    let outcome = SHARED.get_or_init(|| match LocalCluster::start() {
        Ok(cluster) => {
            // SAFETY: `atexit` registers a plain `extern "C" fn()`; it is called at most once per
            // process here (inside the one-time initialisation).
            let rc = unsafe { libc::atexit(stop_shared_at_exit) };
            if rc != 0 {
                tracing::warn!(
                    "cannot register the atexit handler; the watchdog will stop the local cluster"
                );
            }
            Ok(cluster)
        }
        Err(e) => {
            let message = error_message(&e);
            first_error = Some(e);
            Err(message)
        }
    });
    if let Some(e) = first_error {
        return Err(e);
    }
    match outcome {
        Ok(cluster) => Ok(cluster),
        Err(message) => Err(local_error(message.clone(), None)),
    }
}

/// Stops the shared cluster at process exit.
extern "C" fn stop_shared_at_exit() {
    // Never unwind into C.
    let _ = std::panic::catch_unwind(|| {
        if let Some(Ok(cluster)) = SHARED.get() {
            if let Err(e) = cluster.stop() {
                eprintln!("orm-postgres: {e}");
            }
        }
    });
}

/// A `LocalDatabase` error.
fn local_error(message: impl Into<String>, source: Option<BoxError>) -> Error {
    ErrorKind::LocalDatabase {
        message: message.into(),
        source,
    }
    .into()
}

/// The message of a `LocalDatabase` error with its source, without the `local database:` prefix.
fn error_message(e: &Error) -> String {
    match e.kind() {
        ErrorKind::LocalDatabase {
            message,
            source: Some(source),
        } => format!("{message}: {source}"),
        ErrorKind::LocalDatabase {
            message,
            source: None,
        } => message.clone(),
        _ => e.to_string(),
    }
}

/// Finds the directory holding `initdb`, `pg_ctl` and `postgres`: `ORM_PG_BIN`, then `PATH`, then
/// `<debian_root>/<version>/bin`, newest version first.
fn find_bin_dir(
    env_dir: Option<OsString>,
    path: Option<OsString>,
    debian_root: &Path,
) -> Result<PathBuf> {
    if let Some(dir) = env_dir.filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        if has_server_binaries(&dir) {
            return Ok(dir);
        }
        return Err(local_error(
            format!(
                "{BIN_DIR_ENV}={} does not contain all of `initdb`, `pg_ctl` and `postgres`; \
                 point it to the bin directory of a PostgreSQL installation, or unset it and \
                 {INSTALL_HINT}",
                dir.display()
            ),
            None,
        ));
    }
    if let Some(path) = path {
        for dir in env::split_paths(&path) {
            let initdb = dir.join("initdb");
            if !is_executable(&initdb) {
                continue;
            }
            // Follow a symbolic link to the real installation, where pg_ctl finds postgres.
            if let Some(real) = fs::canonicalize(&initdb)
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
            {
                if has_server_binaries(&real) {
                    return Ok(real);
                }
            }
            if has_server_binaries(&dir) {
                return Ok(dir);
            }
        }
    }
    for dir in debian_bin_dirs(debian_root) {
        if has_server_binaries(&dir) {
            return Ok(dir);
        }
    }
    Err(local_error(
        format!(
            "no PostgreSQL server binaries (`initdb`, `pg_ctl`, `postgres`) found in \
             ${BIN_DIR_ENV}, on PATH or under {}/*/bin; {INSTALL_HINT}",
            debian_root.display()
        ),
        None,
    ))
}

/// `<root>/<version>/bin` for every version directory, newest version first.
fn debian_bin_dirs(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(root) else {
        return Vec::new();
    };
    let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(|entry| entry.ok())
        .map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            (version_key(&name), entry.path().join("bin"))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

/// `"9.6"` -> `[9, 6]`; a name that is not a version sorts last.
fn version_key(name: &str) -> Vec<u32> {
    name.split('.')
        .map(|part| part.parse::<u32>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .unwrap_or_default()
}

fn has_server_binaries(dir: &Path) -> bool {
    SERVER_BINARIES
        .iter()
        .all(|name| is_executable(&dir.join(name)))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
}

/// `None` when not root; the `postgres` system user when root.
fn server_user() -> Result<Option<ServerUser>> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    match lookup_user("postgres") {
        Ok(Some(user)) if user.uid != 0 => Ok(Some(user)),
        Ok(_) => Err(local_error(
            "this process runs as root, and initdb and postgres refuse to run as root, but there \
             is no `postgres` system user to run them as: create one (`useradd --system \
             --user-group postgres`; the Debian `postgresql` package does), run as a non-root \
             user, or set DATABASE_URL to a running server",
            None,
        )),
        Err(e) => Err(local_error(
            "this process runs as root, and looking up the `postgres` system user to run the \
             server as failed",
            Some(Box::new(e)),
        )),
    }
}

/// The uid and gid of a system user, through the thread-safe `getpwnam_r`.
fn lookup_user(name: &str) -> io::Result<Option<ServerUser>> {
    let cname = CString::new(name).map_err(io::Error::other)?;
    let mut buf: Vec<libc::c_char> = vec![0; 4096];
    loop {
        // SAFETY: an all-zero `passwd` is valid (null pointers and zero ids); getpwnam_r fills it.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call, and `buf.len()` is the buffer's real size.
        let rc = unsafe {
            libc::getpwnam_r(
                cname.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            )
        };
        if rc == libc::ERANGE && buf.len() < (1 << 20) {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        if result.is_null() {
            return Ok(None);
        }
        return Ok(Some(ServerUser {
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
        }));
    }
}

/// Creates a new private directory `orm-postgres-<pid>-<counter>-<nanos>` under the system's
/// temporary directory, owned by the server user when we are root.
fn create_temp_dir(user: Option<ServerUser>) -> Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut base = env::temp_dir();
    if let Some(user) = user {
        // The server user must reach the directory: a private TMPDIR (say, under /root) will not do.
        if !reachable_by(&base, user) {
            base = PathBuf::from("/tmp");
        }
    }
    let mut tries = 0;
    loop {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = base.join(format!(
            "orm-postgres-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            nanos
        ));
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {
                if let Some(user) = user {
                    if let Err(e) = chown(&dir, user) {
                        let _ = fs::remove_dir(&dir);
                        return Err(e);
                    }
                }
                return Ok(dir);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 10 => tries += 1,
            Err(e) => {
                return Err(local_error(
                    format!(
                        "cannot create a temporary directory under {}",
                        base.display()
                    ),
                    Some(Box::new(e)),
                ));
            }
        }
    }
}

/// Whether `user` may traverse every directory from `/` down to `dir`.
fn reachable_by(dir: &Path, user: ServerUser) -> bool {
    dir.ancestors().all(|p| {
        fs::metadata(p).is_ok_and(|m| {
            let mode = m.mode();
            if m.uid() == user.uid {
                mode & 0o100 != 0
            } else if m.gid() == user.gid {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            }
        })
    })
}

fn chown(path: &Path, user: ServerUser) -> Result<()> {
    std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid)).map_err(|e| {
        local_error(
            format!(
                "cannot give {} to the `postgres` system user (uid {})",
                path.display(),
                user.uid
            ),
            Some(Box::new(e)),
        )
    })
}

/// A port of 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| local_error("cannot find a free TCP port", Some(Box::new(e))))
}

/// The `-o` options of `pg_ctl start` (pg_ctl hands them to a shell, hence the quotes).
fn server_options(port: u16) -> String {
    format!(
        "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='' \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
         -c max_connections=200 -c shared_buffers=64MB -c password_encryption=scram-sha-256"
    )
}

/// Last resort when `pg_ctl stop` failed: SIGQUIT the postmaster (an immediate shutdown), then
/// SIGKILL it if it is still there after ten seconds.
fn kill_postmaster(data_dir: &Path) {
    let pid_file = data_dir.join("postmaster.pid");
    let Some(pid) = fs::read_to_string(&pid_file)
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<i32>().ok()))
        .filter(|&pid| pid > 0)
    else {
        return;
    };
    // The server removes its pid file when it is done; until its parent reaps it, a server that
    // has exited still answers `kill(pid, 0)`.
    // SAFETY: kill has no memory-safety preconditions; `pid` is positive, so it names one process.
    let alive = || pid_file.exists() && unsafe { libc::kill(pid, 0) } == 0;
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGQUIT) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if alive() {
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Removes a directory tree; missing is fine. Retries briefly, in case a dying server process
/// still writes into it.
fn remove_dir(dir: &Path) -> io::Result<()> {
    let mut tries = 0;
    loop {
        match fs::remove_dir_all(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(_) if tries < 20 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(e),
        }
    }
}

/// A command's stdout and stderr, as text.
fn combined(out: &Output) -> String {
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    text
}

/// The last lines of a text.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let start = lines.len().saturating_sub(TAIL_LINES);
    lines[start..].join("\n")
}

/// A file's content from byte `offset` on (empty when unreadable).
fn read_from(path: &Path, offset: u64) -> String {
    let bytes = fs::read(path).unwrap_or_default();
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

/// Percent-encodes every byte outside the URL's unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;

    /// Runs `psql` (when installed) with `sql` against `url`; `None` when there is no psql.
    fn psql(url: &str, sql: &str) -> Option<Output> {
        let psql = ["/usr/bin/psql", "/usr/local/bin/psql"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| is_executable(p))?;
        Some(
            Command::new(psql)
                .args([
                    "-X",
                    "-w",
                    "-At",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-d",
                    url,
                    "-c",
                    sql,
                ])
                .env("PGCONNECT_TIMEOUT", "10")
                .env_remove("PGPASSWORD")
                .stdin(Stdio::null())
                .output()
                .expect("run psql"),
        )
    }

    fn assert_accepts_connections(port: u16) {
        // An SSLRequest: a PostgreSQL server answers with a single byte, `S` or `N`.
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream
            .write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
            .expect("write");
        let mut answer = [0u8; 1];
        stream.read_exact(&mut answer).expect("read");
        assert!(matches!(&answer, b"N" | b"S"), "answer {answer:?}");
    }

    #[test]
    fn shared_cluster_is_started_once_and_accepts_connections() {
        let began = Instant::now();
        let a = shared().expect("start the shared cluster");
        eprintln!("shared cluster ready in {:?}", began.elapsed());
        let b = shared().expect("shared again");
        assert!(std::ptr::eq(a, b));
        assert!(a.data_dir().join("PG_VERSION").is_file());
        assert_eq!(
            a.url("postgres"),
            format!("postgres://postgres@127.0.0.1:{}/postgres", a.port())
        );
        assert_accepts_connections(a.port());
        if let Some(out) = psql(&a.url("postgres"), "select current_user, 40 + 2") {
            assert!(out.status.success(), "{}", combined(&out));
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "postgres|42");
        }
    }

    #[test]
    fn shared_from_many_threads_gives_one_cluster() {
        let clusters: Vec<usize> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| shared().expect("shared") as *const LocalCluster as usize))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("join"))
                .collect()
        });
        assert!(clusters.windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn own_cluster_checks_passwords_and_stop_removes_it() {
        let began = Instant::now();
        let cluster = LocalCluster::start().expect("start a cluster");
        eprintln!("own cluster ready in {:?}", began.elapsed());
        let dir = cluster.dir.clone();
        assert!(dir.is_dir());
        assert_accepts_connections(cluster.port());

        let url = cluster.url("postgres");
        if let Some(out) = psql(
            &url,
            "create role orm_password_check login password 'right'; show password_encryption",
        ) {
            assert!(out.status.success(), "{}", combined(&out));
            assert!(String::from_utf8_lossy(&out.stdout).contains("scram-sha-256"));
            let base = format!("127.0.0.1:{}/postgres", cluster.port());
            let wrong = psql(
                &format!("postgres://orm_password_check:wrong@{base}"),
                "select 1",
            )
            .expect("psql");
            assert!(!wrong.status.success());
            assert!(
                combined(&wrong).contains("password authentication failed"),
                "{}",
                combined(&wrong)
            );
            let right = psql(
                &format!("postgres://orm_password_check:right@{base}"),
                "select current_user",
            )
            .expect("psql");
            assert!(right.status.success(), "{}", combined(&right));
            // Other roles are trusted.
            let other =
                psql(&format!("postgres://postgres:anything@{base}"), "select 1").expect("psql");
            assert!(other.status.success(), "{}", combined(&other));
        }

        let began = Instant::now();
        cluster.stop().expect("stop");
        eprintln!("own cluster stopped and removed in {:?}", began.elapsed());
        assert!(!dir.exists(), "{} still exists", dir.display());
        assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, cluster.port())).is_err());
        cluster.stop().expect("stop is idempotent");
    }

    #[test]
    fn missing_binaries_say_what_to_install() {
        let empty = env::temp_dir().join(format!("orm-postgres-test-empty-{}", std::process::id()));
        fs::create_dir_all(&empty).expect("mkdir");
        let err = find_bin_dir(None, Some(OsString::from(&empty)), &empty).expect_err("no bins");
        assert!(matches!(err.kind(), ErrorKind::LocalDatabase { .. }));
        assert!(
            err.to_string().contains("apt-get install postgresql"),
            "{err}"
        );
        let err = find_bin_dir(Some(empty.clone().into_os_string()), None, &empty)
            .expect_err("env dir without bins");
        assert!(err.to_string().contains(BIN_DIR_ENV), "{err}");
        fs::remove_dir_all(&empty).expect("rmdir");
    }

    #[test]
    fn debian_versions_newest_first() {
        let root =
            env::temp_dir().join(format!("orm-postgres-test-versions-{}", std::process::id()));
        for v in ["9.6", "15", "10", "16", "notes"] {
            fs::create_dir_all(root.join(v).join("bin")).expect("mkdir");
        }
        let dirs: Vec<String> = debian_bin_dirs(&root)
            .iter()
            .map(|d| {
                d.parent()
                    .and_then(|p| p.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .expect("name")
            })
            .collect();
        assert_eq!(dirs, ["16", "15", "10", "9.6", "notes"]);
        fs::remove_dir_all(&root).expect("rmdir");
    }

    #[test]
    fn url_encodes_odd_database_names() {
        assert_eq!(percent_encode("orm_test-1"), "orm_test-1");
        assert_eq!(percent_encode("a b/c?"), "a%20b%2Fc%3F");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let t = tail(&text);
        assert!(t.starts_with(&format!("line {}", 100 - TAIL_LINES)));
        assert!(t.ends_with("line 99"));
    }
}
