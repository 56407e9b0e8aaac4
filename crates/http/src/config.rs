//! The server's configuration, read from the config key `http.server`.
//!
//! Every field has a default, so `{}` is a valid configuration. Durations are whole
//! milliseconds (`*_ms`) so the same keys work in JSON, TOML and environment overrides.
//!
//! ```
//! let config: superhero_http::ServerConfig = serde_json::from_value(serde_json::json!({
//!     "listen": "127.0.0.1:0",
//!     "limits": { "max_body_bytes": 65536, "body_read_timeout_ms": 5000 },
//!     "shutdown_deadline_ms": 2000
//! })).unwrap();
//! assert_eq!(config.limits.max_body_bytes, 65536);
//! assert!(config.tls.is_none());
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `http.server`: where to listen, TLS files, limits and the shutdown deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to bind (`"127.0.0.1:8080"`); ignored when a listener is handed in.
    pub listen: SocketAddr,
    /// Certificate and key files (PEM); absent means clear text (HTTP/1.1 and h2c).
    pub tls: Option<TlsFiles>,
    /// Size and time limits that keep slow or hostile clients from stalling the server.
    pub limits: Limits,
    /// How long shutdown waits for in-flight requests before closing connections. The
    /// `http` service lowers it to half the node's `core/shutdown/timeout_ms` when it is
    /// longer, so the services stopped after the server keep time to stop.
    pub shutdown_deadline_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            tls: None,
            limits: Limits::default(),
            shutdown_deadline_ms: 10_000,
        }
    }
}

impl ServerConfig {
    /// The shutdown deadline as a [`Duration`].
    pub fn shutdown_deadline(&self) -> Duration {
        Duration::from_millis(self.shutdown_deadline_ms)
    }
}

/// `http.server.tls`: PEM files. The certificate file may hold a chain (leaf first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// Certificate chain file (PEM).
    pub cert: PathBuf,
    /// Private key file (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// `http.server.limits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request body accepted; larger ones get 413 `E_HTTP_BODY_TOO_LARGE`.
    pub max_body_bytes: u64,
    /// Largest request head (HTTP/1.1 read buffer, HTTP/2 header list); at least 8192.
    /// HTTP/1.1 heads beyond it get 431, HTTP/2 ones a stream reset.
    pub max_header_bytes: usize,
    /// Most header fields in one HTTP/1.1 request; more get 431.
    pub max_headers: usize,
    /// Time allowed for the TLS handshake, the protocol preface, each HTTP/1.1 request
    /// head and each HTTP/2 header block (a HEADERS frame and its CONTINUATION frames).
    /// hyper's timer also runs while a keep-alive connection waits for its next request,
    /// so this bounds idle HTTP/1.1 connections too. Expiry closes the connection.
    pub header_read_timeout_ms: u64,
    /// How long a connection may stay open with no request in progress before it is
    /// closed: an HTTP/1.1 connection between requests, an HTTP/2 connection with no open
    /// stream (PINGs and SETTINGS do not count). HTTP/2 clients are told with GOAWAY
    /// `NO_ERROR`. The default matches `header_read_timeout_ms`, which bounds an idle
    /// HTTP/1.1 connection as well.
    pub idle_timeout_ms: u64,
    /// After a GOAWAY (idle close or shutdown), how long an HTTP/2 connection with
    /// nothing open (no stream, no response still on its way) waits for the client's
    /// PING acknowledgement before it is closed anyway. The acknowledgement is the round
    /// trip that lets requests already on the wire arrive; a client that never reads
    /// must not hold the connection (or the shutdown) for longer. Connections with open
    /// streams drain until `shutdown_deadline_ms` instead.
    pub goaway_grace_ms: u64,
    /// Time allowed to receive a whole request body once a dispatcher asks for it;
    /// slower bodies get 408 `E_HTTP_BODY_TIMEOUT`.
    pub body_read_timeout_ms: u64,
    /// Time a response write may wait for the client to take bytes (its receive window
    /// is full) before the connection is closed, so a client that stops reading cannot
    /// hold a connection and its response for ever. A slow reader that takes some bytes
    /// within the limit is not affected.
    pub write_timeout_ms: u64,
    /// HTTP/2 keep-alive: a PING is sent after this much silence and the connection is
    /// closed if the answer takes as long again.
    pub keep_alive_timeout_ms: u64,
    /// Most concurrent streams per HTTP/2 connection.
    pub max_concurrent_streams: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_header_bytes: 64 * 1024,
            max_headers: 100,
            header_read_timeout_ms: 10_000,
            idle_timeout_ms: 10_000,
            goaway_grace_ms: 250,
            body_read_timeout_ms: 30_000,
            write_timeout_ms: 30_000,
            keep_alive_timeout_ms: 60_000,
            max_concurrent_streams: 256,
        }
    }
}

impl Limits {
    /// `header_read_timeout_ms` as a [`Duration`].
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }

    /// `idle_timeout_ms` as a [`Duration`].
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }

    /// `goaway_grace_ms` as a [`Duration`].
    pub fn goaway_grace(&self) -> Duration {
        Duration::from_millis(self.goaway_grace_ms)
    }

    /// `body_read_timeout_ms` as a [`Duration`].
    pub fn body_read_timeout(&self) -> Duration {
        Duration::from_millis(self.body_read_timeout_ms)
    }

    /// `write_timeout_ms` as a [`Duration`].
    pub fn write_timeout(&self) -> Duration {
        Duration::from_millis(self.write_timeout_ms)
    }

    /// `keep_alive_timeout_ms` as a [`Duration`].
    pub fn keep_alive_timeout(&self) -> Duration {
        Duration::from_millis(self.keep_alive_timeout_ms)
    }
}
