//! The soak's own database server, so it can stop and start the database without
//! touching the machine's shared one; each in a temporary folder on a free loopback
//! port, with the installed server's programs, every stop an immediate one (what a crash
//! leaves: every start after it is a crash recovery), and durability at the server's
//! default (every commit flushed):
//!
//! - [`PrivatePostgres`]: `initdb` and `pg_ctl` (`pg_config --bindir`, else the newest
//!   `/usr/lib/postgresql/*/bin`); `fsync = on`, `synchronous_commit = on`; a stop is
//!   `pg_ctl stop -m immediate`. PostgreSQL refuses to run as root: when the soak runs as
//!   root, the server runs as the `postgres` user (`runuser`).
//! - [`PrivateMariaDb`]: `mariadb-install-db` and `mariadbd` (a child of the soak);
//!   `innodb_flush_log_at_trx_commit = 1`; a stop is SIGKILL. As root it runs as the
//!   `mysql` user (`--user`).

/// A database server the soak can stop and start.
pub trait PrivateDatabase: Send {
    /// The URL to reach its database.
    fn url(&self) -> String;
    /// Stops it the way a crash would.
    fn stop_immediately(&mut self) -> CliResult;
    /// Starts it again and waits until it accepts connections.
    fn start_again(&mut self) -> CliResult;
    /// The engine and its durability, for the report.
    fn describe(&self) -> &'static str;
}

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{CliError, CliResult};

/// A private PostgreSQL server.
pub struct PrivatePostgres {
    bin: PathBuf,
    data: PathBuf,
    folder: PathBuf,
    port: u16,
    run_as: Option<&'static str>,
    running: bool,
}

impl PrivateDatabase for PrivatePostgres {
    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn stop_immediately(&mut self) -> CliResult {
        self.stop("immediate")
    }

    fn start_again(&mut self) -> CliResult {
        self.start_server()
    }

    fn describe(&self) -> &'static str {
        "PostgreSQL (a private server; fsync=on, synchronous_commit=on)"
    }
}

impl PrivatePostgres {
    /// Creates a cluster in `folder` (which must exist) and starts it on `port`.
    pub fn start(folder: &Path, port: u16) -> CliResult<PrivatePostgres> {
        let bin = bin_dir()?;
        // SAFETY: geteuid has no preconditions.
        let run_as = (unsafe { libc::geteuid() } == 0).then_some("postgres");
        let data = folder.join("pgdata");
        if let Some(user) = run_as {
            run(
                Command::new("chown").args(["-R", user]).arg(folder),
                "chown",
            )?;
        }
        let mut server = PrivatePostgres {
            bin,
            data,
            folder: folder.to_owned(),
            port,
            run_as,
            running: false,
        };
        let mut initdb = server.command("initdb");
        initdb
            .arg("-D")
            .arg(&server.data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"]);
        run(&mut initdb, "initdb")?;
        server.start_server()?;
        Ok(server)
    }

    fn start_server(&mut self) -> CliResult {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300",
            self.port,
            self.folder.display()
        );
        let mut start = self.command("pg_ctl");
        start
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.folder.join("postgres.log"))
            .args(["-o", &options, "-w", "-t", "60", "start"]);
        run(&mut start, "pg_ctl start")?;
        self.running = true;
        wait_listening(self.port, &self.folder.join("postgres.log"))
    }

    fn stop(&mut self, mode: &str) -> CliResult {
        let mut stop = self.command("pg_ctl");
        stop.arg("-D")
            .arg(&self.data)
            .args(["-m", mode, "-w", "-t", "60", "stop"]);
        run(&mut stop, "pg_ctl stop")?;
        self.running = false;
        Ok(())
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        }
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if self.running {
            let _ = self.stop("fast");
        }
    }
}

/// A private MariaDB server.
pub struct PrivateMariaDb {
    data: PathBuf,
    folder: PathBuf,
    port: u16,
    run_as: Option<&'static str>,
    server: Option<std::process::Child>,
}

impl PrivateMariaDb {
    /// Creates a data folder in `folder` (which must exist), starts the server on
    /// `port` and creates the database `soak`.
    pub fn start(folder: &Path, port: u16) -> CliResult<PrivateMariaDb> {
        // SAFETY: geteuid has no preconditions.
        let run_as = (unsafe { libc::geteuid() } == 0).then_some("mysql");
        if let Some(user) = run_as {
            run(
                Command::new("chown").args(["-R", user]).arg(folder),
                "chown",
            )?;
        }
        let data = folder.join("data");
        let mut install = Command::new("mariadb-install-db");
        install
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"]);
        if let Some(user) = run_as {
            install.arg(format!("--user={user}"));
        }
        run(&mut install, "mariadb-install-db")?;
        let mut server = PrivateMariaDb {
            data,
            folder: folder.to_owned(),
            port,
            run_as,
            server: None,
        };
        server.start_again()?;
        let mut create = Command::new("mariadb");
        create
            .args(["--no-defaults", "-h", "127.0.0.1", "-u", "root"])
            .arg(format!("-P{port}"))
            .args(["-e", "CREATE DATABASE soak"]);
        // The port accepts connections a moment before the server answers queries.
        let deadline = Instant::now() + Duration::from_secs(30);
        while let Err(error) = run(&mut create, "CREATE DATABASE soak") {
            if Instant::now() > deadline {
                return Err(error);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(server)
    }
}

impl PrivateDatabase for PrivateMariaDb {
    fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}/soak", self.port)
    }

    fn stop_immediately(&mut self) -> CliResult {
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
        Ok(())
    }

    fn start_again(&mut self) -> CliResult {
        let log = self.folder.join("mariadb.log");
        let mut command = Command::new("mariadbd");
        command
            .arg("--no-defaults")
            .arg(format!("--datadir={}", self.data.display()))
            .arg(format!("--port={}", self.port))
            .arg("--bind-address=127.0.0.1")
            .arg(format!(
                "--socket={}",
                self.folder.join("mariadb.sock").display()
            ))
            .arg(format!(
                "--pid-file={}",
                self.folder.join("mariadb.pid").display()
            ))
            .arg(format!("--log-error={}", log.display()))
            .args([
                "--innodb-flush-log-at-trx-commit=1",
                "--max-connections=500",
            ]);
        if let Some(user) = self.run_as {
            command.arg(format!("--user={user}"));
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| CliError::Bench(format!("mariadbd: {e}")))?;
        self.server = Some(child);
        wait_listening(self.port, &log)
    }

    fn describe(&self) -> &'static str {
        "MariaDB (a private server; innodb_flush_log_at_trx_commit=1)"
    }
}

impl Drop for PrivateMariaDb {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            // A clean shutdown; SIGKILL after 30 s.
            crate::bench::wrk::terminate(&mut server, Duration::from_secs(30));
        }
    }
}

/// Waits until `port` accepts connections (30 s at most; `log` is named otherwise).
fn wait_listening(port: u16, log: &Path) -> CliResult {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(CliError::Bench(format!(
                "the soak's database did not accept connections within 30 s (log: {})",
                log.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// The folder of the installed PostgreSQL's programs.
fn bin_dir() -> CliResult<PathBuf> {
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if output.status.success() && dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        CliError::Bench(
            "no PostgreSQL server programs found (pg_config --bindir, /usr/lib/postgresql/*/bin): install postgresql".into(),
        )
    })
}

fn run(command: &mut Command, what: &str) -> CliResult {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| CliError::Bench(format!("{what}: {e}")))?;
    if output.status.success() {
        return Ok(());
    }
    Err(CliError::Bench(format!(
        "{what} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )))
}
