//! What the `wrk`-driven benchmarks share: a demo node in its own process (its CPU time
//! read from `/proc`), a signed-in session, requests signed before the run and replayed
//! by a `wrk` Lua script (so the load generator does no cryptography), `wrk`'s report
//! and the medians of several rounds.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use superhero_auth::signature::Signer;

use super::load::{self, Target};
use crate::error::{CliError, CliResult};

/// `wrk` threads.
pub const WRK_THREADS: usize = 2;

/// Replays pre-signed requests, one file per `wrk` thread: lines of
/// `Signature-Input`, `Signature`, `Content-Digest` (empty without a body) and the body,
/// separated by tabs. Arguments: the files' prefix, the method, the path.
const SIGNED_SCRIPT: &str = r#"
threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  requests = {}
  local method, path = args[2], args[3]
  for line in io.lines(args[1] .. "." .. id) do
    local input, signature, digest, body = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)")
    local headers = { ["Signature-Input"] = input, ["Signature"] = signature }
    if digest ~= "" then
      headers["Content-Digest"] = digest
      headers["Content-Type"] = "application/json"
    end
    if body == "" then body = nil end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
  n = 0
  created, accepted, other = 0, 0, 0
end
function request()
  n = n + 1
  if n > #requests then n = 1 end
  return requests[n]
end
"#;

/// Counts 201, 202 and other answers (wrk counts 202 as a success), printed as a
/// `statuses:` line. Makes `wrk` parse every response in Lua: only where it matters.
const STATUS_COUNTER: &str = r#"
function response(status, headers, body)
  if status == 201 then created = created + 1
  elseif status == 202 then accepted = accepted + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local c, a, o = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    a = a + t:get("accepted")
    o = o + t:get("other")
  end
  io.write(string.format("statuses: created %d accepted %d other %d\n", c, a, o))
end
"#;

/// One `wrk` run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Run {
    /// Requests per second.
    pub rate: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Non-2xx answers.
    pub refused: u64,
    /// Server CPU time per request, microseconds.
    pub cpu_us: f64,
    /// With a status counter: 201 answers, 202 answers, any other.
    pub statuses: Option<(u64, u64, u64)>,
}

/// A `wrk` Lua script and its arguments.
#[derive(Debug, Clone)]
pub struct Script {
    path: PathBuf,
    args: Vec<String>,
}

/// Signs `count` requests `method path` with `body(i)` as the i-th body (empty: none),
/// each with its own nonce, into one file per `wrk` thread; `count_statuses` adds the
/// status counter to the script.
pub fn presign(
    dir: &Path,
    signer: &Signer,
    addr: SocketAddr,
    (method, path): (&str, &str),
    count: usize,
    body: impl Fn(usize) -> Vec<u8>,
    count_statuses: bool,
) -> CliResult<Script> {
    let failed = |e: String| CliError::Bench(format!("signing requests: {e}"));
    let prefix = dir.join("signed");
    let authority = addr.to_string();
    let mut i = 0;
    for thread in 0..WRK_THREADS {
        let file = std::fs::File::create(format!("{}.{thread}", prefix.display()))
            .map_err(|e| failed(e.to_string()))?;
        let mut out = std::io::BufWriter::new(file);
        for _ in 0..count / WRK_THREADS {
            let bytes = body(i);
            i += 1;
            if bytes.iter().any(|b| *b == b'\t' || *b == b'\n') {
                return Err(failed("a body holds a tab or a line break".into()));
            }
            let signed = signer
                .sign(method, &authority, path, &bytes)
                .map_err(|e| failed(e.to_string()))?;
            writeln!(
                out,
                "{}\t{}\t{}\t{}",
                signed.signature_input,
                signed.signature,
                signed.content_digest.as_deref().unwrap_or(""),
                String::from_utf8_lossy(&bytes)
            )
            .map_err(|e| failed(e.to_string()))?;
        }
        out.flush().map_err(|e| failed(e.to_string()))?;
    }
    let script = dir.join("signed.lua");
    let mut text = SIGNED_SCRIPT.to_owned();
    if count_statuses {
        text.push_str(STATUS_COUNTER);
    }
    std::fs::write(&script, text).map_err(|e| failed(e.to_string()))?;
    Ok(Script {
        path: script,
        args: vec![
            prefix.display().to_string(),
            method.to_owned(),
            path.to_owned(),
        ],
    })
}

/// Runs `wrk` on `url` and reads its report and the server's CPU time.
pub fn wrk(
    server: &Server,
    url: &str,
    connections: usize,
    duration: Duration,
    script: Option<&Script>,
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
    if let Some(script) = script {
        command
            .arg("-s")
            .arg(&script.path)
            .arg(url)
            .arg("--")
            .args(&script.args);
    } else {
        command.arg(url);
    }
    let (text, cpu) = load_tool(server, &mut command, "wrk")?;
    let mut run = parse_wrk(&text)
        .ok_or_else(|| CliError::Bench(format!("unreadable wrk report:\n{text}")))?;
    let requests = run.rate * duration.as_secs_f64();
    run.cpu_us = cpu.as_secs_f64() * 1e6 / requests.max(1.0);
    Ok(run)
}

