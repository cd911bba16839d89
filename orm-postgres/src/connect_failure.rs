//! Where opening a connection failed: [`ConnectFailure`], every address tried, in the order
//! tried, each with its own reason, reported as libpq reports them:
//!
//! ```text
//! connection to server at "db1.example" (10.0.0.1), port 5432 failed: Connection refused (os error 111)
//! connection to server at "db2.example" (10.0.0.2), port 5433 failed: timeout expired (connect_timeout 10s)
//! connection to server on socket "/run/postgresql/.s.PGSQL.5432" failed: ...
//! ```
//!
//! The connector records each failed attempt (a [`Failed`]); the connection's caller turns the
//! list into the [`ErrorKind::Connect`] error (`driver_error.rs`). The pool's connections go
//! through deadpool, which carries only the driver's error of the last attempt: the connector
//! leaves the earlier ones [`pending`](stash) on its thread, and the checkout that gets the
//! pool's error takes them back (see [`stash`]).

use std::cell::RefCell;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use deadpool_postgres::tokio_postgres;

use crate::{Error, ErrorKind};

/// Why opening a connection failed: each address tried (each host of the list, each address
/// of a host name), in the order tried, with its own error. The source of the
/// [`ErrorKind::Connect`] error of a connection the database opened (from the pool, a
/// [`Listener`](crate::Listener), [`Database::ping`](crate::Database::ping)); reach it with
/// [`ConnectFailure::of`].
///
/// The error itself is classified by the **last** attempt, as libpq's is: its
/// [`sqlstate`](Error::sqlstate) and [`db_error`](Error::db_error) are the last attempt's
/// server error, if the last server answered, and [`TlsError::of`](crate::TlsError::of) the last
/// attempt's TLS failure; the earlier attempts' reasons are in [`attempts`](Self::attempts)
/// (each with its own [`error`](ConnectAttempt::error), whose `sqlstate()` and
/// `TlsError::of` say the same of that attempt). The error's message lists every attempt, one
/// line each, as `Display` of this type does.
///
/// ```no_run
/// # use orm_postgres::{ConnectFailure, Database};
/// # async fn run() {
/// let url = "postgres://app@db1:5432,db2:5433/app?target_session_attrs=read-write";
/// if let Err(err) = Database::builder(url).connect().await {
///     // cannot connect to the database: connection to server at "db1" (10.0.0.1), port 5432 failed: ...
///     // connection to server at "db2" (10.0.0.2), port 5433 failed: ...
///     eprintln!("{err}");
///     for attempt in ConnectFailure::of(&err).map(|f| f.attempts()).unwrap_or_default() {
///         eprintln!("{}:{} {:?}: {}", attempt.host(), attempt.port(), attempt.address(), attempt.reason());
///     }
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct ConnectFailure {
    /// Never empty.
    attempts: Vec<ConnectAttempt>,
}

impl ConnectFailure {
    /// The `ConnectFailure` behind an [`ErrorKind::Connect`] error, when it comes from opening
    /// a connection (not from a cancel request, or a pool that could not be built).
    pub fn of(err: &Error) -> Option<&ConnectFailure> {
        match err.kind() {
            ErrorKind::Connect {
                source: Some(source),
                ..
            } => source.downcast_ref(),
            _ => None,
        }
    }

    /// Every attempt, in the order made; the last one decided the error's classification.
    pub fn attempts(&self) -> &[ConnectAttempt] {
        &self.attempts
    }
}

impl fmt::Display for ConnectFailure {
    /// One line per attempt, as libpq's message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, attempt) in self.attempts.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            fmt::Display::fmt(attempt, f)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConnectFailure {
    /// The last attempt's cause: the driver's error, or the [`TlsError`](crate::TlsError).
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.attempts
            .last()
            .and_then(|a| std::error::Error::source(&a.error))
    }
}

/// One address tried while opening a connection, and why it failed (see [`ConnectFailure`]).
/// `Display` is its line of the error's message: `connection to server at "db1" (10.0.0.1),
/// port 5432 failed: Connection refused (os error 111)`.
#[derive(Debug)]
pub struct ConnectAttempt {
    place: Place,
    reason: String,
    timed_out: bool,
    error: Error,
}

