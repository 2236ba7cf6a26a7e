//! Pipeline tests: the real UDP and TCP listener loops on 127.0.0.1:0, the
//! real pipeline, and a scripted fake upstream whose received queries the tests read. The path
//! state comes from a `watch` channel the test holds; settings are swapped as SIGHUP does.
//!
//! Time: the clock is tokio's. Where a test only needs time to pass between queries (a TTL,
//! the pair window) it pauses it (`start_paused`, from the `test-util` feature the crate's
//! tests enable) and moves it with `tokio::time::advance`: while the UDP listener's blocking
//! thread runs, tokio does not move a paused clock on its own. Where pathwise itself must
//! wait (the upstream timeout, the lone-AAAA hold, the TCP read timeout) the wait is real and
//! a few hundred milliseconds; where a test needs a query to stay with upstream, the fake
//! holds it until the test lets it go (`Action::Hold`) instead of a delay the test races.

mod cache;
mod changes;
mod explicit;
mod forwarding;
mod ladder;
mod limits;
mod panics;
mod per_process;
mod same_bytes;
mod shaping;
mod transport;
mod zone;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use pathwise_policy::{Path, PathState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::pipeline::{Fault, Pipeline};
use super::state::{Settings, Shared};
use super::{bind, tcp, udp};
use crate::config::{Config, UpstreamSpec};
use crate::testing::fake_upstream::{Action, FakeUpstream, Transport};
use zone::{NATIVE, SIX_TO_FOUR, SLOW, TEREDO, V4, V6, zone};

/// The upstream timeout of these tests.
const TIMEOUT: Duration = Duration::from_millis(300);
/// How long a client waits for an answer before the test fails.
const PATIENCE: Duration = Duration::from_secs(3);

/// Teredo and IPv4: the default `teredo-only` filter is active.
fn teredo_ipv4() -> PathState {
    [Path::Teredo, Path::Ipv4].into_iter().collect()
}

/// Native IPv6 and IPv4: the filter is inactive.
fn native_ipv4() -> PathState {
    [Path::Native6, Path::Ipv4].into_iter().collect()
}

/// pathwise's listener loops over a fake upstream; stopped on drop.
struct Harness {
    upstream: FakeUpstream,
    shared: Arc<Shared>,
    paths: watch::Sender<PathState>,
    udp: SocketAddr,
    tcp: SocketAddr,
    stop: watch::Sender<bool>,
    loops: Vec<JoinHandle<()>>,
    /// The TCP listener's limits and counts, for a second listener of the same process.
    tcp_shared: tcp::TcpShared,
    pipeline: Pipeline,
}

impl Harness {
    /// Listeners on 127.0.0.1:0 over a fake upstream running `script`, path state teredo+ipv4;
    /// `configure` edits the config first.
    async fn start<S>(script: S, configure: impl FnOnce(&mut Config)) -> Self
    where
        S: Fn(&Message, Transport) -> Vec<Action> + Send + Sync + 'static,
    {
        Self::start_with_fault(script, configure, Fault::default()).await
    }

    /// As [`start`](Self::start), with a pipeline that panics where `fault` says.
    async fn start_with_fault<S>(
        script: S,
        configure: impl FnOnce(&mut Config),
        fault: Fault,
    ) -> Self
    where
        S: Fn(&Message, Transport) -> Vec<Action> + Send + Sync + 'static,
    {
        let upstream = FakeUpstream::start(script).await;
        let mut config = Config::default();
        config.listen.addresses = vec![SocketAddr::from(([127, 0, 0, 1], 0))];
        config.listen.allow = vec!["127.0.0.0/8".parse().expect("a CIDR")];
        config.listen.tcp_idle_timeout = Duration::from_secs(5);
        config.upstream.servers = vec![UpstreamSpec::Udp(upstream.addr())];
        config.upstream.timeout = TIMEOUT;
        config.metrics.listen = None;
        configure(&mut config);
        let limits = tcp::TcpShared::default();
        let listeners = bind(&config.listen.addresses).await.expect("bind");
        let settings = Settings::new(config).expect("settings");
        let (paths, paths_rx) = watch::channel(teredo_ipv4());
        let metrics = Arc::new(crate::metrics::Metrics::new());
        let shared = Arc::new(Shared::new(settings, paths_rx, metrics));
        let mut pipeline = Pipeline::new(Arc::clone(&shared));
        pipeline.fault = fault;
        let (stop, stopped) = watch::channel(false);
        let [udp_socket] = <[_; 1]>::try_from(listeners.udp).expect("one UDP socket");
        let [tcp_listener] = <[_; 1]>::try_from(listeners.tcp).expect("one TCP listener");
        let udp = udp_socket.local_addr().expect("UDP address");
        let tcp = tcp_listener.local_addr().expect("TCP address");
        let loops = vec![
            tokio::spawn(udp::serve(udp_socket, pipeline.clone(), stopped.clone())),
            tokio::spawn(tcp::serve(
                tcp_listener,
                pipeline.clone(),
                limits.clone(),
                stopped,
            )),
        ];
        Self {
            upstream,
            shared,
            paths,
            udp,
            tcp,
            stop,
            loops,
            tcp_shared: limits,
            pipeline,
        }
    }

