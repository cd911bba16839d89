//! [`ClusterOptions`]: what a test adds to a [`LocalCluster`](crate::LocalCluster) of its own —
//! server settings, files in the data directory (certificates), `pg_hba.conf` lines, a Unix
//! socket directory.

use std::path::{Path, PathBuf};

/// Extra configuration for [`LocalCluster::start_with`](crate::LocalCluster::start_with).
///
/// A cluster with TLS and a client-certificate rule, also listening on a socket directory:
///
/// ```no_run
/// use orm_testing::{ClusterOptions, LocalCluster};
///
/// # fn run(cert_pem: &str, key_pem: &str, ca_pem: &str) -> Result<(), orm_testing::ClusterError> {
/// let sockets = std::env::temp_dir().join("my-test-sockets");
/// std::fs::create_dir_all(&sockets).unwrap();
/// let cluster = LocalCluster::start_with(
///     ClusterOptions::new()
///         .file("server.crt", cert_pem)
///         .file("server.key", key_pem)
///         .file("root.crt", ca_pem)
///         .setting("ssl", "on")
///         .setting("ssl_cert_file", "server.crt")
///         .setting("ssl_key_file", "server.key")
///         .setting("ssl_ca_file", "root.crt")
///         .hba_line("hostssl all certuser 127.0.0.1/32 cert")
///         .unix_socket_dir(&sockets),
/// )?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    pub(crate) settings: Vec<(String, String)>,
    pub(crate) files: Vec<(String, Vec<u8>)>,
    pub(crate) hba: Vec<String>,
    pub(crate) socket_dir: Option<PathBuf>,
}

impl ClusterOptions {
    /// No extra configuration: what [`LocalCluster::start`](crate::LocalCluster::start) uses.
    pub fn new() -> ClusterOptions {
        ClusterOptions::default()
    }

    /// A server setting, appended to `postgresql.conf` (`name = 'value'`); relative file
    /// names in settings such as `ssl_cert_file` are relative to the data directory.
    pub fn setting(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.push((name.into(), value.into()));
        self
    }

    /// A file written into the data directory before the server starts, readable by the
    /// server only (mode 0600, owned by the server's user), as PostgreSQL wants its key files.
    pub fn file(mut self, name: impl Into<String>, contents: impl AsRef<[u8]>) -> Self {
        self.files.push((name.into(), contents.as_ref().to_vec()));
        self
    }

    /// A `pg_hba.conf` line, placed before the cluster's own lines (the first matching line
    /// wins), e.g. `hostssl all certuser 127.0.0.1/32 cert`.
    pub fn hba_line(mut self, line: impl Into<String>) -> Self {
        self.hba.push(line.into());
        self
    }

    /// Also listen on a Unix-domain socket in `dir` (which must exist; when this process is
    /// root, it is handed to the server's user). Every role is trusted there unless an
    /// [`hba_line`](Self::hba_line) says otherwise.
    pub fn unix_socket_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.socket_dir = Some(dir.as_ref().to_owned());
        self
    }
}
