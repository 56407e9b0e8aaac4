//! `superhero bench eventlog-stream`: many concurrent event streams on one demo node in
//! its own process — the memory each idle stream costs the server, and the latency from
//! an event's append to the *last* client receiving it.
//!
//! The bench signs in, obtains one ticket per stream (signed `POST
//! /eventlog/tickets`), opens every stream of the `post` domain, and measures the
//! server's resident memory before and after (`VmRSS` of `/proc/<pid>/status`, after the
//! node settled). Then, each round, it creates posts at a fixed rate through the signed
//! `POST /posts` (each makes two events of the domain: the request and the validator's
//! outcome) and every client records, per event, the time from the event's `timestamp`
//! (the store's clock at append, milliseconds) to its arrival. Per event the slowest
//! client counts; reported are p50/p99 of that over the round's events, and the server's
//! CPU per delivered event from `/proc`. The clients run in this process, a plain reader
//! per TCP connection; their own CPU time is reported beside the server's, since both
//! share the machine's cores.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use clap::Args;
use hyper::Method;
use serde_json::{Value, json};
use superhero_auth::signature::{Signer, SigningKey};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};

use super::load::{self, Target};
use super::wrk::{Server, sign_up, summary};
use crate::cli::GlobalArgs;
use crate::error::{CliError, CliResult};

