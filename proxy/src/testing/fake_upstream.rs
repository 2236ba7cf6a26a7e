//! A scriptable DNS server on 127.0.0.1 for the tests: UDP and TCP on one port (so that a
//! TC retry reaches it), or DNS over TLS. A script maps each query to actions, including
//! the faults a real resolver won't produce: delays, TC, wrong ID, wrong question, garbage,
//! silence, replies from another address, closed connections.
//!
//! ```ignore
//! let server = FakeUpstream::start(|query, transport| match transport {
//!     Transport::Udp => vec![Action::WrongId, Action::Truncated],
//!     _ => vec![Action::Answer(vec![address(qname(query), "192.0.2.1")])],
//! })
//! .await;
//! // A client sees a spoofed datagram, then TC, then asks over TCP: one query each way.
//! ```

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, Query, ResponseCode};
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;

/// The address in every spoofed answer (`WrongId`, `WrongQuestion`, `WrongSource`), so that
/// a test can tell whether one was accepted.
pub(crate) const SPOOFED: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 66);

/// How a query reached the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    /// A UDP datagram.
    Udp,
    /// A TCP connection.
    Tcp,
    /// A DNS-over-TLS connection.
    Tls,
}

/// One step of the server's reaction to a query, run in order.
#[derive(Clone, Debug)]
pub(crate) enum Action {
    /// NOERROR with these answer records.
    Answer(Vec<Record>),
    /// No records, this rcode.
    Rcode(ResponseCode),
    /// This message, given the query's ID (and its question, if it has none).
    Reply(Message),
    /// No records, TC set.
    Truncated,
    /// Wait before the next action.
    Delay(Duration),
    /// Wait until the test opens this gate (sends `true`), so that a query stays with
    /// upstream exactly as long as the test needs it there, however slow the machine.
    Hold(watch::Receiver<bool>),
    /// An answer with [`SPOOFED`] and another ID.
    WrongId,
    /// An answer with [`SPOOFED`], the right ID, and a question for `wrong.example.`.
    WrongQuestion,
    /// Bytes that are no DNS message (behind the query's ID, with QR set).
    Garbage,
    /// An answer with [`SPOOFED`], the right ID and question, cut 3 bytes short.
    Cut,
    /// Nothing; reads better than an empty list.
    Silent,
    /// The right answer shape with [`SPOOFED`], sent from another socket (UDP only).
    WrongSource,
    /// Close the connection (TCP and TLS only); later queries on it get nothing.
    Close,
    /// NOERROR with these records and the question in lower case: a server that does not
    /// keep the case of a 0x20 name.
    Folded(Vec<Record>),
    /// An answer with [`SPOOFED`], the right ID, and the question in lower case: a forger who
    /// guessed ID and port but not the 0x20 case.
    WrongCase,
    /// NOERROR with these records and a DNS cookie: the query's client cookie and this server
    /// cookie (RFC 7873).
    Cookie(Vec<u8>, Vec<Record>),
    /// An answer with [`SPOOFED`] whose cookie has another client cookie.
    WrongCookie,
    /// No question and no records, this rcode: how NSD and Knot refuse what they cannot read.
    Questionless(ResponseCode),
}

/// What a script is: the query and how it came in, to the actions to take.
type Script = dyn Fn(&Message, Transport) -> Vec<Action> + Send + Sync;

/// What the server tasks share with the test.
struct Shared {
    script: Box<Script>,
    udp: AtomicUsize,
    tcp: AtomicUsize,
    tls: AtomicUsize,
    accepts: AtomicUsize,
    received: Mutex<Vec<(Transport, Vec<u8>)>>,
}

impl Shared {
    fn note(&self, transport: Transport, bytes: &[u8]) {
        let counter = match transport {
            Transport::Udp => &self.udp,
            Transport::Tcp => &self.tcp,
            Transport::Tls => &self.tls,
        };
        counter.fetch_add(1, Ordering::SeqCst);
        let mut received = self.received.lock().unwrap_or_else(PoisonError::into_inner);
        received.push((transport, bytes.to_vec()));
    }
}

