//! The `superhero` command.
//!
//! `superhero run` starts a node from config (optionally as a cluster of
//! worker processes). Further subcommands (`demo`, `hub`, `eventlog`, `bench`)
//! arrive with the components they drive.

mod cli;
mod commands;
mod hello;
mod services;
mod settings;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::execute(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %superhero_core::report(&error), "stopped with an error");
            ExitCode::FAILURE
        }
    }
}
