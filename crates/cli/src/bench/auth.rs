//! `superhero bench auth`: the cost of signed sessions, measured with `wrk` against a
//! demo node in its own process (embedded SQLite, activity recorded).
//!
//! * **Signed vs unsigned**: the same dispatcher (ping-pong's) behind `GET /ping`
//!   (unsigned) and `GET /signed/ping` (the signed-session middleware: signature, session
//!   and digest checks, a nonce claimed in the store, a `user-activity` event), 64
//!   connections. Signed requests are signed before the run, each with its own nonce,
//!   and `wrk` replays them from a Lua script, so the load generator does no
//!   cryptography. Every round reports requests/s, p50, p99, refused responses and the
//!   server's CPU time per request (from `/proc/<pid>/stat`).
//! * **Sign-ins against other traffic**: `GET /ping` on a few connections, idle and
//!   while 100 concurrent clients sign in back to back (Argon2id at OWASP cost): its
//!   p99 both ways, and the sign-ins per second.
//!
//! Rounds are repeated; the summary gives medians with their range.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{Value, json};
use superhero_auth::signature::{Signer, SigningKey};

use super::load::{self, Plan, Target};
use crate::cli::GlobalArgs;
use crate::error::{CliError, CliResult};

/// Options of `superhero bench auth`.
#[derive(Debug, Args)]
pub struct AuthBenchArgs {
    /// Concurrent connections of the signed/unsigned comparison.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 10)]
    pub duration_secs: u64,
    /// Rounds (each: unsigned, signed, quiet, quiet with sign-ins).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Concurrent sign-in clients during the interference run.
    #[arg(long, default_value_t = 100)]
    pub logins: usize,
    /// Connections of the quiet `GET /ping` whose p99 is compared (few: below saturation).
    #[arg(long, default_value_t = 2)]
    pub quiet_connections: usize,
}

/// The server's extra route: the same dispatcher behind the signed-session middleware.
const SIGNED_ROUTE: &str = r#"
[http.routes.signed-ping]
condition = "/signed/ping"
method = "GET"
middleware = ["auth/signed-session"]
dispatcher = "ping-pong/ping/respond"

[core.log]
level = "warn"
"#;

/// Replays pre-signed requests, one file per `wrk` thread.
const WRK_SCRIPT: &str = r#"
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
function init(args)
  requests = {}
  for line in io.lines(args[1] .. "." .. id) do
    local input, signature = line:match("([^\t]*)\t(.*)")
    requests[#requests + 1] = wrk.format("GET", args[2],
      { ["Signature-Input"] = input, ["Signature"] = signature })
  end
  n = 0
end
function request()
  n = n + 1
  if n > #requests then n = 1 end
  return requests[n]
end
"#;

/// `wrk` threads.
const WRK_THREADS: usize = 2;

/// One `wrk` run.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    rate: f64,
    p50: Duration,
    p99: Duration,
    refused: u64,
    /// Server CPU time per request, microseconds.
    cpu_us: f64,
}

