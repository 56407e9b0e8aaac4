//! Building a [`Config`] from files, embedded text, the environment and
//! programmatic overrides, in that order of precedence (later wins).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::format::{self, Format};
use super::{Config, Layer, Source, env, key, merge};
use crate::error::{Error, Result};

/// The key a config file uses to load other files before itself.
pub const DEPENDENCY_KEY: &str = "dependency";

/// Collects config sources; [`ConfigBuilder::build`] reads and merges them.
///
/// Precedence, lowest first: files and embedded sources in the order added (each
/// file directly followed by its branch file `<stem>-<branch>.toml|json`), then
/// environment variables (see [`env`](super::env)), then [`set`](Self::set)
/// overrides.
///
/// ```
/// # use superhero_core::config::Config;
/// # use serde_json::json;
/// let config = Config::builder()
///     .add_value("defaults", json!({"http": {"port": 8080}}))
///     .env_vars([("SUPERHERO__HTTP__PORT".to_string(), "9090".to_string())])
///     .build()?;
/// assert_eq!(config.get::<u16>("http/port")?, Some(9090));
/// # Ok::<(), superhero_core::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct ConfigBuilder {
    branch: Option<String>,
    sources: Vec<Pending>,
    env_prefix: Option<String>,
    env_vars: Option<Vec<(String, String)>>,
    overrides: Vec<(String, Value)>,
}

#[derive(Debug)]
enum Pending {
    File(PathBuf),
    Text {
        name: String,
        format: Format,
        text: String,
        base_dir: Option<PathBuf>,
    },
    Value {
        name: String,
        value: Value,
    },
}

impl ConfigBuilder {
    /// Sets the branch: every added file `x.toml` is followed by `x-<branch>.toml`
    /// (or `.json`) from the same folder when that file exists.
    pub fn branch(mut self, branch: impl Into<String>) -> Self {
        self.branch = Some(branch.into()).filter(|b| !b.is_empty());
        self
    }

    /// Adds a config file (`.json` or `.toml`), or a folder holding `config.toml`
    /// or `config.json`.
    #[allow(clippy::should_implement_trait)] // `add` is the framework's name for layering a file
    pub fn add(mut self, path: impl Into<PathBuf>) -> Self {
        self.sources.push(Pending::File(path.into()));
        self
    }

    /// Adds config text compiled into the binary (an app's defaults, say).
    /// Relative paths in it resolve against `base_dir`, or the working
    /// directory when `None`.
    pub fn add_text(
        mut self,
        name: impl Into<String>,
        format: Format,
        text: impl Into<String>,
        base_dir: Option<PathBuf>,
    ) -> Self {
        self.sources.push(Pending::Text {
            name: name.into(),
            format,
            text: text.into(),
            base_dir,
        });
        self
    }

    /// Adds an in-memory layer at the position of files.
    pub fn add_value(mut self, name: impl Into<String>, value: Value) -> Self {
        self.sources.push(Pending::Value {
            name: name.into(),
            value,
        });
        self
    }

    /// Sets the environment variable prefix (default `SUPERHERO`).
    pub fn env_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.env_prefix = Some(prefix.into());
        self
    }

    /// Uses these variables instead of the process environment.
    pub fn env_vars(mut self, vars: impl IntoIterator<Item = (String, String)>) -> Self {
        self.env_vars = Some(vars.into_iter().collect());
        self
    }

    /// Replaces the value at `path` after everything else (a command-line
    /// flag, say). No merge: the value is set as given.
    pub fn set(mut self, path: impl Into<String>, value: Value) -> Self {
        self.overrides.push((path.into(), value));
        self
    }

    /// Reads every source and merges them.
    pub fn build(self) -> Result<Config> {
        let cwd = std::env::current_dir().unwrap_or_default();
        let mut loader = Loader {
            branch: self.branch.as_deref(),
            merged: Value::Object(Default::default()),
            layers: Vec::new(),
            loaded: Vec::new(),
            stack: Vec::new(),
        };
        for source in self.sources {
            match source {
                Pending::File(path) => loader.add_file(&absolute(&cwd, &path))?,
                Pending::Text {
                    name,
                    format,
                    text,
                    base_dir,
                } => {
                    let value = format.parse(&text, Path::new(&name))?;
                    loader.push(Source::Embedded { name, base_dir }, value);
                }
                Pending::Value { name, value } => {
                    loader.push(
                        Source::Embedded {
                            name,
                            base_dir: None,
                        },
                        value,
                    );
                }
            }
        }

        let prefix = self.env_prefix.as_deref().unwrap_or(env::DEFAULT_PREFIX);
        let vars = match self.env_vars {
            Some(vars) => vars,
            None => std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        };
        for applied in env::apply(prefix, vars, &mut loader.merged)? {
            let layer = nest(&applied.segments, applied.value);
            loader.layers.push(Layer {
                source: Source::Env(applied.var),
                value: layer,
            });
        }

        for (path, value) in self.overrides {
            let segments = key::segments(&path);
            let layer = nest(&segments, value.clone());
            let wrapped = nest(
                &segments,
                serde_json::json!({ merge::REPLACE_MARKER: value }),
            );
            merge::merge(&mut loader.merged, wrapped);
            loader.layers.push(Layer {
                source: Source::Override,
                value: layer,
            });
        }

        Ok(Config {
            merged: loader.merged,
            layers: loader.layers,
            cwd,
        })
    }
}

