//! The app's settings: the `message-board` section of the node's config.
//!
//! ```toml
//! [message-board]
//! wait_ms = 5000                # how long POST /posts waits for its outcome before 202
//! banned = ["mallory"]          # user names or ids that may not post or reply
//! duplicate_window_secs = 3600  # one title per author within this time
//! ```

use std::time::Duration;

use serde::Deserialize;
use superhero_core::{BoxError, ServiceContext};

use crate::error::BoardError;

/// The config key of the settings.
pub const CONFIG_KEY: &str = "message-board";

/// The most a command may wait, in milliseconds.
pub const MAX_WAIT_MS: u64 = 60_000;

/// Every `message-board` setting.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// How long `POST /posts` and `POST /posts/{id}/replies` wait for the outcome, in
    /// milliseconds (0 to 60,000; default 5,000); then they answer 202 with `Location`.
    pub wait_ms: u64,
    /// User names or ids that may not post or reply (`E_POST_AUTHOR_BANNED`); names
    /// compare without regard to ASCII case.
    pub banned: Vec<String>,
    /// An author may not post the same title twice within this many seconds (default
    /// 3,600; `E_POST_DUPLICATE_TITLE`).
    pub duplicate_window_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            wait_ms: 5_000,
            banned: Vec::new(),
            duplicate_window_secs: 3_600,
        }
    }
}

impl Settings {
    /// The settings in the node's config, checked (`E_MESSAGE_BOARD_CONFIG`).
    pub fn from_context(ctx: &ServiceContext) -> Result<Self, BoxError> {
        let invalid = |reason: String| BoardError::Config {
            key: CONFIG_KEY.into(),
            reason,
        };
        let settings: Settings = ctx
            .config()
            .get(CONFIG_KEY)
            .map_err(|e| invalid(e.to_string()))?
            .unwrap_or_default();
        if settings.wait_ms > MAX_WAIT_MS {
            return Err(invalid(format!(
                "wait_ms is {}; use 0 to {MAX_WAIT_MS}",
                settings.wait_ms
            ))
            .into());
        }
        Ok(settings)
    }

    /// The wait of a command.
    pub fn wait(&self) -> Duration {
        Duration::from_millis(self.wait_ms)
    }

    /// The duplicate-title window.
    pub fn duplicate_window(&self) -> Duration {
        Duration::from_secs(self.duplicate_window_secs)
    }

    /// Whether the user `author_id` called `author` is banned.
    pub fn is_banned(&self, author_id: &str, author: &str) -> bool {
        self.banned
            .iter()
            .any(|b| b == author_id || b.eq_ignore_ascii_case(author))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banned_authors_match_by_id_or_by_name_in_any_case() {
        let settings = Settings {
            banned: vec!["Mallory".into(), "u-9".into()],
            ..Settings::default()
        };
        assert!(settings.is_banned("u-1", "mallory"));
        assert!(settings.is_banned("u-9", "someone"));
        assert!(!settings.is_banned("u-1", "alice"));
    }
}
