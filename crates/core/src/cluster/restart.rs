//! When and how soon a crashed worker is restarted.

use std::time::Duration;

use serde::Deserialize;

/// Restart policy, read from `core/cluster/restart`.
///
/// A worker that exits with a failure is restarted after a backoff that starts
/// at `initial_backoff_ms` and doubles up to `max_backoff_ms`; it falls back to
/// the initial value once a worker has run `reset_after_ms`. A worker that exits
/// before reporting ready counts as a failed start; `max_start_failures` failed
/// starts in a row make the supervisor give up. A worker that exits with status
/// 0 on its own is not restarted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RestartPolicy {
    /// First delay before a restart.
    pub initial_backoff_ms: u64,
    /// Longest delay before a restart.
    pub max_backoff_ms: u64,
    /// Uptime after which the backoff starts over.
    pub reset_after_ms: u64,
    /// Failed starts in a row before giving up.
    pub max_start_failures: u32,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            initial_backoff_ms: 100,
            max_backoff_ms: 10_000,
            reset_after_ms: 30_000,
            max_start_failures: 3,
        }
    }
}

/// The restart bookkeeping of one worker slot.
#[derive(Debug, Clone)]
pub(crate) struct SlotHistory {
    policy: RestartPolicy,
    backoff: Duration,
    failed_starts: u32,
}

/// What to do after a worker exited with a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Start a new worker after this delay.
    RestartAfter(Duration),
    /// Stop trying: this many failed starts in a row.
    GiveUp(u32),
}

impl SlotHistory {
    pub(crate) fn new(policy: RestartPolicy) -> Self {
        SlotHistory {
            backoff: Duration::from_millis(policy.initial_backoff_ms),
            policy,
            failed_starts: 0,
        }
    }

    /// Records a failed exit of a worker that was (or was not) ready and had
    /// run for `uptime`.
    pub(crate) fn failed(&mut self, was_ready: bool, uptime: Duration) -> Verdict {
        if was_ready {
            self.failed_starts = 0;
            if uptime >= Duration::from_millis(self.policy.reset_after_ms) {
                self.backoff = Duration::from_millis(self.policy.initial_backoff_ms);
            }
        } else {
            self.failed_starts += 1;
            if self.failed_starts >= self.policy.max_start_failures.max(1) {
                return Verdict::GiveUp(self.failed_starts);
            }
        }
        let delay = self.backoff;
        self.backoff = (self.backoff * 2).min(Duration::from_millis(self.policy.max_backoff_ms));
        Verdict::RestartAfter(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let mut slot = SlotHistory::new(RestartPolicy {
            max_backoff_ms: 500,
            ..RestartPolicy::default()
        });
        let delays: Vec<_> = (0..5).map(|_| slot.failed(true, ms(10))).collect();
        assert_eq!(
            delays,
            [100, 200, 400, 500, 500].map(|n| Verdict::RestartAfter(ms(n)))
        );
    }

    #[test]
    fn a_long_run_resets_the_backoff() {
        let mut slot = SlotHistory::new(RestartPolicy::default());
        slot.failed(true, ms(10));
        slot.failed(true, ms(10));
        assert_eq!(
            slot.failed(true, ms(60_000)),
            Verdict::RestartAfter(ms(100))
        );
    }

    #[test]
    fn repeated_failed_starts_give_up() {
        let mut slot = SlotHistory::new(RestartPolicy::default());
        assert_eq!(slot.failed(false, ms(5)), Verdict::RestartAfter(ms(100)));
        assert_eq!(slot.failed(false, ms(5)), Verdict::RestartAfter(ms(200)));
        assert_eq!(slot.failed(false, ms(5)), Verdict::GiveUp(3));
    }

    #[test]
    fn a_ready_worker_clears_the_failed_start_count() {
        let mut slot = SlotHistory::new(RestartPolicy::default());
        slot.failed(false, ms(5));
        slot.failed(false, ms(5));
        slot.failed(true, ms(5));
        assert!(matches!(
            slot.failed(false, ms(5)),
            Verdict::RestartAfter(_)
        ));
    }
}
