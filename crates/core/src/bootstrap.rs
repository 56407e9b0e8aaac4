//! The bootstrap phase: start services in the order of the `bootstrap` map.
//!
//! ```toml
//! [bootstrap]
//! "store" = true            # bootstrap "store" with the config section "store"
//! "http" = "http/server"    # ... "http" with the section at "http/server"
//! "debug" = false           # skip (a later layer may switch an entry off)
//! ```
//!
//! Entries run one after the other, each awaited before the next, in map order
//! (the order keys first appear across the merged layers). A failure stops the
//! phase with `E_BOOTSTRAP` naming the service.

use std::sync::Arc;

use serde_json::Value;
use tracing::Instrument;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::locator::Locator;

/// The config key holding the bootstrap map.
pub const BOOTSTRAP_KEY: &str = "bootstrap";

/// Runs every enabled entry of the bootstrap map.
pub(crate) async fn run(config: &Arc<Config>, locator: &Locator) -> Result<()> {
    let map = match config.find(BOOTSTRAP_KEY) {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(map)) => map.clone(),
        Some(other) => {
            return Err(Error::BootstrapInvalidMap {
                found: other.to_string(),
            });
        }
    };
    for (name, entry) in map {
        let section_path = match entry {
            Value::Bool(false) | Value::Null => continue,
            Value::Bool(true) => name.clone(),
            Value::String(path) => path,
            other => {
                return Err(Error::Bootstrap {
                    name,
                    source: format!(
                        "the bootstrap entry must be true, false or a config path, found {other}"
                    )
                    .into(),
                });
            }
        };
        let instance = locator.instance(&name).map_err(|e| Error::Bootstrap {
            name: name.clone(),
            source: Box::new(e),
        })?;
        let section = config.section(&section_path);
        let span = tracing::info_span!("service", name = %name);
        tracing::debug!(parent: &span, config = %section_path, present = section.is_present(), "bootstrap");
        instance
            .service
            .bootstrap(section)
            .instrument(span)
            .await
            .map_err(|source| Error::Bootstrap { name, source })?;
    }
    Ok(())
}
