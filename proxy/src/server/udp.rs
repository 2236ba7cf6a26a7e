//! The UDP listener: one task per socket receives, answers what it can at once, and spawns a
//! task only for queries that must wait (upstream, the A lookup, the lone-AAAA hold).

use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::watch;

use super::context::Transport;
use super::drain::InFlight;
use super::pipeline::{Pipeline, Step};

/// Largest DNS message over UDP (the IPv4/IPv6 datagram limit).
const MAX_DATAGRAM: usize = 65_535;

/// Serves queries on `socket` until `shutdown` turns true.
pub(crate) async fn serve(
    socket: Arc<UdpSocket>,
    pipeline: Pipeline,
    in_flight: InFlight,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut buffer = vec![0u8; MAX_DATAGRAM];
    loop {
        let (length, client) = tokio::select! {
            received = socket.recv_from(&mut buffer) => match received {
                Ok(received) => received,
                // E.g. ICMP port unreachable from an earlier answer: not this loop's problem.
                Err(error) => {
                    tracing::debug!(%error, "udp receive error");
                    continue;
                }
            },
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        match pipeline.receive(&buffer[..length], client, Transport::Udp) {
            Step::Drop => {}
            Step::Answer(wire) => send(&socket, &wire, client).await,
            Step::Resolve(context) => {
                let socket = Arc::clone(&socket);
                let pipeline = pipeline.clone();
                let guard = in_flight.enter();
                tokio::spawn(async move {
                    let wire = pipeline.resolve(context).await;
                    send(&socket, &wire, client).await;
                    drop(guard);
                });
            }
        }
    }
}

async fn send(socket: &UdpSocket, wire: &[u8], client: std::net::SocketAddr) {
    if let Err(error) = socket.send_to(wire, client).await {
        tracing::debug!(%error, %client, "udp send error");
    }
}
