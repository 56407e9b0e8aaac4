//! The fault-injecting TCP proxy the soak puts in front of each hub: every hub announces
//! the proxy's port as its external address, so spokes and peer hubs reach it only
//! through the proxy, which the driver can
//!
//! - **cut** the link: every connection through it is closed and new ones are closed at
//!   once, until healed (a network that drops the hub);
//! - **freeze** it: connections stay open at both ends and nothing is forwarded, until
//!   healed, when forwarding resumes with what was held (a half-open link: no error
//!   reaches either end; only the peers' idle timeouts can notice);
//! - **delay** it: every chunk is held for a fixed time before it is forwarded.
//!
//! (`superhero_testkit::TcpProxy` plays the same parts in tests, with a test's
//! panicking errors; the soak's runs in the product binary and adds the delay.)

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does to the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forwards them.
    Forward,
    /// Closes every connection.
    Cut,
    /// Holds them, connections open.
    Freeze,
    /// Forwards each chunk after this long.
    Delay(Duration),
}

/// A proxy in front of one hub.
pub struct Proxy {
    addr: SocketAddr,
    mode: watch::Sender<Mode>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `target`.
    pub async fn start(target: SocketAddr) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (mode, _) = watch::channel(Mode::Forward);
        let modes = mode.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    // Out of descriptors, say: do not spin.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let _ = client.set_nodelay(true);
                tokio::spawn(connection(client, target, modes.subscribe()));
            }
        });
        Ok(Proxy { addr, mode, accept })
    }

    /// The port spokes and peer hubs connect to.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Sets what the proxy does from now on ([`Mode::Forward`] heals it).
    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.mode.send_replace(Mode::Cut);
        self.accept.abort();
    }
}

async fn connection(client: TcpStream, target: SocketAddr, mut mode: watch::Receiver<Mode>) {
    if *mode.borrow_and_update() == Mode::Cut {
        return;
    }
    let Ok(server) = TcpStream::connect(target).await else {
        return;
    };
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    // Either direction ending (or a cut) ends both: the halves are dropped together.
    tokio::select! {
        () = pipe(client_read, server_write, mode.clone()) => {}
        () = pipe(server_read, client_write, mode.clone()) => {}
        _ = mode.wait_for(|m| *m == Mode::Cut) => {}
    }
}

/// Copies `from` to `to` chunk by chunk, as the mode says.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        loop {
            let current = *mode.borrow_and_update();
            match current {
                Mode::Forward => break,
                Mode::Cut => return,
                Mode::Delay(delay) => {
                    tokio::time::sleep(delay).await;
                    break;
                }
                Mode::Freeze => {
                    if mode.changed().await.is_err() {
                        return;
                    }
                }
            }
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}
