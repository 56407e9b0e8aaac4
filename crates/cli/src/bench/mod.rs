//! `superhero bench`: side-by-side benchmarks with a built-in load generator.

pub mod auth;
pub mod eventflow;
pub mod eventlog_stream;
pub mod http;
mod load;
pub mod message_board;
pub mod replay;
mod servers;
mod wrk;
