//! The soak's verdict, from what the driver saw acknowledged, what the handlers recorded,
//! what the store parked, and which faults the driver injected when.
//!
//! - **lost**: an acknowledged publish or schedule with no handler record and not parked;
//! - **doubled**: an event (acknowledged or not) handled again where no fault explains
//!   it. A consumer that is killed between its handler's record and the settlement of the
//!   delivery, or whose settlement meets a stopped database, leaves the event to be
//!   delivered again when the lease lapses (eventflow's at-least-once window across
//!   crashes, documented on `Spoke::consume`): a second record is explained when the
//!   process that wrote the earlier one was killed within [`SETTLE_WINDOW_MS`] after
//!   writing it, or when the database was down at some moment of that window; any other
//!   second record is a doubled event;
//! - **early**: a scheduled event handled before its due time;
//! - **parked**: the soak's handler never fails, so a parked event had its deliveries
//!   used up by faults and needs a manual replay: a failure too.
//!
//! Everything else is counted for the report: redeliveries explained by faults,
//! latencies, and how long after each fault new events flowed again.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

/// A scheduled event handled this much before its due time is early (clocks are the same
/// machine's; the store stamps due times in milliseconds).
const EARLY_TOLERANCE_MS: u64 = 100;

/// How long after a handler's record its delivery's success is recorded at the latest
/// (it follows within milliseconds, batched with others): a kill or a database outage in
/// this window explains a second handling.
pub const SETTLE_WINDOW_MS: u64 = 1_000;

/// What the driver had acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acked {
    /// The event id.
    pub id: Uuid,
    /// Publish or schedule.
    pub kind: Kind,
    /// Unix ms just before the call (a publish) or the due time (a schedule).
    pub due_ms: u64,
}

/// How an event entered the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `Spoke::publish`.
    Publish,
    /// `Spoke::schedule`.
    Schedule,
}

/// One handler record: a consumer process handled the event (its handler returned `Ok`
/// right after writing this).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    /// The event id.
    pub id: Uuid,
    /// Unix ms of the record.
    pub at_ms: u64,
    /// The process that handled it.
    pub pid: u32,
}

/// A fault the driver injected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// What was done.
    pub kind: FaultKind,
    /// Which member (`hub-1`, `consumer-2`, `database`).
    pub target: String,
    /// The killed process (kills only).
    pub pid: Option<u32>,
    /// Unix ms the fault began.
    pub from_ms: u64,
    /// Unix ms it was undone (the process restarted, the database started again).
    pub to_ms: u64,
}

/// The kinds of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// SIGKILL of a hub, then a restart.
    KillHub,
    /// SIGKILL of a consuming spoke, then a restart.
    KillConsumer,
    /// SIGKILL of a sale-order worker, restarted by its supervisor.
    KillWorker,
    /// The database server stopped (immediate shutdown), then started again.
    StopDatabase,
    /// Every connection through a hub's proxy closed, new ones refused, then healed.
    CutLink,
    /// A hub's proxy stopped forwarding, connections left open (half-open), then healed.
    FreezeLink,
    /// A hub's proxy forwarding every chunk late, then healed.
    DelayLink,
}

impl Fault {
    /// One line for the progress log: `consumer-1 killed (pid 42)`, `hub-0 link cut`,
    /// `database stopped`.
    pub fn describe(&self) -> String {
        let what = match self.kind {
            FaultKind::KillHub | FaultKind::KillConsumer | FaultKind::KillWorker => "killed",
            FaultKind::StopDatabase => "stopped",
            FaultKind::CutLink => "link cut",
            FaultKind::FreezeLink => "link frozen",
            FaultKind::DelayLink => "link delayed",
        };
        let pid = self.pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
        format!("{} {what}{pid}", self.target)
    }
}

impl FaultKind {
    /// The report's name.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::KillHub => "hub killed",
            FaultKind::KillConsumer => "consumer killed",
            FaultKind::KillWorker => "worker killed",
            FaultKind::StopDatabase => "database stopped",
            FaultKind::CutLink => "link cut",
            FaultKind::FreezeLink => "link frozen",
            FaultKind::DelayLink => "link delayed",
        }
    }
}

