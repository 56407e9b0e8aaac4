//! The one error type of `superhero-core`, each variant with a stable code.
//!
//! Codes are part of the public contract: scripts, tests and log searches rely on
//! them, so a variant's code never changes once released. [`Error::code`] returns
//! it; the `Display` form starts with it (`E_CONFIG_PARSE: …`) so a printed error
//! chain names every layer.

use std::path::PathBuf;
use std::time::Duration;

/// A boxed error from a service, a factory or any other foreign source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Result alias used throughout `superhero-core`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in configuration, the locator, bootstrap,
/// shutdown and the cluster supervisor.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration file (or folder) named by the caller does not exist.
    #[error(
        "E_CONFIG_NOT_FOUND: config file {path} does not exist; check the path given to --config"
    )]
    ConfigNotFound {
        /// The path that was looked for.
        path: PathBuf,
    },

    /// A configuration file exists but could not be read.
    #[error("E_CONFIG_READ: could not read config file {path}")]
    ConfigRead {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A configuration file is not valid JSON or TOML.
    #[error("E_CONFIG_PARSE: {path} line {line}, column {column}: {message}")]
    ConfigParse {
        /// The file (or embedded source name).
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser reported.
        message: String,
    },

    /// A configuration file has an extension other than `.json` or `.toml`.
    #[error("E_CONFIG_FORMAT: {path} is neither .json nor .toml")]
    ConfigFormat {
        /// The file.
        path: PathBuf,
    },

    /// A value exists but does not have the type the reader asked for.
    #[error("E_CONFIG_TYPE: config value at \"{key}\" has the wrong type: {message}")]
    ConfigType {
        /// The key path (`a/b/c`) of the offending value.
        key: String,
        /// What the deserializer expected and found.
        message: String,
    },

    /// A value the reader requires is missing.
    #[error("E_CONFIG_MISSING: config value at \"{key}\" is required but missing")]
    ConfigMissing {
        /// The key path that was looked up.
        key: String,
    },

    /// An environment override could not be applied.
    #[error("E_CONFIG_ENV: environment variable {var} (config \"{key}\"): {message}")]
    ConfigEnv {
        /// The environment variable.
        var: String,
        /// The key path it targets.
        key: String,
        /// Why it was refused.
        message: String,
    },

    /// Config files depend on each other in a cycle.
    #[error("E_CONFIG_DEPENDENCY_CYCLE: config files depend on each other in a cycle: {}", display_cycle(.cycle))]
    ConfigDependencyCycle {
        /// The files forming the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },

    /// A config file's `dependency` key is not an object/array of paths.
    #[error("E_CONFIG_DEPENDENCY: {path}: {message}")]
    ConfigDependency {
        /// The declaring file.
        path: PathBuf,
        /// What is wrong with the declaration.
        message: String,
    },

    /// A config key was asked for as a path but does not hold a string.
    #[error("E_CONFIG_PATH: config value at \"{key}\" is not a path string")]
    ConfigPath {
        /// The key path.
        key: String,
    },

    /// The `locator` config key is not a map, list or name.
    #[error(
        "E_LOCATOR_INVALID_SERVICE_MAP: the `locator` config must be a map of service name to true/false/{{uses}}, a list of names or a name; found {found}"
    )]
    LocatorInvalidMap {
        /// A description of the value found.
        found: String,
    },

    /// One entry of the `locator` map has an unusable value.
    #[error("E_LOCATOR_INVALID_SERVICE_CONFIG: locator entry \"{name}\": {message}")]
    LocatorInvalidEntry {
        /// The service name.
        name: String,
        /// What is wrong with the entry.
        message: String,
    },

    /// A name in the `locator` map (or a `uses` list) is not registered.
    #[error("E_LOCATOR_UNKNOWN_SERVICE: no service is registered under \"{name}\"{}", display_required_by(.required_by))]
    LocatorUnknownService {
        /// The unknown name.
        name: String,
        /// The service whose `uses` named it, if any.
        required_by: Option<String>,
    },

    /// A service uses another that the configuration disables.
    #[error(
        "E_LOCATOR_DEPENDENCY_DISABLED: service \"{name}\" uses \"{dependency}\", which the locator config disables"
    )]
    LocatorDependencyDisabled {
        /// The dependent service.
        name: String,
        /// The disabled dependency.
        dependency: String,
    },

    /// Services use each other in a cycle.
    #[error("E_LOCATOR_CYCLE: services use each other in a cycle: {}", display_cycle(.cycle))]
    LocatorCycle {
        /// The names forming the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },

    /// A service was looked up that has not been constructed.
    #[error("E_LOCATOR_LOCATE: service \"{name}\" has not been loaded")]
    LocatorLocate {
        /// The name looked up.
        name: String,
    },

    /// A service was looked up as a type it does not have or expose.
    #[error(
        "E_LOCATOR_TYPE: service \"{name}\" is a {actual}, which neither is nor exposes {requested}"
    )]
    LocatorType {
        /// The name looked up.
        name: String,
        /// The type the service was constructed as.
        actual: &'static str,
        /// The type asked for.
        requested: &'static str,
    },

    /// A service factory failed.
    #[error("E_LOCATOR_CONSTRUCT: could not construct service \"{name}\"")]
    LocatorConstruct {
        /// The service.
        name: String,
        /// The factory's error.
        #[source]
        source: BoxError,
    },

    /// The `bootstrap` config key is not a map.
    #[error(
        "E_BOOTSTRAP_INVALID_MAP: the `bootstrap` config must be a map of service name to true/false/config path; found {found}"
    )]
    BootstrapInvalidMap {
        /// A description of the value found.
        found: String,
    },

    /// A service's bootstrap failed (or its entry was unusable).
    #[error("E_BOOTSTRAP: could not bootstrap service \"{name}\"")]
    Bootstrap {
        /// The service.
        name: String,
        /// Why.
        #[source]
        source: BoxError,
    },

    /// One or more services failed to destroy.
    #[error("E_CORE_DESTROY: {} service(s) failed to shut down: {}", .failures.len(), display_failures(.failures))]
    Destroy {
        /// Each failed service with its error.
        failures: Vec<(String, BoxError)>,
    },

    /// Shutdown did not finish within its deadline.
    #[error("E_CORE_DESTROY_TIMEOUT: shutdown did not finish within {:.1}s; still running: {}", .deadline.as_secs_f64(), .pending.join(", "))]
    DestroyTimeout {
        /// The configured deadline.
        deadline: Duration,
        /// Services not yet destroyed when the deadline passed.
        pending: Vec<String>,
    },

    /// Signal handlers could not be installed.
    #[error("E_CORE_SIGNAL: could not install signal handlers")]
    Signal(#[source] std::io::Error),

    /// A listener could not be bound.
    #[error("E_CORE_LISTEN: could not listen on {addr}")]
    Listen {
        /// The address.
        addr: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// The worker count is not a positive number or `auto`.
    #[error(
        "E_CORE_CLUSTER_INVALID_WORKERS: workers must be a positive number or \"auto\"; found {found}"
    )]
    ClusterInvalidWorkers {
        /// What was given.
        found: String,
    },

    /// A worker process could not be spawned.
    #[error("E_CORE_CLUSTER_SPAWN: could not start worker process {worker}")]
    ClusterSpawn {
        /// The worker id.
        worker: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// A worker kept failing before it became ready; the supervisor gave up.
    #[error(
        "E_CORE_CLUSTER_START_FAILED: worker slot {slot} failed to start {attempts} time(s) in a row; last failure: {last_failure}"
    )]
    ClusterStartFailed {
        /// The worker slot.
        slot: u32,
        /// Consecutive failed starts.
        attempts: u32,
        /// The worker's own error report, or its exit status.
        last_failure: String,
    },

    /// Workers did not stop cleanly during a cluster shutdown.
    #[error("E_CORE_CLUSTER_SHUTDOWN: {0}")]
    ClusterShutdown(String),

    /// The worker control channel (set up by the supervisor) is unusable.
    #[error("E_CORE_CLUSTER_CONTROL: worker control channel: {message}")]
    ClusterControl {
        /// What failed.
        message: String,
    },
}

