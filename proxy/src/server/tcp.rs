//! The TCP listener (RFC 7766): length-prefixed queries, pipelined on one connection and
//! answered as they are ready; bounds on connections in total and per client; an idle
//! timeout between messages, a read timeout within one, and a write timeout for clients that
//! do not read their answers.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, watch};

use super::context::Transport;
use super::guard::{survive, survive_async};
use super::pipeline::{Pipeline, Step};
use crate::config::ListenConfig;
use crate::metrics::Limit;

/// Answers queued for one connection's writer.
const WRITE_QUEUE: usize = 64;

/// Limits of the TCP listener.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TcpLimits {
    /// `listen.tcp_idle_timeout`: no message begun for this long closes the connection; also
    /// how long one answer may take to be written.
    pub(crate) idle_timeout: Duration,
    /// `listen.tcp_read_timeout`: a message begun must be whole within this.
    pub(crate) read_timeout: Duration,
    /// `listen.max_tcp_connections`.
    pub(crate) max_connections: usize,
    /// `listen.max_tcp_per_client`.
    pub(crate) max_per_client: usize,
}

impl TcpLimits {
    /// The limits `listen` sets.
    pub(crate) fn of(listen: &ListenConfig) -> Self {
        Self {
            idle_timeout: listen.tcp_idle_timeout,
            read_timeout: listen.tcp_read_timeout,
            max_connections: listen.max_tcp_connections,
            max_per_client: listen.max_tcp_per_client,
        }
    }
}

/// The TCP connections open in the whole process, counted against the limits by every TCP
/// listener: `listen.max_tcp_connections` and `listen.max_tcp_per_client` bound the process,
/// not each listening address. The limits are read from the settings in force at each
/// accept, so a reload applies them to the next connection.
#[derive(Clone, Default)]
pub(crate) struct TcpShared {
    open: Arc<Open>,
}

#[derive(Default)]
struct Open {
    /// Connections open.
    count: AtomicUsize,
    /// Told when one closes.
    freed: Notify,
    /// Connections open per client address.
    per_client: Mutex<HashMap<IpAddr, usize>>,
}