struct Loader<'b> {
    branch: Option<&'b str>,
    merged: Value,
    layers: Vec<Layer>,
    loaded: Vec<PathBuf>,
    stack: Vec<PathBuf>,
}

impl Loader<'_> {
    fn push(&mut self, source: Source, value: Value) {
        merge::merge(&mut self.merged, value.clone());
        self.layers.push(Layer { source, value });
    }

    /// Loads a file's dependencies, the file, then its branch file.
    fn add_file(&mut self, path: &Path) -> Result<()> {
        let path = config_file(path)?;
        let identity = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if self.stack.contains(&identity) {
            let mut cycle: Vec<String> = self
                .stack
                .iter()
                .skip_while(|p| **p != identity)
                .map(|p| p.display().to_string())
                .collect();
            cycle.push(identity.display().to_string());
            return Err(Error::ConfigDependencyCycle { cycle });
        }
        if self.loaded.contains(&identity) {
            return Ok(());
        }
        self.stack.push(identity.clone());
        let value = format::read(&path)?;
        for dependency in dependencies(&path, &value)? {
            self.add_file(&dependency)?;
        }
        self.push(Source::File(path.clone()), value);
        if let Some(branch) = self.branch
            && let Some(branch_file) = format::branch_candidates(&path, branch)
                .into_iter()
                .find(|p| p.is_file())
        {
            let value = format::read(&branch_file)?;
            for dependency in dependencies(&branch_file, &value)? {
                self.add_file(&dependency)?;
            }
            self.push(Source::File(branch_file), value);
        }
        self.stack.pop();
        self.loaded.push(identity);
        Ok(())
    }
}

/// A folder stands for its `config.toml` or `config.json`.
fn config_file(path: &Path) -> Result<PathBuf> {
    if path.is_dir() {
        return [Format::Toml, Format::Json]
            .iter()
            .map(|f| path.join(format!("config.{}", f.extension())))
            .find(|p| p.is_file())
            .ok_or_else(|| Error::ConfigNotFound {
                path: path.join("config.toml"),
            });
    }
    if !path.exists() {
        return Err(Error::ConfigNotFound {
            path: path.to_path_buf(),
        });
    }
    Ok(path.to_path_buf())
}

/// The files named by `dependency`: a list of paths, or a map of path → `true`
/// / `false` / path. Relative paths resolve against the declaring file's folder.
fn dependencies(file: &Path, value: &Value) -> Result<Vec<PathBuf>> {
    let dir = file.parent().unwrap_or(Path::new(""));
    let invalid = |message: &str| Error::ConfigDependency {
        path: file.to_path_buf(),
        message: message.to_owned(),
    };
    let names: Vec<String> = match value.get(DEPENDENCY_KEY) {
        None | Some(Value::Null) | Some(Value::Bool(false)) => return Ok(Vec::new()),
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid("`dependency` list items must be path strings"))
            })
            .collect::<Result<_>>()?,
        Some(Value::Object(map)) => {
            let mut names = Vec::new();
            for (name, entry) in map {
                match entry {
                    Value::Bool(true) => names.push(name.clone()),
                    Value::Bool(false) | Value::Null => {}
                    Value::String(path) => names.push(path.clone()),
                    _ => {
                        return Err(invalid(
                            "`dependency` map values must be true, false or a path string",
                        ));
                    }
                }
            }
            names
        }
        Some(_) => {
            return Err(invalid(
                "`dependency` must be a path, a list of paths or a map of path to true/false",
            ));
        }
    };
    Ok(names
        .into_iter()
        .map(|n| absolute(dir, Path::new(&n)))
        .collect())
}

fn absolute(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// `{"a": {"b": value}}` for segments `["a", "b"]`.
fn nest(segments: &[String], value: Value) -> Value {
    segments.iter().rev().fold(value, |inner, segment| {
        let mut map = serde_json::Map::new();
        map.insert(segment.clone(), inner);
        Value::Object(map)
    })
}
