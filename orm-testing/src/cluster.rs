//! The cluster's process lifecycle: `initdb`, `pg_hba.conf`, `pg_ctl start` on a free port of
//! `127.0.0.1`, `pg_ctl stop`.

use std::fs;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use crate::binaries::server_bin_dir;
use crate::cleanup::{kill_postmaster, remove_dir, spawn_watchdog};
use crate::output::{combined, percent_encode, read_from, tail};
use crate::server_user::{ServerUser, chown, create_temp_dir, server_user};
use crate::{ClusterError, ClusterOptions};

/// How many times the server start is tried with a new port when the port was taken meanwhile.
const START_ATTEMPTS: usize = 5;

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

/// A throwaway PostgreSQL cluster in a temporary directory, listening on `127.0.0.1`.
///
/// Stopped and removed by [`LocalCluster::stop`] or on drop. Use [`shared`](crate::shared) for the
/// one cluster of the process.
#[derive(Debug)]
pub struct LocalCluster {
    /// The temporary directory: holds `data/` and `log`.
    pub(crate) dir: PathBuf,
    pub(crate) data_dir: PathBuf,
    pub(crate) log_file: PathBuf,
    pub(crate) bin_dir: PathBuf,
    pub(crate) port: u16,
    /// The user the server runs as, when this process is root.
    user: Option<ServerUser>,
    /// The Unix socket directory, when the cluster listens on one.
    pub(crate) socket_dir: Option<PathBuf>,
    /// `true` once stopped and removed.
    stopped: Mutex<bool>,
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
    /// [`ClusterError::NoServerBinaries`] when no server binaries are found (the message says
    /// what to install); [`ClusterError::Failed`] when running as root without a `postgres`
    /// system user, or when `initdb` or the server fails (the message carries the end of their
    /// output or of the server log).
    pub fn start() -> Result<LocalCluster, ClusterError> {
        LocalCluster::start_with(ClusterOptions::new())
    }

