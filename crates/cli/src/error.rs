//! Errors of the command line itself; everything else passes through from the crates.

use superhero_core::report;

/// What the `superhero` command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Core (config, services, cluster) failed.
    #[error(transparent)]
    Core(#[from] superhero_core::Error),
    /// An app name is unknown.
    #[error("E_CLI_UNKNOWN_APP: no app is called \"{name}\"; known apps: {known}")]
    UnknownApp {
        /// The name given.
        name: String,
        /// The names that exist.
        known: String,
    },
    /// The app keeps no read model to rebuild.
    #[error("E_CLI_NOTHING_TO_REBUILD: the app \"{app}\" keeps no read model")]
    NothingToRebuild {
        /// The app.
        app: String,
    },
    /// A rebuild failed.
    #[error("E_CLI_REBUILD: rebuilding {app}: {reason}")]
    Rebuild {
        /// The app.
        app: String,
        /// What failed.
        reason: String,
    },
    /// A benchmark could not run.
    #[error("E_CLI_BENCH: {0}")]
    Bench(String),
    /// The demo could not prepare its data folder.
    #[error("E_CLI_DEMO: {0}")]
    Demo(String),
    /// Eventflow (store, hub, spoke) failed.
    #[error(transparent)]
    Eventflow(#[from] superhero_eventflow::Error),
}

impl CliError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            CliError::Core(error) => error.code(),
            CliError::UnknownApp { .. } => "E_CLI_UNKNOWN_APP",
            CliError::NothingToRebuild { .. } => "E_CLI_NOTHING_TO_REBUILD",
            CliError::Rebuild { .. } => "E_CLI_REBUILD",
            CliError::Bench(_) => "E_CLI_BENCH",
            CliError::Demo(_) => "E_CLI_DEMO",
            CliError::Eventflow(error) => error.code(),
        }
    }

    /// The error with its whole cause chain.
    pub fn report(&self) -> String {
        match self {
            CliError::Core(error) => report(error),
            other => report(other),
        }
    }
}

/// Result of a command.
pub type CliResult<T = ()> = Result<T, CliError>;
