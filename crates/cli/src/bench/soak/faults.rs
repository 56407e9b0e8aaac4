//! The soak's fault injector: it owns the processes, the private database server and the
//! proxies in front of the hubs, injects one random fault when asked, undoes each after
//! its pause, restarts whatever exits on its own, and keeps the fault log the checker
//! reads.
//!
//! | fault | undone after |
//! | --- | --- |
//! | SIGKILL of a hub or of a consumer | 0.5 – 2 s (restarted) |
//! | SIGKILL of a sale-order worker | its supervisor restarts it (≥ 100 ms) |
//! | the database stopped (immediate) | 2 – 5 s (started again) |
//! | a hub's link cut (every connection closed) | 1 – 3 s |
//! | a hub's link frozen (half-open) | 2 – 6 s |
//! | a hub's link delayed by 50 – 300 ms | 3 – 6 s |

use std::ops::Range;
use std::time::{Duration, Instant};

use rand::Rng as _;
use rand::rngs::StdRng;

use super::checker::{Fault, FaultKind};
use super::cluster::{Launcher, Member, Role};
use super::database::PrivateDatabase;
use super::now_ms;
use super::proxy::{Mode, Proxy};
use crate::error::CliResult;

/// What is undone when its time comes.
#[derive(Debug, Clone, Copy)]
enum Heal {
    Database,
    Link(usize),
}

/// The processes, the database and the links, and what has been done to them.
pub struct Injector {
    /// The hubs and consumers.
    pub members: Vec<Member>,
    launcher: Launcher,
    database: Option<Box<dyn PrivateDatabase>>,
    /// The proxy in front of each hub, by hub index.
    proxies: Vec<Proxy>,
    rng: StdRng,
    /// Every fault so far, in order.
    pub log: Vec<Fault>,
    /// Kills whose member has not been restarted yet (indexes into `log`).
    kills: Vec<usize>,
    /// Killed sale-order workers whose supervisor has not replaced them yet: (index
    /// into `log`, the killed pid).
    worker_kills: Vec<(usize, u32)>,
    /// Workers each sale-order supervisor runs.
    workers: usize,
    heals: Vec<(Instant, Heal, usize)>,
}

impl Injector {
    /// An injector over running members.
    pub fn new(
        members: Vec<Member>,
        launcher: Launcher,
        database: Option<Box<dyn PrivateDatabase>>,
        proxies: Vec<Proxy>,
        workers: usize,
        rng: StdRng,
    ) -> Self {
        Self {
            members,
            launcher,
            database,
            proxies,
            rng,
            log: Vec::new(),
            kills: Vec::new(),
            worker_kills: Vec::new(),
            workers,
            heals: Vec::new(),
        }
    }

    /// Restarts killed members whose pause is over and members that exited, and undoes
    /// the faults that are due.
    pub fn tick(&mut self) -> CliResult {
        for member in &mut self.members {
            if member.supervise(&self.launcher)?
                && let Some(at) = self
                    .kills
                    .iter()
                    .position(|&f| self.log[f].target == member.name)
            {
                self.log[self.kills.remove(at)].to_ms = now_ms();
            }
        }
        if !self.worker_kills.is_empty() {
            let running = self.running_workers();
            let replaced = running.len() >= self.workers;
            let log = &mut self.log;
            self.worker_kills.retain(|&(fault, pid)| {
                let done = replaced && !running.contains(&pid);
                if done {
                    log[fault].to_ms = now_ms();
                }
                !done
            });
        }
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = self.heals.drain(..).partition(|(at, ..)| *at <= now);
        self.heals = later;
        for (_, heal, fault) in due {
            match heal {
                Heal::Database => {
                    if let Some(db) = self.database.as_mut() {
                        tokio::task::block_in_place(|| db.start_again())?;
                    }
                }
                Heal::Link(hub) => self.proxies[hub].set(Mode::Forward),
            }
            self.log[fault].to_ms = now_ms();
        }
        Ok(())
    }

    /// Whether every fault has been undone.
    pub fn settled(&self) -> bool {
        self.kills.is_empty() && self.heals.is_empty() && self.worker_kills.is_empty()
    }

    /// The pids of the sale-order workers running now.
    fn running_workers(&self) -> Vec<u32> {
        self.members
            .iter()
            .filter(|m| m.role() == Role::Workers)
            .filter_map(Member::pid)
            .flat_map(super::cluster::children)
            .collect()
    }