/// Runs the load generator `command` (`name` in errors) against `server`: its standard
/// output, and the server's CPU time while it ran.
pub fn load_tool(
    server: &Server,
    command: &mut Command,
    name: &str,
) -> CliResult<(String, Duration)> {
    let cpu_before = server.cpu()?;
    let output = command
        .output()
        .map_err(|e| CliError::Bench(format!("{name}: {e}")))?;
    let cpu = server.cpu()? - cpu_before;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(CliError::Bench(format!(
            "{name} failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok((text, cpu))
}

/// Requests/s, the 50 % and 99 % latencies and the refused count of a `wrk --latency`
/// report.
pub fn parse_wrk(text: &str) -> Option<Run> {
    let mut run = Run::default();
    for line in text.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("Requests/sec:"), Some(rate)) => run.rate = rate.parse().ok()?,
            (Some("50%"), Some(latency)) => run.p50 = duration(latency)?,
            (Some("99%"), Some(latency)) => run.p99 = duration(latency)?,
            (Some("Non-2xx"), _) => run.refused = line.rsplit(' ').next()?.parse().ok()?,
            (Some("statuses:"), _) => {
                let numbers: Vec<u64> = line
                    .split_whitespace()
                    .filter_map(|w| w.parse().ok())
                    .collect();
                if let [created, accepted, other] = numbers[..] {
                    run.statuses = Some((created, accepted, other));
                }
            }
            _ => {}
        }
    }
    (run.rate > 0.0).then_some(run)
}

/// `wrk`'s `123.45us`, `1.23ms`, `1.02s`.
pub fn duration(text: &str) -> Option<Duration> {
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

pub fn millis(duration: Duration) -> String {
    format!("{:.2}ms", duration.as_secs_f64() * 1e3)
}

/// `median (min – max)` of `values`.
pub fn summary(values: &[f64], decimals: usize) -> String {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (Some(min), Some(max)) = (sorted.first(), sorted.last()) else {
        return "-".into();
    };
    let median = sorted[sorted.len() / 2];
    format!("{median:.decimals$} ({min:.decimals$} – {max:.decimals$})")
}

/// Registers `name` with `password` and signs in: (session id, session key).
pub async fn sign_up(
    addr: SocketAddr,
    name: &str,
    password: &str,
) -> Result<(String, Vec<u8>), String> {
    let user = json!({"name": name, "password": password});
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

/// A free loopback address (the port the OS picked, released for a server to bind).
pub fn free_addr() -> CliResult<SocketAddr> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| CliError::Bench(format!("picking a free port: {e}")))
}

/// Whether `wrk` can be run.
pub fn installed() -> bool {
    Command::new("wrk").arg("-v").output().is_ok()
}

/// A server under test, in its own process.
pub struct Server {
    /// Its HTTP address.
    pub addr: SocketAddr,
    child: Child,
}

impl Server {
    /// Starts `superhero demo` with the config file `config` and, when given, `--data
    /// data`, in the folder `cwd`; returns once it listens.
    pub fn start(cwd: &Path, config: &Path, data: Option<&Path>) -> CliResult<Server> {
        let addr = free_addr()?;
        let program = std::env::current_exe()
            .map_err(|e| CliError::Bench(format!("starting the demo node: {e}")))?;
        let mut command = Command::new(program);
        command.current_dir(cwd).arg("--config").arg(config).args([
            "demo",
            "--http",
            &addr.to_string(),
        ]);
        if let Some(data) = data {
            command.arg("--data").arg(data);
        }
        Server::spawn(command, addr, "the demo node")
    }

    /// Spawns `command` (stdin and stdout to /dev/null, stderr inherited), a server that
    /// will listen on `addr`; returns once it accepts connections (within 60 s).
    pub fn spawn(mut command: Command, addr: SocketAddr, what: &str) -> CliResult<Server> {
        let bench = |e: String| CliError::Bench(format!("starting {what}: {e}"));
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| bench(e.to_string()))?;
        let mut server = Server { addr, child };
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

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's user + system CPU time so far.
    pub fn cpu(&self) -> CliResult<Duration> {
        process_cpu(self.child.id())
            .ok_or_else(|| CliError::Bench("reading the server's CPU time: it is gone".into()))
    }

    /// SIGTERM, then SIGKILL after 15 s.
    pub fn stop(&mut self) {
        terminate(&mut self.child, Duration::from_secs(15));
    }
}

/// The user + system CPU time process `pid` has used so far (`/proc/<pid>/stat`);
/// `None` when it is gone.
pub fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at ") ".
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split_whitespace().collect();
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
    Some(Duration::from_secs_f64(total as f64 / per_second))
}

/// SIGTERM to `child`, then SIGKILL if it has not exited within `grace`; reaps it.
pub fn terminate(child: &mut Child, grace: Duration) {
    // SAFETY: kill(2) on a child we started and have not reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
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
        assert_eq!(run.statuses, None);
        assert_eq!(summary(&[3.0, 1.0, 2.0], 1), "2.0 (1.0 – 3.0)");
        let counted = parse_wrk(&format!(
            "{report}\nstatuses: created 10 accepted 2 other 1"
        ))
        .unwrap();
        assert_eq!(counted.statuses, Some((10, 2, 1)));
    }
}
