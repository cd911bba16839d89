//! Streaming replicas of a [`LocalCluster`] and what an operator does to servers: a replica made
//! with `pg_basebackup -R`, a server stopped and started again on its port, a replica promoted.

use std::fs;
use std::time::Duration;

use crate::cluster::server_options;
use crate::output::{combined, output_within, read_from, tail};
use crate::{ClusterError, ClusterOptions, LocalCluster};

/// The longest a server binary run here may take (`pg_ctl` waits at most 60 s by itself).
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// The longest a server binary run here may take to connect to a server.
const CONNECT_LIMIT: Duration = Duration::from_secs(10);

impl LocalCluster {
    /// Starts a hot-standby streaming replica of this cluster in a new temporary directory, on a
    /// free port of `127.0.0.1`: `pg_basebackup -R -X stream` from this server, then the
    /// server started on the copy (it streams and replays this server's WAL, and answers
    /// read-only queries). `options` adds settings, e.g. `recovery_min_apply_delay`. Stopped
    /// and removed like any cluster (on drop, [`stop`](Self::stop), or by its watchdog).
    ///
    /// # Errors
    ///
    /// [`ClusterError::Failed`] when `pg_basebackup` or the server fails, with their output.
    pub fn start_replica(&self, options: ClusterOptions) -> Result<LocalCluster, ClusterError> {
        let primary_port = self.port.to_string();
        LocalCluster::create(&options, |replica| {
            replica.run(
                "pg_basebackup",
                &[
                    "-D",
                    &replica.data_dir.to_string_lossy(),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &primary_port,
                    "-U",
                    "postgres",
                    "-R",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                    "--no-sync",
                ],
            )
        })
    }

    /// Stops the server (`pg_ctl stop -m fast`) but keeps its directory, so that
    /// [`resume`](Self::resume) starts it again on the same port: a server that went away.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Failed`] when `pg_ctl stop` fails.
    pub fn halt(&self) -> Result<(), ClusterError> {
        let data = self.data_dir.to_string_lossy();
        self.run(
            "pg_ctl",
            &["-D", &data, "-m", "fast", "-w", "-t", "60", "stop"],
        )
    }

    /// Starts a server [`halt`](Self::halt)ed before, on its port.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Failed`] when `pg_ctl start` fails.
    pub fn resume(&self) -> Result<(), ClusterError> {
        let data = self.data_dir.to_string_lossy();
        let log = self.log_file.to_string_lossy();
        let options = server_options(self.port, self.socket_dir.as_deref());
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-w", "-t", "60", "-o", &options, "start",
            ],
        )
    }

    /// Promotes a replica to a primary (`pg_ctl promote -w`): it stops replaying and accepts
    /// writes.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Failed`] when `pg_ctl promote` fails (e.g. the server is no replica).
    pub fn promote(&self) -> Result<(), ClusterError> {
        let data = self.data_dir.to_string_lossy();
        self.run("pg_ctl", &["-D", &data, "-w", "-t", "60", "promote"])
    }

    /// Runs one of the server binaries to its end (at most [`RUN_LIMIT`], connecting within
    /// [`CONNECT_LIMIT`]: `pg_basebackup` has no limit of its own, and a frozen primary would
    /// hold it forever); an error with its output and the end of the server log unless it
    /// succeeds.
    fn run(&self, program: &str, args: &[&str]) -> Result<(), ClusterError> {
        let log_start = fs::metadata(&self.log_file).map_or(0, |m| m.len());
        let mut command = self.command(program);
        command
            .args(args)
            .env("PGCONNECT_TIMEOUT", CONNECT_LIMIT.as_secs().to_string());
        let out = output_within(&mut command, RUN_LIMIT).map_err(|e| {
            ClusterError::failed(
                format!("cannot run {}", self.bin_dir.join(program).display()),
                Some(Box::new(e)),
            )
        })?;
        let Some(out) = out else {
            return Err(ClusterError::failed(
                format!(
                    "`{program} {}` did not finish within {RUN_LIMIT:?}; stopped\n--- end of the server log ---\n{}",
                    args.join(" "),
                    tail(&read_from(&self.log_file, log_start))
                ),
                None,
            ));
        };
        if out.status.success() {
            return Ok(());
        }
        Err(ClusterError::failed(
            format!(
                "`{program} {}` failed ({}):\n{}\n--- end of the server log ---\n{}",
                args.join(" "),
                out.status,
                tail(&combined(&out)),
                tail(&read_from(&self.log_file, log_start))
            ),
            None,
        ))
    }
}