pub async fn execute(_global: &GlobalArgs, args: AuthBenchArgs) -> CliResult {
    let bench = |e: String| CliError::Bench(e);
    if Command::new("wrk").arg("--version").output().is_err() {
        return Err(bench(
            "wrk is not installed (Debian: apt-get install -y wrk)".into(),
        ));
    }
    let dir = tempfile::tempdir().map_err(|e| bench(e.to_string()))?;
    let mut server = Server::start(dir.path())?;
    let addr = server.addr;
    let session = sign_up(addr).await.map_err(bench)?;
    let signer = Signer::new(session.0.clone(), SigningKey::hmac(&session.1));
    println!(
        "superhero bench auth: wrk -t{WRK_THREADS}, {} connections, {} s runs, {} rounds; demo node pid {} on SQLite (WAL, synchronous=NORMAL), activity recorded",
        args.connections,
        args.duration_secs,
        args.rounds,
        server.pid()
    );
    println!(
        "{:<6} {:<22} {:>10} {:>9} {:>9} {:>8} {:>12}",
        "round", "run", "req/s", "p50", "p99", "refused", "server µs/req"
    );
    let duration = Duration::from_secs(args.duration_secs);
    let (mut unsigned, mut signed, mut quiet, mut busy, mut logins) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 1..=args.rounds {
        let plain = wrk(
            &server,
            &format!("http://{addr}/ping"),
            args.connections,
            duration,
            None,
        )?;
        print_row(round, "unsigned GET /ping", &plain);
        // Enough for signed requests at a quarter of the unsigned rate; beyond that they
        // would repeat, and every repeat shows as refused (a replay).
        let requests = (plain.rate * duration.as_secs_f64() * 0.25) as usize + 20_000;
        let script = presign(dir.path(), &signer, addr, "/signed/ping", requests)?;
        let with = wrk(
            &server,
            &format!("http://{addr}/signed/ping"),
            args.connections,
            duration,
            Some(&script),
        )?;
        print_row(round, "signed GET /signed/ping", &with);
        unsigned.push(plain);
        signed.push(with);

        let idle = wrk(
            &server,
            &format!("http://{addr}/ping"),
            args.quiet_connections,
            duration,
            None,
        )?;
        print_row(round, "quiet GET /ping, idle", &idle);
        let login = Target::post_json(
            addr,
            "/sessions",
            &json!({"name": "bench", "password": PASSWORD}),
        );
        let plan = Plan {
            connections: args.logins,
            warmup: Duration::from_secs(1),
            duration: duration + Duration::from_secs(2),
        };
        let signing_in = tokio::spawn(async move { load::drive(&login, plan).await });
        tokio::time::sleep(Duration::from_secs(1)).await;
        let during = wrk(
            &server,
            &format!("http://{addr}/ping"),
            args.quiet_connections,
            duration,
            None,
        )?;
        let report = signing_in
            .await
            .map_err(|e| bench(e.to_string()))?
            .map_err(bench)?;
        print_row(round, "quiet GET /ping, logins", &during);
        println!(
            "{round:<6} {:<22} {:>10.0} {:>9} {:>9} {:>8}",
            "sign-ins (POST)",
            report.rate(),
            millis(report.quantile(0.5)),
            millis(report.quantile(0.99)),
            report.errors
        );
        quiet.push(idle);
        busy.push(during);
        logins.push(report.rate());
    }
    server.stop();

    println!();
    println!("medians (min – max) over {} rounds:", args.rounds);
    let rate = |runs: &[Run]| runs.iter().map(|r| r.rate).collect::<Vec<_>>();
    let p99 = |runs: &[Run]| {
        runs.iter()
            .map(|r| r.p99.as_secs_f64() * 1e3)
            .collect::<Vec<_>>()
    };
    let cpu = |runs: &[Run]| runs.iter().map(|r| r.cpu_us).collect::<Vec<_>>();
    println!("  unsigned req/s        {}", summary(&rate(&unsigned), 0));
    println!("  signed req/s          {}", summary(&rate(&signed), 0));
    let ratios: Vec<f64> = signed
        .iter()
        .zip(&unsigned)
        .map(|(s, u)| s.rate / u.rate.max(1.0))
        .collect();
    println!("  signed / unsigned     {}", summary(&ratios, 2));
    println!("  unsigned server µs/req {}", summary(&cpu(&unsigned), 0));
    println!("  signed server µs/req  {}", summary(&cpu(&signed), 0));
    println!("  quiet p99 idle, ms    {}", summary(&p99(&quiet), 2));
    println!("  quiet p99 logins, ms  {}", summary(&p99(&busy), 2));
    let factors: Vec<f64> = busy
        .iter()
        .zip(&quiet)
        .map(|(b, q)| b.p99.as_secs_f64() / q.p99.as_secs_f64().max(1e-6))
        .collect();
    println!("  p99 logins / idle     {}", summary(&factors, 2));
    println!("  sign-ins/s            {}", summary(&logins, 0));
    let refused: u64 = signed.iter().map(|r| r.refused).sum();
    if refused > 0 {
        println!(
            "  note: {refused} signed requests were refused (replays after the pre-signed set ran out, or errors)"
        );
    }
    println!("goals: signed ≥ 10,000 req/s on SQLite; quiet p99 with 100 sign-ins ≤ 2× idle");
    Ok(())
}