/// Everything the checker reads.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    /// Acknowledged publishes and schedules.
    pub acked: Vec<Acked>,
    /// Handler records of every consumer process.
    pub handled: Vec<Handled>,
    /// Parked events of the soak's domain, with the last error.
    pub parked: Vec<(Uuid, String)>,
    /// Injected faults.
    pub faults: Vec<Fault>,
}

/// The checker's findings.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    /// Acknowledged, never handled, not parked.
    pub lost: Vec<Uuid>,
    /// Handled again with no fault to explain it: (id, handler records).
    pub doubled: Vec<(Uuid, usize)>,
    /// Scheduled events handled before their due time.
    pub early: Vec<Uuid>,
    /// Extra handlings that a fault explains.
    pub redelivered: usize,
    /// Acknowledged events that were parked (each with its reason).
    pub parked: Vec<(Uuid, String)>,
    /// Events handled that the driver never saw acknowledged (their publish call failed
    /// after the commit, e.g. the database stopped before the answer).
    pub unacknowledged_handled: usize,
    /// Publish → first handling of acknowledged publishes, ms, sorted.
    pub publish_latency_ms: Vec<u64>,
    /// Due time → first handling of scheduled events, ms, sorted.
    pub schedule_lateness_ms: Vec<u64>,
    /// Per fault: ms from its start until an event published after it was handled.
    pub recovery_ms: Vec<(FaultKind, Option<u64>)>,
}

impl Verdict {
    /// No lost, doubled, early or parked event.
    pub fn passed(&self) -> bool {
        self.lost.is_empty()
            && self.doubled.is_empty()
            && self.early.is_empty()
            && self.parked.is_empty()
    }
}

/// Checks `ledger`.
pub fn check(ledger: &Ledger) -> Verdict {
    let mut by_id: HashMap<Uuid, Vec<&Handled>> = HashMap::new();
    for record in &ledger.handled {
        by_id.entry(record.id).or_default().push(record);
    }
    for records in by_id.values_mut() {
        records.sort_by_key(|r| r.at_ms);
    }
    let parked: HashMap<Uuid, &String> = ledger.parked.iter().map(|(id, e)| (*id, e)).collect();
    let acked: HashSet<Uuid> = ledger.acked.iter().map(|a| a.id).collect();
    let mut verdict = Verdict {
        unacknowledged_handled: by_id.keys().filter(|id| !acked.contains(id)).count(),
        ..Verdict::default()
    };
    for event in &ledger.acked {
        let Some(records) = by_id.get(&event.id) else {
            match parked.get(&event.id) {
                Some(reason) => verdict.parked.push((event.id, (*reason).clone())),
                None => verdict.lost.push(event.id),
            }
            continue;
        };
        let first = records[0].at_ms;
        match event.kind {
            Kind::Publish => verdict
                .publish_latency_ms
                .push(first.saturating_sub(event.due_ms)),
            Kind::Schedule => {
                if first + EARLY_TOLERANCE_MS < event.due_ms {
                    verdict.early.push(event.id);
                }
                verdict
                    .schedule_lateness_ms
                    .push(first.saturating_sub(event.due_ms));
            }
        }
    }
    // Every handled event, acknowledged or not (a publish whose answer was lost is as
    // much at risk of a second handling).
    let mut doubled: Vec<(Uuid, usize)> = Vec::new();
    for (id, records) in &by_id {
        let unexplained = records
            .windows(2)
            .filter(|pair| !explained(pair[0], pair[1], &ledger.faults))
            .count();
        verdict.redelivered += records.len() - 1 - unexplained;
        if unexplained > 0 {
            doubled.push((*id, records.len()));
        }
    }
    doubled.sort();
    verdict.doubled = doubled;
    verdict.publish_latency_ms.sort_unstable();
    verdict.schedule_lateness_ms.sort_unstable();
    verdict.recovery_ms = recovery(ledger, &by_id);
    verdict
}