/// A running fake server; stopped on drop.
pub(crate) struct FakeUpstream {
    address: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl FakeUpstream {
    /// A server on UDP and TCP, same port, on 127.0.0.1.
    pub(crate) async fn start<F>(script: F) -> Self
    where
        F: Fn(&Message, Transport) -> Vec<Action> + Send + Sync + 'static,
    {
        let shared = shared(Box::new(script));
        let (udp, tcp) = bind_pair().await;
        let address = udp.local_addr().expect("local address");
        let tasks = vec![
            tokio::spawn(serve_udp(Arc::new(udp), Arc::clone(&shared))),
            tokio::spawn(serve_tcp(tcp, None, Arc::clone(&shared))),
        ];
        Self {
            address,
            shared,
            tasks,
        }
    }

    /// A DNS-over-TLS server on 127.0.0.1 with the certificate of `tls` (see
    /// [`test_tls`](super::certs::test_tls)).
    pub(crate) async fn start_tls<F>(script: F, tls: Arc<ServerConfig>) -> Self
    where
        F: Fn(&Message, Transport) -> Vec<Action> + Send + Sync + 'static,
    {
        let shared = shared(Box::new(script));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind TCP");
        let address = listener.local_addr().expect("local address");
        let acceptor = TlsAcceptor::from(tls);
        let tasks = vec![tokio::spawn(serve_tcp(
            listener,
            Some(acceptor),
            Arc::clone(&shared),
        ))];
        Self {
            address,
            shared,
            tasks,
        }
    }

    /// Where it listens (UDP and TCP, or TLS).
    pub(crate) fn addr(&self) -> SocketAddr {
        self.address
    }

    /// How many queries came in over `transport`, parsable or not.
    pub(crate) fn queries(&self, transport: Transport) -> usize {
        let counter = match transport {
            Transport::Udp => &self.shared.udp,
            Transport::Tcp => &self.shared.tcp,
            Transport::Tls => &self.shared.tls,
        };
        counter.load(Ordering::SeqCst)
    }

    /// How many TCP connections were accepted (for TLS: handshakes begun).
    pub(crate) fn accepts(&self) -> usize {
        self.shared.accepts.load(Ordering::SeqCst)
    }

    /// Every query as received, in arrival order.
    pub(crate) fn received(&self) -> Vec<(Transport, Vec<u8>)> {
        self.shared
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops serving: sockets close, pending actions are dropped.
    pub(crate) fn stop(&self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The queried name (the root if the query has no question).
pub(crate) fn qname(query: &Message) -> Name {
    query
        .queries
        .first()
        .map(|q| q.name().clone())
        .unwrap_or_else(Name::root)
}

/// An A or AAAA record for `owner`, TTL 300.
pub(crate) fn address(owner: Name, ip: &str) -> Record {
    let data = match ip.parse::<IpAddr>().expect("an IP address") {
        IpAddr::V4(v4) => RData::A(A(v4)),
        IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
    };
    Record::from_rdata(owner, 300, data)
}

/// A script that answers every query with one A or AAAA record of `ip`.
pub(crate) fn answering(ip: &'static str) -> impl Fn(&Message, Transport) -> Vec<Action> {
    move |query, _| vec![Action::Answer(vec![address(qname(query), ip)])]
}

fn shared(script: Box<Script>) -> Arc<Shared> {
    Arc::new(Shared {
        script,
        udp: AtomicUsize::new(0),
        tcp: AtomicUsize::new(0),
        tls: AtomicUsize::new(0),
        accepts: AtomicUsize::new(0),
        received: Mutex::new(Vec::new()),
    })
}

/// A UDP socket and a TCP listener on the same 127.0.0.1 port.
async fn bind_pair() -> (UdpSocket, TcpListener) {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind UDP");
        let address = udp.local_addr().expect("local address");
        if let Ok(tcp) = TcpListener::bind(address).await {
            return (udp, tcp);
        }
    }
    panic!("no port free for both UDP and TCP");
}

async fn serve_udp(socket: Arc<UdpSocket>, shared: Arc<Shared>) {
    let mut tasks = JoinSet::new();
    let mut buffer = vec![0; 65_535];
    loop {
        let Ok((len, client)) = socket.recv_from(&mut buffer).await else {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        };
        while tasks.try_join_next().is_some() {}
        shared.note(Transport::Udp, &buffer[..len]);
        let Ok(query) = Message::from_vec(&buffer[..len]) else {
            continue;
        };
        let actions = (shared.script)(&query, Transport::Udp);
        let socket = Arc::clone(&socket);
        // A task per query, so that a delayed answer holds up no other query.
        tasks.spawn(async move {
            for action in actions {
                match action {
                    Action::Delay(pause) => tokio::time::sleep(pause).await,
                    Action::Hold(mut gate) => drop(gate.wait_for(|open| *open).await),
                    Action::WrongSource => {
                        let other = UdpSocket::bind("127.0.0.1:0").await.expect("bind UDP");
                        let bytes = encode(&Action::WrongSource, &query).unwrap_or_default();
                        let _ = other.send_to(&bytes, client).await;
                    }
                    action => {
                        if let Some(bytes) = encode(&action, &query) {
                            let _ = socket.send_to(&bytes, client).await;
                        }
                    }
                }
            }
        });
    }
}

async fn serve_tcp(listener: TcpListener, tls: Option<TlsAcceptor>, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        };
        while connections.try_join_next().is_some() {}
        shared.accepts.fetch_add(1, Ordering::SeqCst);
        let shared = Arc::clone(&shared);
        let tls = tls.clone();
        connections.spawn(async move {
            match tls {
                None => serve_stream(stream, Transport::Tcp, &shared).await,
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        serve_stream(stream, Transport::Tls, &shared).await;
                    }
                }
            }
        });
    }
}

