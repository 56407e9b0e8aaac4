//! The supervisor process: starts, watches, restarts and stops the workers.

use std::ffi::OsString;
use std::future::Future;
use std::os::fd::AsRawFd;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::net::UnixStream;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::restart::{SlotHistory, Verdict};
use super::worker::{CONTROL_FD_ENV, WORKER_ID_ENV};
use super::{RestartPolicy, WorkerId};
use crate::error::{Error, Result};
use crate::shutdown::Signals;

/// The file descriptor number the control socket gets in a worker.
const CONTROL_FD: i32 = 3;

/// Runs N copies of a program as workers (see the [module docs](super)).
#[derive(Debug, Clone)]
pub struct Supervisor {
    workers: u32,
    policy: RestartPolicy,
    stop_timeout: Duration,
    program: PathBuf,
    args: Vec<OsString>,
}

impl Supervisor {
    /// A supervisor for `workers` copies of this very binary with its own
    /// arguments.
    pub fn new(workers: u32) -> Result<Supervisor> {
        let program = std::env::current_exe().map_err(|source| Error::ClusterSpawn {
            worker: "(all)".into(),
            source,
        })?;
        Ok(Supervisor {
            workers: workers.max(1),
            policy: RestartPolicy::default(),
            stop_timeout: Duration::from_secs(15),
            program,
            args: std::env::args_os().skip(1).collect(),
        })
    }

    /// Runs `program` with `args` instead of this binary.
    pub fn program(mut self, program: impl Into<PathBuf>, args: Vec<OsString>) -> Self {
        self.program = program.into();
        self.args = args;
        self
    }

    /// Sets the restart policy.
    pub fn policy(mut self, policy: RestartPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// How long a worker may take to exit after the forwarded signal before it
    /// is killed (default 15 s; give it more than the workers' own shutdown
    /// deadline).
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = timeout;
        self
    }

    /// Runs the workers until SIGTERM or SIGINT, which is forwarded to each.
    ///
    /// `Ok` when every worker stopped cleanly; `E_CORE_CLUSTER_START_FAILED`
    /// when a worker kept failing to start; `E_CORE_CLUSTER_SHUTDOWN` when a
    /// worker failed or had to be killed while stopping.
    pub async fn run(self) -> Result<()> {
        let mut signals = Signals::install()?;
        self.run_until(async move { signals.recv().await.number() })
            .await
    }

    /// Like [`run`](Self::run), stopping when `stop` resolves with the signal
    /// number to forward.
    pub async fn run_until(self, stop: impl Future<Output = i32>) -> Result<()> {
        let workers = self.workers;
        let shared = Arc::new(Shared {
            supervisor: self,
            shutdown: CancellationToken::new(),
            signal: AtomicI32::new(libc::SIGTERM),
        });
        let (fatal_tx, mut fatal_rx) = mpsc::unbounded_channel();
        let mut slots = JoinSet::new();
        for slot in 1..=workers {
            slots.spawn(supervise_slot(slot, shared.clone(), fatal_tx.clone()));
        }
        drop(fatal_tx);
        tracing::info!(workers, "cluster supervisor started");

        tokio::pin!(stop);
        let mut fatal = None;
        let mut ends = Vec::new();
        loop {
            tokio::select! {
                signal = &mut stop => {
                    shared.signal.store(signal, Ordering::SeqCst);
                    tracing::info!(signal, "stopping workers");
                    break;
                }
                Some(error) = fatal_rx.recv() => {
                    tracing::error!(error = %error, "giving up; stopping the other workers");
                    fatal = Some(error);
                    break;
                }
                joined = slots.join_next() => match joined {
                    Some(end) => ends.push(end),
                    None => break,
                },
            }
        }
        shared.shutdown.cancel();
        while let Some(end) = slots.join_next().await {
            ends.push(end);
        }
        if let Some(error) = fatal {
            return Err(error);
        }
        let unclean: Vec<String> = ends
            .into_iter()
            .filter_map(|end| match end {
                Ok(SlotEnd { clean: true, .. }) => None,
                Ok(SlotEnd { detail, .. }) => Some(detail),
                Err(join) => Some(format!("supervision task failed: {join}")),
            })
            .collect();
        if unclean.is_empty() {
            tracing::info!("all workers stopped");
            Ok(())
        } else {
            Err(Error::ClusterShutdown(unclean.join("; ")))
        }
    }
}

struct Shared {
    supervisor: Supervisor,
    shutdown: CancellationToken,
    signal: AtomicI32,
}

/// How a slot ended.
struct SlotEnd {
    clean: bool,
    detail: String,
}

struct Worker {
    id: WorkerId,
    child: Child,
    control: Lines<BufReader<UnixStream>>,
    control_open: bool,
    ready: bool,
    reported: Option<String>,
}

impl Worker {
    fn on_control(&mut self, line: std::io::Result<Option<String>>) {
        match line {
            Ok(Some(line)) if line == "ready" => {
                self.ready = true;
                tracing::info!(worker = %self.id, "worker ready");
            }
            Ok(Some(line)) => {
                if let Some(message) = line.strip_prefix("failed ") {
                    self.reported = Some(message.to_owned());
                }
            }
            Ok(None) | Err(_) => self.control_open = false,
        }
    }

    /// Reads what the worker wrote before it exited.
    async fn drain_control(&mut self) {
        while self.control_open {
            match tokio::time::timeout(Duration::from_secs(1), self.control.next_line()).await {
                Ok(line) => self.on_control(line),
                Err(_) => self.control_open = false,
            }
        }
    }
}