/// Whether a fault explains `second` handling after `first`.
fn explained(first: &Handled, second: &Handled, faults: &[Fault]) -> bool {
    faults.iter().any(|fault| match fault.kind {
        FaultKind::KillConsumer => {
            fault.pid == Some(first.pid)
                && fault.from_ms >= first.at_ms
                && fault.from_ms <= (first.at_ms + SETTLE_WINDOW_MS).min(second.at_ms)
        }
        FaultKind::StopDatabase => {
            fault.from_ms <= first.at_ms + SETTLE_WINDOW_MS && fault.to_ms >= first.at_ms
        }
        // Neither a hub nor the network is on the path of a delivery's claim or
        // settlement (the consuming spoke's own statements), and a sale-order worker
        // does not handle soak events: they explain nothing.
        FaultKind::KillHub
        | FaultKind::KillWorker
        | FaultKind::CutLink
        | FaultKind::FreezeLink
        | FaultKind::DelayLink => false,
    })
}

/// For each fault, how long until an event published after it began was handled.
fn recovery(
    ledger: &Ledger,
    by_id: &HashMap<Uuid, Vec<&Handled>>,
) -> Vec<(FaultKind, Option<u64>)> {
    let mut published: Vec<(u64, u64)> = ledger
        .acked
        .iter()
        .filter(|a| a.kind == Kind::Publish)
        .filter_map(|a| by_id.get(&a.id).map(|r| (a.due_ms, r[0].at_ms)))
        .collect();
    published.sort_unstable();
    ledger
        .faults
        .iter()
        .map(|fault| {
            let start = published.partition_point(|(sent, _)| *sent < fault.from_ms);
            let first = published[start..].iter().map(|(_, handled)| *handled).min();
            (fault.kind, first.map(|at| at.saturating_sub(fault.from_ms)))
        })
        .collect()
}