    /// Like [`start`](Self::start), with extra configuration: server settings (`ssl = on`),
    /// files in the data directory (certificates and keys), `pg_hba.conf` lines, a Unix
    /// socket directory (see [`ClusterOptions`]).
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start); also [`ClusterError::Failed`] when a socket directory holds
    /// characters the server's command line cannot carry (quotes, spaces) or a file cannot be
    /// written.
    pub fn start_with(options: ClusterOptions) -> Result<LocalCluster, ClusterError> {
        LocalCluster::create(&options, LocalCluster::initdb)
    }

    /// A new cluster in a new temporary directory, its data directory made by `init`, then
    /// configured with `options` and started on a free port.
    pub(crate) fn create(
        options: &ClusterOptions,
        init: impl FnOnce(&LocalCluster) -> Result<(), ClusterError>,
    ) -> Result<LocalCluster, ClusterError> {
        let began = Instant::now();
        if let Some(dir) = &options.socket_dir {
            let text = dir.to_string_lossy();
            if text.contains(['\'', '"', ' ', '\\']) || !dir.is_absolute() {
                return Err(ClusterError::failed(
                    format!(
                        "the socket directory {} must be an absolute path without quotes or spaces",
                        dir.display()
                    ),
                    None,
                ));
            }
        }
        let bin_dir = server_bin_dir()?;
        let user = server_user()?;
        let dir = create_temp_dir(user)?;
        let mut cluster = LocalCluster {
            data_dir: dir.join("data"),
            log_file: dir.join("log"),
            dir,
            bin_dir,
            port: 0,
            user,
            socket_dir: options.socket_dir.clone(),
            stopped: Mutex::new(false),
        };
        // From here on, dropping `cluster` (on any error) stops the server and removes the
        // directory; the watchdog does the same if this process dies.
        // pg_ctl refuses root: as root, the watchdog stops the server with signals.
        let pg_ctl = cluster.bin_dir.join("pg_ctl");
        spawn_watchdog(
            &cluster.dir,
            &cluster.data_dir,
            cluster.user.is_none().then_some(pg_ctl.as_path()),
        )?;
        init(&cluster)?;
        cluster.write_config(options)?;
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

    /// The Unix socket directory the server also listens on, when
    /// [`ClusterOptions::unix_socket_dir`] asked for one.
    pub fn socket_dir(&self) -> Option<&Path> {
        self.socket_dir.as_deref()
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

    /// Restarts the server on the same port, shutting it down in `mode` first: what an
    /// operator's restart ([`Shutdown::Fast`]) or a crash ([`Shutdown::Immediate`]) does to the
    /// clients. Returns once the server accepts connections again.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Failed`] when `pg_ctl restart` fails (with the end of the server log).
    pub fn restart(&self, mode: Shutdown) -> Result<(), ClusterError> {
        let log_start = fs::metadata(&self.log_file).map_or(0, |m| m.len());
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(&self.log_file)
            .args(["-m", mode.as_arg(), "-w", "-t", "60"])
            .args([
                "-o",
                &server_options(self.port, self.socket_dir.as_deref()),
                "restart",
            ])
            .output()
            .map_err(|e| ClusterError::failed("cannot run pg_ctl restart", Some(Box::new(e))))?;
        if out.status.success() {
            return Ok(());
        }
        Err(ClusterError::failed(
            format!(
                "`pg_ctl restart` failed ({}):\n{}\n--- end of the server log ---\n{}",
                out.status,
                tail(&combined(&out)),
                tail(&read_from(&self.log_file, log_start))
            ),
            None,
        ))
    }

    /// Stops the server (`pg_ctl stop -m immediate`) and removes the temporary directory.
    ///
    /// Idempotent: calling it again, or dropping the cluster afterwards, does nothing. Concurrent
    /// callers wait for the first one to finish.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Failed`] when the server could not be stopped or the directory not
    /// removed; a later call tries again.
    pub fn stop(&self) -> Result<(), ClusterError> {
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
            Err(ClusterError::failed(
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
    pub(crate) fn command(&self, program: &str) -> Command {
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

    /// `initdb` into `<dir>/data`.
    fn initdb(&self) -> Result<(), ClusterError> {
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
                ClusterError::failed(
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
        Err(ClusterError::failed(message, None))
    }

    /// Writes `pg_hba.conf` (initdb created it; overwriting keeps its owner and mode), the
    /// options' files and settings, and hands the socket directory to the server's user.
    fn write_config(&self, options: &ClusterOptions) -> Result<(), ClusterError> {
        let mut hba: String = options.hba.iter().map(|l| format!("{l}\n")).collect();
        hba.push_str(PG_HBA);
        if self.socket_dir.is_some() {
            hba.push_str("local   all          all                                trust\n");
        }
        self.write_file(&self.data_dir.join("pg_hba.conf"), hba.as_bytes(), None)?;
        for (name, contents) in &options.files {
            self.write_file(&self.data_dir.join(name), contents, Some(0o600))?;
        }
        if !options.settings.is_empty() {
            let path = self.data_dir.join("postgresql.conf");
            let mut conf = fs::read_to_string(&path).map_err(|e| {
                ClusterError::failed(format!("cannot read {}", path.display()), Some(Box::new(e)))
            })?;
            conf.push_str("\n# Added by orm-testing's ClusterOptions.\n");
            for (name, value) in &options.settings {
                conf.push_str(&format!("{name} = '{}'\n", value.replace('\'', "''")));
            }
            self.write_file(&path, conf.as_bytes(), None)?;
        }
        if let (Some(dir), Some(user)) = (&self.socket_dir, self.user) {
            chown(dir, user)?;
        }
        Ok(())
    }

    /// Writes a file of the data directory, owned by the server's user, with `mode` if given.
    fn write_file(
        &self,
        path: &Path,
        contents: &[u8],
        mode: Option<u32>,
    ) -> Result<(), ClusterError> {
        let failed = |e: std::io::Error| {
            ClusterError::failed(
                format!("cannot write {}", path.display()),
                Some(Box::new(e)),
            )
        };
        fs::write(path, contents).map_err(failed)?;
        if let Some(mode) = mode {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(failed)?;
        }
        if let Some(user) = self.user {
            chown(path, user)?;
        }
        Ok(())
    }

    /// `pg_ctl start` on a free port, again with a new port if that one was taken meanwhile.
    pub(crate) fn start_server(&mut self) -> Result<(), ClusterError> {
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
                .args([
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    &server_options(port, self.socket_dir.as_deref()),
                    "start",
                ])
                .output()
                .map_err(|e| {
                    ClusterError::failed(
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
            return Err(ClusterError::failed(
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

/// How [`LocalCluster::restart`] shuts the server down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// `-m fast`: every session is terminated (SQLSTATE 57P01), open transactions roll back,
    /// then a clean shutdown.
    Fast,
    /// `-m immediate`: the server processes quit at once, as in a crash; the next start
    /// recovers from the WAL.
    Immediate,
}

impl Shutdown {
    fn as_arg(self) -> &'static str {
        match self {
            Shutdown::Fast => "fast",
            Shutdown::Immediate => "immediate",
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

/// A port of 127.0.0.1 that was free a moment ago.
pub(crate) fn free_port() -> Result<u16, ClusterError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| ClusterError::failed("cannot find a free TCP port", Some(Box::new(e))))
}

/// The `-o` options of `pg_ctl start` (pg_ctl hands them to a shell, hence the quotes; the
/// socket directory was checked to hold no quote or space).
pub(crate) fn server_options(port: u16, socket_dir: Option<&Path>) -> String {
    let sockets = socket_dir.map_or_else(String::new, |d| d.display().to_string());
    format!(
        "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='{sockets}' \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
         -c max_connections=200 -c shared_buffers=64MB -c password_encryption=scram-sha-256"
    )
}
