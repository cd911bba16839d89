//! [`Pgbouncer`]: a throwaway pgbouncer in front of a [`LocalCluster`], for tests of what a
//! connection pooler in transaction mode does to a client.

use std::ffi::OsString;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::binaries::is_executable;
use crate::cleanup::{remove_dir, spawn_process_watchdog};
use crate::cluster::free_port;
use crate::output::{read_from, tail};
use crate::server_user::{ServerUser, chown, create_temp_dir, server_user};
use crate::{ClusterError, LocalCluster};

/// Environment variable naming the `pgbouncer` binary to run.
pub const PGBOUNCER_ENV: &str = "ORM_PGBOUNCER";

/// Where Debian, Ubuntu and source installs put the binary, after `PATH`.
const KNOWN_PLACES: [&str; 3] = [
    "/usr/sbin/pgbouncer",
    "/usr/local/sbin/pgbouncer",
    "/usr/local/bin/pgbouncer",
];

/// What to do when no binary is found.
const INSTALL_HINT: &str = "install it (`apt-get install pgbouncer` on Debian/Ubuntu) or set \
                            ORM_PGBOUNCER to its path";

/// How long pgbouncer may take to listen.
const START_LIMIT: Duration = Duration::from_secs(10);

/// How many times the start is tried with a new port when the port was taken meanwhile.
const START_ATTEMPTS: usize = 5;

/// Settings of a [`Pgbouncer`]: by default transaction pooling with two server connections
/// per database and user, so that the server connections are shared by the clients.
///
/// ```no_run
/// use orm_testing::{LocalCluster, Pgbouncer, PgbouncerOptions};
///
/// # fn run() -> Result<(), orm_testing::ClusterError> {
/// let cluster = LocalCluster::start()?;
/// let bouncer = Pgbouncer::start_with(&cluster, PgbouncerOptions::new().pool_size(4))?;
/// let url = bouncer.url("postgres"); // postgres://postgres@127.0.0.1:<port>/postgres
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PgbouncerOptions {
    settings: Vec<(String, String)>,
}

impl Default for PgbouncerOptions {
    fn default() -> Self {
        PgbouncerOptions::new()
    }
}

impl PgbouncerOptions {
    /// `pool_mode = transaction`, `default_pool_size = 2`, `max_client_conn = 500`.
    pub fn new() -> PgbouncerOptions {
        PgbouncerOptions {
            settings: Vec::new(),
        }
        .setting("pool_mode", "transaction")
        .pool_size(2)
        .setting("max_client_conn", "500")
    }

    /// Server connections per database and user (`default_pool_size`).
    pub fn pool_size(self, n: u32) -> Self {
        self.setting("default_pool_size", n.to_string())
    }

    /// `session`, `transaction` or `statement` (`pool_mode`).
    pub fn pool_mode(self, mode: &str) -> Self {
        self.setting("pool_mode", mode)
    }

    /// Any setting of the `[pgbouncer]` section, replacing an earlier value.
    pub fn setting(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        match self.settings.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.settings.push((name, value)),
        }
        self
    }
}

/// A pgbouncer listening on a free port of `127.0.0.1`, in front of a [`LocalCluster`]: every
/// database of the cluster, as user `postgres` (trusted, like the cluster).
///
/// The binary runs as a child process (as the `postgres` system user when this process is root,
/// since pgbouncer refuses root); it is killed and its temporary directory removed by
/// [`stop`](Pgbouncer::stop), on drop, or by a watchdog when this process dies.
#[derive(Debug)]
pub struct Pgbouncer {
    dir: PathBuf,
    log_file: PathBuf,
    port: u16,
    child: Mutex<Option<Child>>,
}

impl Pgbouncer {
    /// Starts a pgbouncer with the default [`PgbouncerOptions`] (transaction pooling, two
    /// server connections).
    ///
    /// # Errors
    ///
    /// [`ClusterError::NoPgbouncer`] when no `pgbouncer` binary is found (the message says what
    /// to install); [`ClusterError::Failed`] when it does not start (with the end of its log).
    pub fn start(cluster: &LocalCluster) -> Result<Pgbouncer, ClusterError> {
        Pgbouncer::start_with(cluster, PgbouncerOptions::new())
    }