/// Checks the checker on this run's data: hides the records of one handled, acknowledged
/// publish (the verdict must name exactly that event lost), and copies one record as if a
/// second process had handled it again with no fault around (the verdict must name
/// exactly that event doubled). `Err` says what went wrong.
pub fn self_test(ledger: &Ledger) -> Result<Uuid, String> {
    let handled: HashSet<_> = ledger.handled.iter().map(|h| h.id).collect();
    let Some(victim) = ledger
        .acked
        .iter()
        .find(|a| a.kind == Kind::Publish && handled.contains(&a.id))
        .map(|a| a.id)
    else {
        return Err("no handled publish to hide".into());
    };
    let mut hidden = ledger.clone();
    hidden.handled.retain(|h| h.id != victim);
    let verdict = check(&hidden);
    if verdict.lost != [victim] {
        return Err(format!(
            "hid the records of {victim}, but the checker reported lost {:?}",
            verdict.lost
        ));
    }
    let mut copied = ledger.clone();
    if let Some(mut again) = ledger.handled.iter().find(|h| h.id == victim).cloned() {
        // Long after every fault and record, by a process that was never killed.
        again.at_ms = ledger
            .faults
            .iter()
            .map(|f| f.to_ms.max(f.from_ms))
            .chain(ledger.handled.iter().map(|h| h.at_ms))
            .max()
            .unwrap_or(again.at_ms)
            + 60_000;
        again.pid = u32::MAX;
        copied.handled.push(again);
    }
    let doubled: Vec<Uuid> = check(&copied).doubled.iter().map(|(id, _)| *id).collect();
    if doubled != [victim] {
        return Err(format!(
            "handled {victim} a second time, but the checker reported doubled {doubled:?}"
        ));
    }
    Ok(victim)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn published(n: u128, at: u64) -> Acked {
        Acked {
            id: id(n),
            kind: Kind::Publish,
            due_ms: at,
        }
    }

    fn handled(n: u128, at_ms: u64, pid: u32) -> Handled {
        Handled {
            id: id(n),
            at_ms,
            pid,
        }
    }

    fn kill(pid: u32, from_ms: u64) -> Fault {
        Fault {
            kind: FaultKind::KillConsumer,
            target: "consumer-0".into(),
            pid: Some(pid),
            from_ms,
            to_ms: from_ms + 500,
        }
    }

    fn ledger() -> Ledger {
        Ledger {
            acked: vec![
                published(1, 1_000),
                published(2, 1_010),
                published(3, 1_020),
            ],
            handled: vec![
                handled(1, 1_005, 10),
                handled(2, 1_015, 11),
                handled(3, 1_030, 10),
            ],
            ..Ledger::default()
        }
    }

    #[test]
    fn a_clean_run_passes_with_its_latencies() {
        let verdict = check(&ledger());
        assert!(verdict.passed(), "{verdict:?}");
        assert_eq!(verdict.publish_latency_ms, vec![5, 5, 10]);
        assert_eq!(verdict.redelivered, 0);
    }

    #[test]
    fn a_hidden_handler_record_is_a_lost_event_named_by_its_id() {
        let mut ledger = ledger();
        ledger.handled.retain(|h| h.id != id(2));
        let verdict = check(&ledger);
        assert!(!verdict.passed());
        assert_eq!(verdict.lost, vec![id(2)]);
    }

    #[test]
    fn a_parked_event_is_not_lost_but_fails_the_run_with_its_reason() {
        let mut ledger = ledger();
        ledger.handled.retain(|h| h.id != id(2));
        ledger.parked.push((id(2), "E_X: boom".into()));
        let verdict = check(&ledger);
        assert!(verdict.lost.is_empty());
        assert_eq!(verdict.parked, vec![(id(2), "E_X: boom".to_owned())]);
        assert!(!verdict.passed(), "a parked event needs a manual replay");
    }

    #[test]
    fn an_unacknowledged_event_handled_twice_is_doubled_too() {
        let mut ledger = ledger();
        ledger.handled.push(handled(42, 2_000, 10));
        ledger.handled.push(handled(42, 2_500, 11));
        let verdict = check(&ledger);
        assert_eq!(verdict.unacknowledged_handled, 1);
        assert_eq!(verdict.doubled, vec![(id(42), 2)]);
    }

    #[test]
    fn a_second_handling_is_doubled_unless_a_fault_explains_it() {
        let mut ledger = ledger();
        ledger.handled.push(handled(1, 4_000, 11));
        let verdict = check(&ledger);
        assert_eq!(verdict.doubled, vec![(id(1), 2)]);

        // The first handler's process was killed after its record: explained.
        ledger.faults.push(kill(10, 1_006));
        let verdict = check(&ledger);
        assert!(verdict.passed(), "{verdict:?}");
        assert_eq!(verdict.redelivered, 1);

        // A kill of another process, one before the record, or one long after the record
        // (the success was recorded by then) explains nothing.
        ledger.faults = vec![kill(11, 1_006), kill(10, 1_000), kill(10, 3_500)];
        assert_eq!(check(&ledger).doubled, vec![(id(1), 2)]);

        // A hub killed in between explains nothing either.
        ledger.faults = vec![Fault {
            kind: FaultKind::KillHub,
            ..kill(10, 1_006)
        }];
        assert_eq!(check(&ledger).doubled, vec![(id(1), 2)]);

        // A database stopped while the first delivery was being settled: explained; one
        // stopped well after: not.
        let stop = |from_ms, to_ms| Fault {
            kind: FaultKind::StopDatabase,
            target: "database".into(),
            pid: None,
            from_ms,
            to_ms,
        };
        ledger.faults = vec![stop(1_200, 3_000)];
        assert!(check(&ledger).passed());
        ledger.faults = vec![stop(2_500, 3_900)];
        assert_eq!(check(&ledger).doubled, vec![(id(1), 2)]);
    }

    #[test]
    fn a_scheduled_event_handled_before_its_due_time_is_early() {
        let mut ledger = ledger();
        ledger.acked.push(Acked {
            id: id(9),
            kind: Kind::Schedule,
            due_ms: 5_000,
        });
        ledger.handled.push(handled(9, 4_000, 10));
        assert_eq!(check(&ledger).early, vec![id(9)]);
        ledger.handled.last_mut().unwrap().at_ms = 5_020;
        let verdict = check(&ledger);
        assert!(verdict.passed());
        assert_eq!(verdict.schedule_lateness_ms, vec![20]);
    }

    #[test]
    fn recovery_is_the_time_until_an_event_published_after_the_fault_is_handled() {
        let mut ledger = ledger();
        ledger.faults.push(kill(10, 1_008));
        // Events sent after 1,008: #2 (sent 1,010, handled 1,015), #3 (handled 1,030).
        assert_eq!(
            check(&ledger).recovery_ms,
            vec![(FaultKind::KillConsumer, Some(7))]
        );
        // None sent after the fault: unknown.
        ledger.faults = vec![kill(10, 2_000)];
        assert_eq!(
            check(&ledger).recovery_ms,
            vec![(FaultKind::KillConsumer, None)]
        );
    }
}
