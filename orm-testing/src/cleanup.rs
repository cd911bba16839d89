//! Cleaning up, however the process ends: the one shared cluster of the process and its `atexit`
//! handler (normal exit, failed tests included), the watchdog (a kill, a crash, an abort), and
//! stopping a server by hand when `pg_ctl` cannot.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::{ClusterError, LocalCluster};

/// The watchdog: `$1` our pid, `$2` the temporary directory, `$3` the data directory, `$4` the
/// `pg_ctl` to run (empty when we are root: `pg_ctl` refuses root, and signals do the same work),
/// `$5` the pid file of the process to stop (default `$3/postmaster.pid`; a pgbouncer's
/// elsewhere, with `$4` empty).
///
/// The outer shell starts the loop in the background and exits at once, so the loop is adopted by
/// init (or the nearest subreaper) and never lingers as a zombie of ours.
const WATCHDOG: &str = r#"
watch() {
  pid=$1 dir=$2 data=$3 pg_ctl=$4 pidfile=${5:-$3/postmaster.pid}
  while [ -d "$dir" ]; do
    if kill -0 "$pid" 2>/dev/null; then
      sleep 0.5
      continue
    fi
    if [ -n "$pg_ctl" ] && [ -f "$pidfile" ]; then
      "$pg_ctl" -D "$data" -m immediate -w -t 30 stop
    fi
    if [ -f "$pidfile" ]; then
      pm=
      read -r pm < "$pidfile"
      case "$pm" in
        ''|*[!0-9]*) ;;
        *)
          # what `pg_ctl stop -m immediate` does: SIGQUIT, then wait
          kill -QUIT "$pm" 2>/dev/null
          n=0
          # the server removes postmaster.pid when it is done (a zombie still answers kill -0)
          while [ "$n" -lt 100 ] && [ -f "$pidfile" ] && kill -0 "$pm" 2>/dev/null; do
            sleep 0.1
            n=$((n + 1))
          done
          [ -f "$pidfile" ] && kill -0 "$pm" 2>/dev/null && kill -KILL "$pm" 2>/dev/null
          ;;
      esac
    fi
    rm -rf "$dir"
    exit 0
  done
}
watch "$@" </dev/null >/dev/null 2>&1 &
"#;

/// Starts the detached watchdog that cleans up after this process when it dies: it stops the
/// server of `data_dir` (with `pg_ctl` when given, otherwise with signals) and removes `dir`.
pub(crate) fn spawn_watchdog(
    dir: &Path,
    data_dir: &Path,
    pg_ctl: Option<&Path>,
) -> Result<(), ClusterError> {
    let pg_ctl = pg_ctl.map_or_else(OsString::new, |p| p.as_os_str().to_owned());
    spawn_watchdog_script(&[dir.as_os_str(), data_dir.as_os_str(), pg_ctl.as_os_str()])
}

/// Starts the watchdog for a process of `dir` whose pid is in `pid_file` (a pgbouncer): when
/// this process dies, it stops that process with signals and removes `dir`.
pub(crate) fn spawn_process_watchdog(dir: &Path, pid_file: &Path) -> Result<(), ClusterError> {
    spawn_watchdog_script(&[
        dir.as_os_str(),
        dir.as_os_str(),
        OsStr::new(""),
        pid_file.as_os_str(),
    ])
}

/// Runs the watchdog in `/bin/sh`, detached in a session of its own, with this process's pid as
/// `$1` and `args` after it.
fn spawn_watchdog_script(args: &[&OsStr]) -> Result<(), ClusterError> {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(WATCHDOG)
        .arg("orm-postgres-watchdog")
        .arg(std::process::id().to_string())
        .args(args)
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
        Ok(status) => Err(ClusterError::failed(
            format!("the cleanup watchdog (/bin/sh) failed to start: {status}"),
            None,
        )),
        Err(e) => Err(ClusterError::failed(
            "cannot start the cleanup watchdog (/bin/sh)",
            Some(Box::new(e)),
        )),
    }
}

/// The start outcome of the shared cluster; a failure is kept without its source (errors are not
/// `Clone`).
static SHARED: OnceLock<Result<LocalCluster, ClusterError>> = OnceLock::new();

/// The one cluster of this process, started on first use.
///
/// Concurrent first callers wait for the same start. The cluster is stopped and its directory
/// removed when the process exits (an `atexit` handler), and also when the process is killed (its
/// watchdog).
///
/// # Errors
///
/// A [`ClusterError`] when the start failed: the first caller gets the original error, later
/// callers an error of the same kind with the same message (the start is not retried).
pub fn shared() -> Result<&'static LocalCluster, ClusterError> {
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
            let detached = e.detached();
            first_error = Some(e);
            Err(detached)
        }
    });
    if let Some(e) = first_error {
        return Err(e);
    }
    match outcome {
        Ok(cluster) => Ok(cluster),
        Err(e) => Err(e.detached()),
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

/// Last resort when `pg_ctl stop` failed: SIGQUIT the postmaster (an immediate shutdown), then
/// SIGKILL it if it is still there after ten seconds.
pub(crate) fn kill_postmaster(data_dir: &Path) {
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
pub(crate) fn remove_dir(dir: &Path) -> io::Result<()> {
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
