//! A view of one subtree of the configuration, handed to a service's bootstrap.

use std::path::PathBuf;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Config, key};
use crate::error::Result;

/// The subtree at one key path, with typed access and path resolution relative
/// to the file that defined each value.
#[derive(Debug, Clone)]
pub struct ConfigSection {
    config: Arc<Config>,
    path: String,
}

impl ConfigSection {
    pub(crate) fn new(config: Arc<Config>, path: String) -> Self {
        ConfigSection { config, path }
    }

    /// The key path of this section.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The whole configuration.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The section's value, `None` when the path is missing.
    pub fn value(&self) -> Option<&Value> {
        self.config.find(&self.path)
    }

    /// Whether the section exists.
    pub fn is_present(&self) -> bool {
        self.value().is_some()
    }

    /// The whole section as `T`; a missing section deserializes from `{}`, so
    /// structs whose fields all have defaults work without any config.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T> {
        let empty = Value::Object(Default::default());
        super::deserialize(&self.path, self.value().unwrap_or(&empty))
    }

    /// The value at `sub` below this section (see [`Config::get`]).
    pub fn get<T: DeserializeOwned>(&self, sub: &str) -> Result<Option<T>> {
        self.config.get(&key::child(&self.path, sub))
    }

    /// A nested section.
    pub fn section(&self, sub: &str) -> ConfigSection {
        ConfigSection::new(Arc::clone(&self.config), key::child(&self.path, sub))
    }

    /// The path string at `sub`, absolute against the folder of the file that
    /// defined it (see [`Config::resolve_path`]).
    pub fn resolve_path(&self, sub: &str) -> Result<Option<PathBuf>> {
        self.config.resolve_path(&key::child(&self.path, sub))
    }
}