impl ConnectAttempt {
    /// The host as the connection string wrote it: a name, an IP address, or the directory of
    /// a Unix socket.
    pub fn host(&self) -> &str {
        &self.place.host
    }

    /// The address connected to: the host name's address tried (a name with several is tried
    /// at each, one attempt each), `hostaddr`, or the host itself when it is an IP address.
    /// `None` for a Unix socket, and for a name whose lookup found nothing (the reason says
    /// why).
    pub fn address(&self) -> Option<IpAddr> {
        self.place.address
    }

    /// The port (for a Unix socket, the number in its name `.s.PGSQL.<port>`).
    pub fn port(&self) -> u16 {
        self.place.port
    }

    /// Whether this attempt was on a Unix-domain socket.
    pub fn is_socket(&self) -> bool {
        self.place.socket
    }

    /// Whether `connect_timeout` passed before the server answered (or before the host name
    /// was looked up): a host that is down behind a firewall, or that accepts connections
    /// and never answers.
    pub fn timed_out(&self) -> bool {
        self.timed_out
    }

    /// Why it failed, without the place: `Connection refused (os error 111)`, the server's
    /// message (`password authentication failed for user "app" (SQLSTATE 28P01)`), a TLS
    /// failure, `timeout expired (connect_timeout 10s)`, `database does not allow writes`
    /// (a standby, under `target_session_attrs=read-write`), ...
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// This attempt's own [`ErrorKind::Connect`] error (its message is this attempt's line):
    /// [`sqlstate`](Error::sqlstate) when the server answered, [`TlsError::of`](crate::TlsError::of)
    /// for a failed handshake, the driver's error as its source.
    pub fn error(&self) -> &Error {
        &self.error
    }
}

impl fmt::Display for ConnectAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.place, self.reason)
    }
}

/// Where one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    /// As written: a name, an address, or a socket directory.
    pub(crate) host: String,
    pub(crate) address: Option<IpAddr>,
    pub(crate) port: u16,
    pub(crate) socket: bool,
    /// Whether the host name's lookup failed (before any connection).
    pub(crate) lookup: bool,
}

impl fmt::Display for Place {
    /// libpq's words for it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lookup {
            return write!(f, "looking up host name \"{}\"", self.host);
        }
        if self.socket {
            let dir = self.host.trim_end_matches('/');
            return write!(
                f,
                "connection to server on socket \"{dir}/.s.PGSQL.{}\"",
                self.port
            );
        }
        write!(f, "connection to server at \"{}\"", self.host)?;
        match self.address {
            Some(address) if address.to_string() != self.host => write!(f, " ({address})")?,
            _ => {}
        }
        write!(f, ", port {}", self.port)
    }
}

/// The time limit that ended an attempt: `connect_timeout` (when the connection has one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeout(pub(crate) Option<Duration>);

impl fmt::Display for Timeout {
    /// libpq's words, with the limit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timeout expired")?;
        match self.0 {
            Some(limit) => write!(f, " (connect_timeout {limit:?})"),
            None => Ok(()),
        }
    }
}

/// Every failed attempt of one connect, as the connector records them: never empty.
#[derive(Debug)]
pub(crate) struct Failures {
    /// The attempts before the last, in order.
    pub(crate) earlier: Vec<Failed>,
    /// The last attempt, which classifies the error.
    pub(crate) last: Failed,
}

/// One failed attempt, as the connector records it.
#[derive(Debug)]
pub(crate) struct Failed {
    pub(crate) place: Place,
    /// The driver's error (for a timeout of the connector's, the driver's timeout error).
    pub(crate) error: tokio_postgres::Error,
    /// The connector's time limit, when that ended the attempt.
    pub(crate) timeout: Option<Timeout>,
}

impl ConnectAttempt {
    /// An attempt at `place`, its reason and its own error (classified by the caller).
    pub(crate) fn new(place: Place, reason: String, timed_out: bool, error: Error) -> Self {
        ConnectAttempt {
            place,
            reason,
            timed_out,
            error,
        }
    }