/// Serves length-prefixed queries on one connection, one at a time.
async fn serve_stream<S>(mut stream: S, transport: Transport, shared: &Shared)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        let Ok(len) = stream.read_u16().await else {
            return;
        };
        let mut bytes = vec![0; usize::from(len)];
        if stream.read_exact(&mut bytes).await.is_err() {
            return;
        }
        shared.note(transport, &bytes);
        let Ok(query) = Message::from_vec(&bytes) else {
            continue;
        };
        for action in (shared.script)(&query, transport) {
            match action {
                Action::Close => {
                    let _ = stream.shutdown().await;
                    return;
                }
                Action::Delay(pause) => tokio::time::sleep(pause).await,
                Action::Hold(mut gate) => drop(gate.wait_for(|open| *open).await),
                Action::WrongSource => {}
                action => {
                    let Some(reply) = encode(&action, &query) else {
                        continue;
                    };
                    let len = u16::try_from(reply.len()).expect("a reply under 64 KiB");
                    let mut frame = len.to_be_bytes().to_vec();
                    frame.extend_from_slice(&reply);
                    if stream.write_all(&frame).await.is_err() || stream.flush().await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// The bytes an action sends, if it sends any.
fn encode(action: &Action, query: &Message) -> Option<Vec<u8>> {
    let id = query.metadata.id;
    let spoofed = || vec![address(qname(query), &SPOOFED.to_string())];
    let message = match action {
        Action::Answer(records) => reply(query, records.clone(), ResponseCode::NoError),
        Action::Rcode(rcode) => reply(query, Vec::new(), *rcode),
        Action::Reply(message) => {
            let mut message = message.clone();
            message.metadata.id = id;
            if message.queries.is_empty() {
                message.add_queries(query.queries.clone());
            }
            message
        }
        Action::Truncated => {
            let mut message = reply(query, Vec::new(), ResponseCode::NoError);
            message.metadata.truncation = true;
            message
        }
        Action::WrongId => {
            let mut message = reply(query, spoofed(), ResponseCode::NoError);
            message.metadata.id = id.wrapping_add(1);
            message
        }
        Action::WrongQuestion => {
            let mut message = reply(query, spoofed(), ResponseCode::NoError);
            let qtype = query
                .queries
                .first()
                .map(|q| q.query_type())
                .unwrap_or(RecordType::A);
            let wrong = Name::from_ascii("wrong.example.").expect("a name");
            message.queries = vec![Query::query(wrong, qtype)];
            message
        }
        Action::Garbage => {
            let mut bytes = id.to_be_bytes().to_vec();
            bytes.extend_from_slice(&[0x81, 0x80, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0xde]);
            return Some(bytes);
        }
        Action::Cut => {
            let mut bytes = reply(query, spoofed(), ResponseCode::NoError)
                .to_vec()
                .expect("an encodable reply");
            bytes.truncate(bytes.len() - 3);
            return Some(bytes);
        }
        Action::WrongSource => reply(query, spoofed(), ResponseCode::NoError),
        Action::Folded(records) => lower_case(reply(query, records.clone(), ResponseCode::NoError)),
        Action::WrongCase => lower_case(reply(query, spoofed(), ResponseCode::NoError)),
        Action::Cookie(server, records) => {
            let mut cookie = client_cookie(query);
            cookie.extend_from_slice(server);
            with_cookie(reply(query, records.clone(), ResponseCode::NoError), cookie)
        }
        Action::WrongCookie => {
            let mut cookie: Vec<u8> = client_cookie(query).iter().map(|b| !b).collect();
            cookie.extend_from_slice(&[0x5a; 8]);
            with_cookie(reply(query, spoofed(), ResponseCode::NoError), cookie)
        }
        Action::Questionless(rcode) => {
            let mut message = reply(query, Vec::new(), *rcode);
            message.queries.clear();
            message
        }
        Action::Delay(_) | Action::Hold(_) | Action::Silent | Action::Close => return None,
    };
    Some(message.to_vec().expect("an encodable reply"))
}

/// The client cookie of a query (eight zero bytes if it has none).
fn client_cookie(query: &Message) -> Vec<u8> {
    let option = query
        .edns
        .as_ref()
        .and_then(|edns| edns.options().get(EdnsCode::Cookie).cloned());
    match option {
        Some(EdnsOption::Unknown(_, data)) if data.len() >= 8 => data[..8].to_vec(),
        _ => vec![0; 8],
    }
}

/// `message` with a COOKIE option (and an OPT record if it had none).
fn with_cookie(mut message: Message, cookie: Vec<u8>) -> Message {
    let mut edns = message.edns.take().unwrap_or_default();
    edns.options_mut()
        .insert(EdnsOption::Unknown(u16::from(EdnsCode::Cookie), cookie));
    message.set_edns(edns);
    message
}

/// `message` with its question names in lower case.
fn lower_case(mut message: Message) -> Message {
    for query in &mut message.queries {
        let name = query.name().to_lowercase();
        query.set_name(name);
    }
    message
}

/// A response to `query`: its ID, question, RD and CD; RA set; EDNS mirrored.
fn reply(query: &Message, answers: Vec<Record>, rcode: ResponseCode) -> Message {
    let mut message = Message::response(query.metadata.id, query.metadata.op_code);
    message.metadata.recursion_desired = query.metadata.recursion_desired;
    message.metadata.checking_disabled = query.metadata.checking_disabled;
    message.metadata.recursion_available = true;
    message.metadata.response_code = rcode;
    message.add_queries(query.queries.clone());
    message.add_answers(answers);
    if let Some(edns) = &query.edns {
        let mut mirrored = Edns::new();
        mirrored.set_max_payload(1232);
        mirrored.set_dnssec_ok(edns.flags().dnssec_ok);
        message.set_edns(mirrored);
    }
    message
}
