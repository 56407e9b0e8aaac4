//! Listening sockets that several worker processes share.

use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Protocol, Socket, Type};

use crate::error::{Error, Result};

/// Binds a non-blocking TCP listener with `SO_REUSEPORT` (and `SO_REUSEADDR`),
/// so every worker of a cluster can bind the same address and the kernel
/// spreads connections across them. Backlog 1024.
pub fn bind_reuseport(addr: SocketAddr) -> Result<TcpListener> {
    let bind = || -> std::io::Result<TcpListener> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        socket.set_reuse_port(true)?;
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
