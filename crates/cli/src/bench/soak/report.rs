//! The soak's report: the figures of a run, and the reasons it failed.

use super::checker::{FaultKind, Kind, Ledger, Verdict};
use super::load::{self, Load};

/// At most 20 of `items`, comma-separated, then how many more.
pub fn listed(items: Vec<String>) -> String {
    let more = items.len().saturating_sub(20);
    let mut shown = items.into_iter().take(20).collect::<Vec<_>>().join(", ");
    if more > 0 {
        shown.push_str(&format!(" and {more} more"));
    }
    shown
}

/// Prints the report of the events and faults of a run.
pub fn report(
    ledger: &Ledger,
    verdict: &Verdict,
    load: &Load,
    exits: u32,
    unreadable: usize,
    self_test: &Result<uuid::Uuid, String>,
) {
    let schedules = ledger
        .acked
        .iter()
        .filter(|a| a.kind == Kind::Schedule)
        .count();
    println!(
        "  acknowledged         {} publishes, {} schedules; {} calls refused (the database or every hub away), {} skipped ({} calls already in flight)",
        ledger.acked.len() - schedules,
        schedules,
        load.refused(),
        load.skipped(),
        load::IN_FLIGHT
    );
    let distinct: std::collections::HashSet<_> = ledger.handled.iter().map(|h| h.id).collect();
    println!(
        "  handled              {} events in {} handler records; {} redeliveries, each explained by a fault; {} handled but never acknowledged",
        distinct.len(),
        ledger.handled.len(),
        verdict.redelivered,
        verdict.unacknowledged_handled
    );
    let (waited, wait_failed) = load.waits();
    println!("  waits                {waited} answered, {wait_failed} failed or timed out");
    println!("  parked               {}", verdict.parked.len());
    for (id, reason) in verdict.parked.iter().take(5) {
        println!("                       {id}: {reason}");
    }
    println!("  lost                 {}", verdict.lost.len());
    println!("  doubled              {}", verdict.doubled.len());
    println!("  scheduled too early  {}", verdict.early.len());
    if unreadable > 0 {
        println!("  unreadable records   {unreadable}");
    }
    let mut kinds: Vec<FaultKind> = ledger.faults.iter().map(|f| f.kind).collect();
    kinds.sort();
    kinds.dedup();
    let counts: Vec<String> = kinds
        .iter()
        .map(|k| {
            format!(
                "{} ×{}",
                k.name(),
                ledger.faults.iter().filter(|f| f.kind == *k).count()
            )
        })
        .collect();
    println!(
        "  faults               {}; {exits} exits restarted",
        if counts.is_empty() {
            "none".to_owned()
        } else {
            counts.join(", ")
        }
    );
    println!(
        "  publish → handled    p50 {} ms, p99 {} ms, max {} ms",
        quantile(&verdict.publish_latency_ms, 0.5),
        quantile(&verdict.publish_latency_ms, 0.99),
        quantile(&verdict.publish_latency_ms, 1.0)
    );
    println!(
        "  due → handled        p50 {} ms, p99 {} ms, max {} ms (scheduled)",
        quantile(&verdict.schedule_lateness_ms, 0.5),
        quantile(&verdict.schedule_lateness_ms, 0.99),
        quantile(&verdict.schedule_lateness_ms, 1.0)
    );
    for kind in kinds {
        let mut times: Vec<u64> = verdict
            .recovery_ms
            .iter()
            .filter(|(k, _)| *k == kind)
            .filter_map(|(_, t)| *t)
            .collect();
        times.sort_unstable();
        println!(
            "  recovery, {:<16} p50 {} ms, max {} ms (fault → first event published after it handled)",
            kind.name(),
            quantile(&times, 0.5),
            quantile(&times, 1.0)
        );
    }
    match self_test {
        Ok(id) => {
            println!(
                "  checker self-test    hid the records of {id}: reported lost; handled it twice: reported doubled, as it must"
            )
        }
        Err(error) => println!("  checker self-test    FAILED: {error}"),
    }
}

/// The `q` quantile of `sorted` ("-" when empty).
pub(crate) fn quantile(sorted: &[u64], q: f64) -> String {
    if sorted.is_empty() {
        return "-".into();
    }
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index.min(sorted.len() - 1)].to_string()
}

/// Why the run failed (`orders`: the sale orders' reason, if any).
pub fn failure(
    verdict: &Verdict,
    self_test: &Result<uuid::Uuid, String>,
    unreadable: usize,
    orders: Option<String>,
) -> String {
    let mut reasons: Vec<String> = orders.into_iter().collect();
    if !verdict.lost.is_empty() {
        reasons.push(format!(
            "{} acknowledged events lost: {}",
            verdict.lost.len(),
            listed(verdict.lost.iter().map(ToString::to_string).collect())
        ));
    }
    if !verdict.parked.is_empty() {
        reasons.push(format!(
            "{} events parked (deliveries used up by faults; a replay would be a manual step): {}",
            verdict.parked.len(),
            listed(
                verdict
                    .parked
                    .iter()
                    .map(|(id, reason)| format!("{id} ({reason})"))
                    .collect()
            )
        ));
    }
    if !verdict.doubled.is_empty() {
        reasons.push(format!(
            "{} events handled again with no fault to explain it: {}",
            verdict.doubled.len(),
            listed(
                verdict
                    .doubled
                    .iter()
                    .map(|(id, n)| format!("{id} ({n} times)"))
                    .collect()
            )
        ));
    }
    if !verdict.early.is_empty() {
        reasons.push(format!(
            "{} scheduled events handled before their due time: {}",
            verdict.early.len(),
            listed(verdict.early.iter().map(ToString::to_string).collect())
        ));
    }
    if let Err(error) = self_test {
        reasons.push(format!("the checker's self-test failed: {error}"));
    }
    if unreadable > 0 {
        reasons.push(format!("{unreadable} handler records could not be read"));
    }
    format!("soak FAILED: {}", reasons.join("; "))
}
