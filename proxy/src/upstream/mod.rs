//! The upstream side (SPEC §6): forwards one query to the configured servers in the order of
//! `upstream.strategy`, failing over on timeout, error and SERVFAIL, retrying a truncated UDP
//! answer over TCP, and speaking DNS over TLS on pooled connections.
//!
//! The query goes out as the client sent it (flags, DO, CD, EDNS options), with only its ID
//! replaced by a fresh random one per attempt; the answer comes back as the server sent it.

mod resolv_conf;
mod select;
mod tls;
mod transport;
mod wire;

#[cfg(test)]
mod tests;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tracing::{debug, info};

use crate::config::{UpstreamConfig, UpstreamSpec};
use select::Selector;
use transport::Failure;

pub use resolv_conf::nameservers_from_resolv_conf;

/// What can go wrong upstream: at start-up (no usable server, bad TLS settings) or per query.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// `upstream.servers` is empty and `upstream.resolv_conf` cannot be read.
    #[error(
        "upstream.servers is empty and upstream.resolv_conf {} cannot be read: {error}",
        path.display()
    )]
    ResolvConf {
        /// The resolv.conf file.
        path: PathBuf,
        /// Why it cannot be read.
        error: io::Error,
    },
    /// `upstream.servers` is empty and `upstream.resolv_conf` names no server but pathwise.
    #[error(
        "no upstream server: upstream.servers is empty and upstream.resolv_conf {} names no nameserver other than pathwise itself",
        path.display()
    )]
    NoServers {
        /// The resolv.conf file.
        path: PathBuf,
    },
    /// `upstream.tls_ca_file` cannot be used.
    #[error("upstream.tls_ca_file {}: {reason}", path.display())]
    TlsCaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A `tls://` server's `#name` is not a DNS name or IP address.
    #[error("upstream.servers: {0:?} is not a valid TLS server name")]
    TlsName(String),
    /// The TLS client cannot be set up.
    #[error("DNS over TLS: {0}")]
    Tls(String),
    /// The bytes given to [`Upstreams::query`] are no DNS message: shorter than a header, or
    /// too long for a TCP frame.
    #[error("not a DNS query: {0} bytes")]
    BadQuery(usize),
    /// Every server timed out, failed or answered SERVFAIL.
    #[error("every upstream server failed")]
    AllFailed {
        /// The last SERVFAIL answer as received, if any server gave one.
        last_servfail: Option<Vec<u8>>,
    },
}

/// How one attempt at one server ended; the `outcome` label of
/// `pathwise_upstream_queries_total` (SPEC §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// An answer (any rcode but SERVFAIL).
    Ok,
    /// No matching answer within `upstream.timeout`.
    Timeout,
    /// Refused, reset, closed, TLS failure, or an unusable answer.
    Error,
    /// The server answered SERVFAIL.
    Servfail,
    /// A UDP answer with TC set; the same server is asked again over TCP.
    Truncated,
}

impl Outcome {
    /// Every outcome, for registering metric label values.
    pub const ALL: [Outcome; 5] = [
        Outcome::Ok,
        Outcome::Timeout,
        Outcome::Error,
        Outcome::Servfail,
        Outcome::Truncated,
    ];

    /// The metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Timeout => "timeout",
            Outcome::Error => "error",
            Outcome::Servfail => "servfail",
            Outcome::Truncated => "truncated",
        }
    }
}

/// One attempt at one server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The server's index in [`Upstreams::servers`].
    pub server: usize,
    /// How it ended.
    pub outcome: Outcome,
    /// From sending the query to the outcome.
    pub elapsed: Duration,
}

/// The result of [`Upstreams::query`], with every attempt made on the way (for metrics).
#[derive(Debug)]
pub struct Forwarded {
    /// The answer as received (its ID is the upstream one; the caller puts the client's
    /// back), or [`UpstreamError::AllFailed`].
    pub result: Result<Vec<u8>, UpstreamError>,
    /// The attempts in the order they were made.
    pub attempts: Vec<Attempt>,
}

