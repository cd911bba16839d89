//! Getting a listener's connection back: [`ReconnectPolicy`] (how many attempts, how far
//! apart) and the attempts themselves.

use std::collections::BTreeSet;
use std::time::Duration;

use super::live::Live;
use crate::{Database, ErrorKind, Result};

/// How a [`Listener`](crate::Listener) gets its connection back after losing it: attempts
/// (each bounded by the connect timeout) separated by delays that double from `first_delay` up
/// to `max_delay`. The first attempt is made at once. When every attempt fails, the listener
/// reports [`ReconnectFailed`](crate::ErrorKind::ReconnectFailed).
///
/// The default, 10 attempts from 100 ms to 5 s apart, rides out a server restart of about 20
/// seconds.
///
/// ```
/// use std::time::Duration;
/// use orm_postgres::notify::ReconnectPolicy;
///
/// let policy = ReconnectPolicy::new(3, Duration::from_millis(50), Duration::from_secs(1));
/// assert_eq!(policy.max_attempts, 3);
/// assert_eq!(policy.delay_before(2), Duration::from_millis(50));
/// assert_eq!(policy.delay_before(3), Duration::from_millis(100));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconnectPolicy {
    /// Attempts before giving up (at least one is always made).
    pub max_attempts: u32,
    /// The delay before the second attempt.
    pub first_delay: Duration,
    /// The longest delay between two attempts.
    pub max_delay: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy::new(10, Duration::from_millis(100), Duration::from_secs(5))
    }
}

impl ReconnectPolicy {
    /// `max_attempts` attempts, the first at once, then `first_delay`, twice that, ... up to
    /// `max_delay` apart.
    pub fn new(max_attempts: u32, first_delay: Duration, max_delay: Duration) -> Self {
        ReconnectPolicy {
            max_attempts,
            first_delay,
            max_delay,
        }
    }

    /// The delay before attempt `n` (counted from 1): none before the first.
    pub fn delay_before(&self, n: u32) -> Duration {
        if n <= 1 {
            return Duration::ZERO;
        }
        let doublings = (n - 2).min(31);
        self.first_delay
            .saturating_mul(1 << doublings)
            .min(self.max_delay)
    }
}

/// Opens a new connection listening to `channels`, as `policy` allows; with the number of
/// attempts it took.
pub(super) async fn reconnect(
    db: Database,
    channels: BTreeSet<String>,
    policy: ReconnectPolicy,
    timeout: Duration,
) -> Result<(Live, u32)> {
    let attempts = policy.max_attempts.max(1);
    let mut n = 1;
    loop {
        tokio::time::sleep(policy.delay_before(n)).await;
        match Live::open(&db, &channels, timeout).await {
            Ok(live) => return Ok((live, n)),
            Err(e) if n >= attempts => {
                return Err(ErrorKind::ReconnectFailed {
                    attempts,
                    source: Box::new(e),
                }
                .into());
            }
            Err(e) => tracing::debug!(attempt = n, error = %e, "listener: reconnect failed"),
        }
        n += 1;
    }
}