    /// The place's line with `reason`: the message of the attempt's own error.
    pub(crate) fn line(place: &Place, reason: &str) -> String {
        format!("{place} failed: {reason}")
    }
}

/// The one error of a failed connect: the attempts' lines as its message, the last attempt's
/// server error as its own, the attempts as its source.
pub(crate) fn error(attempts: Vec<ConnectAttempt>) -> Error {
    let message = attempts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    let db = attempts
        .last()
        .and_then(|a| a.error.db_error())
        .map(|db| Box::new(db.clone()));
    ErrorKind::Connect {
        message,
        db,
        source: Some(Box::new(ConnectFailure { attempts })),
    }
    .into()
}

/// The attempts of a pool connection that failed, but its last, whose driver error deadpool
/// carries to the checkout.
pub(crate) struct Pending {
    /// The attempts before the last, classified.
    pub(crate) earlier: Vec<ConnectAttempt>,
    /// Where the last attempt went, and the connector's limit if that ended it.
    pub(crate) last: Place,
    pub(crate) timeout: Option<Timeout>,
    /// `Display` of the last attempt's driver error: the checkout's error must be it.
    fingerprint: String,
}

thread_local! {
    /// The failed pool connection's attempts, between the connector that failed and the
    /// checkout that gets deadpool's error.
    static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
}

/// Leaves a failed pool connection's attempts for the checkout, before its connector returns
/// `last`, the driver's error of its last attempt, to deadpool.
///
/// Deadpool opens a pool's connection inside the checkout's future (`Pool::timeout_get`, no
/// task of its own) and returns the connector's error from it in the same poll, with no await
/// in between: the checkout that turns that error into ours ([`take`]) runs next, on this
/// thread, before anything else does. The fingerprint guards the hand-over anyway: a pending
/// list is taken only with the error it was left with.
pub(crate) fn stash(
    earlier: Vec<ConnectAttempt>,
    last: Place,
    timeout: Option<Timeout>,
    error: &tokio_postgres::Error,
) {
    let pending = Pending {
        earlier,
        last,
        timeout,
        fingerprint: error.to_string(),
    };
    PENDING.with(|slot| *slot.borrow_mut() = Some(pending));
}

/// Forgets what a failed pool connection left (when its connector fails for another reason).
pub(crate) fn clear() {
    PENDING.with(|slot| slot.borrow_mut().take());
}

/// The attempts [`stash`] left with `error`, if it left any.
pub(crate) fn take(error: &tokio_postgres::Error) -> Option<Pending> {
    let pending = PENDING.with(|slot| slot.borrow_mut().take())?;
    (pending.fingerprint == error.to_string()).then_some(pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(host: &str, address: Option<IpAddr>, port: u16) -> Place {
        Place {
            host: host.to_owned(),
            address,
            port,
            socket: false,
            lookup: false,
        }
    }

    #[test]
    fn places_are_written_as_libpq_writes_them() {
        let ip = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(
            place("db1.example", Some(ip), 5432).to_string(),
            "connection to server at \"db1.example\" (10.0.0.1), port 5432"
        );
        // An IP address host is not repeated.
        assert_eq!(
            place("10.0.0.1", Some(ip), 5433).to_string(),
            "connection to server at \"10.0.0.1\", port 5433"
        );
        assert_eq!(
            place("db1.example", None, 5432).to_string(),
            "connection to server at \"db1.example\", port 5432"
        );
        let socket = Place {
            socket: true,
            ..place("/run/postgresql/", None, 5432)
        };
        assert_eq!(
            socket.to_string(),
            "connection to server on socket \"/run/postgresql/.s.PGSQL.5432\""
        );
        let lookup = Place {
            lookup: true,
            ..place("db.example", None, 5432)
        };
        assert_eq!(lookup.to_string(), "looking up host name \"db.example\"");
    }

    #[test]
    fn a_pending_list_is_taken_once_and_only_with_its_own_error() {
        let timeout = tokio_postgres::Error::__private_api_timeout();
        stash(Vec::new(), place("h", None, 1), None, &timeout);
        assert!(take(&timeout).is_some());
        assert!(take(&timeout).is_none());
        clear();
        assert!(take(&timeout).is_none());
    }
}
