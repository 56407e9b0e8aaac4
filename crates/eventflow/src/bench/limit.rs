//! What the database alone can do, measured in the same run as the pipeline so the
//! pipeline's figures can be read against it: the durability setting in force, and the
//! single-commit limit (one connection inserting one row per transaction, back to back),
//! the ceiling of any pipeline that commits once per event on one connection.

use std::time::{Duration, Instant};

use sqlx::Row;

use crate::config::Backend;
use crate::error::{Error, Result};
use crate::sql::SqlStore;

/// The durability settings in force on the store's connections, as the database reports
/// them (`PRAGMA synchronous`/`journal_mode`; `fsync`/`synchronous_commit`;
/// `innodb_flush_log_at_trx_commit`/`sync_binlog`).
pub(super) async fn durability(store: &SqlStore) -> Result<String> {
    let queries: &[(&str, &str)] = match store.backend() {
        Backend::Sqlite => &[
            ("journal_mode", "PRAGMA journal_mode"),
            ("synchronous", "PRAGMA synchronous"),
        ],
        Backend::Postgres => &[
            ("fsync", "SHOW fsync"),
            ("synchronous_commit", "SHOW synchronous_commit"),
        ],
        Backend::MySql => &[
            (
                "innodb_flush_log_at_trx_commit",
                "SELECT CAST(@@innodb_flush_log_at_trx_commit AS CHAR)",
            ),
            ("sync_binlog", "SELECT CAST(@@sync_binlog AS CHAR)"),
        ],
    };
    let mut settings = Vec::new();
    for (name, query) in queries {
        let row = sqlx::query(store.sql(query))
            .fetch_one(store.pool())
            .await
            .map_err(|e| Error::from_sqlx("durability setting", e))?;
        // SQLite answers `synchronous` as a number: 1 NORMAL, 2 FULL, 3 EXTRA.
        let value = match row.try_get::<String, _>(0) {
            Ok(text) => text,
            Err(_) => match row.try_get::<i64, _>(0) {
                Ok(1) => "NORMAL".into(),
                Ok(2) => "FULL".into(),
                Ok(3) => "EXTRA".into(),
                Ok(n) => n.to_string(),
                Err(e) => return Err(Error::from_sqlx("durability setting", e)),
            },
        };
        settings.push(format!("{name}={value}"));
    }
    Ok(settings.join(", "))
}

/// Commits per second of one connection inserting one row per transaction for `length`,
/// in a table created for it and dropped after.
pub(super) async fn single_commit_rate(store: &SqlStore, length: Duration) -> Result<f64> {
    let failed = |e| Error::from_sqlx("single-commit limit", e);
    let pool = store.pool();
    sqlx::query(store.sql(
        "CREATE TABLE eventflow_bench_commit (id BIGINT NOT NULL PRIMARY KEY, at BIGINT NOT NULL)",
    ))
    .execute(pool)
    .await
    .map_err(failed)?;
    let mut connection = pool.acquire().await.map_err(failed)?;
    let started = Instant::now();
    let mut commits: i64 = 0;
    let outcome = loop {
        if started.elapsed() >= length {
            break Ok(());
        }
        commits += 1;
        let _gate = store.write_gate().await;
        // Autocommit: the statement is its own transaction, committed before it returns.
        let inserted =
            sqlx::query(store.sql("INSERT INTO eventflow_bench_commit (id, at) VALUES (?, ?)"))
                .bind(commits)
                .bind(commits)
                .execute(&mut *connection)
                .await;
        if let Err(error) = inserted {
            break Err(failed(error));
        }
    };
    let elapsed = started.elapsed();
    drop(connection);
    let dropped = sqlx::query(store.sql("DROP TABLE eventflow_bench_commit"))
        .execute(pool)
        .await
        .map_err(failed);
    outcome?;
    dropped?;
    Ok(commits as f64 / elapsed.as_secs_f64().max(1e-9))
}

/// User + system CPU time of this process so far.
pub(super) fn process_cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes the struct we pass; on failure it is left zeroed.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}
