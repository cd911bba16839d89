//! Off Unix: the same API, where starting a cluster fails with [`ClusterError::Unsupported`].

use std::convert::Infallible;
use std::path::Path;

use crate::{ClusterError, ClusterOptions};

/// A throwaway PostgreSQL cluster. Needs Unix: here, [`LocalCluster::start`] fails with
/// [`ClusterError::Unsupported`], so no value of this type exists.
#[derive(Debug)]
pub struct LocalCluster {
    never: Infallible,
}

impl LocalCluster {
    /// Fails with [`ClusterError::Unsupported`]: the local cluster needs Unix.
    ///
    /// # Errors
    ///
    /// Always [`ClusterError::Unsupported`].
    pub fn start() -> Result<LocalCluster, ClusterError> {
        Err(ClusterError::Unsupported)
    }

    /// Fails with [`ClusterError::Unsupported`]: the local cluster needs Unix.
    ///
    /// # Errors
    ///
    /// Always [`ClusterError::Unsupported`].
    pub fn start_with(_options: ClusterOptions) -> Result<LocalCluster, ClusterError> {
        Err(ClusterError::Unsupported)
    }

    /// The Unix socket directory the server also listens on.
    pub fn socket_dir(&self) -> Option<&Path> {
        match self.never {}
    }

    /// The connection URL of `database` as the superuser `postgres`.
    pub fn url(&self, _database: &str) -> String {
        match self.never {}
    }

    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        match self.never {}
    }

    /// The cluster's data directory.
    pub fn data_dir(&self) -> &Path {
        match self.never {}
    }

    /// The server log.
    pub fn log_file(&self) -> &Path {
        match self.never {}
    }

    /// Restarts the server.
    ///
    /// # Errors
    ///
    /// Never: no cluster exists to restart.
    pub fn restart(&self, _mode: Shutdown) -> Result<(), ClusterError> {
        match self.never {}
    }

    /// Stops the server and removes its directory.
    ///
    /// # Errors
    ///
    /// Never: no cluster exists to stop.
    pub fn stop(&self) -> Result<(), ClusterError> {
        match self.never {}
    }

    /// Starts a streaming replica.
    ///
    /// # Errors
    ///
    /// Never: no cluster exists to copy.
    pub fn start_replica(&self, _options: ClusterOptions) -> Result<LocalCluster, ClusterError> {
        match self.never {}
    }

    /// Stops the server, keeping its directory.
    ///
    /// # Errors
    ///
    /// Never: no cluster exists to stop.
    pub fn halt(&self) -> Result<(), ClusterError> {
        match self.never {}
    }

    /// Starts a halted server again.
    ///
    /// # Errors
    ///
    /// Never: no cluster exists to start.
    pub fn resume(&self) -> Result<(), ClusterError> {
        match self.never {}
    }

    /// Promotes a replica.
    ///
    /// # Errors
    ///
    /// Never: no cluster exists to promote.
    pub fn promote(&self) -> Result<(), ClusterError> {
        match self.never {}
    }

    /// Stops the server's processes.
    ///
    /// # Errors
    ///
    /// Never: no cluster exists to freeze.
    pub fn freeze(&self) -> Result<Frozen, ClusterError> {
        match self.never {}
    }
}

/// A frozen server (off Unix: none can exist).
#[derive(Debug)]
pub struct Frozen {
    never: Infallible,
}

impl Frozen {
    /// How many processes are stopped.
    pub fn processes(&self) -> usize {
        match self.never {}
    }

    /// Resumes the processes.
    pub fn thaw(self) {
        match self.never {}
    }
}

/// How a server is shut down for a restart (off Unix: no server to restart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// `-m fast`.
    Fast,
    /// `-m immediate`.
    Immediate,
}

/// The one cluster of this process: off Unix, always [`ClusterError::Unsupported`].
///
/// # Errors
///
/// Always [`ClusterError::Unsupported`].
pub fn shared() -> Result<&'static LocalCluster, ClusterError> {
    Err(ClusterError::Unsupported)
}