impl Shared {
    fn spawn(&self, id: WorkerId) -> std::io::Result<Worker> {
        let (parent_end, child_end) = std::os::unix::net::UnixStream::pair()?;
        let child_fd = child_end.as_raw_fd();
        let mut command = Command::new(&self.supervisor.program);
        command
            .args(&self.supervisor.args)
            .env(WORKER_ID_ENV, id.to_string())
            .env(CONTROL_FD_ENV, CONTROL_FD.to_string())
            .stdin(Stdio::null())
            .process_group(0)
            .kill_on_drop(true);
        // SAFETY: between fork and exec we only call async-signal-safe dup2 and
        // fcntl on descriptors owned by this process.
        unsafe {
            command.pre_exec(move || {
                if child_fd == CONTROL_FD {
                    if libc::fcntl(CONTROL_FD, libc::F_SETFD, 0) == -1 {
                        return Err(std::io::Error::last_os_error());
                    }
                } else if libc::dup2(child_fd, CONTROL_FD) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn()?;
        drop(child_end);
        parent_end.set_nonblocking(true)?;
        let control = BufReader::new(UnixStream::from_std(parent_end)?).lines();
        Ok(Worker {
            id,
            child,
            control,
            control_open: true,
            ready: false,
            reported: None,
        })
    }

    /// Forwards the shutdown signal and waits for the worker to exit.
    async fn stop(&self, worker: &mut Worker) -> SlotEnd {
        let signal = self.signal.load(Ordering::SeqCst);
        if let Some(pid) = worker.child.id() {
            // SAFETY: plain kill(2) on our own child's pid.
            unsafe { libc::kill(pid as libc::pid_t, signal) };
        }
        let id = worker.id;
        match tokio::time::timeout(self.supervisor.stop_timeout, worker.child.wait()).await {
            Ok(Ok(status)) => {
                let clean = status.success() || status.signal() == Some(signal);
                let detail = format!("worker {id} stopped with {status}");
                if clean {
                    tracing::info!(worker = %id, %status, "worker stopped");
                } else {
                    tracing::error!(worker = %id, %status, "worker failed while stopping");
                }
                SlotEnd { clean, detail }
            }
            Ok(Err(error)) => SlotEnd {
                clean: false,
                detail: format!("worker {id}: could not wait for it: {error}"),
            },
            Err(_) => {
                tracing::error!(worker = %id, timeout_ms = self.supervisor.stop_timeout.as_millis() as u64, "worker did not stop in time; killing it");
                let _ = worker.child.kill().await;
                SlotEnd {
                    clean: false,
                    detail: format!(
                        "worker {id} did not stop within {:.1}s and was killed",
                        self.supervisor.stop_timeout.as_secs_f64()
                    ),
                }
            }
        }
    }
}

async fn supervise_slot(
    slot: u32,
    shared: Arc<Shared>,
    fatal: mpsc::UnboundedSender<Error>,
) -> SlotEnd {
    let mut history = SlotHistory::new(shared.supervisor.policy.clone());
    let mut version = 0;
    loop {
        version += 1;
        let id = WorkerId { slot, version };
        let mut worker = match shared.spawn(id) {
            Ok(worker) => worker,
            Err(source) => {
                let _ = fatal.send(Error::ClusterSpawn {
                    worker: id.to_string(),
                    source,
                });
                return SlotEnd {
                    clean: false,
                    detail: format!("worker {id} could not be spawned"),
                };
            }
        };
        tracing::info!(worker = %id, pid = worker.child.id(), "worker started");
        let started = Instant::now();
        let status = loop {
            tokio::select! {
                line = worker.control.next_line(), if worker.control_open => worker.on_control(line),
                status = worker.child.wait() => break status,
                () = shared.shutdown.cancelled() => return shared.stop(&mut worker).await,
            }
        };
        worker.drain_control().await;
        if shared.shutdown.is_cancelled() {
            return SlotEnd {
                clean: true,
                detail: format!("worker {id} exited during shutdown"),
            };
        }
        let status = describe(status);
        if status.is_none() {
            tracing::info!(worker = %id, "worker exited with status 0; not restarting it");
            return SlotEnd {
                clean: true,
                detail: format!("worker {id} exited with status 0"),
            };
        }
        let failure = worker
            .reported
            .take()
            .or(status)
            .unwrap_or_else(|| "unknown failure".into());
        match history.failed(worker.ready, started.elapsed()) {
            Verdict::GiveUp(attempts) => {
                let _ = fatal.send(Error::ClusterStartFailed {
                    slot,
                    attempts,
                    last_failure: failure,
                });
                return SlotEnd {
                    clean: false,
                    detail: format!("worker slot {slot} gave up"),
                };
            }
            Verdict::RestartAfter(delay) => {
                tracing::warn!(worker = %id, %failure, delay_ms = delay.as_millis() as u64, "worker exited; restarting it");
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = shared.shutdown.cancelled() => {
                        return SlotEnd { clean: true, detail: format!("slot {slot} stopped while waiting to restart") };
                    }
                }
            }
        }
    }
}

/// `None` for a successful exit, else what went wrong.
fn describe(status: std::io::Result<ExitStatus>) -> Option<String> {
    match status {
        Ok(status) if status.success() => None,
        Ok(status) => Some(format!("worker process {status}")),
        Err(error) => Some(format!("could not wait for the worker process: {error}")),
    }
}
