//! Drives a server with `h2load` (nghttp2's HTTP/2 load generator, Debian's
//! `nghttp2-client`) and reads its report: h2c with prior knowledge for `http://` URLs,
//! several streams in flight on each connection.
//!
//! `h2load` reports the mean latency, not percentiles: [`Run::p50`] holds that mean and
//! [`Run::p99`] stays zero.

use std::process::Command;
use std::time::Duration;

use super::wrk::{Run, Server, duration};
use crate::error::{CliError, CliResult};

/// `h2load` threads.
pub const THREADS: usize = 2;

/// Whether `h2load` can be run.
pub fn installed() -> bool {
    Command::new("h2load").arg("--version").output().is_ok()
}

/// Runs `h2load` for `length` on `url` with `connections` × `streams` requests in flight
/// and reads its report and the server's CPU time.
pub fn h2load(
    server: &Server,
    url: &str,
    connections: usize,
    streams: usize,
    length: Duration,
) -> CliResult<Run> {
    let mut command = Command::new("h2load");
    command.args([
        "-t",
        &THREADS.to_string(),
        "-c",
        &connections.to_string(),
        "-m",
        &streams.to_string(),
        "-D",
        &length.as_secs().max(1).to_string(),
        url,
    ]);
    let (text, cpu) = super::wrk::load_tool(server, &mut command, "h2load")?;
    let (mut run, done) = parse(&text)
        .ok_or_else(|| CliError::Bench(format!("unreadable h2load report:\n{text}")))?;
    run.cpu_us = cpu.as_secs_f64() * 1e6 / (done as f64).max(1.0);
    Ok(run)
}

/// The rate, mean latency and failures of an `h2load` report, with the count of
/// requests done.
pub fn parse(text: &str) -> Option<(Run, u64)> {
    let mut run = Run::default();
    let mut done = 0;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("finished in ") {
            // "finished in 10.00s, 95000.00 req/s, 3.50MB/s"
            let rate = rest.split(", ").nth(1)?.strip_suffix(" req/s")?;
            run.rate = rate.parse().ok()?;
        } else if let Some(rest) = line.strip_prefix("requests: ") {
            // "requests: 950000 total, 950000 started, 950000 done, 949990 succeeded,
            //  10 failed, 0 errored, 0 timeout"
            for part in rest.split(", ") {
                let (number, what) = part.split_once(' ')?;
                match what {
                    "done" => done = number.parse().ok()?,
                    "failed" | "errored" | "timeout" => {
                        run.refused += number.parse::<u64>().ok()?;
                    }
                    _ => {}
                }
            }
        } else if let Some(rest) = line.strip_prefix("time for request:") {
            // min, max, mean, sd, +/- sd
            let mean = rest.split_whitespace().nth(2)?;
            run.p50 = duration(mean)?;
        }
    }
    (run.rate > 0.0).then_some((run, done))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h2load_reports_are_read() {
        let report = "starting benchmark...
spawning thread #0: 32 total client(s). Timing-based test with 0s of warm-up time and 10s of main duration for buckets.

finished in 10.00s, 95012.30 req/s, 3.50MB/s
requests: 950123 total, 950123 started, 950120 done, 950100 succeeded, 20 failed, 3 errored, 0 timeout
status codes: 950100 2xx, 0 3xx, 20 4xx, 0 5xx
traffic: 35.00MB (36700160) total, 1.00MB (1048576) headers (space savings 95.00%), 5.00MB (5242880) data
                     min         max         mean         sd        +/- sd
time for request:      112us     25.01ms      6.71ms      1.02ms    85.00%
time for connect:      301us      1.20ms       800us       200us    60.00%
time to 1st byte:     1.00ms      2.00ms      1.50ms       300us    55.00%
req/s           :    1400.00     1600.00     1484.57       50.00    70.00%";
        let (run, done) = parse(report).unwrap();
        assert_eq!(run.rate, 95012.3);
        assert_eq!(done, 950_120);
        assert_eq!(run.refused, 23);
        assert_eq!(run.p50, Duration::from_micros(6710));
        assert!(parse("no report").is_none());
    }
}
