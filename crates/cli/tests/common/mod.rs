//! The `superhero` binary under test (through `superhero_testkit::BinaryNode`), and the
//! `hello` example service's config and client.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

pub use superhero_testkit::BinaryNode;

/// Starts `superhero <args>` with JSON logs and extra environment.
pub fn superhero(args: &[&str], env: &[(&str, String)]) -> BinaryNode {
    BinaryNode::start(env!("CARGO_BIN_EXE_superhero"), None, args, env)
}

/// Like [`superhero`], in working directory `cwd`.
pub fn superhero_in(cwd: &Path, args: &[&str], env: &[(&str, String)]) -> BinaryNode {
    BinaryNode::start(env!("CARGO_BIN_EXE_superhero"), Some(cwd), args, env)
}

/// `superhero demo` on a free loopback port in working directory `cwd` (its data under
/// `cwd/data`), started: the node and its port.
pub fn demo(cwd: &Path) -> (BinaryNode, u16) {
    let port = superhero_testkit::free_port();
    let node = superhero_in(cwd, &["demo", "--http", &format!("127.0.0.1:{port}")], &[]);
    node.wait_for("started", 1, Duration::from_secs(60));
    (node, port)
}

/// A loopback address on `port`.
pub fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Asserts that `GET /ping` on `port` answers 200 `"pong"`.
pub fn assert_pong(port: u16) {
    let pong = superhero_testkit::http::get_blocking(local(port), "/ping");
    assert_eq!(
        (pong.status.as_u16(), pong.text()),
        (200, "\"pong\"".to_owned())
    );
}

/// Connects to `hello` and returns its greeting line (after checking it echoes).
pub fn greeting(port: u16) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&local(port), Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut line = String::new();
    BufReader::new(stream.try_clone()?).read_line(&mut line)?;
    stream.write_all(b"echo\n")?;
    let mut echoed = [0u8; 5];
    stream.read_exact(&mut echoed)?;
    assert_eq!(&echoed, b"echo\n");
    Ok(line)
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

/// Runs `superhero <args>` to its end: whether it succeeded, its stdout, its stderr.
pub fn run_to_end(args: &[&str]) -> (bool, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_superhero"))
        .args(args)
        .output()
        .expect("run superhero");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The first line of a command's report that starts with `label` (after its indent);
/// panics with the whole report when there is none.
pub fn report_line<'a>(report: &'a str, label: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{report}"))
}
