//! The `ping` context: a client pings, the service answers pong, optionally after a
//! pause.

pub mod respond;

use std::time::Duration;

/// The longest pause a ping may ask for.
pub const MAX_SLEEP: Duration = Duration::from_millis(10_000);

/// How long to pause before answering, within `0..=MAX_SLEEP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sleep(Duration);

impl Sleep {
    /// A pause of `millis` milliseconds; `None` beyond [`MAX_SLEEP`].
    pub fn from_millis(millis: u64) -> Option<Sleep> {
        let duration = Duration::from_millis(millis);
        (duration <= MAX_SLEEP).then_some(Sleep(duration))
    }

    /// The pause.
    pub fn duration(self) -> Duration {
        self.0
    }
}

/// The answer to a ping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pong;

impl Pong {
    /// The word the client receives.
    pub const WORD: &'static str = "pong";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_is_bounded_by_ten_seconds() {
        assert_eq!(Sleep::from_millis(0), Some(Sleep::default()));
        assert!(Sleep::from_millis(10_000).is_some());
        assert_eq!(Sleep::from_millis(10_001), None);
    }
}
