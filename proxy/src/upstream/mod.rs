//! The upstream side (docs/behaviour.md): forwards one query to the configured servers in the order
//! of `upstream.strategy`, failing over on timeout, error, SERVFAIL and REFUSED, retrying a
//! truncated UDP answer over TCP, and speaking DNS over TLS on pooled connections.
//!
//! The query goes out as the client sent it (flags, DO, CD, EDNS options), with only its ID
//! replaced by a fresh random one per attempt and, over UDP, the case of its name mixed (DNS
//! 0x20); the answer comes back as the server sent it, in the client's case.
//!
//! A server that keeps failing is marked down and probed in the background (`health`).

mod health;
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
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::config::{UpstreamConfig, UpstreamSpec};
use health::{Change, Health};
use select::Selector;
use transport::{Expect, Failure};

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
    /// Every server timed out, failed, or answered SERVFAIL or REFUSED (or another refusal
    /// without the question).
    #[error("every upstream server failed")]
    AllFailed {
        /// The last such refusing answer as received, if any server gave one: for
        /// diagnostics; it is never sent to a client as it is.
        last_declined: Option<Vec<u8>>,
    },
}

/// How one attempt at one server ended; the `outcome` label of
/// `pathwise_upstream_queries_total` (docs/metrics.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// An answer (any rcode but SERVFAIL and REFUSED).
    Ok,
    /// No matching answer within `upstream.timeout`.
    Timeout,
    /// A REFUSED answer; a connection refused, reset or closed; a TLS failure; or an
    /// unusable answer.
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

/// Why an upstream answer was dropped: the `reason` label of
/// `pathwise_upstream_dropped_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// Not an answer to the query sent: wrong source, ID or question, or garbage.
    Mismatch,
    /// The question's name in another case than the 0x20-mixed one sent, or no question
    /// (a refusal, `wire::answers`) where the case could have been checked.
    Case,
    /// The right ID and question over records cut short, padded, or larger than allowed.
    Malformed,
    /// Another client cookie than the one sent, or none from a server that sent one before
    /// (RFC 7873).
    Cookie,
}

impl DropReason {
    /// Every reason, for registering metric label values.
    pub const ALL: [DropReason; 4] = [Self::Mismatch, Self::Case, Self::Malformed, Self::Cookie];

    /// The metric label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Mismatch => "mismatch",
            Self::Case => "case",
            Self::Malformed => "malformed",
            Self::Cookie => "cookie",
        }
    }
}

/// Answers dropped while forwarding one query, by [`DropReason::ALL`] index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dropped(pub [u32; 4]);

impl Dropped {
    fn count(&mut self, reason: DropReason) {
        let count = &mut self.0[reason as usize];
        *count = count.saturating_add(1);
    }

    /// How many were dropped for `reason`.
    pub fn of(&self, reason: DropReason) -> u32 {
        self.0[reason as usize]
    }
}

/// One attempt at one server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The server's index in [`Upstreams::servers`].
    pub server: usize,
    /// How it ended.
    pub outcome: Outcome,
    /// Whether the server answered, whatever the answer (SERVFAIL and REFUSED included): it
    /// is there (upstream health, `/readyz`).
    pub reached: bool,
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
    /// Answers dropped on the way.
    pub dropped: Dropped,
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
    health: Health,
    /// `upstream.randomize_case`.
    randomize_case: bool,
    /// Parallel to `servers`: whether each keeps the case of a 0x20 name ([`CASE_UNKNOWN`],
    /// [`CASE_KEPT`], [`CASE_FOLDED`]).
    case: Box<[AtomicU8]>,
    /// `upstream.cookies`.
    cookies: bool,
    /// Parallel to `servers`: the cookies of each.
    cookie_state: Box<[Mutex<Cookies>]>,
}

/// Not known yet whether the server keeps the case of a name: 0x20 is used.
const CASE_UNKNOWN: u8 = 0;
/// The server answered in the mixed case it was asked in.
const CASE_KEPT: u8 = 1;
/// The server answered over TCP in another case: it is asked in the client's case from then on.
const CASE_FOLDED: u8 = 2;

