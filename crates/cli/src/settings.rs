//! Loading the configuration the command line names.

use std::path::Path;
use std::time::Duration;

use superhero_core::config::{Config, ConfigBuilder};
use superhero_core::logging::{self, LogConfig};
use superhero_core::{Result, SHUTDOWN_TIMEOUT_KEY};

use crate::cli::GlobalArgs;

/// Builds the configuration and installs logging from it.
///
/// Layers, lowest first: what `defaults` adds (apps' wiring, a command's
/// defaults), the `--config` files (or ./config.toml|json), the environment, then
/// any `set` overrides `defaults` made (command-line flags).
pub fn load(
    global: &GlobalArgs,
    defaults: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
) -> Result<Config> {
    let config = build(global, defaults);
    let mut log = match &config {
        Ok(config) => config
            .get::<LogConfig>("core/log")
            .ok()
            .flatten()
            .unwrap_or_default(),
        Err(_) => LogConfig::default(),
    };
    if let Some(format) = global.log_format {
        log.format = format;
    }
    logging::init(&log);
    let config = config?;
    config.get::<LogConfig>("core/log")?;
    Ok(config)
}

fn build(
    global: &GlobalArgs,
    defaults: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
) -> Result<Config> {
    let mut builder = defaults(Config::builder());
    if let Some(branch) = &global.branch {
        builder = builder.branch(branch);
    }
    if global.config.is_empty() {
        for default in ["config.toml", "config.json"] {
            if Path::new(default).is_file() {
                builder = builder.add(default);
                break;
            }
        }
    }
    for file in &global.config {
        builder = builder.add(file);
    }
    builder.build()
}

/// The node's shutdown deadline from config.
pub fn shutdown_timeout(config: &Config) -> Result<Duration> {
    Ok(config.get::<u64>(SHUTDOWN_TIMEOUT_KEY)?.map_or(
        superhero_core::shutdown::DEFAULT_TIMEOUT,
        Duration::from_millis,
    ))
}
