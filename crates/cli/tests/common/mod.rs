//! Scaffolding for tests that run the real `superhero` binary: start it with
//! JSON logs on a pipe, wait for log events, talk to its ports, signal it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running `superhero` process whose log lines are collected.
pub struct Node {
    child: Child,
    log: Arc<(Mutex<Vec<Value>>, Condvar)>,
}

impl Node {
    /// Starts `superhero <args>` with JSON logs and extra environment.
    pub fn start(args: &[&str], env: &[(&str, String)]) -> Node {
        Self::start_in(None, args, env)
    }

    /// Like [`start`](Self::start), in working directory `cwd`.
    pub fn start_in(cwd: Option<&Path>, args: &[&str], env: &[(&str, String)]) -> Node {
        let mut command = Command::new(env!("CARGO_BIN_EXE_superhero"));
        if let Some(cwd) = cwd {
            command.current_dir(cwd);
        }
        command
            .arg("--log-format")
            .arg("json")
            .args(args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("spawn superhero");
        let stderr = child.stderr.take().expect("stderr pipe");
        let log: Arc<(Mutex<Vec<Value>>, Condvar)> = Arc::default();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let value = serde_json::from_str(&line).unwrap_or(Value::String(line));
                let (lines, changed) = &*sink;
                lines.lock().expect("log").push(value);
                changed.notify_all();
            }
        });
        Node { child, log }
    }

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

    /// Waits until `count` events with `message` were logged; panics with the
    /// whole log after `timeout`.
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

    /// Waits for exit; panics with the log after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Let the reader thread collect the last lines.
                std::thread::sleep(Duration::from_millis(50));
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("no exit within {timeout:?}; log:\n{}", dump(&self.events()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The whole log as text, for assertion messages.
    pub fn dump(&self) -> String {
        dump(&self.events())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            send_signal(self.child.id(), libc::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

pub fn message_of(event: &Value) -> Option<&str> {
    event.get("fields")?.get("message")?.as_str()
}

/// A string field of a log event.
pub fn field<'e>(event: &'e Value, name: &str) -> Option<&'e str> {
    event.get("fields")?.get(name)?.as_str()
}

/// A numeric field of a log event.
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

pub fn send_signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) on a pid this test started.
    unsafe { libc::kill(pid as libc::pid_t, signal) };
}

/// Whether a process with this pid still exists.
pub fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Connects to `hello` and returns its greeting line.
pub fn greeting(port: u16) -> std::io::Result<String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut line = String::new();
    BufReader::new(stream.try_clone()?).read_line(&mut line)?;
    stream.write_all(b"echo\n")?;
    let mut echoed = [0u8; 5];
    stream.read_exact(&mut echoed)?;
    assert_eq!(&echoed, b"echo\n");
    Ok(line)
}

/// `GET path` over HTTP/1.1 with `Connection: close`; returns status and body.
pub fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// Writes a config file into `dir`.
pub fn write_config(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write config");
    path.display().to_string()
}

/// The hello config used by these tests.
pub const HELLO: &str = r#"
[locator]
hello = true

[bootstrap]
hello = true

[core.shutdown]
timeout_ms = 5000
"#;
