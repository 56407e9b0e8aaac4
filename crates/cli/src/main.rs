//! The `superhero` command.
//!
//! `superhero demo` runs the all-in-one node, `superhero run` a node from apps
//! and config (optionally as a cluster of worker processes), `superhero bench`
//! the side-by-side benchmarks.

mod apps;
mod bench;
mod cli;
mod commands;
mod error;
mod hello;
mod page;
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
            if tracing::dispatcher::has_been_set() {
                tracing::error!(code = error.code(), error = %error.report(), "stopped with an error");
            } else {
                eprintln!("error: {}", error.report());
            }
            ExitCode::FAILURE
        }
    }
}
