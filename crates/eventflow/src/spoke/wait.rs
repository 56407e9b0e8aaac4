//! `wait`: the first event of a process with one of some names (and, for a reply, the
//! request's id as its `rid`), whether it was written before the call or arrives within
//! the timeout.
//!
//! Order of operations closes the race between "already written" and "arriving": first
//! subscribe (limited to the process, so a wait receives only its own process's
//! events), then make sure every connected hub routes with the subscription in place,
//! then read the event-log. An event committed before the read is found there; one
//! routed after is notified. The event-log is also re-read every `wait_recheck_ms`, a
//! backstop for notices lost while no hub was connected.
//!
//! "Every hub routes with it in place" takes a `sync` round trip with every connected
//! hub after the hubs were told of the (domain, name) — once: while the spoke keeps
//! listening to the pair (concurrent waits overlap) and no hub has connected since, later
//! waits skip it, so a busy command path pays no hub round trip per request.

use std::time::Duration;

use tokio::sync::oneshot;

use super::{Spoke, SpokeInner};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::net::Message;

/// Longest wait for the hubs' `synced` answers.
const SYNC_TIMEOUT: Duration = Duration::from_secs(2);

/// The first event of `domain`/`pid` named one of `names` that `accept` accepts.
pub(crate) async fn wait(
    spoke: &Spoke,
    domain: &str,
    pid: &str,
    names: &[&str],
    timeout: Duration,
    accept: impl Fn(&Event) -> bool,
) -> Result<Event> {
    let deadline = tokio::time::Instant::now() + timeout;
    let timed_out = || Error::WaitTimeout {
        domain: domain.to_owned(),
        pid: pid.to_owned(),
        names: names.join(" | "),
        timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
    };
    if names.is_empty() {
        return Err(Error::invalid("wait needs at least one event name"));
    }
    let mut subscription = spoke.subscribe_process(domain, names, Some(pid))?;
    let ready = spoke.inner.state().subscriptions.ready(domain, names);
    if !ready {
        let (told, generation) = spoke.inner.state().subscriptions.told_names(domain, names);
        let synced = tokio::time::timeout_at(deadline, sync(&spoke.inner, SYNC_TIMEOUT)).await;
        if synced == Ok(true) {
            spoke
                .inner
                .state()
                .subscriptions
                .synced(domain, &told, generation);
        }
    }
    let recheck = Duration::from_millis(spoke.inner.config.wait_recheck_ms);
    loop {
        let written = spoke
            .inner
            .store
            .read_stream_by_names(domain, pid, names)
            .await?;
        if let Some(event) = written.into_iter().find(|e| accept(e)) {
            return Ok(event);
        }
        let until = (tokio::time::Instant::now() + recheck).min(deadline);
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(until) => break,
                event = subscription.recv() => match event {
                    Some(event)
                        if event.pid == pid
                            && names.contains(&event.name.as_str())
                            && accept(&event) =>
                    {
                        return Ok(event);
                    }
                    Some(_) => {}
                    None => return Err(Error::Destroyed { what: "spoke" }),
                },
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(timed_out());
        }
    }
}

/// A `sync` round trip with every connected hub, bounded by `timeout`: true when every
/// hub connected at the start answered (and at least one was).
pub(crate) async fn sync(inner: &SpokeInner, timeout: Duration) -> bool {
    let outboxes: Vec<_> = inner
        .state()
        .links
        .values()
        .filter_map(|link| link.outbox.clone())
        .collect();
    let mut ids = Vec::with_capacity(outboxes.len());
    let mut answers = Vec::with_capacity(outboxes.len());
    for outbox in outboxes {
        let id = inner.next_id();
        let (tx, rx) = oneshot::channel();
        inner
            .syncs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id, tx);
        if outbox.send(Message::Sync { id }) {
            ids.push(id);
            answers.push(rx);
        }
    }
    let answered = !ids.is_empty()
        && tokio::time::timeout(timeout, futures_util::future::join_all(answers))
            .await
            .is_ok_and(|answers| answers.iter().all(Result::is_ok));
    let mut syncs = inner
        .syncs
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for id in ids {
        syncs.remove(&id);
    }
    answered
}