impl Error {
    /// The stable code of this error, e.g. `E_CONFIG_PARSE`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::ConfigNotFound { .. } => "E_CONFIG_NOT_FOUND",
            Error::ConfigRead { .. } => "E_CONFIG_READ",
            Error::ConfigParse { .. } => "E_CONFIG_PARSE",
            Error::ConfigFormat { .. } => "E_CONFIG_FORMAT",
            Error::ConfigType { .. } => "E_CONFIG_TYPE",
            Error::ConfigMissing { .. } => "E_CONFIG_MISSING",
            Error::ConfigEnv { .. } => "E_CONFIG_ENV",
            Error::ConfigDependencyCycle { .. } => "E_CONFIG_DEPENDENCY_CYCLE",
            Error::ConfigDependency { .. } => "E_CONFIG_DEPENDENCY",
            Error::ConfigPath { .. } => "E_CONFIG_PATH",
            Error::LocatorInvalidMap { .. } => "E_LOCATOR_INVALID_SERVICE_MAP",
            Error::LocatorInvalidEntry { .. } => "E_LOCATOR_INVALID_SERVICE_CONFIG",
            Error::LocatorUnknownService { .. } => "E_LOCATOR_UNKNOWN_SERVICE",
            Error::LocatorDependencyDisabled { .. } => "E_LOCATOR_DEPENDENCY_DISABLED",
            Error::LocatorCycle { .. } => "E_LOCATOR_CYCLE",
            Error::LocatorLocate { .. } => "E_LOCATOR_LOCATE",
            Error::LocatorType { .. } => "E_LOCATOR_TYPE",
            Error::LocatorConstruct { .. } => "E_LOCATOR_CONSTRUCT",
            Error::BootstrapInvalidMap { .. } => "E_BOOTSTRAP_INVALID_MAP",
            Error::Bootstrap { .. } => "E_BOOTSTRAP",
            Error::Destroy { .. } => "E_CORE_DESTROY",
            Error::DestroyTimeout { .. } => "E_CORE_DESTROY_TIMEOUT",
            Error::Signal(_) => "E_CORE_SIGNAL",
            Error::Listen { .. } => "E_CORE_LISTEN",
            Error::ClusterInvalidWorkers { .. } => "E_CORE_CLUSTER_INVALID_WORKERS",
            Error::ClusterSpawn { .. } => "E_CORE_CLUSTER_SPAWN",
            Error::ClusterStartFailed { .. } => "E_CORE_CLUSTER_START_FAILED",
            Error::ClusterShutdown(_) => "E_CORE_CLUSTER_SHUTDOWN",
            Error::ClusterControl { .. } => "E_CORE_CLUSTER_CONTROL",
        }
    }
}

