//! `superhero bench`: side-by-side benchmarks, servers in their own processes where the
//! figure is the server's cost, driven by `wrk`/`h2load` or a built-in load generator.

pub mod auth;
pub mod eventflow;
pub mod eventlog_stream;
mod h2load;
pub mod http;
mod load;
pub mod message_board;
pub mod replay;
pub mod scale;
pub mod servers;
pub mod soak;
mod wrk;

/// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`, …), in KiB; `None` when the
/// process is gone or has no such field.
fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}
