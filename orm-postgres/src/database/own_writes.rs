//! Read-your-writes per client: the write mark a handle carries, and the token that carries
//! it to another process or request.
//!
//! A [`Database`] with replicas holds a write mark: when a connection it checked out for
//! anything but a plain read goes back to the pool, the mark records the time (and, lazily,
//! the primary's WAL position after it). Reads through the handle consult *its* mark
//! (`ReplicaSet::read` in `replicas.rs`). Clones share the mark; the handle the builder
//! returns, with its clones, is one client. [`Database::with_own_writes`] starts another
//! client (a fresh mark), [`Database::reads_after`] one whose mark starts at a
//! [`WriteToken`] (Rails' "last write" cookie, with the LSN instead of only a time), and
//! [`Database::last_write`] makes that token.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::conn::Watcher;
use crate::{Database, Error, ErrorKind, Result};

/// When a client last wrote, and the primary's WAL position after that write.
#[derive(Debug, Default)]
pub(crate) struct WriteMark {
    inner: Mutex<WriteInner>,
}

#[derive(Debug, Default)]
struct WriteInner {
    /// Bumped at every write.
    epoch: u64,
    /// When the last write finished, on this process's clock; `None`: no write (or one too
    /// old to place on it).
    at: Option<Instant>,
    /// The same, on the wall clock (for a token read in another process).
    wall: Option<SystemTime>,
    /// The primary's LSN read after the write of that epoch.
    lsn: Option<(u64, Lsn)>,
}

impl Watcher for WriteMark {
    /// A write just finished.
    fn released(&self) {
        let mut w = self.lock();
        w.epoch += 1;
        w.at = Some(Instant::now());
        w.wall = Some(SystemTime::now());
    }
}

impl WriteMark {
    /// A mark whose last write is the token's: placed on this process's clock by its age
    /// (a token from the future, another host's clock being ahead, counts as written now),
    /// with its LSN known.
    fn from_token(token: &WriteToken) -> WriteMark {
        // A time past what this platform's clock can hold is in the future too.
        let wall = UNIX_EPOCH.checked_add(Duration::from_millis(token.unix_ms));
        let age = wall
            .and_then(|wall| SystemTime::now().duration_since(wall).ok())
            .unwrap_or(Duration::ZERO);
        WriteMark {
            inner: Mutex::new(WriteInner {
                epoch: 1,
                at: Instant::now().checked_sub(age),
                wall: wall.or_else(|| Some(SystemTime::now())),
                lsn: Some((1, token.lsn)),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, WriteInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The epoch of the last write when it is younger than `window`.
    pub(crate) fn recent(&self, window: Duration) -> Option<u64> {
        let w = self.lock();
        w.at.filter(|at| at.elapsed() < window).map(|_| w.epoch)
    }

    /// The epoch and wall-clock time of the last write, however old.
    fn last(&self) -> Option<(u64, SystemTime)> {
        let w = self.lock();
        w.wall.map(|wall| (w.epoch, wall))
    }

    /// The LSN read after the write of `epoch`, when it was read.
    pub(crate) fn lsn(&self, epoch: u64) -> Option<Lsn> {
        let w = self.lock();
        w.lsn.filter(|(e, _)| *e == epoch).map(|(_, l)| l)
    }

    /// Records the LSN read after the write of `epoch` (unless a later write came since).
    pub(crate) fn set_lsn(&self, epoch: u64, lsn: Lsn) {
        let mut w = self.lock();
        if w.epoch == epoch {
            w.lsn = Some((epoch, lsn));
        }
    }
}

/// A WAL position (`pg_lsn`): printed and parsed as PostgreSQL does, `XXXXXXXX/XXXXXXXX` in
/// hexadecimal, each half at most 8 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Lsn(pub(crate) u64);

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

impl FromStr for Lsn {
    type Err = &'static str;

    fn from_str(s: &str) -> std::result::Result<Lsn, &'static str> {
        let (hi, lo) = s.split_once('/').ok_or("the LSN has no `/`")?;
        let half = |h: &str| {
            if h.is_empty() || h.len() > 8 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err("each half of the LSN must be 1 to 8 hexadecimal digits");
            }
            u64::from_str_radix(h, 16).map_err(|_| "the LSN is not hexadecimal")
        };
        Ok(Lsn(half(hi)? << 32 | half(lo)?))
    }
}

/// Where a client's last write left the primary: its WAL position after the write, and when.
/// Carry it across processes or requests (a cookie, a header, a job's payload) as text, and
/// give it to [`Database::reads_after`] so that the reads it serves see that write.
///
/// The text is `<lsn>@<unix ms>`, e.g. `0/16B3748@1764880000000`: `FromStr` takes back what
/// `Display` printed, and anything else is an
/// [`InvalidWriteToken`](crate::ErrorKind::InvalidWriteToken) error. It is not secret, and
/// not signed: a forged token can only send its bearer's reads to the primary for the
/// read-your-writes window.
///
/// ```
/// use orm_postgres::WriteToken;
///
/// let token: WriteToken = "0/16B3748@1764880000000".parse()?;
/// assert_eq!(token.to_string(), "0/16B3748@1764880000000");
/// assert!("0/16B3748".parse::<WriteToken>().is_err());
/// # Ok::<(), orm_postgres::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WriteToken {
    lsn: Lsn,
    /// Milliseconds since the Unix epoch, on the clock of the process that wrote.
    unix_ms: u64,
}

impl fmt::Display for WriteToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.lsn, self.unix_ms)
    }
}

impl FromStr for WriteToken {
    type Err = Error;

