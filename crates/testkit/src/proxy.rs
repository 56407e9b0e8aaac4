//! [`TcpProxy`]: a TCP forwarder on loopback that a test can cut and restore, to play a
//! database or a hub that goes away and comes back on the same address.

use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};

use superhero_core::CancellationToken;
use tokio::net::{TcpSocket, TcpStream};

/// Forwards connections from its own loopback port to `target`.
///
/// [`stop`](Self::stop) closes the port and drops every forwarded connection (both ends
/// see it closed, as when a server dies); [`resume`](Self::resume) listens on the same port
/// again. Dropping the proxy stops it.
#[derive(Debug)]
pub struct TcpProxy {
    addr: SocketAddr,
    target: SocketAddr,
    running: Mutex<Option<CancellationToken>>,
}

impl TcpProxy {
    /// Starts forwarding from an ephemeral loopback port to `target`.
    pub async fn start(target: SocketAddr) -> TcpProxy {
        let mut proxy = TcpProxy {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            target,
            running: Mutex::new(None),
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
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = token.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((client, _)) = accepted else { continue };
                tokio::spawn(forward(client, target, token.clone()));
            }
        });
        bound
    }
}

async fn forward(mut client: TcpStream, target: SocketAddr, token: CancellationToken) {
    let Ok(mut server) = TcpStream::connect(target).await else {
        return;
    };
    tokio::select! {
        () = token.cancelled() => {}
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.stop();
    }
}
