//! Store benchmarks: append throughput (one event per transaction, batches of 100, and
//! publish) and read latency (an event-log of 100 events, a catch-up page of 100), on
//! SQLite always and on PostgreSQL / MySQL-MariaDB when `EVENTFLOW_TEST_POSTGRES_URL` /
//! `EVENTFLOW_TEST_MYSQL_URL` are set. Each backend gets a fresh database, dropped after.
//!
//! `cargo bench -p superhero-eventflow --bench store`

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::{Db, Harness};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use superhero_eventflow::{AppendRequest, CatchUp, EventLog, NewEvent};
use tokio::runtime::Runtime;

fn event(pid: &str, i: usize) -> NewEvent {
    NewEvent::new("bench", pid, "order-placed")
        .with_data(json!({"order": i, "lines": [{"sku": "A-1", "qty": 2}], "total": 42.5}))
}

fn bench_backend(c: &mut Criterion, runtime: &Runtime, db: Db, name: &str) {
    if db != Db::Sqlite && db.server_url().is_none() {
        eprintln!("skipped: {name} benchmarks, {} not set", db.url_variable());
        return;
    }
    let harness = runtime.block_on(Harness::new(db));
    let store = harness.store.clone();

    // The read targets: one stream of 100 events, and 100 events to page through.
    runtime.block_on(async {
        let events = (0..100).map(|i| event("read-stream", i)).collect();
        store
            .append(AppendRequest::new(events))
            .await
            .expect("seed the read stream");
    });

    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));

    group.throughput(Throughput::Elements(1));
    let mut n = 0_usize;
    group.bench_function(BenchmarkId::new("append", "single"), |b| {
        b.to_async(runtime).iter(|| {
            n += 1;
            let store = store.clone();
            let event = event(&format!("single-{}", n % 1000), n);
            async move { store.append_one(event).await.expect("append") }
        })
    });
    group.bench_function(BenchmarkId::new("publish", "single"), |b| {
        b.to_async(runtime).iter(|| {
            n += 1;
            let store = store.clone();
            let event = event(&format!("publish-{}", n % 1000), n);
            async move { store.publish(event, "bench-spoke").await.expect("publish") }
        })
    });

    group.throughput(Throughput::Elements(100));
    group.bench_function(BenchmarkId::new("append", "batch_100"), |b| {
        b.to_async(runtime).iter(|| {
            n += 1;
            let store = store.clone();
            let events = (0..100)
                .map(|i| event(&format!("batch-{}", (n + i) % 1000), i))
                .collect();
            async move {
                store
                    .append(AppendRequest::new(events))
                    .await
                    .expect("append batch")
            }
        })
    });

    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("read", "event_log_100"), |b| {
        b.to_async(runtime).iter(|| {
            let store = store.clone();
            async move {
                let events = store
                    .read_stream("bench", "read-stream")
                    .await
                    .expect("read");
                assert_eq!(events.len(), 100);
            }
        })
    });
    group.bench_function(BenchmarkId::new("read", "catch_up_page_100"), |b| {
        b.to_async(runtime).iter(|| {
            let store = store.clone();
            async move {
                let page = store
                    .read_from(&CatchUp::after(0, 100))
                    .await
                    .expect("read");
                assert_eq!(page.len(), 100);
            }
        })
    });
    group.finish();
    drop(store);
    drop(harness);
}

fn store_benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    bench_backend(c, &runtime, Db::Sqlite, "sqlite");
    bench_backend(c, &runtime, Db::Postgres, "postgres");
    bench_backend(c, &runtime, Db::MySql, "mysql");
}

criterion_group!(benches, store_benches);
criterion_main!(benches);