/// The upstream servers and the state of talking to them; shared by `Arc`.
pub struct Upstreams {
    servers: Vec<UpstreamSpec>,
    /// Parallel to `servers`: the `upstream` metric label (the spec as text).
    labels: Vec<String>,
    /// Parallel to `servers`: how each is reached.
    links: Vec<Link>,
    timeout: Duration,
    selector: Selector,
}

impl std::fmt::Debug for Upstreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstreams")
            .field("servers", &self.servers)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// How a server is reached.
enum Link {
    /// UDP, TCP on truncation.
    Udp(SocketAddr),
    /// TCP only.
    Tcp(SocketAddr),
    /// DNS over TLS with its connection pool.
    Tls(Box<tls::Endpoint>),
}

/// How one server's turn ended, for the failover loop.
enum Turn {
    Answer(Vec<u8>),
    Servfail(Vec<u8>),
    Failed,
}

impl Upstreams {
    /// The servers of `config`; or, when it names none, the nameservers of
    /// `config.resolv_conf` that are not pathwise itself: not an address of `own_listen`,
    /// nor any address of this host on the port of a wildcard listener. Fails if no server
    /// remains or the TLS settings are bad.
    pub fn new(config: &UpstreamConfig, own_listen: &[SocketAddr]) -> Result<Self, UpstreamError> {
        let servers = if config.servers.is_empty() {
            servers_from_resolv_conf(&config.resolv_conf, own_listen)?
        } else {
            config.servers.clone()
        };
        let links = links(&servers, config.tls_ca_file.as_deref())?;
        Ok(Self {
            selector: Selector::new(config.strategy, servers.len()),
            labels: servers.iter().map(ToString::to_string).collect(),
            servers,
            links,
            timeout: config.timeout,
        })
    }

    /// The servers in use, in configured order; [`Attempt::server`] indexes this.
    pub fn servers(&self) -> &[UpstreamSpec] {
        &self.servers
    }

    /// The `upstream` metric label of server `index` of [`servers`](Self::servers).
    pub fn label(&self, index: usize) -> &str {
        self.labels.get(index).map_or("", String::as_str)
    }

    /// Every server's `upstream` metric label, in configured order.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.labels.iter().map(String::as_str)
    }

    /// Forwards one query (wire bytes; its ID is ignored) and returns the first answer that
    /// is not SERVFAIL, trying the servers in strategy order, each for `upstream.timeout`.
    pub async fn query(&self, query: &[u8]) -> Forwarded {
        let mut attempts = Vec::with_capacity(self.servers.len() + 1);
        let length = u16::try_from(query.len())
            .ok()
            .filter(|_| query.len() >= wire::HEADER_LEN);
        let Some(length) = length else {
            let result = Err(UpstreamError::BadQuery(query.len()));
            return Forwarded { result, attempts };
        };
        // The TCP frame; UDP sends it without the length prefix. One buffer for all attempts.
        let mut frame = Vec::with_capacity(2 + query.len());
        frame.extend_from_slice(&length.to_be_bytes());
        frame.extend_from_slice(query);
        let mut last_servfail = None;
        let mut answer = None;
        for server in self.selector.order() {
            match self.turn(server, &mut frame, &mut attempts).await {
                Turn::Answer(bytes) => {
                    answer = Some(bytes);
                    break;
                }
                Turn::Servfail(bytes) => last_servfail = Some(bytes),
                Turn::Failed => {}
            }
        }
        self.selector
            .decay_untried(|server| attempts.iter().any(|a| a.server == server));
        let result = answer.ok_or(UpstreamError::AllFailed { last_servfail });
        Forwarded { result, attempts }
    }

    /// One server's turn: one exchange, plus the TCP retry of a truncated UDP answer.
    async fn turn(&self, server: usize, frame: &mut [u8], attempts: &mut Vec<Attempt>) -> Turn {
        let mut started = Instant::now();
        set_fresh_id(frame);
        let result = match &self.links[server] {
            Link::Udp(address) => {
                let udp = transport::udp(*address, &frame[2..]);
                match transport::until(started + self.timeout, udp).await {
                    Ok(answer) if wire::is_truncated(&answer) => {
                        self.record(server, Outcome::Truncated, started, attempts);
                        // The same server over TCP (RFC 7766 §5), as a new query.
                        started = Instant::now();
                        set_fresh_id(frame);
                        let tcp = transport::tcp(*address, frame);
                        transport::until(started + self.timeout, tcp).await
                    }
                    other => other,
                }
            }
            Link::Tcp(address) => {
                transport::until(started + self.timeout, transport::tcp(*address, frame)).await
            }
            Link::Tls(endpoint) => {
                transport::until(started + self.timeout, endpoint.query(frame)).await
            }
        };
        let (outcome, turn) = match result {
            Ok(answer) if wire::is_servfail(&answer) => (Outcome::Servfail, Turn::Servfail(answer)),
            Ok(answer) => (Outcome::Ok, Turn::Answer(answer)),
            Err(Failure::Timeout) => (Outcome::Timeout, Turn::Failed),
            Err(Failure::Error(error)) => {
                debug!(server = ?self.servers[server], %error, "upstream query failed");
                (Outcome::Error, Turn::Failed)
            }
        };
        self.record(server, outcome, started, attempts);
        turn
    }

    /// Notes an attempt, and its response time for `fastest`: a failure counts as a full
    /// timeout, so that a failing server sinks below the working ones.
    fn record(
        &self,
        server: usize,
        outcome: Outcome,
        started: Instant,
        attempts: &mut Vec<Attempt>,
    ) {
        let elapsed = started.elapsed();
        let sample = match outcome {
            Outcome::Ok | Outcome::Truncated => elapsed,
            Outcome::Timeout | Outcome::Error | Outcome::Servfail => self.timeout,
        };
        self.selector.record(server, sample);
        attempts.push(Attempt {
            server,
            outcome,
            elapsed,
        });
    }
}

