//! [`TcpProxy`]: a TCP forwarder on loopback that a test can cut and restore, to play a
//! database or a hub that goes away and comes back on the same address, or freeze, to play
//! a network that stops forwarding while both TCP ends stay open (half-open).

use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};

use superhero_core::CancellationToken;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;

/// Forwards connections from its own loopback port to `target`.
///
/// [`stop`](Self::stop) closes the port and drops every forwarded connection (both ends
/// see it closed, as when a server dies); [`resume`](Self::resume) listens on the same port
/// again. [`freeze`](Self::freeze) stops forwarding but keeps every connection open, and
/// accepts new ones without forwarding them either (no error reaches either end, and TCP
/// keep-alive probes are answered); [`thaw`](Self::thaw) forwards new connections again
/// (the frozen ones stay silent until the proxy stops). Dropping the proxy stops it.
#[derive(Debug)]
pub struct TcpProxy {
    addr: SocketAddr,
    target: SocketAddr,
    running: Mutex<Option<CancellationToken>>,
    frozen: watch::Sender<bool>,
}

impl TcpProxy {
    /// Starts forwarding from an ephemeral loopback port to `target`.
    pub async fn start(target: SocketAddr) -> TcpProxy {
        let mut proxy = TcpProxy {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            target,
            running: Mutex::new(None),
            frozen: watch::Sender::new(false),
        };
        proxy.addr = proxy.listen(proxy.addr);
        proxy
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes the port and every forwarded connection.
    pub fn stop(&self) {
        if let Some(token) = self.state().take() {
            token.cancel();
        }
    }

    /// Stops forwarding, keeping every connection open (see the type's docs).
    pub fn freeze(&self) {
        self.frozen.send_replace(true);
    }

    /// Forwards new connections again after [`freeze`](Self::freeze).
    pub fn thaw(&self) {
        self.frozen.send_replace(false);
    }

    /// Listens on the same port again (after [`stop`](Self::stop)).
    pub fn resume(&self) {
        if self.state().is_none() {
            self.listen(self.addr);
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Option<CancellationToken>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn listen(&self, addr: SocketAddr) -> SocketAddr {
        let socket = TcpSocket::new_v4().expect("a socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket
            .bind(addr)
            .unwrap_or_else(|e| panic!("the proxy cannot listen on {addr}: {e}"));
        let listener = socket.listen(64).expect("listen");
        let bound = listener.local_addr().expect("the proxy's address");
        let token = CancellationToken::new();
        *self.state() = Some(token.clone());
        let target = self.target;
        let frozen = self.frozen.subscribe();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = token.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((client, _)) = accepted else { continue };
                tokio::spawn(forward(client, target, token.clone(), frozen.clone()));
            }
        });
        bound
    }
}

async fn forward(
    mut client: TcpStream,
    target: SocketAddr,
    token: CancellationToken,
    mut frozen: watch::Receiver<bool>,
) {
    if *frozen.borrow_and_update() {
        // Accepted while frozen: held open, silent, until the proxy stops.
        token.cancelled().await;
        return;
    }
    let Ok(mut server) = TcpStream::connect(target).await else {
        return;
    };
    tokio::select! {
        () = token.cancelled() => return,
        _ = frozen.wait_for(|frozen| *frozen) => {}
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => return,
    }
    // Frozen: both ends stay open and nothing more is forwarded.
    token.cancelled().await;
    drop((client, server));
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.stop();
    }
}
