//! The soak's processes: hubs (`superhero hub`), consuming spokes (`superhero bench
//! soak-consumer`) and the sale-order workers (`superhero run authorization sale-order
//! --workers N`: a supervisor and its workers), each a child of the driver with its log in the run's folder. The
//! driver kills them (SIGKILL), restarts them after a pause, and restarts any that exits
//! on its own (a node started while the database is stopped fails its start-up and
//! exits: it is started again, as a supervisor would).

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{CliError, CliResult};

/// What a member runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `superhero hub`.
    Hub,
    /// `superhero bench soak-consumer`.
    Consumer,
    /// `superhero run authorization sale-order --workers N`: the cluster supervisor,
    /// which restarts its own workers.
    Workers,
}

/// One process of the soak, and how to start it again.
pub struct Member {
    /// `hub-0`, `consumer-2`, …
    pub name: String,
    role: Role,
    child: Option<Child>,
    /// When a killed member is started again.
    down_until: Option<Instant>,
    /// Times it exited on its own and was started again.
    pub exits: u32,
    /// Its own arguments and environment (a hub's ports).
    own: Own,
}

/// A member's own arguments (after the subcommand) and environment.
#[derive(Debug, Clone, Default)]
pub struct Own {
    /// Arguments after the subcommand.
    pub args: Vec<String>,
    /// Environment variables.
    pub env: Vec<(String, String)>,
}

/// How members are started.
pub struct Launcher {
    /// The `superhero` program.
    pub program: PathBuf,
    /// The config file every member reads.
    pub config: PathBuf,
    /// The run's folder: logs and records.
    pub folder: PathBuf,
}

impl Launcher {
    /// Writes `config` to `folder/file`, the config every member reads, and launches this
    /// very program.
    pub fn new(folder: &Path, file: &str, config: &serde_json::Value) -> CliResult<Launcher> {
        let failed = |e: std::io::Error| CliError::Bench(format!("{file}: {e}"));
        let path = folder.join(file);
        std::fs::write(&path, config.to_string()).map_err(failed)?;
        Ok(Launcher {
            program: std::env::current_exe().map_err(failed)?,
            config: path,
            folder: folder.to_owned(),
        })
    }

    /// Starts a member with its own arguments and environment.
    pub fn start(&self, role: Role, index: usize, own: Own) -> CliResult<Member> {
        let name = match role {
            Role::Hub => format!("hub-{index}"),
            Role::Consumer => format!("consumer-{index}"),
            Role::Workers => format!("sale-order-{index}"),
        };
        let mut member = Member {
            name,
            role,
            child: None,
            down_until: None,
            exits: 0,
            own,
        };
        member.child = Some(self.spawn(&member)?);
        Ok(member)
    }

    /// The file `member`'s handler records go to (consumers).
    pub fn records(&self, member: &str) -> PathBuf {
        self.folder.join(format!("{member}.records"))
    }

    fn spawn(&self, member: &Member) -> CliResult<Child> {
        let failed = |e: std::io::Error| CliError::Bench(format!("starting {}: {e}", member.name));
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.folder.join(format!("{}.log", member.name)))
            .map_err(failed)?;
        let mut command = Command::new(&self.program);
        command.arg("--config").arg(&self.config);
        match member.role {
            Role::Hub => {
                command.arg("hub");
            }
            Role::Consumer => {
                command
                    .args(["bench", "soak-consumer", "--records"])
                    .arg(self.records(&member.name));
            }
            Role::Workers => {
                command.args(["run", "authorization", "sale-order"]);
            }
        }
        // Killed with the driver, should it die without cleaning up (the death signal
        // follows the spawning thread: the driver's main thread, which runs the soak).
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        command
            .args(&member.own.args)
            .envs(member.own.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(failed)?)
            .stderr(log)
            .spawn()
            .map_err(failed)
    }
}

impl Member {
    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// SIGKILL; started again by [`Self::supervise`] once `pause` has passed. Returns the
    /// killed process's id.
    pub fn kill(&mut self, pause: Duration) -> Option<u32> {
        let mut child = self.child.take()?;
        let pid = child.id();
        let _ = child.kill();
        let _ = child.wait();
        self.down_until = Some(Instant::now() + pause);
        Some(pid)
    }