/// A fresh random ID for the next attempt (RFC 5452 §9.2); `frame` is length-prefixed.
fn set_fresh_id(frame: &mut [u8]) {
    if let Some(message) = frame.get_mut(2..) {
        wire::set_id(message, rand::random());
    }
}

/// The nameservers of `path` that are not pathwise itself, as UDP servers.
fn servers_from_resolv_conf(
    path: &Path,
    own_listen: &[SocketAddr],
) -> Result<Vec<UpstreamSpec>, UpstreamError> {
    let text = std::fs::read_to_string(path).map_err(|error| UpstreamError::ResolvConf {
        path: path.to_owned(),
        error,
    })?;
    let local = if own_listen.iter().any(|listen| listen.ip().is_unspecified()) {
        local_addresses()
    } else {
        Vec::new()
    };
    let nameservers = nameservers_from_resolv_conf(&text);
    let servers = resolv_conf::without_own(nameservers, own_listen, &local);
    if servers.is_empty() {
        return Err(UpstreamError::NoServers {
            path: path.to_owned(),
        });
    }
    info!(
        resolv_conf = %path.display(),
        ?servers,
        "upstream.servers is empty, using the nameservers of resolv.conf"
    );
    Ok(servers.into_iter().map(UpstreamSpec::Udp).collect())
}

/// This host's addresses, which a wildcard listener also answers on.
fn local_addresses() -> Vec<IpAddr> {
    match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces
            .iter()
            .map(|interface| interface.ip().to_canonical())
            .collect(),
        Err(error) => {
            // Loopback and exact matches are still excluded; only other own addresses could slip.
            debug!(%error, "cannot list the host's addresses");
            Vec::new()
        }
    }
}

/// How each server is reached; the TLS client is built only if some server needs it.
fn links(servers: &[UpstreamSpec], ca_file: Option<&Path>) -> Result<Vec<Link>, UpstreamError> {
    let mut tls_config = None;
    let mut links = Vec::with_capacity(servers.len());
    for spec in servers {
        links.push(match spec {
            UpstreamSpec::Udp(address) => Link::Udp(*address),
            UpstreamSpec::Tcp(address) => Link::Tcp(*address),
            UpstreamSpec::Tls { address, name } => {
                let config = match &tls_config {
                    Some(config) => Arc::clone(config),
                    None => Arc::clone(tls_config.insert(tls::client_config(ca_file)?)),
                };
                Link::Tls(Box::new(tls::Endpoint::new(*address, name, config)?))
            }
        });
    }
    Ok(links)
}
