//! Process logging through `tracing`.
//!
//! Human-readable lines by default, JSON lines on request, both on stderr.
//! Every line carries its span context: `service{name=…}` for anything a
//! service does during construction, bootstrap and destroy (services wrap the
//! tasks they spawn in [`tracing::Span::current`] to keep it), and
//! `worker{id=…}` in a cluster worker. The level filter comes from `RUST_LOG`
//! when set, else from the config's `core/log/level` (default `info`).

use std::io::IsTerminal;
use std::str::FromStr;

use serde::Deserialize;
use tracing_subscriber::EnvFilter;

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "human" => Ok(LogFormat::Human),
            "json" => Ok(LogFormat::Json),
            other => Err(format!(
                "unknown log format \"{other}\" (expected human or json)"
            )),
        }
    }
}

/// Logging settings, read from `core/log`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Line format.
    pub format: LogFormat,
    /// Filter directives (`info`, `superhero_http=debug,info`, …) used when
    /// `RUST_LOG` is not set.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Human,
            level: "info".into(),
        }
    }
}

/// Installs the global subscriber. Calling it again is harmless (the first
/// installation stays).
pub fn init(config: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match config.format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
    };
}