    fn from_str(s: &str) -> Result<WriteToken> {
        let invalid = |reason| Error::from(ErrorKind::InvalidWriteToken { reason });
        let (lsn, ms) = s
            .split_once('@')
            .ok_or_else(|| invalid("expected `<lsn>@<unix ms>`"))?;
        let lsn = lsn.parse::<Lsn>().map_err(invalid)?;
        if ms.is_empty() || ms.len() > 20 || !ms.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("the time must be 1 to 20 decimal digits"));
        }
        let unix_ms = ms
            .parse::<u64>()
            .map_err(|_| invalid("the time is out of range"))?;
        Ok(WriteToken { lsn, unix_ms })
    }
}

impl Database {
    /// This database as a client of its own for read-your-writes: the returned handle (and
    /// its clones, sessions and transactions) marks its own writes, and its reads wait only
    /// for them (see [`ReadYourWrites`](crate::ReadYourWrites)); the writes of other handles
    /// do not hold its reads back, and its writes do not hold back theirs. Shares the pools.
    /// One per request or per user session in a web service, where the handle the builder
    /// returns is shared by every request: there, one client's write would send every
    /// request's reads to the primary for the window. Without replicas, the same database.
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # use orm_postgres::__doc_fixture::User;
    /// # async fn run(shared: Database) -> orm_postgres::Result<()> {
    /// let db = shared.with_own_writes(); // at the start of a request
    /// db.execute(update::<User>().set(User::email, None::<String>)).await?;
    /// let users = db.fetch_all(select::<User>()).await?; // sees the update
    /// # Ok(()) }
    /// ```
    pub fn with_own_writes(&self) -> Database {
        Database {
            writes: self.writes.as_ref().map(|_| Arc::default()),
            ..self.clone()
        }
    }

    /// This handle's last write as a [`WriteToken`] to carry to another process or request;
    /// `None` when it has not written (or the database has no replicas). Reads the primary's
    /// WAL position once per write, unless a read after the write already did.
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # use orm_postgres::__doc_fixture::User;
    /// # async fn run(shared: Database) -> orm_postgres::Result<()> {
    /// let db = shared.with_own_writes();
    /// db.execute(update::<User>().set(User::email, None::<String>)).await?;
    /// if let Some(token) = db.last_write().await? {
    ///     println!("Set-Cookie: last_write={token}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn last_write(&self) -> Result<Option<WriteToken>> {
        let (Some(set), Some(mark)) = (&self.replicas, &self.writes) else {
            return Ok(None);
        };
        let Some((epoch, wall)) = mark.last() else {
            return Ok(None);
        };
        let lsn = match mark.lsn(epoch) {
            Some(lsn) => lsn,
            None => {
                let lsn = set.primary_lsn(self).await?;
                mark.set_lsn(epoch, lsn);
                lsn
            }
        };
        let unix_ms = wall
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Ok(Some(WriteToken { lsn, unix_ms }))
    }

    /// A client of its own (as [`with_own_writes`](Self::with_own_writes)) whose last write
    /// is `token`'s: within the [read-your-writes](crate::ReadYourWrites) window from the
    /// token's time, its reads go to a replica only once it has replayed past the token's
    /// LSN (`ReadYourWrites::Lsn`), or to the primary (`ReadYourWrites::Primary`); with
    /// `ReadYourWrites::Off` the token changes nothing. Its own writes then mark it as
    /// usual. Without replicas, the same database.
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # use orm_postgres::WriteToken;
    /// # use orm_postgres::__doc_fixture::User;
    /// # async fn run(shared: Database, cookie: Option<&str>) -> orm_postgres::Result<()> {
    /// let db = match cookie.map(str::parse::<WriteToken>) {
    ///     Some(Ok(token)) => shared.reads_after(&token),
    ///     _ => shared.with_own_writes(), // no cookie, or a bad one
    /// };
    /// let users = db.fetch_all(select::<User>()).await?;
    /// # Ok(()) }
    /// ```
    pub fn reads_after(&self, token: &WriteToken) -> Database {
        Database {
            writes: self
                .writes
                .as_ref()
                .map(|_| Arc::new(WriteMark::from_token(token))),
            ..self.clone()
        }
    }

    /// The write mark of this handle (with replicas).
    pub(crate) fn write_mark(&self) -> Option<&Arc<WriteMark>> {
        self.writes.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsns_print_and_parse_as_postgres_does() {
        let lsn: Lsn = "16/B374D848".parse().expect("an LSN");
        assert_eq!(lsn, Lsn(0x16_B374_D848));
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert_eq!("0/0".parse::<Lsn>(), Ok(Lsn(0)));
        assert_eq!(
            "FFFFFFFF/FFFFFFFF".parse::<Lsn>().map(|l| l.to_string()),
            Ok("FFFFFFFF/FFFFFFFF".to_owned())
        );
        for bad in [
            "",
            "/",
            "0/",
            "/0",
            "123456789/0",
            "+1/0",
            "0/-1",
            "g/0",
            "0 /1",
        ] {
            assert!(bad.parse::<Lsn>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn a_token_from_the_future_counts_as_written_now() {
        let token = WriteToken {
            lsn: Lsn(1),
            unix_ms: u64::MAX / 2,
        };
        let mark = WriteMark::from_token(&token);
        assert_eq!(mark.recent(Duration::from_secs(1)), Some(1));
        assert_eq!(mark.lsn(1), Some(Lsn(1)));
        let old = WriteMark::from_token(&WriteToken {
            lsn: Lsn(1),
            unix_ms: 0,
        });
        assert_eq!(old.recent(Duration::from_secs(3600)), None);
    }
}