    /// Injects one fault chosen at random (none when nothing is left to break).
    pub fn inject(&mut self) -> CliResult<Option<&Fault>> {
        let mut kinds = vec![
            FaultKind::KillHub,
            FaultKind::KillConsumer,
            FaultKind::KillConsumer,
            FaultKind::CutLink,
            FaultKind::FreezeLink,
            FaultKind::DelayLink,
        ];
        let database_down = self
            .heals
            .iter()
            .any(|(_, h, _)| matches!(h, Heal::Database));
        if self.workers > 0 && self.members.iter().any(|m| m.role() == Role::Workers) {
            kinds.push(FaultKind::KillWorker);
        }
        if self.database.is_some() && !database_down {
            kinds.push(FaultKind::StopDatabase);
        }
        let kind = kinds[self.rng.random_range(0..kinds.len())];
        let from_ms = now_ms();
        let fault = match kind {
            FaultKind::KillHub | FaultKind::KillConsumer => {
                let role = if kind == FaultKind::KillHub {
                    Role::Hub
                } else {
                    Role::Consumer
                };
                let up: Vec<usize> = (0..self.members.len())
                    .filter(|&i| self.members[i].role() == role && !self.members[i].is_down())
                    .collect();
                if up.is_empty() {
                    return Ok(None);
                }
                let pause = self.pause(500..2_000);
                let member = &mut self.members[up[self.rng.random_range(0..up.len())]];
                let Some(pid) = member.kill(pause) else {
                    return Ok(None);
                };
                self.kills.push(self.log.len());
                Fault {
                    kind,
                    target: member.name.clone(),
                    pid: Some(pid),
                    from_ms,
                    to_ms: 0,
                }
            }
            FaultKind::KillWorker => {
                let running = self.running_workers();
                if running.is_empty() {
                    return Ok(None);
                }
                let pid = running[self.rng.random_range(0..running.len())];
                // SAFETY: kill(2) with a pid just read as a live child of our supervisor.
                if unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) } != 0 {
                    return Ok(None);
                }
                self.worker_kills.push((self.log.len(), pid));
                Fault {
                    kind,
                    target: "sale-order worker".into(),
                    pid: Some(pid),
                    from_ms,
                    to_ms: 0,
                }
            }
            FaultKind::StopDatabase => {
                let Some(db) = self.database.as_mut() else {
                    return Ok(None);
                };
                tokio::task::block_in_place(|| db.stop_immediately())?;
                let pause = self.pause(2_000..5_000);
                self.heals
                    .push((Instant::now() + pause, Heal::Database, self.log.len()));
                Fault {
                    kind,
                    target: "database".into(),
                    pid: None,
                    from_ms,
                    to_ms: 0,
                }
            }
            FaultKind::CutLink | FaultKind::FreezeLink | FaultKind::DelayLink => {
                let healthy: Vec<usize> = (0..self.proxies.len())
                    .filter(|&hub| {
                        !self
                            .heals
                            .iter()
                            .any(|(_, h, _)| matches!(h, Heal::Link(l) if *l == hub))
                    })
                    .collect();
                if healthy.is_empty() {
                    return Ok(None);
                }
                let hub = healthy[self.rng.random_range(0..healthy.len())];
                let (mode, pause) = match kind {
                    FaultKind::CutLink => (Mode::Cut, self.pause(1_000..3_000)),
                    FaultKind::FreezeLink => (Mode::Freeze, self.pause(2_000..6_000)),
                    _ => (Mode::Delay(self.pause(50..300)), self.pause(3_000..6_000)),
                };
                self.proxies[hub].set(mode);
                self.heals
                    .push((Instant::now() + pause, Heal::Link(hub), self.log.len()));
                Fault {
                    kind,
                    target: format!("hub-{hub}"),
                    pid: None,
                    from_ms,
                    to_ms: 0,
                }
            }
        };
        self.log.push(fault);
        Ok(self.log.last())
    }

    /// Stops every member (SIGTERM, then SIGKILL after 10 s) and the database server.
    pub fn shutdown(mut self) {
        for member in &mut self.members {
            member.stop(Duration::from_secs(10));
        }
        drop(self.database.take());
    }

    /// Exits restarted so far.
    pub fn exits(&self) -> u32 {
        self.members.iter().map(|m| m.exits).sum()
    }

    fn pause(&mut self, millis: Range<u64>) -> Duration {
        Duration::from_millis(self.rng.random_range(millis))
    }
}