/// Formats an error with its whole `source()` chain on one line:
/// `E_BOOTSTRAP: … ← E_CONFIG_TYPE: …`.
pub fn report(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        out.push_str(" ← ");
        out.push_str(&inner.to_string());
        cause = inner.source();
    }
    out
}

fn display_cycle(cycle: &[String]) -> String {
    cycle.join(" → ")
}

fn display_required_by(required_by: &Option<String>) -> String {
    match required_by {
        Some(by) => format!(" (used by \"{by}\")"),
        None => String::from("; register it or remove it from the locator config"),
    }
}

fn display_failures(failures: &[(String, BoxError)]) -> String {
    failures
        .iter()
        .map(|(name, error)| format!("\"{name}\": {}", report(error.as_ref())))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_starts_with_the_code() {
        let error = Error::LocatorLocate { name: "x".into() };
        assert!(error.to_string().starts_with(error.code()));
    }

    #[test]
    fn report_joins_the_cause_chain() {
        let inner = Error::ConfigMissing { key: "a/b".into() };
        let outer = Error::Bootstrap {
            name: "svc".into(),
            source: Box::new(inner),
        };
        let text = report(&outer);
        assert!(text.starts_with("E_BOOTSTRAP"), "{text}");
        assert!(text.contains("← E_CONFIG_MISSING"), "{text}");
    }
}