    /// Starts the member again when its pause is over, or when it exited on its own;
    /// true when it (re)started a killed member just now.
    pub fn supervise(&mut self, launcher: &Launcher) -> CliResult<bool> {
        if let Some(until) = self.down_until {
            if Instant::now() < until {
                return Ok(false);
            }
            self.down_until = None;
            self.child = Some(launcher.spawn(self)?);
            return Ok(true);
        }
        let exited = match &mut self.child {
            Some(child) => child.try_wait().ok().flatten().is_some(),
            None => true,
        };
        if exited {
            self.exits += 1;
            self.child = Some(launcher.spawn(self)?);
        }
        Ok(false)
    }

    /// The running process's id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether it is down after a kill, waiting for its restart.
    pub fn is_down(&self) -> bool {
        self.down_until.is_some()
    }

    /// SIGTERM, then SIGKILL after `grace`.
    pub fn stop(&mut self, grace: Duration) {
        if let Some(mut child) = self.child.take() {
            crate::bench::wrk::terminate(&mut child, grace);
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts the driver's own node on the members' `config` (`source` names the layer): a
/// spoke and nothing else, logging only errors. The running node and its spoke.
pub async fn driver(
    config: &serde_json::Value,
    source: &'static str,
) -> CliResult<(superhero_core::Running, superhero_eventflow::Spoke)> {
    use superhero_eventflow::service::{SPOKE, SpokeService};
    let mut config = config.clone();
    config["core"]["log"]["level"] = serde_json::json!("error");
    config["locator"] = serde_json::json!({"eventflow/spoke": true});
    config["bootstrap"] = serde_json::json!({"eventflow/spoke": true});
    let node = superhero_core::Core::new(
        superhero_core::config::Config::builder()
            .add_value(source, config)
            .env_vars([])
            .build()?,
        crate::services::registry(),
    )
    .start()
    .await?;
    let spoke = node
        .locator()
        .locate::<SpokeService>(SPOKE)?
        .spoke()
        .clone();
    Ok((node, spoke))
}

/// The live (not zombie) child processes of `parent`.
pub fn children(parent: u32) -> Vec<u32> {
    processes()
        .into_iter()
        .filter(|p| p.ppid == parent)
        .map(|p| p.pid)
        .collect()
}

/// The live processes whose command name (`comm`) is one of `names`.
pub fn named(names: &[&str]) -> Vec<u32> {
    processes()
        .into_iter()
        .filter(|p| names.contains(&p.comm.as_str()))
        .map(|p| p.pid)
        .collect()
}

/// A process as `/proc/<pid>/stat` describes it.
struct Process {
    pid: u32,
    comm: String,
    ppid: u32,
}

/// Every live (not zombie) process, from `/proc/*/stat`.
fn processes() -> Vec<Process> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
            let (open, close) = (stat.find('(')?, stat.rfind(')')?);
            let comm = stat.get(open + 1..close)?.to_owned();
            let mut after = stat.get(close + 1..)?.split_whitespace();
            let state = after.next()?;
            let ppid: u32 = after.next()?.parse().ok()?;
            (state != "Z" && state != "X").then_some(Process { pid, comm, ppid })
        })
        .collect()
}

/// Reads every `*.records` file of `folder`: (event id, unix ms, pid) per line; lines
/// that do not parse (none should) are counted.
pub fn read_records(folder: &Path) -> CliResult<(Vec<super::checker::Handled>, usize)> {
    let mut handled = Vec::new();
    let mut unreadable = 0;
    let entries = std::fs::read_dir(folder)
        .map_err(|e| CliError::Bench(format!("{}: {e}", folder.display())))?;
    for entry in entries.flatten() {
        if entry.path().extension().is_none_or(|e| e != "records") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path())
            .map_err(|e| CliError::Bench(format!("{}: {e}", entry.path().display())))?;
        for line in text.lines() {
            let mut fields = line.split(' ');
            let parsed = (|| {
                Some(super::checker::Handled {
                    id: fields.next()?.parse().ok()?,
                    at_ms: fields.next()?.parse().ok()?,
                    pid: fields.next()?.parse().ok()?,
                })
            })();
            match parsed {
                Some(record) => handled.push(record),
                None => unreadable += 1,
            }
        }
    }
    Ok((handled, unreadable))
}
