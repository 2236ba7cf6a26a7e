//! The TCP listener (RFC 7766): length-prefixed queries, pipelined on one connection and
//! answered as they are ready, an idle timeout, and a bound on concurrent connections.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};

use super::context::Transport;
use super::drain::InFlight;
use super::pipeline::{Pipeline, Step};

/// Answers queued for one connection's writer.
const WRITE_QUEUE: usize = 64;

/// Limits of the TCP listener.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TcpLimits {
    /// `listen.tcp_idle_timeout`.
    pub(crate) idle_timeout: Duration,
    /// `listen.max_tcp_connections`.
    pub(crate) max_connections: usize,
}

/// Accepts connections on `listener` until `shutdown` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    pipeline: Pipeline,
    limits: TcpLimits,
    in_flight: InFlight,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        // Wait for a free slot before accepting: excess clients wait in the kernel's backlog.
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => permit.expect("the semaphore is never closed"),
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::debug!(%error, "tcp accept error");
                    continue;
                }
            },
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        let connection = Connection {
            pipeline: pipeline.clone(),
            in_flight: in_flight.clone(),
            shutdown: shutdown.clone(),
            idle_timeout: limits.idle_timeout,
            client,
        };
        tokio::spawn(async move {
            connection.run(stream).await;
            drop(permit);
        });
    }
}

struct Connection {
    pipeline: Pipeline,
    in_flight: InFlight,
    shutdown: watch::Receiver<bool>,
    idle_timeout: Duration,
    client: SocketAddr,
}

impl Connection {
    /// Reads queries until EOF, an error, the idle timeout or shutdown; answers go through a
    /// writer task so that slow queries do not hold up fast ones behind them.
    async fn run(mut self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let (reader, mut writer) = stream.into_split();
        let mut reader = BufReader::new(reader);
        let (answers, mut queue) = mpsc::channel::<Vec<u8>>(WRITE_QUEUE);
        let write = tokio::spawn(async move {
            while let Some(wire) = queue.recv().await {
                let Ok(length) = u16::try_from(wire.len()) else {
                    continue;
                };
                let framed = [&length.to_be_bytes()[..], &wire].concat();
                if writer.write_all(&framed).await.is_err() {
                    return;
                }
            }
            let _ = writer.shutdown().await;
        });
        let mut buffer = Vec::new();
        loop {
            let length = tokio::select! {
                read = tokio::time::timeout(self.idle_timeout, reader.read_u16()) => match read {
                    Ok(Ok(length)) => usize::from(length),
                    // EOF, a reset, or idle for too long.
                    _ => break,
                },
                _ = self.shutdown.wait_for(|stop| *stop) => break,
            };
            buffer.resize(length, 0);
            let read =
                tokio::time::timeout(self.idle_timeout, reader.read_exact(&mut buffer)).await;
            if !matches!(read, Ok(Ok(_))) {
                break;
            }
            match self.pipeline.receive(&buffer, self.client, Transport::Tcp) {
                Step::Drop => {}
                Step::Answer(wire) => {
                    if answers.send(wire).await.is_err() {
                        break;
                    }
                }
                Step::Resolve(context) => {
                    let pipeline = self.pipeline.clone();
                    let answers = answers.clone();
                    let guard = self.in_flight.enter();
                    tokio::spawn(async move {
                        let wire = pipeline.resolve(context).await;
                        let _ = answers.send(wire).await;
                        drop(guard);
                    });
                }
            }
        }
        // The writer ends once the last pending answer has been queued and sent.
        drop(answers);
        let _ = write.await;
    }
}
