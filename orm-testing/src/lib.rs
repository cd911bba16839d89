//! Databases for the tests and examples of `orm-postgres`: the server in `DATABASE_URL` when it is
//! set, otherwise a throwaway PostgreSQL cluster of the process.
//!
//! - [`test_database`] gives a test a fresh, empty database of its own, dropped with the guard.
//! - [`dev_database`] gives an example the default database.
//! - [`shared`] is the process's throwaway cluster itself, and [`LocalCluster`] one of your own.
//!
//! ```no_run
//! use orm_postgres::prelude::*;
//! # async fn run() -> orm_postgres::Result<()> {
//! // In a test: a database of its own, dropped when the guard is.
//! let t = orm_testing::test_database().await?;
//! t.db.batch_execute("CREATE TABLE t (id int PRIMARY KEY)").await?;
//!
//! // In an example: the default database (DATABASE_URL, or the local cluster's `postgres`).
//! let db = orm_testing::dev_database().await?;
//! # Ok(()) }
//! ```
//!
//! # The local cluster
//!
//! [`LocalCluster::start`] runs the server binaries of an installed PostgreSQL (`initdb`, `pg_ctl`,
//! `postgres`) on a fresh temporary directory: trust authentication, listening only on `127.0.0.1`
//! on a free port, `fsync=off`. [`shared`] starts one such cluster per process and makes sure it is
//! stopped and removed when the process ends, however it ends.
//!
//! The cluster needs Unix (child processes run as another user, `setsid`, `atexit`, signals). On
//! other platforms the crate compiles, and starting a cluster fails with
//! [`ClusterError::Unsupported`]: set `DATABASE_URL` there.
//!
//! ## Finding the server binaries
//!
//! In this order:
//! 1. the directory named by the environment variable `ORM_PG_BIN` ([`BIN_DIR_ENV`]; an error if
//!    it lacks one of the three binaries);
//! 2. the first directory on `PATH` whose `initdb` sits next to `pg_ctl` and `postgres` (symbolic
//!    links are followed to the real installation);
//! 3. `/usr/lib/postgresql/<version>/bin` (the Debian and Ubuntu layout), newest version first.
//!
//! When none is found, the error ([`ClusterError::NoServerBinaries`]) says what to install:
//! `apt-get install postgresql`.
//!
//! ## Running as root
//!
//! `initdb` and `postgres` refuse to run as root. When the process runs as root, the server
//! binaries run as the `postgres` system user (which the Debian package creates) and the temporary
//! directory belongs to that user.
//!
//! ## Authentication
//!
//! Every role is trusted on `127.0.0.1` and `::1`, except the role `orm_password_check`
//! ([`PASSWORD_CHECK_ROLE`]), which must give its password (`scram-sha-256`), so that tests can
//! check how a wrong password is reported. There is no Unix-domain socket, unless a cluster of a
//! test's own asks for one ([`ClusterOptions::unix_socket_dir`]); [`ClusterOptions`] also adds
//! server settings (`ssl = on`), certificate files and `pg_hba.conf` lines.
//!
//! ## Cleanup
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
//! let cluster = orm_testing::shared()?;
//! let url = cluster.url("postgres"); // postgres://postgres@127.0.0.1:<port>/postgres
//! # Ok::<(), orm_testing::ClusterError>(())
//! ```
//!
//! # pgbouncer
//!
//! [`Pgbouncer::start`] runs a throwaway pgbouncer (the binary of the Debian `pgbouncer` package,
//! or `ORM_PGBOUNCER`) in front of a [`LocalCluster`]: transaction pooling, two server
//! connections per database by default ([`PgbouncerOptions`]), on a free port of `127.0.0.1`, as
//! the `postgres` system user when root. It is killed on drop, and by a watchdog if the process
//! dies. When no binary is found the error is [`ClusterError::NoPgbouncer`], naming what to
//! install. Unix only.
//!
//! ```no_run
//! use orm_testing::{LocalCluster, Pgbouncer};
//!
//! let cluster = LocalCluster::start()?;
//! let bouncer = Pgbouncer::start(&cluster)?;
//! let url = format!("{}?statement_mode=unnamed", bouncer.url("postgres"));
//! # Ok::<(), orm_testing::ClusterError>(())
//! ```
//!
//! # Modules
//! - `binaries`: finding `initdb`, `pg_ctl` and `postgres`;
//! - `cluster`: the cluster's process lifecycle (initdb, configuration, start on a free port, stop);
//! - `options`: [`ClusterOptions`], what a test adds to a cluster of its own (settings, files,
//!   `pg_hba.conf` lines, a socket directory);
//! - `server_user`: running as the `postgres` user when root, and the cluster's temporary directory;
//! - `cleanup`: the one shared cluster of the process, its `atexit` handler, the watchdog after a
//!   panic or a kill, and stopping a server by hand;
//! - `pgbouncer`: [`Pgbouncer`], a throwaway pgbouncer in front of a cluster;
//! - `replica`: a streaming replica of a cluster ([`LocalCluster::start_replica`]), and
//!   stopping, resuming and promoting a server;
//! - `freeze`: a server that stops answering without going away ([`LocalCluster::freeze`]:
//!   every process `SIGSTOP`ped until the [`Frozen`] guard drops);
//! - `shards`: several independent clusters started at once ([`LocalCluster::start_many`]),
//!   the servers of a sharded database;
//! - `database`: the test and dev database API on top.

#![warn(missing_docs)]

#[cfg(unix)]
mod binaries;
#[cfg(unix)]
mod cleanup;
#[cfg(unix)]
mod cluster;
mod database;
mod error;
#[cfg(unix)]
mod freeze;
pub mod kit;
mod options;
#[cfg(unix)]
mod output;
#[cfg(unix)]
mod pgbouncer;
#[cfg(unix)]
mod replica;
#[cfg(unix)]
mod server_user;
#[cfg(unix)]
mod shards;
#[cfg(all(test, unix))]
mod tests;
#[cfg(not(unix))]
mod unsupported;

#[cfg(unix)]
pub use cleanup::shared;
#[cfg(unix)]
pub use cluster::{LocalCluster, Shutdown};
pub use database::{TestDatabase, dev_database, test_database};
pub use error::ClusterError;
#[cfg(unix)]
pub use freeze::Frozen;
pub use options::ClusterOptions;
#[cfg(unix)]
pub use pgbouncer::{PGBOUNCER_ENV, Pgbouncer, PgbouncerOptions};
#[cfg(not(unix))]
pub use unsupported::{Frozen, LocalCluster, Shutdown, shared};

/// Environment variable naming the directory that holds `initdb`, `pg_ctl` and `postgres`.
pub const BIN_DIR_ENV: &str = "ORM_PG_BIN";

/// Environment variable setting the [`StatementMode`](orm_postgres::StatementMode) of the
/// databases [`test_database`] makes: `cached` (the default) or `unnamed`.
pub const STATEMENT_MODE_ENV: &str = "ORM_TEST_STATEMENT_MODE";

/// The role that must authenticate with a password (`scram-sha-256`); every other role is trusted.
pub const PASSWORD_CHECK_ROLE: &str = "orm_password_check";