/// The bench user's password.
const PASSWORD: &str = "bench password 0123";

/// Registers the bench user and signs in: (session id, session key).
async fn sign_up(addr: SocketAddr) -> Result<(String, Vec<u8>), String> {
    let user = json!({"name": "bench", "password": PASSWORD});
    let (status, body) = load::once(&Target::post_json(addr, "/users", &user)).await?;
    if status != 201 {
        return Err(format!(
            "POST /users: {status} {}",
            String::from_utf8_lossy(&body)
        ));
    }
    let (status, body) = load::once(&Target::post_json(addr, "/sessions", &user)).await?;
    if status != 201 {
        return Err(format!(
            "POST /sessions: {status} {}",
            String::from_utf8_lossy(&body)
        ));
    }
    let session: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD
        .decode(session["session_key"].as_str().unwrap_or_default())
        .map_err(|e| e.to_string())?;
    Ok((
        session["session_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        key,
    ))
}

/// Signs `count` requests for `path`, each with its own nonce, into one file per `wrk`
/// thread; returns the script's path and its arguments.
fn presign(
    dir: &Path,
    signer: &Signer,
    addr: SocketAddr,
    path: &str,
    count: usize,
) -> CliResult<(PathBuf, String, String)> {
    let failed = |e: String| CliError::Bench(format!("signing requests: {e}"));
    let prefix = dir.join("signed");
    let authority = addr.to_string();
    for thread in 0..WRK_THREADS {
        let file = std::fs::File::create(format!("{}.{thread}", prefix.display()))
            .map_err(|e| failed(e.to_string()))?;
        let mut out = std::io::BufWriter::new(file);
        for _ in 0..count / WRK_THREADS {
            let signed = signer
                .sign("GET", &authority, path, b"")
                .map_err(|e| failed(e.to_string()))?;
            writeln!(out, "{}\t{}", signed.signature_input, signed.signature)
                .map_err(|e| failed(e.to_string()))?;
        }
        out.flush().map_err(|e| failed(e.to_string()))?;
    }
    let script = dir.join("signed.lua");
    std::fs::write(&script, WRK_SCRIPT).map_err(|e| failed(e.to_string()))?;
    Ok((script, prefix.display().to_string(), path.to_owned()))
}

/// Runs `wrk` on `url` and reads its report and the server's CPU time.
fn wrk(
    server: &Server,
    url: &str,
    connections: usize,
    duration: Duration,
    script: Option<&(PathBuf, String, String)>,
) -> CliResult<Run> {
    let mut command = Command::new("wrk");
    command.args([
        "-t",
        &WRK_THREADS.to_string(),
        "-c",
        &connections.to_string(),
        "-d",
        &format!("{}s", duration.as_secs()),
        "--latency",
    ]);
    if let Some((script, prefix, path)) = script {
        command
            .arg("-s")
            .arg(script)
            .arg(url)
            .arg("--")
            .arg(prefix)
            .arg(path);
    } else {
        command.arg(url);
    }
    let cpu_before = server.cpu()?;
    let output = command
        .output()
        .map_err(|e| CliError::Bench(format!("wrk: {e}")))?;
    let cpu = server.cpu()? - cpu_before;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(CliError::Bench(format!(
            "wrk failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let mut run = parse_wrk(&text)
        .ok_or_else(|| CliError::Bench(format!("unreadable wrk report:\n{text}")))?;
    let requests = run.rate * duration.as_secs_f64();
    run.cpu_us = cpu.as_secs_f64() * 1e6 / requests.max(1.0);
    Ok(run)
}

/// Requests/s, the 50 % and 99 % latencies and the refused count of a `wrk --latency`
/// report.
fn parse_wrk(text: &str) -> Option<Run> {
    let mut run = Run::default();
    for line in text.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("Requests/sec:"), Some(rate)) => run.rate = rate.parse().ok()?,
            (Some("50%"), Some(latency)) => run.p50 = duration(latency)?,
            (Some("99%"), Some(latency)) => run.p99 = duration(latency)?,
            (Some("Non-2xx"), _) => run.refused = line.rsplit(' ').next()?.parse().ok()?,
            _ => {}
        }
    }
    (run.rate > 0.0).then_some(run)
}

/// `wrk`'s `123.45us`, `1.23ms`, `1.02s`.
fn duration(text: &str) -> Option<Duration> {
    let (number, unit) = text.split_at(text.find(|c: char| c.is_ascii_alphabetic())?);
    let value: f64 = number.parse().ok()?;
    let seconds = match unit {
        "us" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" => value * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

fn millis(duration: Duration) -> String {
    format!("{:.2}ms", duration.as_secs_f64() * 1e3)
}

fn print_row(round: usize, name: &str, run: &Run) {
    println!(
        "{round:<6} {name:<22} {:>10.0} {:>9} {:>9} {:>8} {:>12.0}",
        run.rate,
        millis(run.p50),
        millis(run.p99),
        run.refused,
        run.cpu_us
    );
}

/// `median (min – max)` of `values`.
fn summary(values: &[f64], decimals: usize) -> String {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (Some(min), Some(max)) = (sorted.first(), sorted.last()) else {
        return "-".into();
    };
    let median = sorted[sorted.len() / 2];
    format!("{median:.decimals$} ({min:.decimals$} – {max:.decimals$})")
}

/// The demo node under test, in its own process.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(dir: &Path) -> CliResult<Server> {
        let bench = |e: String| CliError::Bench(format!("starting the demo node: {e}"));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| bench(e.to_string()))?
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let config = dir.join("bench.toml");
        std::fs::write(&config, SIGNED_ROUTE).map_err(|e| bench(e.to_string()))?;
        let program = std::env::current_exe().map_err(|e| bench(e.to_string()))?;
        let child = Command::new(program)
            .arg("--config")
            .arg(&config)
            .args(["demo", "--http", &addr.to_string(), "--data"])
            .arg(dir.join("data"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| bench(e.to_string()))?;
        let mut server = Server { child, addr };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if std::net::TcpStream::connect(addr).is_ok() {
                return Ok(server);
            }
            if Instant::now() > deadline || server.child.try_wait().ok().flatten().is_some() {
                server.stop();
                return Err(bench("it did not start listening within 60 s".into()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's user + system CPU time so far.
    fn cpu(&self) -> CliResult<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .map_err(|e| CliError::Bench(format!("reading the server's CPU time: {e}")))?;
        // Fields after the command name (which may hold spaces) start at ") ".
        let fields: Vec<&str> = stat
            .rsplit_once(") ")
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name.
        let total = ticks(11) + ticks(12);
        // SAFETY: sysconf has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        Ok(Duration::from_secs_f64(total as f64 / per_second))
    }

    fn stop(&mut self) {
        // SAFETY: kill(2) on the child we started.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_reports_are_read() {
        let report = "Running 10s test @ http://127.0.0.1:1/ping
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   512.00us  100.00us   5.00ms   90.00%
  Latency Distribution
     50%  480.00us
     75%  600.00us
     90%  700.00us
     99%    1.50ms
  123456 requests in 10.00s, 10.00MB read
  Non-2xx or 3xx responses: 7
Requests/sec:  12345.60
Transfer/sec:      1.00MB";
        let run = parse_wrk(report).unwrap();
        assert_eq!(run.rate, 12345.6);
        assert_eq!(run.p50, Duration::from_micros(480));
        assert_eq!(run.p99, Duration::from_micros(1500));
        assert_eq!(run.refused, 7);
        assert_eq!(summary(&[3.0, 1.0, 2.0], 1), "2.0 (1.0 – 3.0)");
    }
}
