//! Listening sockets that several worker processes share — and only they.

use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Protocol, Socket, Type};

use crate::error::{Error, Result};

/// Binds a service's listener: shared with the other workers of this cluster
/// ([`bind_reuseport`]) when this process is a cluster worker (its supervisor set
/// [`WORKER_ID_ENV`](super::WORKER_ID_ENV)), otherwise exclusively, so a second node
/// started on a port in use fails with `E_CORE_LISTEN` instead of silently taking half
/// of its connections.
pub fn bind_service(addr: SocketAddr) -> Result<TcpListener> {
    bind(addr, std::env::var_os(super::WORKER_ID_ENV).is_some())
}

/// Binds a non-blocking TCP listener with `SO_REUSEPORT` (and `SO_REUSEADDR`),
/// so every worker of a cluster can bind the same address and the kernel
/// spreads connections across them. Backlog 1024. Any other process of the same user
/// can join it too: services bind with [`bind_service`].
pub fn bind_reuseport(addr: SocketAddr) -> Result<TcpListener> {
    bind(addr, true)
}

fn bind(addr: SocketAddr, reuse_port: bool) -> Result<TcpListener> {
    let bind = || -> std::io::Result<TcpListener> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        if reuse_port {
            socket.set_reuse_port(true)?;
        }
        socket.set_nonblocking(true)?;
        socket.bind(&addr.into())?;
        socket.listen(1024)?;
        Ok(socket.into())
    };
    bind().map_err(|source| Error::Listen {
        addr: addr.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_a_cluster_a_port_in_use_is_refused_and_workers_share_one() {
        let shared = bind_reuseport("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = shared.local_addr().unwrap();
        assert!(bind_reuseport(addr).is_ok(), "workers share a port");
        let error = bind(addr, false).unwrap_err();
        assert_eq!(error.code(), "E_CORE_LISTEN");
        let alone = bind(
            addr.ip()
                .to_string()
                .parse::<std::net::IpAddr>()
                .map(|ip| SocketAddr::new(ip, 0))
                .unwrap(),
            false,
        )
        .unwrap();
        let error = bind(alone.local_addr().unwrap(), true).unwrap_err();
        assert_eq!(
            error.code(),
            "E_CORE_LISTEN",
            "nor can a worker join a node's own port"
        );
    }
}