/// Options of `superhero bench eventlog-stream`.
#[derive(Debug, Args)]
pub struct EventlogStreamBenchArgs {
    /// Concurrent streams (each its own TCP connection).
    #[arg(long, default_value_t = 10_000)]
    pub streams: usize,
    /// Posts per round (two events each reach every stream).
    #[arg(long, default_value_t = 50)]
    pub posts: usize,
    /// Posts per second.
    #[arg(long, default_value_t = 10)]
    pub rate: u64,
    /// Rounds.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

/// The bench user's password.
const PASSWORD: &str = "bench password 0123";

/// Requests in flight while tickets are fetched and streams opened.
const CONCURRENCY: usize = 32;

/// How long a round may take beyond its publishing time before it counts as failed.
const ROUND_GRACE: Duration = Duration::from_secs(60);

/// One client's arrivals in one round: (position, milliseconds from append).
type Arrivals = Vec<(u64, i64)>;

pub async fn execute(_global: &GlobalArgs, args: EventlogStreamBenchArgs) -> CliResult {
    let bench = |e: String| CliError::Bench(e);
    raise_file_limit(args.streams);
    println!(
        "superhero bench eventlog-stream: {} streams of domain `post`, {} posts per round at {}/s, {} rounds; demo node (SQLite, WAL, synchronous=NORMAL) in its own process",
        args.streams, args.posts, args.rate, args.rounds
    );
    let dir = tempfile::tempdir().map_err(|e| bench(e.to_string()))?;
    let config = json!({
        "core": {"log": {"level": "warn"}},
        "eventlog-stream": {"max_streams": args.streams + 100},
    });
    let file = dir.path().join("bench.json");
    std::fs::write(&file, config.to_string()).map_err(|e| bench(e.to_string()))?;
    let data = dir.path().join("data");
    let mut server = Server::start(dir.path(), &file, Some(&data))?;
    let outcome = run(&args, &server).await;
    server.stop();
    outcome
}

async fn run(args: &EventlogStreamBenchArgs, server: &Server) -> CliResult {
    let bench = |e: String| CliError::Bench(e);
    let addr = server.addr;
    let session = sign_up(addr, "bench", PASSWORD).await.map_err(bench)?;
    let signer = Arc::new(Signer::new(session.0.clone(), SigningKey::hmac(&session.1)));

    // One stream first, so the domain's feed exists before the baseline.
    let first = ticket(addr, &signer).await.map_err(bench)?;
    let (report, mut reports) = mpsc::unbounded_channel();
    let quota = args.posts * 2;
    let mut readers = vec![
        open(addr, first, quota, report.clone())
            .await
            .map_err(bench)?,
    ];
    let started = Instant::now();
    let tickets = tickets(addr, &signer, args.streams - 1)
        .await
        .map_err(bench)?;
    eprintln!(
        "{} tickets in {:.1} s",
        tickets.len(),
        started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_kib(server.pid()).map_err(bench)?;
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(CONCURRENCY));
    let mut opening = tokio::task::JoinSet::new();
    for ticket in tickets {
        let gate = gate.clone();
        let report = report.clone();
        opening.spawn(async move {
            let _permit = gate.acquire_owned().await;
            open(addr, ticket, quota, report).await
        });
    }
    while let Some(opened) = opening.join_next().await {
        readers.push(opened.map_err(|e| bench(e.to_string()))?.map_err(bench)?);
    }
    drop(report);
    eprintln!(
        "{} streams open in {:.1} s",
        readers.len(),
        started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(server.pid()).map_err(bench)?;
    let per_stream = (after.saturating_sub(before)) as f64 / readers.len() as f64;
    println!();
    println!(
        "server memory: {before} KiB before, {after} KiB with {} idle streams: {per_stream:.1} KiB per stream",
        readers.len()
    );
    println!();
    println!(
        "{:<6} {:>8} {:>12} {:>12} {:>12} {:>16} {:>16}",
        "round", "events", "last p50", "last p99", "all p99", "server µs/event", "client µs/event"
    );

    let mut last_p50 = Vec::new();
    let mut last_p99 = Vec::new();
    let mut server_cpu = Vec::new();
    for round in 1..=args.rounds {
        let server_before = server.cpu()?;
        let client_before = own_cpu().map_err(bench)?;
        let publishing = publish(addr, signer.clone(), round, args.posts, args.rate);
        let collecting = collect(
            &mut reports,
            readers.len(),
            publishing_time(args) + ROUND_GRACE,
        );
        let (published, arrivals) = tokio::join!(publishing, collecting);
        published.map_err(bench)?;
        let arrivals = arrivals.map_err(bench)?;
        let deliveries = (readers.len() * quota) as f64;
        let server_us = (server.cpu()? - server_before).as_secs_f64() * 1e6 / deliveries;
        let client_us =
            (own_cpu().map_err(bench)? - client_before).as_secs_f64() * 1e6 / deliveries;
        let (last, all) = latencies(&arrivals);
        let p = |values: &[i64], q: f64| quantile(values, q) as f64;
        println!(
            "{round:<6} {:>8} {:>10} ms {:>10} ms {:>10} ms {:>16.1} {:>16.1}",
            last.len(),
            p(&last, 0.5),
            p(&last, 0.99),
            p(&all, 0.99),
            server_us,
            client_us
        );
        last_p50.push(p(&last, 0.5));
        last_p99.push(p(&last, 0.99));
        server_cpu.push(server_us);
    }
    println!();
    println!("medians (min – max) over {} rounds:", args.rounds);
    println!("  append → last client p50 ms   {}", summary(&last_p50, 0));
    println!("  append → last client p99 ms   {}", summary(&last_p99, 0));
    println!(
        "  server µs per delivery        {}",
        summary(&server_cpu, 1)
    );
    println!("  server KiB per idle stream    {per_stream:.1}");
    println!("goals: 10,000 streams, p99 ≤ 100 ms append → last client, ≤ 20 KiB per idle stream");
    Ok(())
}

/// How long publishing a round takes at the set rate.
fn publishing_time(args: &EventlogStreamBenchArgs) -> Duration {
    Duration::from_secs_f64(args.posts as f64 / args.rate.max(1) as f64)
}

/// Per event, the slowest client's latency; and every delivery's.
fn latencies(arrivals: &[Arrivals]) -> (Vec<i64>, Vec<i64>) {
    let mut slowest = std::collections::HashMap::<u64, i64>::new();
    let mut all = Vec::new();
    for client in arrivals {
        for &(position, latency) in client {
            let entry = slowest.entry(position).or_insert(latency);
            *entry = (*entry).max(latency);
            all.push(latency);
        }
    }
    (slowest.into_values().collect(), all)
}

fn quantile(values: &[i64], q: f64) -> i64 {
    if values.is_empty() {
        return 0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index]
}

/// Every reader's arrivals of one round.
async fn collect(
    reports: &mut mpsc::UnboundedReceiver<Arrivals>,
    readers: usize,
    within: Duration,
) -> Result<Vec<Arrivals>, String> {
    let deadline = tokio::time::Instant::now() + within;
    let mut arrivals = Vec::with_capacity(readers);
    while arrivals.len() < readers {
        match tokio::time::timeout_at(deadline, reports.recv()).await {
            Ok(Some(report)) => arrivals.push(report),
            Ok(None) => {
                return Err(format!(
                    "a stream ended; {} of {readers} reported",
                    arrivals.len()
                ));
            }
            Err(_) => {
                return Err(format!(
                    "only {} of {readers} streams received the round's events within {within:?}",
                    arrivals.len()
                ));
            }
        }
    }
    Ok(arrivals)
}

/// Creates `posts` posts at `rate` per second.
async fn publish(
    addr: SocketAddr,
    signer: Arc<Signer>,
    round: usize,
    posts: usize,
    rate: u64,
) -> Result<(), String> {
    let mut every = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(1) as f64));
    let mut sent = tokio::task::JoinSet::new();
    for i in 0..posts {
        every.tick().await;
        let body = json!({"title": format!("round {round} post {i}"), "body": "a streamed post"});
        let target = Target::signed(
            addr,
            &signer,
            Method::POST,
            "/posts",
            Bytes::from(body.to_string()),
        )?;
        sent.spawn(async move { load::once(&target).await });
    }
    while let Some(answer) = sent.join_next().await {
        let (status, body) = answer.map_err(|e| e.to_string())??;
        if status != 201 {
            return Err(format!(
                "POST /posts: {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
    }
    Ok(())
}

/// One stream ticket.
async fn ticket(addr: SocketAddr, signer: &Signer) -> Result<String, String> {
    let target = Target::signed(
        addr,
        signer,
        Method::POST,
        "/eventlog/tickets",
        Bytes::new(),
    )?;
    let (status, body) = load::once(&target).await?;
    if status != 201 {
        return Err(format!(
            "POST /eventlog/tickets: {status} {}",
            String::from_utf8_lossy(&body)
        ));
    }
    let answer: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    answer["ticket"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "no ticket in the answer".to_owned())
}

/// `count` tickets, `CONCURRENCY` requests at a time.
async fn tickets(
    addr: SocketAddr,
    signer: &Arc<Signer>,
    count: usize,
) -> Result<Vec<String>, String> {
    let gate = Arc::new(Semaphore::new(CONCURRENCY));
    let mut asking = tokio::task::JoinSet::new();
    for _ in 0..count {
        let (gate, signer) = (gate.clone(), signer.clone());
        asking.spawn(async move {
            let _permit = gate.acquire_owned().await;
            ticket(addr, &signer).await
        });
    }
    let mut tickets = Vec::with_capacity(count);
    while let Some(ticket) = asking.join_next().await {
        tickets.push(ticket.map_err(|e| e.to_string())??);
    }
    Ok(tickets)
}

/// Opens a stream of domain `post` with `ticket` and starts its reader, which reports
/// its arrivals after every `quota` events; the reader's task.
async fn open(
    addr: SocketAddr,
    ticket: String,
    quota: usize,
    report: mpsc::UnboundedSender<Arrivals>,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let request = format!(
        "GET /eventlog/post/stream?ticket={ticket} HTTP/1.1\r\nhost: {addr}\r\naccept: text/event-stream\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::with_capacity(4096, stream);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .await
        .map_err(|e| e.to_string())?;
    if !line.starts_with("HTTP/1.1 200") {
        return Err(format!("a stream was refused: {}", line.trim_end()));
    }
    loop {
        line.clear();
        reader
            .read_line(&mut line)
            .await
            .map_err(|e| e.to_string())?;
        if line.trim_end().is_empty() {
            break;
        }
    }
    Ok(tokio::spawn(read(reader, quota, report)))
}

/// Reads SSE lines (the chunk-size lines of the chunked body are skipped: each frame is
/// one chunk), noting for each event its position and latency.
async fn read(
    mut reader: BufReader<TcpStream>,
    quota: usize,
    report: mpsc::UnboundedSender<Arrivals>,
) {
    let mut line = String::new();
    let mut arrivals = Vec::with_capacity(quota);
    let mut position = 0;
    loop {
        line.clear();
        match reader.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if let Some(id) = line.strip_prefix("id: ") {
            position = id.trim_end().parse().unwrap_or(0);
        } else if let Some(data) = line.strip_prefix("data: ") {
            let Some(appended) = timestamp_of(data) else {
                continue;
            };
            arrivals.push((position, now_ms() - appended));
            if arrivals.len() == quota {
                let full = std::mem::replace(&mut arrivals, Vec::with_capacity(quota));
                if report.send(full).is_err() {
                    return;
                }
            }
        }
    }
}

/// The `timestamp` of an event's JSON (the first one: the event's own, before its data).
fn timestamp_of(json: &str) -> Option<i64> {
    let start = json.find("\"timestamp\":")? + "\"timestamp\":".len();
    let digits: String = json[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The resident memory of process `pid`, KiB.
fn rss_kib(pid: u32) -> Result<u64, String> {
    super::proc_status_kib(pid, "VmRSS").ok_or_else(|| format!("no VmRSS for process {pid}"))
}

/// This process's user + system CPU time.
fn own_cpu() -> Result<Duration, String> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes the struct we pass.
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) != 0 {
            return Err(std::io::Error::last_os_error().to_string());
        }
        usage.assume_init()
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
    Ok(time(usage.ru_utime) + time(usage.ru_stime))
}

/// Raises this process's open-file limit (and so the demo node's, which inherits it) to
/// what `streams` connections on each side need, within the hard limit.
fn raise_file_limit(streams: usize) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return;
        }
        let want = (streams as u64 + 1_024).min(limit.rlim_max);
        if limit.rlim_cur < want {
            limit.rlim_cur = want;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                eprintln!("could not raise the open-file limit to {want}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slowest_client_counts_per_event() {
        let arrivals = vec![vec![(1, 5), (2, 7)], vec![(1, 9), (2, 3)]];
        let (mut last, all) = latencies(&arrivals);
        last.sort_unstable();
        assert_eq!(last, [7, 9]);
        assert_eq!(all.len(), 4);
        assert_eq!(quantile(&[1, 2, 3, 4, 100], 0.5), 3);
        assert_eq!(quantile(&[1, 2, 3, 4, 100], 0.99), 100);
    }

    #[test]
    fn the_event_timestamp_is_read_from_its_json() {
        let json = r#"{"id":"x","position":7,"version":1,"timestamp":1796000000123,"data":{"timestamp":1}}"#;
        assert_eq!(timestamp_of(json), Some(1_796_000_000_123));
        assert_eq!(timestamp_of("{}"), None);
    }
}
