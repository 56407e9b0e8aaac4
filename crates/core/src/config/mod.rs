//! Layered configuration with provenance.
//!
//! A [`Config`] is built once by a [`ConfigBuilder`] from JSON/TOML files (each
//! followed by its optional branch file), embedded text, environment variables
//! and programmatic overrides, merged with the deep merge of [`merge`]. After
//! that it is immutable and shared as `Arc<Config>`.
//!
//! Values are addressed by key paths `a/b/c` ([`key`]). Every layer is kept, so
//! [`Config::origin`] tells which file last defined a value and
//! [`Config::resolve_path`] resolves a relative path against that file's folder.

mod builder;
pub mod env;
pub mod format;
pub mod key;
pub mod merge;
mod section;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use builder::{ConfigBuilder, DEPENDENCY_KEY};
pub use format::Format;
pub use section::ConfigSection;

use crate::error::{Error, Result};

/// Where a layer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A config file.
    File(PathBuf),
    /// Text or a value supplied by the program, with the folder its relative
    /// paths resolve against.
    Embedded {
        /// A name for messages.
        name: String,
        /// Folder for relative paths (the working directory when `None`).
        base_dir: Option<PathBuf>,
    },
    /// An environment variable.
    Env(String),
    /// A programmatic override ([`ConfigBuilder::set`]).
    Override,
}

/// For messages: the file's path, the embedded source's name, `$VARIABLE`, or
/// `an override`.
impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Embedded { name, .. } => f.write_str(name),
            Source::Env(variable) => write!(f, "${variable}"),
            Source::Override => f.write_str("an override"),
        }
    }
}

#[derive(Debug, Clone)]
struct Layer {
    source: Source,
    value: Value,
}

/// The merged configuration, immutable once built.
#[derive(Debug, Clone)]
pub struct Config {
    merged: Value,
    layers: Vec<Layer>,
    cwd: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            merged: Value::Object(Default::default()),
            layers: Vec::new(),
            cwd: std::env::current_dir().unwrap_or_default(),
        }
    }
}

impl Config {
    /// Starts building a configuration.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The whole merged configuration.
    pub fn value(&self) -> &Value {
        &self.merged
    }

    /// The value at `path`, or `None` when any part of the path is missing
    /// (a `null`, `false` or `0` on the way counts as missing for what is below).
    pub fn find(&self, path: &str) -> Option<&Value> {
        key::walk(&self.merged, &key::segments(path))
    }

    /// The value at `path`, or `fallback` whenever the full path is missing.
    pub fn find_or(&self, path: &str, fallback: Value) -> Value {
        self.find(path).cloned().unwrap_or(fallback)
    }

    /// The value at `path` converted to `T`; `None` when missing.
    /// A value of the wrong shape is `E_CONFIG_TYPE` naming the exact key.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>> {
        self.find(path).map(|v| deserialize(path, v)).transpose()
    }

    /// Like [`get`](Self::get), but a missing value is `E_CONFIG_MISSING`.
    pub fn require<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.get(path)?.ok_or_else(|| Error::ConfigMissing {
            key: path.to_owned(),
        })
    }

    /// Like [`get`](Self::get), with a default for a missing value.
    pub fn get_or<T: DeserializeOwned>(&self, path: &str, default: T) -> Result<T> {
        Ok(self.get(path)?.unwrap_or(default))
    }

    /// A view of the subtree at `path`, sharing this configuration.
    pub fn section(self: &Arc<Self>, path: &str) -> ConfigSection {
        ConfigSection::new(Arc::clone(self), path.to_owned())
    }

    /// The sources of every layer, oldest first.
    pub fn sources(&self) -> impl Iterator<Item = &Source> {
        self.layers.iter().map(|l| &l.source)
    }

    /// The newest layer that defines `path`.
    pub fn origin(&self, path: &str) -> Option<&Source> {
        let segments = key::segments(path);
        self.layers
            .iter()
            .rev()
            .find(|layer| walk_layer(&layer.value, &segments).is_some())
            .map(|layer| &layer.source)
    }

    /// Every layer that defines `path` with its value there, newest first.
    pub fn origins(&self, path: &str) -> Vec<(&Source, &Value)> {
        let segments = key::segments(path);
        self.layers
            .iter()
            .rev()
            .filter_map(|layer| walk_layer(&layer.value, &segments).map(|v| (&layer.source, v)))
            .collect()
    }

    /// The folder that relative paths found at `path` resolve against: the
    /// folder of the file that last defined it, else the working directory.
    pub fn base_dir(&self, path: &str) -> PathBuf {
        match self.origin(path) {
            Some(Source::File(file)) => file.parent().map(Path::to_path_buf).unwrap_or_default(),
            Some(Source::Embedded {
                base_dir: Some(dir),
                ..
            }) => dir.clone(),
            _ => self.cwd.clone(),
        }
    }

    /// The path string at `path`, made absolute against [`base_dir`](Self::base_dir).
    /// `None` when missing; `E_CONFIG_PATH` when it is not a string.
    pub fn resolve_path(&self, path: &str) -> Result<Option<PathBuf>> {
        let Some(value) = self.find(path) else {
            return Ok(None);
        };
        let text = value.as_str().ok_or_else(|| Error::ConfigPath {
            key: path.to_owned(),
        })?;
        let candidate = PathBuf::from(text);
        Ok(Some(if candidate.is_absolute() {
            candidate
        } else {
            self.base_dir(path).join(candidate)
        }))
    }
}

/// Walks a raw layer, seeing through `$replace` markers.
fn walk_layer<'v>(value: &'v Value, segments: &[String]) -> Option<&'v Value> {
    let mut current = value;
    for segment in segments {
        if let Some(inner) = merge::replacement(current) {
            current = inner;
        }
        current = current.as_object()?.get(segment)?;
    }
    Some(merge::replacement(current).unwrap_or(current))
}

/// Converts a config value, naming the exact key of a mismatch.
pub(crate) fn deserialize<T: DeserializeOwned>(path: &str, value: &Value) -> Result<T> {
    serde_path_to_error::deserialize(value.clone()).map_err(|e| {
        let inner = e.path().to_string();
        let key = if inner == "." || inner.is_empty() {
            path.to_owned()
        } else {
            key::child(path, &inner.replace('.', "/"))
        };
        Error::ConfigType {
            key,
            message: e.into_inner().to_string(),
        }
    })
}