/// Accepts connections on `listener` until `shutdown` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    pipeline: Pipeline,
    shared: TcpShared,
    mut shutdown: watch::Receiver<bool>,
) {
    let open = shared.open;
    loop {
        let limits = TcpLimits::of(&pipeline.shared.settings().config.listen);
        // Wait for a free slot before accepting: excess clients wait in the kernel's backlog.
        let slot = match Slot::take(&open, limits.max_connections) {
            Some(slot) => slot,
            None => {
                pipeline.metrics().record_limit(Limit::TcpConnections);
                let freed = open.freed.notified();
                // A connection may have closed since the try: then `freed` was not told.
                if open.count.load(Ordering::SeqCst) < limits.max_connections.max(1) {
                    continue;
                }
                tokio::select! {
                    () = freed => continue,
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
            }
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
        let Some(client_slot) = ClientSlot::take(&open, client.ip(), limits.max_per_client) else {
            pipeline.metrics().record_limit(Limit::TcpPerClient);
            tracing::debug!(%client, "tcp connection closed: listen.max_tcp_per_client reached");
            continue;
        };
        let connection = Connection {
            pipeline: pipeline.clone(),
            shutdown: shutdown.clone(),
            limits,
            client,
        };
        tokio::spawn(async move {
            connection.run(stream).await;
            drop((slot, client_slot));
        });
    }
}

/// One connection counted against `listen.max_tcp_connections`.
struct Slot {
    open: Arc<Open>,
}

impl Slot {
    fn take(open: &Arc<Open>, max: usize) -> Option<Self> {
        open.count
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |count| {
                (count < max.max(1)).then_some(count + 1)
            })
            .ok()?;
        Some(Self {
            open: Arc::clone(open),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open.count.fetch_sub(1, Ordering::SeqCst);
        self.open.freed.notify_waiters();
    }
}

/// One connection counted against its client's `listen.max_tcp_per_client`.
struct ClientSlot {
    open: Arc<Open>,
    client: IpAddr,
}

impl ClientSlot {
    fn take(open: &Arc<Open>, client: IpAddr, max: usize) -> Option<Self> {
        let client = client.to_canonical();
        let mut per_client = open
            .per_client
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = per_client.entry(client).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Self {
            open: Arc::clone(open),
            client,
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut per_client = self
            .open
            .per_client
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = per_client.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                per_client.remove(&self.client);
            }
        }
    }
}

struct Connection {
    pipeline: Pipeline,
    shutdown: watch::Receiver<bool>,
    limits: TcpLimits,
    client: SocketAddr,
}

/// Why a connection's reader stopped.
enum Stop {
    /// EOF, a reset, idle for too long, or shutdown: the normal ends.
    Closed,
    /// A message begun and not finished within the read timeout.
    ReadTimeout,
}

impl Connection {
    /// Reads queries until EOF, an error, a timeout or shutdown; answers go through a writer
    /// task so that slow queries do not hold up fast ones behind them.
    async fn run(mut self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let (reader, mut writer) = stream.into_split();
        let mut reader = BufReader::new(reader);
        let (answers, mut queue) = mpsc::channel::<Vec<u8>>(WRITE_QUEUE);
        let metrics = Arc::clone(self.pipeline.metrics());
        let write_timeout = self.limits.idle_timeout;
        let client = self.client;
        let write = tokio::spawn(async move {
            while let Some(wire) = queue.recv().await {
                let Ok(length) = u16::try_from(wire.len()) else {
                    continue;
                };
                let framed = [&length.to_be_bytes()[..], &wire].concat();
                match tokio::time::timeout(write_timeout, writer.write_all(&framed)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return,
                    Err(_) => {
                        // The client does not read its answers: drop it.
                        metrics.record_limit(Limit::TcpTimeout);
                        tracing::debug!(%client, "tcp connection closed: answers not read");
                        return;
                    }
                }
            }
            let _ = writer.shutdown().await;
        });
        let mut buffer = Vec::new();
        let stop = loop {
            let message = tokio::select! {
                message = read_message(self.limits, &mut reader, &mut buffer) => message,
                _ = self.shutdown.wait_for(|stop| *stop) => Err(Stop::Closed),
            };
            if let Err(stop) = message {
                break stop;
            }
            let metrics = self.pipeline.metrics();
            let Some(step) = survive(metrics, Transport::Tcp, buffer.len(), || {
                self.pipeline.receive(&buffer, self.client, Transport::Tcp)
            }) else {
                continue;
            };
            match step {
                Step::Drop => {}
                Step::Answer(wire) => {
                    if answers.send(wire).await.is_err() {
                        break Stop::Closed;
                    }
                }
                Step::Resolve(mut context) => {
                    // Its place among the queries being resolved, given back once answered.
                    let slot = context.slot.take();
                    let resolve = self.pipeline.clone().resolve_owned(context);
                    let resolve =
                        survive_async(Arc::clone(metrics), Transport::Tcp, buffer.len(), resolve);
                    let answers = answers.clone();
                    tokio::spawn(async move {
                        if let Some(wire) = resolve.await {
                            let _ = answers.send(wire).await;
                        }
                        drop(slot);
                    });
                }
            }
        };
        if matches!(stop, Stop::ReadTimeout) {
            self.pipeline.metrics().record_limit(Limit::TcpTimeout);
            tracing::debug!(client = %self.client, "tcp connection closed: a message left unfinished");
        }
        // The writer ends once the last pending answer has been queued and sent.
        drop(answers);
        let _ = write.await;
    }
}

/// Reads one length-prefixed message into `buffer`: waits up to the idle timeout for its first
/// byte, then up to the read timeout for the rest.
async fn read_message<R>(
    limits: TcpLimits,
    reader: &mut BufReader<R>,
    buffer: &mut Vec<u8>,
) -> Result<(), Stop>
where
    R: tokio::io::AsyncRead + Unpin,
{
    match tokio::time::timeout(limits.idle_timeout, reader.fill_buf()).await {
        Ok(Ok(bytes)) if !bytes.is_empty() => {}
        // EOF, a reset, or idle for too long.
        _ => return Err(Stop::Closed),
    }
    let rest = async {
        let length = usize::from(reader.read_u16().await?);
        buffer.resize(length, 0);
        reader.read_exact(buffer).await.map(|_| ())
    };
    match tokio::time::timeout(limits.read_timeout, rest).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Stop::Closed),
        Err(_) => Err(Stop::ReadTimeout),
    }
}
