//! Real processes: the `superhero` binary with its JSON log collected
//! ([`BinaryNode`]), the running test binary re-executed as a second process
//! ([`ChildTest`]), signals and free ports.
//!
//! A crash test needs a process it can `kill -9`: [`ChildTest::spawn`] runs one
//! `#[ignore]`d test of the same test binary in a child process, which reports through
//! marker lines on stdout.
//!
//! ```no_run
//! use superhero_testkit::ChildTest;
//!
//! /// The child: runs only when the test below spawns it.
//! #[test]
//! #[ignore = "the child process of killed_consumers_are_replaced"]
//! fn consumer_process() {
//!     println!("READY");
//!     // … consume until killed
//! }
//!
//! #[test]
//! fn killed_consumers_are_replaced() {
//!     let mut child = ChildTest::spawn("consumer_process", &[("STORE_URL", "sqlite://…".into())]);
//!     child.expect_line("READY");
//!     child.kill();
//! }
//! ```

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long [`ChildTest::expect_line`] waits for a line.
pub const CHILD_LINE_TIMEOUT: Duration = Duration::from_secs(60);

/// Sends `signal` (`libc::SIGTERM`, …) to process `pid`.
pub fn send_signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) has no memory effects; a stale pid at worst gets ESRCH.
    unsafe { libc::kill(pid as libc::pid_t, signal) };
}

/// Whether a process with this pid still exists.
pub fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

/// A loopback port that was free a moment ago (for a child that must be told its port).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// One `#[ignore]`d test of the running test binary, re-executed as a child process;
/// killed (SIGKILL) when dropped.
pub struct ChildTest {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl ChildTest {
    /// Runs the test whose full path is `test` (`crash::consumer_process`) alone, with
    /// extra environment; its stdout lines are collected for [`ChildTest::expect_line`].
    pub fn spawn(test: &str, env: &[(&str, String)]) -> ChildTest {
        let program = std::env::current_exe().expect("the test binary's path");
        let mut command = Command::new(program);
        command
            .args([
                test,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // The child's panics and logs show in the test's output.
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("spawn the child test");
        let stdout = child.stdout.take().expect("stdout pipe");
        let (sink, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sink.send(line).is_err() {
                    return;
                }
            }
        });
        ChildTest { child, lines }
    }

    /// The child's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What follows `marker` on the next line that holds it (the test harness may print
    /// its own text in front); earlier lines are echoed to stderr. Panics after
    /// [`CHILD_LINE_TIMEOUT`] or when the child's output ends.
    pub fn expect_line(&self, marker: &str) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(CHILD_LINE_TIMEOUT)
                .unwrap_or_else(|_| panic!("the child never printed {marker}"));
            eprintln!("child: {line}");
            if let Some((_, rest)) = line.split_once(marker) {
                return rest.trim().to_owned();
            }
        }
    }

    /// `kill -9` the child and reap it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildTest {
    fn drop(&mut self) {
        self.kill();
    }
}

type Log = Arc<(Mutex<Vec<Value>>, Condvar)>;

/// How long [`BinaryNode::wait_exit`] waits for the last output after the exit.
const DRAIN: Duration = Duration::from_secs(5);

/// A running binary started with `--log-format json`, whose stderr log lines are
/// collected as JSON values (and stdout lines as text); killed (SIGKILL) when dropped
/// while still running.
pub struct BinaryNode {
    child: Child,
    log: Log,
    stdout: Arc<Mutex<Vec<String>>>,
    drained: mpsc::Receiver<()>,
}

impl BinaryNode {
    /// Starts `program --log-format json <args>` with extra environment (and without the
    /// caller's `RUST_LOG`), in working directory `cwd` when given.
    pub fn start(
        program: impl AsRef<Path>,
        cwd: Option<&Path>,
        args: &[&str],
        env: &[(&str, String)],
    ) -> BinaryNode {
        let mut command = Command::new(program.as_ref());
        if let Some(cwd) = cwd {
            command.current_dir(cwd);
        }
        command
            .arg("--log-format")
            .arg("json")
            .args(args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("spawn the binary");
        let stderr = child.stderr.take().expect("stderr pipe");
        let stdout_pipe = child.stdout.take().expect("stdout pipe");
        let log: Log = Arc::default();
        let stdout: Arc<Mutex<Vec<String>>> = Arc::default();
        let (done, drained) = mpsc::channel();
        let sink = log.clone();
        let log_done = done.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let value = serde_json::from_str(&line).unwrap_or(Value::String(line));
                let (lines, changed) = &*sink;
                lines.lock().expect("log").push(value);
                changed.notify_all();
            }
            let _ = log_done.send(());
        });
        let out = stdout.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout_pipe).lines().map_while(Result::ok) {
                out.lock().expect("stdout").push(line);
            }
            let _ = done.send(());
        });
        BinaryNode {
            child,
            log,
            stdout,
            drained,
        }
    }

    /// The lines the process printed on stdout so far.
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().expect("stdout").clone()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every log event so far.
    pub fn events(&self) -> Vec<Value> {
        self.log.0.lock().expect("log").clone()
    }

    /// Log events whose message is `message`.
    pub fn messages(&self, message: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| message_of(e) == Some(message))
            .collect()
    }

    /// Waits until `count` events with `message` were logged and returns them; panics with
    /// the whole log after `timeout`.
    pub fn wait_for(&self, message: &str, count: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        let (lines, changed) = &*self.log;
        let mut guard = lines.lock().expect("log");
        loop {
            let found: Vec<Value> = guard
                .iter()
                .filter(|e| message_of(e) == Some(message))
                .cloned()
                .collect();
            if found.len() >= count {
                return found;
            }
            let now = Instant::now();
            if now >= deadline {
                panic!(
                    "waited {timeout:?} for {count}× \"{message}\"; log:\n{}",
                    dump(&guard)
                );
            }
            guard = changed.wait_timeout(guard, deadline - now).expect("log").0;
        }
    }

    /// Sends `signal` to the process.
    pub fn signal(&self, signal: i32) {
        send_signal(self.child.id(), signal);
    }

    /// Waits for the exit; panics with the log after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Both readers end at EOF, once every holder of the pipes has exited.
                for _ in 0..2 {
                    let _ = self.drained.recv_timeout(DRAIN);
                }
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("no exit within {timeout:?}; log:\n{}", dump(&self.events()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM and asserts the process exits with code 0 `within` (panics with the
    /// log otherwise).
    pub fn stop_cleanly(&mut self, within: Duration) {
        self.signal(libc::SIGTERM);
        let status = self.wait_exit(within);
        assert_eq!(status.code(), Some(0), "exit status; log:\n{}", self.dump());
    }

    /// The whole log as text, for assertion messages.
    pub fn dump(&self) -> String {
        dump(&self.events())
    }
}

impl Drop for BinaryNode {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The message of a JSON log event.
pub fn message_of(event: &Value) -> Option<&str> {
    event.get("fields")?.get("message")?.as_str()
}

/// A string field of a JSON log event.
pub fn field<'e>(event: &'e Value, name: &str) -> Option<&'e str> {
    event.get("fields")?.get(name)?.as_str()
}

/// A numeric field of a JSON log event.
pub fn number(event: &Value, name: &str) -> Option<u64> {
    event.get("fields")?.get(name)?.as_u64()
}

fn dump(events: &[Value]) -> String {
    events
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
