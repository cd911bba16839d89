//! [`RetryPolicy`]: how [`Database::retry`](crate::Database::retry) runs a session again after
//! a serialization failure, a deadlock or a lost connection.

use std::time::Duration;

use super::SessionOptions;
use crate::Error;

/// Only serialization failures, deadlocks and lost connections (before any commit was sent),
/// reported directly or through a pending rollback.
pub(crate) fn is_retryable(e: &Error) -> bool {
    e.is_retryable() || matches!(e.sqlstate(), Some("40001" | "40P01"))
}

/// How [`Database::retry`](crate::Database::retry) retries.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all (at least 1).
    pub attempts: u32,
    /// The wait before the second attempt; doubled for each further one.
    pub base_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
    /// The sessions' options.
    pub options: SessionOptions,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(1),
            options: SessionOptions::default(),
        }
    }
}

impl RetryPolicy {
    /// `attempts` attempts in all, with the default delays.
    pub fn attempts(attempts: u32) -> Self {
        RetryPolicy {
            attempts: attempts.max(1),
            ..RetryPolicy::default()
        }
    }

    /// Sets the first delay.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// Sets the sessions' options (e.g. a serializable isolation level).
    pub fn options(mut self, options: SessionOptions) -> Self {
        self.options = options;
        self
    }

    /// The wait after failed attempt `n` (1-based; 0 counts as 1): `base_delay` doubling with
    /// each attempt, capped at `max_delay`, plus up to half of it again as jitter, so that
    /// contending sessions retry apart. [`Database::retry`](crate::Database::retry) waits this
    /// long; code that runs its own retry loop (a web framework's middleware retrying a
    /// request, say) can wait the same.
    pub fn delay(&self, n: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << n.saturating_sub(1).min(16))
            .min(self.max_delay);
        // Jitter from the clock: spreads retries of contending sessions apart.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let jitter = exp.mul_f64(f64::from(nanos % 1000) / 2000.0);
        // Saturating: a policy of `Duration::MAX` ("no cap") waits as long as can be said.
        exp.saturating_add(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::RetryPolicy;
    use std::time::Duration;

    #[test]
    fn delays_double_up_to_the_cap_with_at_most_half_again_of_jitter() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            ..RetryPolicy::attempts(10)
        };
        for (n, base) in [(0, 10), (1, 10), (2, 20), (3, 40), (4, 50), (30, 50)] {
            let d = p.delay(n);
            let base = Duration::from_millis(base);
            assert!(d >= base && d <= base + base / 2, "attempt {n}: {d:?}");
        }
    }

    #[test]
    fn a_policy_without_a_cap_saturates_instead_of_overflowing() {
        let p = RetryPolicy {
            base_delay: Duration::MAX,
            max_delay: Duration::MAX,
            ..RetryPolicy::attempts(3)
        };
        for n in [1, 2, 30] {
            assert_eq!(p.delay(n), Duration::MAX);
        }
    }
}
