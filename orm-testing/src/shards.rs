//! Several independent clusters at once, the servers of a sharded database
//! ([`LocalCluster::start_many`]).

use crate::{ClusterError, ClusterOptions, LocalCluster};

impl LocalCluster {
    /// Starts `n` independent clusters (each its own temporary directory and free port of
    /// `127.0.0.1`), in parallel: the servers of a sharded database's tests. Each is stopped
    /// and removed like any cluster.
    ///
    /// # Errors
    ///
    /// The first [`ClusterError`] of a cluster that failed to start (the others are stopped
    /// and removed as they are dropped).
    pub fn start_many(
        n: usize,
        options: &ClusterOptions,
    ) -> Result<Vec<LocalCluster>, ClusterError> {
        std::thread::scope(|scope| {
            let starts: Vec<_> = (0..n)
                .map(|_| scope.spawn(|| LocalCluster::start_with(options.clone())))
                .collect();
            starts
                .into_iter()
                .map(|s| {
                    s.join().unwrap_or_else(|_| {
                        Err(ClusterError::failed(
                            "the thread starting a cluster panicked",
                            None,
                        ))
                    })
                })
                .collect()
        })
    }
}
