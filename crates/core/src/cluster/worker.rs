//! The worker side of the supervisor's control channel.
//!
//! The supervisor starts each worker with two environment variables:
//! [`WORKER_ID_ENV`] (the id, e.g. `1.01`) and [`CONTROL_FD_ENV`] (the number
//! of an inherited Unix socket, always 3). Over the socket the worker sends one
//! line, `ready` or `failed <message>`; the supervisor never writes, so
//! end-of-file on the worker's side means the supervisor is gone.

use std::os::fd::{FromRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

use super::WorkerId;
use crate::error::{Error, Result};

/// Environment variable carrying the worker id.
pub const WORKER_ID_ENV: &str = "SUPERHERO_WORKER_ID";
/// Environment variable carrying the control socket's file descriptor.
pub const CONTROL_FD_ENV: &str = "SUPERHERO_CONTROL_FD";

static TAKEN: AtomicBool = AtomicBool::new(false);

/// The control channel of a worker process.
#[derive(Debug)]
pub struct WorkerControl {
    id: WorkerId,
    reader: OwnedReadHalf,
    writer: OwnedWriteHalf,
}

impl WorkerControl {
    /// The id of this process when it is a cluster worker.
    pub fn current_id() -> Option<WorkerId> {
        std::env::var(WORKER_ID_ENV).ok()?.parse().ok()
    }

    /// Takes over the control channel when this process is a cluster worker;
    /// `None` otherwise. Must run inside a tokio runtime; the channel can be
    /// taken once per process.
    pub fn from_env() -> Result<Option<WorkerControl>> {
        let Some(id) = std::env::var(WORKER_ID_ENV).ok() else {
            return Ok(None);
        };
        let id: WorkerId = id.parse()?;
        let fd: RawFd = std::env::var(CONTROL_FD_ENV)
            .ok()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| control_error(format!("{CONTROL_FD_ENV} is missing or not a number")))?;
        if TAKEN.swap(true, Ordering::SeqCst) {
            return Err(control_error(
                "the control channel was already taken".into(),
            ));
        }
        let stream = adopt_socket(fd)?;
        stream
            .set_nonblocking(true)
            .map_err(|e| control_error(e.to_string()))?;
        let stream =
            tokio::net::UnixStream::from_std(stream).map_err(|e| control_error(e.to_string()))?;
        let (reader, writer) = stream.into_split();
        Ok(Some(WorkerControl { id, reader, writer }))
    }

    /// This worker's id.
    pub fn id(&self) -> WorkerId {
        self.id
    }

    /// Tells the supervisor the worker started.
    pub async fn ready(&mut self) {
        self.send("ready").await;
    }

    /// Tells the supervisor why start-up failed (one line).
    pub async fn failed(&mut self, message: &str) {
        let line = format!("failed {}", message.replace(['\n', '\r'], " "));
        self.send(&line).await;
    }

    /// Resolves when the supervisor's end of the channel closes; never when
    /// `control` is `None` (not a worker).
    pub async fn supervisor_gone(control: Option<&mut WorkerControl>) {
        let Some(control) = control else {
            return std::future::pending().await;
        };
        let mut buffer = [0u8; 64];
        loop {
            match control.reader.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    }

    async fn send(&mut self, line: &str) {
        let mut bytes = line.as_bytes().to_vec();
        bytes.push(b'\n');
        if let Err(error) = self.writer.write_all(&bytes).await {
            tracing::warn!(%error, "could not report to the cluster supervisor");
        }
    }
}

fn control_error(message: String) -> Error {
    Error::ClusterControl { message }
}

/// Takes ownership of the inherited socket `fd` after checking it is one.
fn adopt_socket(fd: RawFd) -> Result<std::os::unix::net::UnixStream> {
    // SAFETY: fstat only writes into the zeroed struct we pass; an invalid fd
    // makes it return -1, which we check.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut stat) } != 0 || (stat.st_mode & libc::S_IFMT) != libc::S_IFSOCK
    {
        return Err(control_error(format!(
            "descriptor {fd} is not an inherited socket"
        )));
    }
    // SAFETY: keep the descriptor out of any process this worker starts.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    // SAFETY: the supervisor passed this descriptor to us alone, it is an open
    // socket (checked above), and TAKEN guarantees a single owner.
    Ok(unsafe { std::os::unix::net::UnixStream::from_raw_fd(fd) })
}