    /// Starts a pgbouncer with these settings. Returns once it accepts connections, or fails
    /// after ten seconds.
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start).
    pub fn start_with(
        cluster: &LocalCluster,
        options: PgbouncerOptions,
    ) -> Result<Pgbouncer, ClusterError> {
        let binary = pgbouncer_binary()?;
        let user = server_user()?;
        let dir = create_temp_dir(user)?;
        let mut bouncer = Pgbouncer {
            log_file: dir.join("pgbouncer.log"),
            dir,
            port: 0,
            child: Mutex::new(None),
        };
        // From here on, dropping `bouncer` (on any error) kills the child and removes the
        // directory; the watchdog does the same if this process dies.
        spawn_process_watchdog(&bouncer.dir, &bouncer.dir.join("pgbouncer.pid"))?;
        let userlist = bouncer.dir.join("userlist.txt");
        write_file(&userlist, "\"postgres\" \"\"\n", user)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = free_port()?;
            let ini = bouncer.dir.join("pgbouncer.ini");
            write_file(
                &ini,
                &config(cluster.port(), port, &userlist, &options),
                user,
            )?;
            let log_start = fs::metadata(&bouncer.log_file).map_or(0, |m| m.len());
            let child = bouncer.spawn(&binary, &ini, user)?;
            *bouncer.child.lock().unwrap_or_else(PoisonError::into_inner) = Some(child);
            match bouncer.wait_until_listening(port) {
                Ok(()) => {
                    bouncer.port = port;
                    return Ok(bouncer);
                }
                Err(exited) => {
                    bouncer.kill();
                    let log = read_from(&bouncer.log_file, log_start);
                    if attempt < START_ATTEMPTS && log.contains("Address already in use") {
                        continue;
                    }
                    return Err(ClusterError::failed(
                        format!(
                            "pgbouncer ({}) {exited}:\n--- end of its log ---\n{}",
                            binary.display(),
                            tail(&log)
                        ),
                        None,
                    ));
                }
            }
        }
    }

    /// The connection URL of `database` as user `postgres`, through pgbouncer:
    /// `postgres://postgres@127.0.0.1:<port>/<database>`.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{}",
            self.port,
            crate::output::percent_encode(database)
        )
    }

    /// The TCP port pgbouncer listens on (on `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// pgbouncer's log (its standard output and error), for diagnosing failures. Removed with
    /// it.
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// Kills pgbouncer and removes its directory. Idempotent.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Failed`] when the directory cannot be removed.
    pub fn stop(&self) -> Result<(), ClusterError> {
        self.kill();
        remove_dir(&self.dir).map_err(|e| {
            ClusterError::failed(
                format!("cannot remove {}", self.dir.display()),
                Some(Box::new(e)),
            )
        })
    }

    /// Kills the child (if running) and reaps it.
    fn kill(&self) {
        let child = self
            .child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(mut child) = child {
            let _ = child.kill();
            let _ = child.wait();
            // Killed, it leaves its pid file: a restart would read the pid as taken.
            let _ = fs::remove_file(self.dir.join("pgbouncer.pid"));
        }
    }

    /// Runs the binary on `ini`, its output into the log file.
    fn spawn(
        &self,
        binary: &Path,
        ini: &Path,
        user: Option<ServerUser>,
    ) -> Result<Child, ClusterError> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_file)
            .map_err(|e| {
                ClusterError::failed(
                    format!("cannot open {}", self.log_file.display()),
                    Some(Box::new(e)),
                )
            })?;
        let log_err = log.try_clone().map_err(|e| {
            ClusterError::failed("cannot duplicate the log file handle", Some(Box::new(e)))
        })?;
        let mut cmd = Command::new(binary);
        cmd.arg(ini)
            .current_dir(&self.dir)
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        if let Some(user) = user {
            cmd.uid(user.uid).gid(user.gid);
        }
        cmd.spawn().map_err(|e| {
            ClusterError::failed(
                format!("cannot run {}", binary.display()),
                Some(Box::new(e)),
            )
        })
    }

    /// Waits until `port` accepts a TCP connection; `Err` says why not (the child exited, or
    /// the time ran out).
    fn wait_until_listening(&self, port: u16) -> Result<(), String> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + START_LIMIT;
        loop {
            if let Some(child) = self
                .child
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_mut()
            {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!("exited at start ({status})"));
                }
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "did not listen on port {port} within {} s",
                    START_LIMIT.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Pgbouncer {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!("{e}");
        }
    }
}

/// `pgbouncer.ini`: every database of the server on `server_port`, trust authentication for
/// the users of `userlist`, no Unix socket, the options' settings.
fn config(server_port: u16, port: u16, userlist: &Path, options: &PgbouncerOptions) -> String {
    let mut ini = format!(
        "; Written by orm-testing for a throwaway pgbouncer.\n\
         [databases]\n\
         * = host=127.0.0.1 port={server_port}\n\
         \n\
         [pgbouncer]\n\
         listen_addr = 127.0.0.1\n\
         listen_port = {port}\n\
         unix_socket_dir =\n\
         pidfile = {}\n\
         auth_type = trust\n\
         auth_file = {}\n\
         admin_users = postgres\n\
         log_connections = 0\n\
         log_disconnections = 0\n",
        userlist.with_file_name("pgbouncer.pid").display(),
        userlist.display()
    );
    for (name, value) in &options.settings {
        ini.push_str(&format!("{name} = {value}\n"));
    }
    ini
}

