//! One module per subcommand.

mod run;

use superhero_core::Result;

use crate::cli::{Cli, Command};

/// Runs the parsed command line.
pub async fn execute(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run::execute(&cli.global, args).await,
    }
}
