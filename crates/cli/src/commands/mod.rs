//! One module per subcommand.

/// `println!` for command output that may go to a closed pipe (`superhero parked | head`):
/// false once stdout is gone, instead of a panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        matches!(writeln!(std::io::stdout(), $($arg)*), Ok(()))
    }};
}

mod demo;
pub mod eventlog;
pub mod hub;
pub mod parked;
pub mod rebuild;
pub mod replay;
mod run;
pub mod status;
pub mod store;

use crate::cli::{BenchCommand, Cli, Command};
use crate::error::CliResult;

/// Runs the parsed command line.
pub async fn execute(cli: Cli) -> CliResult {
    match cli.command {
        Command::Demo(args) => demo::execute(&cli.global, args).await,
        Command::Run(args) => run::execute(&cli.global, args).await,
        Command::Bench(BenchCommand::Http(args)) => {
            crate::bench::http::execute(&cli.global, args).await
        }
        Command::Bench(BenchCommand::Serve(args)) => crate::bench::servers::serve(args).await,
        Command::Bench(BenchCommand::Soak(args)) => {
            crate::bench::soak::execute(&cli.global, args).await
        }
        Command::Bench(BenchCommand::SoakConsumer(args)) => {
            crate::bench::soak::consumer::execute(&cli.global, args).await
        }
        Command::Bench(BenchCommand::Auth(args)) => {
            crate::bench::auth::execute(&cli.global, args).await
        }
        Command::Bench(BenchCommand::MessageBoard(args)) => {
            crate::bench::message_board::execute(&cli.global, args).await
        }
        Command::Bench(BenchCommand::EventlogStream(args)) => {
            crate::bench::eventlog_stream::execute(&cli.global, args).await
        }
        Command::Bench(BenchCommand::Replay(args)) => {
            crate::bench::replay::execute(&cli.global, args).await
        }
        Command::Bench(BenchCommand::Eventflow(args)) => {
            crate::bench::eventflow::execute(&cli.global, args).await
        }
        Command::Hub(args) => hub::execute(&cli.global, args).await,
        Command::Eventlog(args) => eventlog::execute(&cli.global, args).await,
        Command::Rebuild(args) => rebuild::execute(&cli.global, args).await,
        Command::Parked(args) => parked::execute(&cli.global, args).await,
        Command::Replay(args) => replay::execute(&cli.global, args).await,
        Command::Status(args) => status::execute(&cli.global, args).await,
    }
}