/// How often the background prober looks for servers due for a probe.
const PROBE_TICK: Duration = Duration::from_millis(250);

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
    /// SERVFAIL, REFUSED, or a refusal without the question: the server is there but will
    /// not answer this; ask the next one.
    Declined(Vec<u8>),
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
        let cookie_state = servers
            .iter()
            .map(|_| {
                Mutex::new(Cookies {
                    client: rand::random(),
                    server: Vec::new(),
                })
            })
            .collect();
        Ok(Self {
            selector: Selector::new(config.strategy, servers.len()),
            labels: servers.iter().map(ToString::to_string).collect(),
            health: Health::new(servers.len()),
            case: servers
                .iter()
                .map(|_| AtomicU8::new(CASE_UNKNOWN))
                .collect(),
            servers,
            links,
            timeout: config.timeout,
            randomize_case: config.randomize_case,
            cookies: config.cookies,
            cookie_state,
        })
    }

    /// Takes over what `old` (the upstreams of the config a reload replaces) learned of each
    /// server that stays: its health, its smoothed response time, whether it keeps the case of
    /// a 0x20 name, and its cookies (pathwise's client cookie for it and the server cookie it
    /// sent). A server counts as the same when its spec is (`tls://` with its name).
    pub fn inherit(&self, old: &Upstreams) {
        for (server, spec) in self.servers.iter().enumerate() {
            let Some(from) = old.servers.iter().position(|known| known == spec) else {
                continue;
            };
            self.health.inherit(server, &old.health, from);
            self.selector.inherit(server, &old.selector, from);
            self.case[server].store(old.case[from].load(Ordering::Relaxed), Ordering::Relaxed);
            let cookies = lock(&old.cookie_state[from]);
            *lock(&self.cookie_state[server]) = Cookies {
                client: cookies.client,
                server: cookies.server.clone(),
            };
        }
    }

    /// Starts the background prober of servers marked down, on the current tokio runtime (if
    /// any). It ends when these `Upstreams` are dropped (a reload replaces them).
    pub fn start_prober(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let upstreams = Arc::downgrade(self);
        runtime.spawn(probe_loop(upstreams));
    }

    /// Whether `server` of [`servers`](Self::servers) is up (not marked down).
    pub fn is_up(&self, server: usize) -> bool {
        self.health.is_up(server)
    }

    /// Whether any server is up.
    pub fn any_up(&self) -> bool {
        self.health.any_up()
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
    /// is neither SERVFAIL nor REFUSED, trying the servers in strategy order, each for
    /// `upstream.timeout`.
    pub async fn query(&self, query: &[u8]) -> Forwarded {
        let mut attempts = Vec::with_capacity(self.servers.len() + 1);
        let mut dropped = Dropped::default();
        if query.len() < wire::HEADER_LEN || query.len() > usize::from(u16::MAX) {
            let result = Err(UpstreamError::BadQuery(query.len()));
            return Forwarded {
                result,
                attempts,
                dropped,
            };
        }
        let mut last_declined = None;
        let mut answer = None;
        for server in self.candidates() {
            match self.turn(server, query, &mut attempts, &mut dropped).await {
                Turn::Answer(bytes) => {
                    answer = Some(bytes);
                    break;
                }
                Turn::Declined(bytes) => last_declined = Some(bytes),
                Turn::Failed => {}
            }
        }
        self.selector
            .decay_untried(|server| attempts.iter().any(|a| a.server == server));
        let result = match answer {
            Some(mut answer) => {
                wire::copy_question_case(query, &mut answer);
                Ok(answer)
            }
            None => Err(UpstreamError::AllFailed { last_declined }),
        };
        Forwarded {
            result,
            attempts,
            dropped,
        }
    }

    /// The servers this query tries, in strategy order: those not marked down; or, when every
    /// one is down, only the first, once (so a query waits one `upstream.timeout` at most, and
    /// a lone upstream that failed for a moment is not shut out until the next probe).
    fn candidates(&self) -> Vec<usize> {
        let mut order = self.selector.order();
        if order.iter().any(|&server| self.health.is_up(server)) {
            order.retain(|&server| self.health.is_up(server));
        } else {
            order.truncate(1);
        }
        order
    }

    /// One server's turn: one exchange, plus a TCP retry of a truncated UDP answer and of a
    /// suspect one (wrong 0x20 case, missing cookie, BADCOOKIE).
    async fn turn(
        &self,
        server: usize,
        query: &[u8],
        attempts: &mut Vec<Attempt>,
        dropped: &mut Dropped,
    ) -> Turn {
        let mut started = Instant::now();
        let (mut frame, expect) = self.frame(server, query);
        let result = match &self.links[server] {
            Link::Udp(address) => {
                let udp = transport::udp(*address, &frame[2..], expect, dropped);
                let mut result = transport::until(started + self.timeout, udp).await;
                if let Ok(answer) = &result {
                    self.learn_cookie(server, expect, answer);
                    if wire::is_badcookie(answer) {
                        // The server sent a fresh cookie; TCP needs none (RFC 7873 section 5.3).
                        result = Err(Failure::Suspect(DropReason::Cookie));
                    }
                }
                if let Err(Failure::Suspect(reason)) = result {
                    let retry = Retry {
                        server,
                        address: *address,
                        query,
                        expect,
                        reason,
                        started,
                    };
                    result = self.after_suspect(retry, &mut frame, dropped).await;
                }
                match result {
                    // The same server over TCP (RFC 7766 section 5), as a new query.
                    Ok(answer) if wire::is_truncated(&answer) => {
                        self.record(server, Outcome::Truncated, true, started, attempts);
                        started = Instant::now();
                        set_fresh_id(&mut frame);
                        let tcp = transport::tcp(*address, &frame, dropped);
                        transport::until(started + self.timeout, tcp).await
                    }
                    other => other,
                }
            }
            Link::Tcp(address) => {
                let tcp = transport::tcp(*address, &frame, dropped);
                let result = transport::until(started + self.timeout, tcp).await;
                if let Ok(answer) = &result {
                    self.learn_cookie(server, expect, answer);
                }
                result
            }
            Link::Tls(endpoint) => {
                transport::until(started + self.timeout, endpoint.query(&frame, dropped)).await
            }
        };
        // `reached`: an answer of any kind, SERVFAIL and REFUSED included, shows that the
        // server is there (upstream health).
        let (outcome, reached, turn) = match result {
            Ok(answer) if wire::is_servfail(&answer) => {
                (Outcome::Servfail, true, Turn::Declined(answer))
            }
            // A server that refuses us (an ACL, a policy) says nothing about the name: as
            // dnsmasq and Unbound do, the next server is asked.
            // So does one that sends no question back (FORMERR or NOTIMP for a query it could
            // not read, `wire::answers`): it is there, and another server may read it.
            Ok(answer) if wire::is_refused(&answer) || wire::is_questionless(&answer) => {
                (Outcome::Error, true, Turn::Declined(answer))
            }
            Ok(answer) => (Outcome::Ok, true, Turn::Answer(answer)),
            Err(Failure::Timeout) => (Outcome::Timeout, false, Turn::Failed),
            Err(Failure::Error(error)) => {
                debug!(server = ?self.servers[server], %error, "upstream query failed");
                (Outcome::Error, false, Turn::Failed)
            }
            Err(Failure::Suspect(_)) => (Outcome::Error, false, Turn::Failed),
        };
        self.record(server, outcome, reached, started, attempts);
        turn
    }

    /// The client's `query` as it goes to `server`, length-prefixed: a fresh random ID, over
    /// UDP the name's letters in a random case (0x20) unless the server folds case, and, when
    /// the query has an OPT record and the server is not reached over TLS, pathwise's cookie
    /// in place of the client's; and what the answer must show.
    fn frame(&self, server: usize, query: &[u8]) -> (Vec<u8>, Expect) {
        let mut expect = Expect::default();
        let mut message = None;
        if self.cookies && !matches!(self.links[server], Link::Tls(_)) {
            let cookies = lock(&self.cookie_state[server]);
            let mut cookie = cookies.client.to_vec();
            cookie.extend_from_slice(&cookies.server);
            if let Some(with) = wire::with_cookie(query, &cookie) {
                message = Some(with);
                expect.client_cookie = Some(cookies.client);
                expect.require_cookie = !cookies.server.is_empty();
            }
        }
        let message = message.unwrap_or_else(|| query.to_vec());
        let length = u16::try_from(message.len()).unwrap_or(u16::MAX);
        let mut frame = Vec::with_capacity(2 + message.len());
        frame.extend_from_slice(&length.to_be_bytes());
        frame.extend_from_slice(&message);
        set_fresh_id(&mut frame);
        expect.exact_case = self.randomize_case
            && matches!(self.links[server], Link::Udp(_))
            && self.case[server].load(Ordering::Relaxed) != CASE_FOLDED;
        if expect.exact_case {
            wire::randomize_case(&mut frame[2..], rand::random());
        }
        (frame, expect)
    }

    /// Keeps the server cookie of an answer that carries pathwise's client cookie (RFC 7873
    /// section 5.3), for the next query to that server.
    fn learn_cookie(&self, server: usize, expect: Expect, answer: &[u8]) {
        let Some(client) = expect.client_cookie else {
            return;
        };
        let Some(cookie) = wire::cookie(answer) else {
            return;
        };
        // A server cookie is 8 to 32 bytes after the 8 of the client cookie.
        if cookie.starts_with(&client) && (16..=40).contains(&cookie.len()) {
            let mut cookies = lock(&self.cookie_state[server]);
            cookies.server.clear();
            cookies.server.extend_from_slice(&cookie[8..]);
        }
    }

    /// After a suspect UDP answer: the same query over TCP, which an off-path forger cannot
    /// answer. Its answer tells whether the server keeps the case of a 0x20 name (the UDP
    /// answer was forged) or folds it (0x20 is then not used with it), and whether it still
    /// sends cookies. A server without TCP is asked once more over UDP in the client's case
    /// and without requiring a cookie; an answer to that marks it as folding case, or as no
    /// longer sending cookies (a forger would have had to guess a second fresh ID and port).
    async fn after_suspect(
        &self,
        retry: Retry<'_>,
        frame: &mut [u8],
        dropped: &mut Dropped,
    ) -> Result<Vec<u8>, Failure> {
        let Retry {
            server,
            address,
            query,
            expect,
            reason,
            started,
        } = retry;
        set_fresh_id(frame);
        let tcp = transport::tcp(address, frame, dropped);
        match transport::until(started + self.timeout, tcp).await {
            // A refusal without a question says nothing about case or cookies.
            Ok(answer) if wire::is_questionless(&answer) => Ok(answer),
            Ok(answer) => {
                if expect.exact_case {
                    if wire::same_question_case(&frame[2..], &answer) {
                        self.case[server].store(CASE_KEPT, Ordering::Relaxed);
                    } else {
                        self.case_folded(server);
                    }
                }
                if reason == DropReason::Cookie && wire::cookie(&answer).is_none() {
                    lock(&self.cookie_state[server]).server.clear();
                }
                self.learn_cookie(server, expect, &answer);
                Ok(answer)
            }
            Err(_) => {
                set_fresh_id(frame);
                wire::copy_question_case(query, &mut frame[2..]);
                let relaxed = Expect {
                    exact_case: false,
                    require_cookie: false,
                    ..expect
                };
                let udp = transport::udp(address, &frame[2..], relaxed, dropped);
                let answer = transport::until(started + self.timeout, udp).await?;
                match reason {
                    _ if wire::is_questionless(&answer) => {}
                    DropReason::Case => self.case_folded(server),
                    _ if wire::cookie(&answer).is_none() => {
                        lock(&self.cookie_state[server]).server.clear();
                    }
                    _ => self.learn_cookie(server, expect, &answer),
                }
                Ok(answer)
            }
        }
    }

    /// Marks `server` as one that does not keep the case of names.
    fn case_folded(&self, server: usize) {
        let before = self.case[server].swap(CASE_FOLDED, Ordering::Relaxed);
        if before != CASE_FOLDED {
            info!(
                server = %self.labels[server],
                "upstream does not keep the case of names (DNS 0x20): asking it in the client's case"
            );
        }
    }

    /// Asks each server that is down and due a `. NS` question; any answer marks it up.
    async fn probe_due(&self) {
        for server in self.health.due_for_probe(Instant::now()) {
            let mut attempts = Vec::new();
            let mut dropped = Dropped::default();
            let turn = self.turn(server, &PROBE, &mut attempts, &mut dropped).await;
            debug!(
                server = %self.labels[server],
                answered = !matches!(turn, Turn::Failed),
                "probed an upstream marked down"
            );
        }
    }

    /// Notes an attempt, its response time for `fastest` (a failure counts as a full timeout,
    /// so that a failing server sinks below the working ones), and for upstream health
    /// whether the server was `reached`.
    fn record(
        &self,
        server: usize,
        outcome: Outcome,
        reached: bool,
        started: Instant,
        attempts: &mut Vec<Attempt>,
    ) {
        let elapsed = started.elapsed();
        let sample = match outcome {
            Outcome::Ok | Outcome::Truncated => elapsed,
            Outcome::Timeout | Outcome::Error | Outcome::Servfail => self.timeout,
        };
        self.selector.record(server, sample);
        let change = if reached {
            self.health.answered(server)
        } else {
            self.health.failed(server, Instant::now())
        };
        match change {
            Change::Down => warn!(
                server = %self.labels[server],
                failures = health::DOWN_AFTER,
                "upstream marked down after failing in a row; probing it in the background"
            ),
            Change::Up => info!(server = %self.labels[server], "upstream is up again"),
            Change::None => {}
        }
        attempts.push(Attempt {
            server,
            outcome,
            reached,
            elapsed,
        });
    }
}

/// Probes servers marked down until the `Upstreams` are gone.
async fn probe_loop(upstreams: Weak<Upstreams>) {
    loop {
        tokio::time::sleep(PROBE_TICK).await;
        let Some(upstreams) = upstreams.upgrade() else {
            return;
        };
        upstreams.probe_due().await;
    }
}

/// A `. NS` query with RD set: every resolver answers it, from cache.
const PROBE: [u8; 17] = [0, 0, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1];

/// What a retry after a suspect answer needs to know.
struct Retry<'a> {
    server: usize,
    address: SocketAddr,
    query: &'a [u8],
    expect: Expect,
    reason: DropReason,
    started: Instant,
}

/// The cookies of one server (RFC 7873).
struct Cookies {
    /// Pathwise's client cookie for this server: random, for the life of these `Upstreams`.
    client: [u8; 8],
    /// The server cookie it last sent; empty until it sends one.
    server: Vec<u8>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A fresh random ID for the next attempt (RFC 5452 section 9.2); `frame` is length-prefixed.
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
