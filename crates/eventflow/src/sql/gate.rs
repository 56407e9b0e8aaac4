//! The SQLite write gate: writers of one process take turns in the process instead of in
//! SQLite.
//!
//! SQLite lets one writer at a time hold a database. A second writer gets `SQLITE_BUSY`
//! and its busy handler sleeps in steps of 1, 2, 5, 10, … 100 ms before it retries, which
//! turns every collision into milliseconds of latency. Every [`super::SqlStore`] of a
//! process on the same file shares one async mutex, held around each write statement or
//! transaction, so in-process writers queue without sleeping. (Separate processes on one
//! file still meet in SQLite's busy handler.) PostgreSQL, MySQL and in-memory SQLite need
//! no gate.
//!
//! For the same reason checkpoints leave the write path: a checkpoint that a commit
//! triggers runs inside that commit (and syncs the file), stalling every queued writer for
//! milliseconds. The first store of a process on a file starts a checkpointer task with a
//! connection of its own that runs a passive checkpoint (which never blocks writers) every
//! 50 ms while any store of that file lives; commits only checkpoint as a safety net once
//! the WAL holds 10,000 pages. Small, frequent checkpoints keep each one short (measured
//! with `superhero bench eventflow`: p99 about 3 ms at 50 ms, 6 ms at 250 ms, 19 ms at 1 s,
//! 5 ms with SQLite's own checkpoint in the commit).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

use sqlx::{AnyConnection, Connection, Executor};

/// How often the checkpointer runs.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);

/// One file's gate.
pub(crate) type Gate = Arc<tokio::sync::Mutex<()>>;

/// The gate of the SQLite file at `path`, shared by every store of this process on it, and
/// whether it was just created (the caller then starts the checkpointer).
pub(crate) fn for_file(path: &Path) -> (Gate, bool) {
    static GATES: OnceLock<Mutex<HashMap<PathBuf, Weak<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let mut gates = GATES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    gates.retain(|_, gate| gate.strong_count() > 0);
    if let Some(gate) = gates.get(&key).and_then(Weak::upgrade) {
        return (gate, false);
    }
    let gate: Gate = Arc::default();
    gates.insert(key, Arc::downgrade(&gate));
    (gate, true)
}

/// Checkpoints the database at `url` every [`CHECKPOINT_EVERY`] until every store of the
/// file is gone (its gate is dropped).
pub(crate) fn spawn_checkpointer(url: String, gate: &Gate) {
    let alive = Arc::downgrade(gate);
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        let mut conn = match AnyConnection::connect(&url).await {
            Ok(conn) => conn,
            Err(error) => {
                tracing::warn!(%error, "the SQLite checkpointer cannot connect; commits checkpoint instead");
                return;
            }
        };
        let _ = conn.execute("PRAGMA busy_timeout = 30000").await;
        loop {
            tokio::time::sleep(CHECKPOINT_EVERY).await;
            if alive.strong_count() == 0 {
                break;
            }
            if let Err(error) = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
                tracing::debug!(%error, "SQLite checkpoint failed; retried next round");
            }
        }
        let _ = conn.close().await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_on_one_file_share_a_gate() {
        let dir = std::env::temp_dir();
        let (a, first) = for_file(&dir.join("gate-test-a.db"));
        let (b, again) = for_file(&dir.join("gate-test-a.db"));
        let (c, _) = for_file(&dir.join("gate-test-c.db"));
        assert!(first && !again);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }
}
