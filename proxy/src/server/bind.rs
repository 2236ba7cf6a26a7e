//! Binding the listeners: UDP and TCP on each `listen.addresses` entry, on the same port when
//! the port is 0, each logged as `listening on udp 127.0.0.1:NNNN`.

use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpListener, UdpSocket};

/// The bound sockets.
#[derive(Debug)]
pub struct Listeners {
    /// One UDP socket per address.
    pub udp: Vec<UdpSocket>,
    /// One TCP listener per address.
    pub tcp: Vec<TcpListener>,
}

/// A listener that could not be bound, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// Ports below 1024 need a capability.
    #[error(
        "cannot listen on {transport} {address}: permission denied; run pathwise with \
         CAP_NET_BIND_SERVICE (e.g. `setcap cap_net_bind_service=+ep` on the binary, or \
         AmbientCapabilities= in its systemd unit), or listen on a high port: --listen 127.0.0.1:5353"
    )]
    Permission {
        /// udp or tcp.
        transport: &'static str,
        /// The address.
        address: SocketAddr,
    },
    /// Not one address could be bound.
    #[error("no listen address could be bound")]
    Nothing,
    /// Anything else: in use, not a local address, ...
    #[error("cannot listen on {transport} {address}: {error}")]
    Other {
        /// udp or tcp.
        transport: &'static str,
        /// The address.
        address: SocketAddr,
        /// What the system said.
        error: io::Error,
    },
}

/// Attempts at finding a port free for both UDP and TCP when the port is 0.
const SAME_PORT_ATTEMPTS: usize = 16;

/// Binds every address.
pub async fn bind(addresses: &[SocketAddr]) -> Result<Listeners, BindError> {
    let mut listeners = Listeners {
        udp: Vec::new(),
        tcp: Vec::new(),
    };
    for &address in addresses {
        let (udp, tcp) = match bind_pair(address).await {
            Ok(pair) => pair,
            // A host or container with IPv6 turned off has no ::1: the default listen list
            // must still start there, on 127.0.0.1.
            Err(BindError::Other { error, .. })
                if error.kind() == io::ErrorKind::AddrNotAvailable
                    && address.ip() == std::net::Ipv6Addr::LOCALHOST =>
            {
                tracing::warn!("not listening on {address}: IPv6 loopback is not available here");
                continue;
            }
            Err(error) => return Err(error),
        };
        for (transport, local) in [("udp", udp.local_addr()), ("tcp", tcp.local_addr())] {
            let local = local.map_err(|error| BindError::Other {
                transport,
                address,
                error,
            })?;
            tracing::info!("listening on {transport} {local}");
        }
        listeners.udp.push(udp);
        listeners.tcp.push(tcp);
    }
    if listeners.udp.is_empty() {
        return Err(BindError::Nothing);
    }
    Ok(listeners)
}

async fn bind_pair(address: SocketAddr) -> Result<(UdpSocket, TcpListener), BindError> {
    let mut attempt = 0;
    loop {
        let udp = UdpSocket::bind(address)
            .await
            .map_err(|e| error("udp", address, e))?;
        let mut tcp_address = address;
        if address.port() == 0 {
            let port = udp
                .local_addr()
                .map_err(|e| error("udp", address, e))?
                .port();
            tcp_address.set_port(port);
        }
        match TcpListener::bind(tcp_address).await {
            Ok(tcp) => return Ok((udp, tcp)),
            // Port 0: the port UDP got is taken for TCP; try another.
            Err(e) if address.port() == 0 && attempt + 1 < SAME_PORT_ATTEMPTS => {
                tracing::debug!(%e, "tcp port {} taken, trying another", tcp_address.port());
                attempt += 1;
            }
            Err(e) => return Err(error("tcp", address, e)),
        }
    }
}

fn error(transport: &'static str, address: SocketAddr, error: io::Error) -> BindError {
    if error.kind() == io::ErrorKind::PermissionDenied {
        BindError::Permission { transport, address }
    } else {
        BindError::Other {
            transport,
            address,
            error,
        }
    }
}
