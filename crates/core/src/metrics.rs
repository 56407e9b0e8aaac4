//! The process's metrics, in the Prometheus text format (exposition format 0.0.4).
//!
//! Every crate records through the [`metrics`](https://docs.rs/metrics) facade
//! (`metrics::counter!("http_server_requests_total", "route" => …).increment(1)`); this
//! module installs one recorder per process, the kept `metrics-exporter-prometheus`
//! ([`install`], called by [`crate::Core::start`] before any service is constructed, so
//! nothing recorded at start-up is lost), and renders it ([`render`]) for whoever serves
//! `GET /metrics` (the `http` service).
//!
//! Values computed on demand (a database's backlog, a pool's usage) come from services
//! exposing [`Collect`]: the renderer asks each to refresh its gauges first.
//!
//! Histograms have the fixed buckets [`BUCKETS`] (seconds). Every process has its own
//! registry: the workers of a cluster each count what they did.

use std::sync::OnceLock;
use std::time::Duration;

use async_trait::async_trait;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The bucket bounds of every histogram, in seconds: 0.5 ms to 30 s.
pub const BUCKETS: &[f64] = &[
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often histograms are folded into their buckets between scrapes (bounds memory).
const UPKEEP: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder as the process's global recorder, once; later calls
/// return the same handle. `None` when the program installed another recorder first (its
/// metrics are then its own business, and `/metrics` says so).
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            if ::metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed; /metrics stays empty");
                return None;
            }
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP);
                        upkeep.run_upkeep();
                    }
                });
            if let Err(error) = spawned {
                tracing::warn!(%error, "no metrics upkeep thread; histograms are folded at each scrape only");
            }
            Some(handle)
        })
        .as_ref()
}

/// The metrics in the Prometheus text format; `None` when [`install`] could not install
/// the recorder.
pub fn render() -> Option<String> {
    install().map(PrometheusHandle::render)
}

/// A service with gauges computed on demand, refreshed just before each render.
#[async_trait]
pub trait Collect: Send + Sync {
    /// Sets this service's gauges to their current values. Should take a database round
    /// trip at most; the caller bounds it with its own timeout and renders anyway.
    async fn collect(&self);
}