/// Writes a file the pgbouncer user can read.
fn write_file(path: &Path, contents: &str, user: Option<ServerUser>) -> Result<(), ClusterError> {
    fs::write(path, contents).map_err(|e| {
        ClusterError::failed(
            format!("cannot write {}", path.display()),
            Some(Box::new(e)),
        )
    })?;
    if let Some(user) = user {
        chown(path, user)?;
    }
    Ok(())
}

/// The `pgbouncer` binary of this machine; see [`find_pgbouncer`].
fn pgbouncer_binary() -> Result<PathBuf, ClusterError> {
    find_pgbouncer(
        std::env::var_os(PGBOUNCER_ENV),
        std::env::var_os("PATH"),
        &KNOWN_PLACES,
    )
}

/// The `pgbouncer` binary: `ORM_PGBOUNCER`, then `PATH`, then the `known` places.
fn find_pgbouncer(
    env_path: Option<OsString>,
    path: Option<OsString>,
    known: &[&str],
) -> Result<PathBuf, ClusterError> {
    if let Some(path) = env_path.filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if is_executable(&path) {
            return Ok(path);
        }
        return Err(ClusterError::NoPgbouncer {
            message: format!(
                "{PGBOUNCER_ENV}={} is not an executable file; {INSTALL_HINT}",
                path.display()
            ),
        });
    }
    let on_path: Vec<PathBuf> = path
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("pgbouncer"))
                .collect()
        })
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain(known.iter().map(PathBuf::from))
        .find(|p| is_executable(p))
        .ok_or_else(|| ClusterError::NoPgbouncer {
            message: format!(
                "no `pgbouncer` binary found on PATH or in {}; {INSTALL_HINT}",
                known.join(", ")
            ),
        })
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn a_missing_binary_says_what_to_install() {
        let empty = std::env::temp_dir().join(format!("orm-pgbouncer-none-{}", std::process::id()));
        fs::create_dir_all(&empty).expect("mkdir");
        let err = find_pgbouncer(None, Some(empty.clone().into_os_string()), &[])
            .expect_err("none there");
        assert!(matches!(err, ClusterError::NoPgbouncer { .. }));
        assert!(
            err.to_string().contains("apt-get install pgbouncer"),
            "{err}"
        );
        let err = find_pgbouncer(Some(empty.join("pgbouncer").into_os_string()), None, &[])
            .expect_err("not a binary");
        assert!(err.to_string().contains(PGBOUNCER_ENV), "{err}");
        fs::remove_dir_all(&empty).expect("rmdir");
    }

    #[test]
    fn pgbouncer_serves_the_cluster_and_stop_removes_it() {
        let cluster = crate::shared().expect("the shared cluster");
        let bouncer = match Pgbouncer::start(cluster) {
            Ok(b) => b,
            Err(e @ ClusterError::NoPgbouncer { .. }) => {
                eprintln!("SKIPPED: {e}");
                return;
            }
            Err(e) => panic!("{e}"),
        };
        assert_ne!(bouncer.port(), cluster.port());
        assert_eq!(
            bouncer.url("postgres"),
            format!("postgres://postgres@127.0.0.1:{}/postgres", bouncer.port())
        );
        // An SSLRequest: pgbouncer, like a server, answers with one byte (`N`: no TLS here).
        let mut stream =
            TcpStream::connect((Ipv4Addr::LOCALHOST, bouncer.port())).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        std::io::Write::write_all(&mut stream, &[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
            .expect("write");
        let mut answer = [0u8; 1];
        stream.read_exact(&mut answer).expect("read");
        assert_eq!(&answer, b"N");
        drop(stream);
        let ini = fs::read_to_string(bouncer.dir.join("pgbouncer.ini")).expect("ini");
        assert!(ini.contains("pool_mode = transaction"), "{ini}");
        assert!(ini.contains("default_pool_size = 2"), "{ini}");

        let dir = bouncer.dir.clone();
        bouncer.stop().expect("stop");
        assert!(!dir.exists(), "{} still exists", dir.display());
        assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, bouncer.port())).is_err());
        bouncer.stop().expect("stop is idempotent");
    }

    #[test]
    fn later_settings_replace_earlier_ones() {
        let o = PgbouncerOptions::new()
            .pool_size(5)
            .pool_mode("session")
            .setting("x", "1");
        let ini = config(5432, 6432, Path::new("/tmp/u.txt"), &o);
        assert!(ini.contains("default_pool_size = 5\n"), "{ini}");
        assert!(!ini.contains("default_pool_size = 2"), "{ini}");
        assert!(ini.contains("pool_mode = session\n"), "{ini}");
        assert!(ini.contains("x = 1\n"), "{ini}");
        assert!(ini.contains("* = host=127.0.0.1 port=5432\n"), "{ini}");
    }
}
