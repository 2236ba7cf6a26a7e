//! The UDP listener: one thread per socket blocks in `recv_from`, answers what it can at once
//! (the ladder, cache hits) and hands only the queries that must wait (upstream, the A lookup,
//! the lone-AAAA hold) to the async runtime.
//!
//! A blocking thread rather than an async task: a cache hit then costs one `recvfrom` and one
//! `sendto`, with no readiness polling, no `EAGAIN` round and no wake-up of another worker
//! thread in between; at tens of thousands of queries a second that is most of the kernel time
//! a hit costs (dnsdist and unbound serve UDP the same way). The thread wakes every
//! [`STOP_POLL`] to notice a shutdown.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::watch;

use super::context::Transport;
use super::guard::{survive, survive_async};
use super::pipeline::{Pipeline, Step};

/// Largest DNS message over UDP (the IPv4/IPv6 datagram limit).
const MAX_DATAGRAM: usize = 65_535;

/// How often an idle listener thread looks at the shutdown flag.
const STOP_POLL: Duration = Duration::from_millis(200);

/// Serves queries on `socket` until `shutdown` turns true; returns when its thread has ended.
pub(crate) async fn serve(
    socket: tokio::net::UdpSocket,
    pipeline: Pipeline,
    shutdown: watch::Receiver<bool>,
) {
    let socket = match blocking(socket) {
        Ok(socket) => Arc::new(socket),
        Err(error) => {
            tracing::error!(%error, "udp listener: cannot switch the socket to blocking mode");
            return;
        }
    };
    let runtime = Handle::current();
    let thread = tokio::task::spawn_blocking(move || {
        receive_loop(&socket, &pipeline, &shutdown, &runtime);
    });
    if let Err(error) = thread.await {
        tracing::error!(%error, "udp listener thread failed");
    }
}

fn blocking(socket: tokio::net::UdpSocket) -> std::io::Result<UdpSocket> {
    let socket = socket.into_std()?;
    socket.set_nonblocking(false)?;
    socket.set_read_timeout(Some(STOP_POLL))?;
    Ok(socket)
}

fn receive_loop(
    socket: &Arc<UdpSocket>,
    pipeline: &Pipeline,
    shutdown: &watch::Receiver<bool>,
    runtime: &Handle,
) {
    let mut buffer = vec![0u8; MAX_DATAGRAM];
    loop {
        let received = socket.recv_from(&mut buffer);
        if *shutdown.borrow() {
            return;
        }
        let (length, client) = match received {
            Ok(received) => received,
            // The read timeout (to look at the shutdown flag), or e.g. ICMP port unreachable
            // from an earlier answer: not this loop's problem.
            Err(error) => {
                if !matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) {
                    tracing::debug!(%error, "udp receive error");
                }
                continue;
            }
        };
        let packet = &buffer[..length];
        let metrics = pipeline.metrics();
        let Some(step) = survive(metrics, Transport::Udp, length, || {
            pipeline.receive(packet, client, Transport::Udp)
        }) else {
            continue;
        };
        match step {
            Step::Drop => {}
            Step::Answer(wire) => send(socket, &wire, client),
            Step::Resolve(mut context) => {
                // Its place among the queries being resolved, given back once it is answered.
                let slot = context.slot.take();
                let socket = Arc::clone(socket);
                let resolve = pipeline.clone().resolve_owned(context);
                let resolve = survive_async(Arc::clone(metrics), Transport::Udp, length, resolve);
                runtime.spawn(async move {
                    // A UDP send does not wait for the network; it blocks only while the
                    // socket's send buffer is full, which a local resolver does not reach.
                    if let Some(wire) = resolve.await {
                        send(&socket, &wire, client);
                    }
                    drop(slot);
                });
            }
        }
    }
}

fn send(socket: &UdpSocket, wire: &[u8], client: SocketAddr) {
    if let Err(error) = socket.send_to(wire, client) {
        tracing::debug!(%error, %client, "udp send error");
    }
}
