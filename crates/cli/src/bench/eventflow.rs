//! `superhero bench eventflow`: see [`superhero_eventflow::bench`]; with `--hubs` or
//! `--consumers`, hubs and consumers in processes of their own ([`super::scale`]).

use clap::Args;
use superhero_core::logging::{self, LogConfig};
use superhero_eventflow::bench::{self, BenchOptions};

use crate::cli::GlobalArgs;
use crate::error::CliResult;

/// Options of `superhero bench eventflow`.
#[derive(Debug, Args)]
pub struct EventflowBenchArgs {
    /// A PostgreSQL or MySQL/MariaDB server (a fresh schema or database is created and
    /// dropped); default: a SQLite file in a temporary folder.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Events of the throughput phase.
    #[arg(long, default_value_t = 20_000)]
    pub events: usize,
    /// Concurrent publish calls of the throughput phase.
    #[arg(long, default_value_t = 256)]
    pub concurrency: usize,
    /// Events of the one-caller (C = 1) throughput phase.
    #[arg(long, default_value_t = 2_000)]
    pub single_events: usize,
    /// Seconds of the database's single-commit limit measurement (0: skip it).
    #[arg(long, default_value_t = 3)]
    pub limit_secs: u64,
    /// Offered rate of the latency phase, events per second.
    #[arg(long, default_value_t = 1_000)]
    pub rate: u32,
    /// Seconds of the latency phase.
    #[arg(long, default_value_t = 5)]
    pub latency_secs: u64,
    /// Hub processes: with `--hubs` or `--consumers`, hubs and consumers run in
    /// processes of their own on `--store`'s server (default 1 hub).
    #[arg(long, requires = "store", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub hubs: Option<u16>,
    /// Consuming processes, with `--hubs` (default 2).
    #[arg(long, requires = "store", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub consumers: Option<u16>,
}

pub async fn execute(global: &GlobalArgs, args: EventflowBenchArgs) -> CliResult {
    logging::init(&LogConfig {
        format: global.log_format.unwrap_or_default(),
        level: "warn".into(),
    });
    if args.hubs.is_some() || args.consumers.is_some() {
        let options = super::scale::ScaleOptions {
            store_url: args.store.unwrap_or_default(),
            hubs: args.hubs.unwrap_or(1),
            consumers: args.consumers.unwrap_or(2),
            events: args.events.max(1),
            concurrency: args.concurrency.max(1),
            rate: args.rate.max(1),
            latency_secs: args.latency_secs.max(1),
        };
        return super::scale::run(&options).await;
    }
    let options = BenchOptions {
        store_url: args.store,
        events: args.events.max(1),
        concurrency: args.concurrency.max(1),
        single_events: args.single_events,
        limit_secs: args.limit_secs,
        rate: args.rate.max(1),
        latency_secs: args.latency_secs,
        ..BenchOptions::default()
    };
    let report = bench::run(&options).await?;
    print!("{report}");
    Ok(())
}