    /// Another TCP listener of the same process on 127.0.0.1:0, as a second
    /// `listen.addresses` entry would be; its address.
    async fn second_tcp_listener(&mut self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a second TCP listener");
        let address = listener.local_addr().expect("its address");
        self.loops.push(tokio::spawn(tcp::serve(
            listener,
            self.pipeline.clone(),
            self.tcp_shared.clone(),
            self.stop.subscribe(),
        )));
        address
    }

    /// A UDP client on 127.0.0.`host`, talking to the UDP listener.
    async fn client(&self, host: u8) -> Client {
        let ip = Ipv4Addr::new(127, 0, 0, host);
        let socket = UdpSocket::bind((ip, 0)).await.expect("bind a client");
        Client {
            socket,
            server: reachable(self.udp),
        }
    }

    /// A TCP connection to the TCP listener.
    async fn connect(&self) -> TcpStream {
        TcpStream::connect(reachable(self.tcp))
            .await
            .expect("connect")
    }

    /// (name, type) of every query upstream received, in order.
    fn upstream_questions(&self) -> Vec<(String, RecordType)> {
        self.upstream
            .received()
            .iter()
            .map(|(_, bytes)| {
                let query = Message::from_vec(bytes).expect("a forwarded query parses");
                let question = &query.queries[0];
                let name = question.name().to_string().to_ascii_lowercase();
                (name, question.query_type())
            })
            .collect()
    }

    /// How many queries for `name` and `qtype` reached upstream.
    fn upstream_count(&self, name: &str, qtype: RecordType) -> usize {
        self.upstream_questions()
            .iter()
            .filter(|(n, t)| n == name && *t == qtype)
            .count()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for task in &self.loops {
            task.abort();
        }
    }
}

/// Where an IPv4 client reaches a listener: a wildcard listener through 127.0.0.1.
fn reachable(mut listener: SocketAddr) -> SocketAddr {
    if listener.ip().is_unspecified() {
        listener.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    listener
}

/// A UDP client socket.
struct Client {
    socket: UdpSocket,
    server: SocketAddr,
}

impl Client {
    async fn send(&self, message: &Message) {
        self.send_raw(&message.to_vec().expect("encodable")).await;
    }

    async fn send_raw(&self, bytes: &[u8]) {
        self.socket
            .send_to(bytes, self.server)
            .await
            .expect("send a query");
    }

    /// The next datagram, raw; fails the test after [`PATIENCE`].
    async fn recv_raw(&self) -> Vec<u8> {
        let mut buffer = vec![0; 65_535];
        let received = tokio::time::timeout(PATIENCE, self.socket.recv_from(&mut buffer)).await;
        let (length, _) = received.expect("an answer in time").expect("receive");
        buffer.truncate(length);
        buffer
    }

    async fn recv(&self) -> Message {
        Message::from_vec(&self.recv_raw().await).expect("a parsable answer")
    }

    /// Sends `query` and returns the next datagram, which must answer it.
    async fn ask(&self, query: &Message) -> Message {
        self.send(query).await;
        let answer = self.recv().await;
        assert_eq!(answer.metadata.id, query.metadata.id, "the answer's ID");
        answer
    }

    /// A plain A query for `dual.example.` is answered: the server is still serving.
    async fn assert_serving(&self) {
        let answer = self.ask(&query("dual.example.", RecordType::A)).await;
        assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
        assert_eq!(addresses(&answer), [V4.parse::<IpAddr>().expect("an IP")]);
    }
}

/// A recursive query without EDNS, with a fresh ID.
fn query(name: &str, qtype: RecordType) -> Message {
    static NEXT_ID: AtomicU16 = AtomicU16::new(0x1000);
    let mut message = Message::query();
    message.metadata.id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(name_of(name), qtype));
    message
}

/// `message` with an OPT record of this payload size and DO bit.
fn with_edns(mut message: Message, payload: u16, dnssec_ok: bool) -> Message {
    let mut edns = Edns::new();
    edns.set_max_payload(payload).set_dnssec_ok(dnssec_ok);
    message.set_edns(edns);
    message
}

fn name_of(text: &str) -> Name {
    Name::from_ascii(text).expect("a name")
}

/// The A and AAAA addresses of the answer section, in order.
fn addresses(message: &Message) -> Vec<IpAddr> {
    message
        .answers
        .iter()
        .filter_map(|record| match &record.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
            _ => None,
        })
        .collect()
}

fn aaaa_count(message: &Message) -> usize {
    message
        .answers
        .iter()
        .filter(|record| record.record_type() == RecordType::AAAA)
        .count()
}

/// Writes one length-prefixed message.
async fn write_framed(stream: &mut TcpStream, message: &Message) {
    let wire = message.to_vec().expect("encodable");
    let length = u16::try_from(wire.len()).expect("small");
    let frame = [&length.to_be_bytes()[..], &wire].concat();
    stream.write_all(&frame).await.expect("write");
}

/// Reads one length-prefixed message; `None` on EOF. Fails the test after [`PATIENCE`].
async fn read_framed(stream: &mut TcpStream) -> Option<Message> {
    let read = async {
        let length = stream.read_u16().await.ok()?;
        let mut wire = vec![0; usize::from(length)];
        stream.read_exact(&mut wire).await.ok()?;
        Some(Message::from_vec(&wire).expect("a parsable answer"))
    };
    tokio::time::timeout(PATIENCE, read)
        .await
        .expect("an answer or EOF in time")
}
