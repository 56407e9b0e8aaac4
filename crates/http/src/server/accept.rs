//! Accept errors that are not about one connection — out of file descriptors (`EMFILE`,
//! `ENFILE`), out of memory — last until something frees resources, and the pending
//! connection stays in the backlog, so an immediate retry fails the same way. The accept
//! loop backs off instead: 50 ms after the first failure, doubling up to 1 s while they
//! go on, and back to no delay after the first success. It warns at most once per
//! [`LOG_INTERVAL`], counting the failures since the last warning, so a long shortage
//! is a handful of lines rather than twenty a second.

use std::time::{Duration, Instant};

/// The first pause after a failed accept.
pub(crate) const FIRST_DELAY: Duration = Duration::from_millis(50);
/// The longest pause between two attempts.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(1);
/// At most one warning per interval.
pub(crate) const LOG_INTERVAL: Duration = Duration::from_secs(5);

/// The state of the accept loop's back-off.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    /// Failures in a row (reset by a success).
    streak: u32,
    /// Failures since the last warning.
    unreported: u64,
    last_warning: Option<Instant>,
}

/// What to do after a failed accept.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Retry {
    /// How long to pause before the next attempt.
    pub(crate) delay: Duration,
    /// `Some(failures since the last warning)` when this failure is to be logged.
    pub(crate) warn: Option<u64>,
}

impl Backoff {
    /// Records a failure at `now`.
    pub(crate) fn failed(&mut self, now: Instant) -> Retry {
        let delay = FIRST_DELAY
            .saturating_mul(1u32 << self.streak.min(16))
            .min(MAX_DELAY);
        self.streak = self.streak.saturating_add(1);
        self.unreported += 1;
        let due = self
            .last_warning
            .is_none_or(|last| now.saturating_duration_since(last) >= LOG_INTERVAL);
        let warn = due.then(|| {
            self.last_warning = Some(now);
            std::mem::take(&mut self.unreported)
        });
        Retry { delay, warn }
    }

    /// Records a success; returns the length of the streak of failures it ends, if any.
    pub(crate) fn succeeded(&mut self) -> Option<u32> {
        (self.streak > 0).then(|| std::mem::take(&mut self.streak))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_50_ms_to_1_s_and_reset_on_success() {
        let mut backoff = Backoff::default();
        let now = Instant::now();
        let delays: Vec<u64> = (0..8)
            .map(|_| backoff.failed(now).delay.as_millis() as u64)
            .collect();
        assert_eq!(delays, [50, 100, 200, 400, 800, 1000, 1000, 1000]);
        assert_eq!(backoff.succeeded(), Some(8));
        assert_eq!(backoff.succeeded(), None);
        assert_eq!(backoff.failed(now).delay, FIRST_DELAY);
    }

    #[test]
    fn warns_once_per_interval_with_the_failures_since_the_last_warning() {
        let mut backoff = Backoff::default();
        let start = Instant::now();
        assert_eq!(backoff.failed(start).warn, Some(1));
        // A minute of failures one second apart: one warning per interval.
        let mut warnings = Vec::new();
        for second in 1..=60 {
            let retry = backoff.failed(start + Duration::from_secs(second));
            if let Some(count) = retry.warn {
                warnings.push((second, count));
            }
        }
        assert_eq!(warnings.len(), 12, "{warnings:?}");
        assert_eq!(warnings[0], (5, 5));
        assert!(warnings.iter().all(|&(_, count)| count == 5));
        // Recovering and failing again soon after does not warn again at once.
        backoff.succeeded();
        assert_eq!(backoff.failed(start + Duration::from_secs(61)).warn, None);
        assert_eq!(
            backoff.failed(start + Duration::from_secs(65)).warn,
            Some(2)
        );
    }
}
