//! The command line, declared with clap.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use superhero_core::cluster::Workers;
use superhero_core::logging::LogFormat;

/// Superhero: event-driven services in Rust.
#[derive(Debug, Parser)]
#[command(name = "superhero", version, about, propagate_version = true)]
pub struct Cli {
    /// Options every subcommand takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Config file (.toml or .json) or folder holding config.toml/config.json.
    /// Repeat to layer several; later files win. Without it, ./config.toml or
    /// ./config.json is used when present.
    #[arg(long = "config", short = 'c', value_name = "FILE", global = true)]
    pub config: Vec<PathBuf>,

    /// Config branch: after each file `x.toml`, also load `x-<BRANCH>.toml`
    /// (or .json) from the same folder when it exists.
    #[arg(long, value_name = "NAME", global = true, env = "SUPERHERO_BRANCH")]
    pub branch: Option<String>,

    /// Log line format: human or json (default: config `core.log.format`, else human).
    #[arg(long, value_name = "FORMAT", global = true)]
    pub log_format: Option<LogFormat>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The all-in-one node: every app on one HTTP port. Prints its URLs.
    Demo(DemoArgs),
    /// Run a node until SIGTERM/SIGINT: mount the named apps (if any), construct
    /// the services of the `locator` map, run the `bootstrap` map, shut down
    /// gracefully.
    Run(RunArgs),
    /// Side-by-side benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Run an eventflow hub from config (`eventflow.store`, `eventflow.certificates`,
    /// `eventflow.hub`) until SIGTERM/SIGINT.
    Hub(crate::commands::hub::HubArgs),
    /// Print the event-log of one process and its projected state.
    Eventlog(crate::commands::eventlog::EventlogArgs),
    /// Rebuild an app's read models from the event-log (progress on stderr); safe
    /// while the app's nodes run.
    Rebuild(crate::commands::rebuild::RebuildArgs),
    /// List parked (dead-lettered) events with their last error and delivery count.
    Parked(crate::commands::parked::ParkedArgs),
    /// Replay parked events page by page (progress on stderr); each page is recorded in
    /// the `eventflow-admin` domain with who replayed it.
    Replay(crate::commands::replay::ReplayArgs),
    /// The cluster at a glance from its store: hubs, spokes, backlog per domain,
    /// scheduled events due.
    Status(crate::commands::status::StatusArgs),
}

/// Options of `superhero demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address of the HTTP server (default: config `http.server.listen`, which the
    /// demo sets to 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,

    /// Folder for the demo's SQLite store and cluster secret (default: ./data).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
}

/// Options of `superhero run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Apps to mount (their services and wiring), e.g. `ping-pong`. Without any,
    /// the node runs what the config files describe.
    #[arg(value_name = "APP")]
    pub apps: Vec<String>,

    /// Run as a cluster of N worker processes under a supervisor (`auto`: one
    /// per CPU). Default: config `core.cluster.workers`, else one process.
    #[arg(long, value_name = "N|auto")]
    pub workers: Option<Workers>,
}

/// `superhero bench …`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Ping-pong on our HTTP stack against a bare hyper server, each in its own process,
    /// driven by wrk/h2load (or a built-in generator): requests/s and server CPU per
    /// request, several rounds; or any `--target URL`.
    Http(crate::bench::http::HttpBenchArgs),
    /// Eventflow under constant load while hubs and consumers are killed and the
    /// database is stopped (a private PostgreSQL server), then a check that every
    /// acknowledged event was handled exactly once or parked.
    Soak(crate::bench::soak::SoakArgs),
    /// One consuming spoke of `bench soak` in its own process (used by `bench soak`).
    #[command(hide = true)]
    SoakConsumer(crate::bench::soak::consumer::SoakConsumerArgs),
    /// One server of `bench http` in its own process (used by `bench http`).
    #[command(hide = true)]
    Serve(crate::bench::servers::ServeArgs),
    /// Signed sessions against unsigned requests on a demo node, with wrk; and an
    /// unsigned route's p99 while 100 clients sign in.
    Auth(crate::bench::auth::AuthBenchArgs),
    /// A real hub over real TLS on loopback, one publishing and two competing consuming
    /// spokes: publish rate, end-to-end rate, latency at a fixed rate, exactly-once check.
    Eventflow(crate::bench::eventflow::EventflowBenchArgs),
    /// Signed posts created end to end (publish → validating consumer → outcome → 201)
    /// per second with p50/p99, on SQLite and PostgreSQL, with wrk.
    MessageBoard(crate::bench::message_board::MessageBoardBenchArgs),
    /// Many concurrent event streams on a demo node: server memory per idle stream and
    /// the latency from an event's append to the last client receiving it.
    EventlogStream(crate::bench::eventlog_stream::EventlogStreamBenchArgs),
    /// `superhero replay` over many parked events: the replaying process's peak RSS
    /// (bounded, whatever the count), then each replayed event delivered exactly once.
    Replay(crate::bench::replay::ReplayBenchArgs),
}
