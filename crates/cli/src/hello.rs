//! `hello`: the smallest service that shows the whole life of a node.
//!
//! It reads its config section (`listen`, `greeting`), binds a TCP port with
//! `SO_REUSEPORT` at bootstrap (so every worker of a cluster shares it), greets
//! each connection with the worker that took it and echoes lines back, and
//! stops accepting and closes its connections when its shutdown token fires.
//!
//! ```text
//! $ nc 127.0.0.1 7878
//! hello from worker 1.01 (pid 4242)
//! ping
//! ping
//! ```

use std::net::SocketAddr;
use std::sync::Mutex;

use serde::Deserialize;
use superhero_core::cluster::{WorkerControl, bind_service};
use superhero_core::{BoxError, CancellationToken, ConfigSection, Registry, Service, async_trait};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tracing::Instrument;

/// The config section of `hello`.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct HelloConfig {
    /// Address to listen on.
    listen: SocketAddr,
    /// First word of the greeting line.
    greeting: String,
}

impl Default for HelloConfig {
    fn default() -> Self {
        HelloConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 7878)),
            greeting: "hello".into(),
        }
    }
}

/// The greeting TCP service.
pub struct Hello {
    token: CancellationToken,
    accept_loop: Mutex<Option<JoinHandle<()>>>,
}

/// Registers `hello`.
pub fn register(registry: &mut Registry) {
    registry.register("hello", |ctx| async move {
        Ok(Hello {
            token: ctx.shutdown_token(),
            accept_loop: Mutex::new(None),
        })
    });
}

#[async_trait]
impl Service for Hello {
    async fn bootstrap(&self, config: ConfigSection) -> Result<(), BoxError> {
        let config: HelloConfig = config.deserialize()?;
        let listener = TcpListener::from_std(bind_service(config.listen)?)?;
        tracing::info!(addr = %config.listen, "hello listening");
        let worker =
            WorkerControl::current_id().map_or_else(|| "-".to_owned(), |id| id.to_string());
        let greeting = format!(
            "{} from worker {worker} (pid {})\n",
            config.greeting,
            std::process::id()
        );
        let token = self.token.clone();
        let task =
            tokio::spawn(accept(listener, greeting, token).instrument(tracing::Span::current()));
        *self.accept_loop.lock().map_err(|_| "poisoned lock")? = Some(task);
        Ok(())
    }

    async fn destroy(&self) -> Result<(), BoxError> {
        let task = self.accept_loop.lock().map_err(|_| "poisoned lock")?.take();
        if let Some(task) = task {
            task.await?;
        }
        Ok(())
    }
}

async fn accept(listener: TcpListener, greeting: String, token: CancellationToken) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            () = token.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve(stream, greeting.clone(), token.clone()));
                }
                Err(error) => tracing::warn!(%error, "accept failed"),
            },
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    tracing::info!("hello stopped");
}

async fn serve(stream: TcpStream, greeting: String, token: CancellationToken) {
    let (reader, mut writer) = stream.into_split();
    if writer.write_all(greeting.as_bytes()).await.is_err() {
        return;
    }
    let mut lines = BufReader::new(reader).lines();
    loop {
        tokio::select! {
            () = token.cancelled() => return,
            line = lines.next_line() => match line {
                Ok(Some(line)) => {
                    if writer.write_all(format!("{line}\n").as_bytes()).await.is_err() {
                        return;
                    }
                }
                _ => return,
            },
        }
    }
}
