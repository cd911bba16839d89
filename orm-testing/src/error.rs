//! [`ClusterError`]: what can go wrong with the local cluster, and how it reaches a test as an
//! [`orm_postgres::Error`].

use orm_postgres::{BoxError, ErrorKind};

/// Why the local PostgreSQL cluster could not be started, used or stopped.
///
/// The database functions of this crate ([`test_database`](crate::test_database),
/// [`dev_database`](crate::dev_database)) report it as an [`orm_postgres::Error`] of kind
/// [`ErrorKind::Connect`] (no server to connect to), with this error as its source; the
/// conversion is the `From` impl below, so `?` works in functions returning
/// `orm_postgres::Result`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// This platform cannot run the local cluster: it needs Unix.
    #[error(
        "local database: the throwaway PostgreSQL cluster needs Unix (it runs initdb and pg_ctl \
         as child processes, as the `postgres` user when root, with a watchdog shell); set \
         DATABASE_URL to a running server"
    )]
    Unsupported,
    /// No PostgreSQL server binaries were found; the message says what to install
    /// (`apt-get install postgresql`) or which setting to fix.
    #[error("local database: {message}")]
    NoServerBinaries {
        /// Where they were looked for, and what to do about it.
        message: String,
    },
    /// No `pgbouncer` binary was found for a [`Pgbouncer`](crate::Pgbouncer); the message says
    /// what to install (`apt-get install pgbouncer`) or which setting to fix.
    #[error("pgbouncer: {message}")]
    NoPgbouncer {
        /// Where it was looked for, and what to do about it.
        message: String,
    },
    /// Starting, using or stopping the cluster failed.
    #[error("local database: {message}")]
    Failed {
        /// What went wrong, and what to do about it.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
}

impl ClusterError {
    /// A [`ClusterError::Failed`].
    pub(crate) fn failed(message: impl Into<String>, source: Option<BoxError>) -> ClusterError {
        ClusterError::Failed {
            message: message.into(),
            source,
        }
    }

    /// The same error without its source (its text folded into the message), for callers after
    /// the first one of a start that is not retried.
    #[cfg(unix)]
    pub(crate) fn detached(&self) -> ClusterError {
        match self {
            ClusterError::Unsupported => ClusterError::Unsupported,
            ClusterError::NoServerBinaries { message } => ClusterError::NoServerBinaries {
                message: message.clone(),
            },
            ClusterError::NoPgbouncer { message } => ClusterError::NoPgbouncer {
                message: message.clone(),
            },
            ClusterError::Failed {
                message,
                source: Some(source),
            } => ClusterError::failed(format!("{message}: {source}"), None),
            ClusterError::Failed {
                message,
                source: None,
            } => ClusterError::failed(message.clone(), None),
        }
    }
}

/// No server to run the tests on: a [`ErrorKind::Connect`] whose message is this error's and whose
/// source is this error.
impl From<ClusterError> for orm_postgres::Error {
    fn from(e: ClusterError) -> orm_postgres::Error {
        ErrorKind::Connect {
            message: e.to_string(),
            db: None,
            source: Some(Box::new(e)),
        }
        .into()
    }
}
