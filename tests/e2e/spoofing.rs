//! Spoofing: while pathwise waits for its upstream's answer, forged answers flood its
//! upstream-facing UDP port. They carry the upstream's own address and port as their source,
//! so they come from a raw socket, IPv4 and UDP headers written here: (a) one with a random ID
//! to every port of the ephemeral range; (c) every ID to the exact port pathwise uses, from the
//! upstream's address but another port (a plain socket); (b) every ID to that exact port, found
//! in `/proc/net/udp`, from the upstream's address and port. Each says [`FORGED`] for the name
//! in lower case. The client must get the upstream's real record, then again from the cache,
//! and never the forged one: with ID and port guessed, the letter case of the question, mixed
//! by pathwise (DNS 0x20), is all a forger has left to guess, and [`NAME`] has 50 letters.
//! Then all of it again with a fresh pathwise and forged refusals that carry no question
//! (REFUSED, header only), which pathwise would take as a server's refusal: the client must
//! still get the real record, not SERVFAIL.
//!
//! The flood stays inside a network namespace of the test's own: on the host's loopback,
//! phase (a) would reach every UDP socket there, other tests' fake upstreams among them. So
//! the test runs itself again inside one (`ip netns exec NS <test binary> NAME --exact`), where
//! the fake upstream, pathwise, dig and the forger all live. Root only (a namespace, a raw
//! socket).

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use pathwise_tests::wire::{Query, a_response, frame, rtype};
use pathwise_tests::{
    FakeUpstream, NetNs, Pathwise, Rng, Run, Seed, require_root_for, udp_sockets_of,
};
use socket2::{Domain, Protocol, Socket, Type};

/// The name asked and forged: 50 letters whose case pathwise may mix.
const NAME: &str = "spoof-target-with-many-letters.pathwise-flood.example.test.";
/// The upstream's answer.
const REAL: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 99);
/// What every forged answer says; it must never reach the client.
const FORGED: Ipv4Addr = Ipv4Addr::new(6, 6, 6, 6);
/// How long the upstream holds its UDP answer: the forger's window.
const HOLD: Duration = Duration::from_millis(2500);
/// `upstream.timeout`: longer than the hold.
const TIMEOUT: &str = "5s";
/// Forged datagrams sent to the exact port before the forger waits for pathwise to read
/// them, so that the kernel drops none of them for a full receive buffer.
const CHUNK: usize = 128;
/// Set in the environment of the run inside the namespace.
const INSIDE: &str = "PATHWISE_TESTS_SPOOFING_INSIDE";
/// The test's name, as the test binary's filter takes it.
const TEST: &str = "forged_answers_flooding_the_upstream_port_never_reach_the_client";

#[test]
fn forged_answers_flooding_the_upstream_port_never_reach_the_client() {
    if !require_root_for(TEST, "a network namespace, a raw socket") {
        return;
    }
    if std::env::var_os(INSIDE).is_some() {
        flood_and_ask();
    } else {
        run_inside_a_namespace();
    }
}

/// Runs this test again inside a fresh namespace, and prints what it printed.
fn run_inside_a_namespace() {
    // Built here, so that the run inside finds the binary up to date.
    pathwise_tests::pathwise();
    let ns = NetNs::new("pwspoof");
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    let exe = std::env::current_exe().expect("the test binary's path");
    let run = Run::command(
        Command::new("ip")
            .args(["netns", "exec", ns.name()])
            .arg(exe)
            .args([&format!("{module}::{TEST}"), "--exact", "--nocapture"])
            .env(INSIDE, "1"),
    );
    run.success()
        .check(run.stdout().contains("1 passed"), "the test ran inside");
    eprintln!("--- inside {}:\n{}", ns.name(), run.stderr());
}

/// What the forged datagrams say.
#[derive(Clone, Copy, Debug)]
enum Forgery {
    /// An answer for [`NAME`] in lower case with [`FORGED`].
    Record,
    /// A bare REFUSED header, no question.
    Refusal,
}

/// The floods and the queries after each, inside the namespace.
fn flood_and_ask() {
    let seed = Seed::for_test(TEST);
    let mut wrong = Vec::new();
    for (n, forgery) in [Forgery::Record, Forgery::Refusal].into_iter().enumerate() {
        let rng = Rng::new(seed.value().wrapping_add(n as u64));
        wrong.extend(flood_and_ask_once(forgery, rng).map(|w| format!("{forgery:?}: {w}")));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

/// One flood of `forgery`s against a fresh pathwise; what went wrong, if anything.
fn flood_and_ask_once(forgery: Forgery, mut rng: Rng) -> Option<String> {
    eprintln!("forged datagrams: {forgery:?}");
    // Where pathwise retries over TCP (a truncated answer, or one in the wrong case), the
    // real answer comes at once.
    let (udp, tcp) = FakeUpstream::start_with_tcp(
        |query, _| {
            std::thread::sleep(HOLD);
            vec![a_response(query, &[REAL], 300)]
        },
        |query| frame(&a_response(query, &[REAL], 300)),
    );
    let SocketAddr::V4(upstream) = udp.address() else {
        panic!("the fake upstream is on 127.0.0.1");
    };
    let config = format!("[upstream]\nservers = [\"{upstream}\"]\ntimeout = \"{TIMEOUT}\"\n");
    let pathwise = Pathwise::start(&config, &[]);

    let dig = pathwise.dig(NAME, "A").timeout(10);
    let asking = std::thread::spawn(move || dig.run());
    let asked = wait_for_query(&udp);
    let exact = exchange_port(&pathwise, upstream);
    let drops_before = drained(&pathwise, upstream, exact).expect("the exchange is open");

    let mut forger = Forger::new(upstream, forgery);
    let mut figures = Vec::new();
    let started = Instant::now();
    let (low, high) = ephemeral_ports();
    for port in low..=high {
        forger.send_raw(port, rng.u16());
    }
    figures.push(format!(
        "(a) {} forged answers, random IDs, one to each port {low}-{high}, in {:.2?}",
        high - low + 1,
        started.elapsed()
    ));

    let started = Instant::now();
    let sent = forger.every_id_from_another_port(exact);
    figures.push(format!(
        "(c) {sent} forged answers, every ID, to port {exact} from 127.0.0.1 but not the \
         upstream's port, in {:.2?}",
        started.elapsed()
    ));

    let started = Instant::now();
    // The socket's drops as last seen: it goes when the exchange ends.
    let mut drops_seen = drops_before;
    let (sent, exchange_ended) = forger.every_id_raw(exact, |sent| {
        if sent % CHUNK != 0 {
            return true;
        }
        let drops = drained(&pathwise, upstream, exact);
        drops_seen = drops.unwrap_or(drops_seen);
        drops.is_some()
    });
    if !exchange_ended {
        // The last chunk read, before its drops count.
        drops_seen = drained(&pathwise, upstream, exact).unwrap_or(drops_seen);
    }
    figures.push(format!(
        "(b) {sent} forged answers, every ID, to port {exact} from the upstream's {upstream}, \
         in {:.2?}{}",
        started.elapsed(),
        if exchange_ended {
            "; pathwise closed that socket before the last (the exchange ended)"
        } else {
            ""
        }
    ));
    let flood_done = asked.elapsed();
    let dropped = drops_seen - drops_before;

    let answer = asking.join().expect("the dig thread");
    let again = pathwise.dig(NAME, "A").run();
    figures.push(format!(
        "{} forged datagrams in all; the flood ended {flood_done:.2?} after the query reached \
         the upstream, which answers over UDP after {HOLD:?}; dropped by the kernel at \
         pathwise's upstream socket while it was open: {dropped}",
        forger.sent,
    ));
    figures.push(format!(
        "the client got {} {:?} in {:.2?}; from the cache {} {:?}; queries the upstream got: \
         {} over UDP, {} over TCP",
        answer.rcode,
        answer.answers("A"),
        answer.elapsed,
        again.rcode,
        again.answers("A"),
        udp.received().len(),
        tcp.received().len()
    ));
    for line in &figures {
        eprintln!("{line}");
    }

    let forged = FORGED.to_string();
    let real = [REAL.to_string()];
    let mut wrong = Vec::new();
    if answer.answers("A").contains(&forged.as_str())
        || again.answers("A").contains(&forged.as_str())
    {
        wrong.push(format!("a forged record ({FORGED}) reached the client"));
    }
    if answer.answers("A") != real || again.answers("A") != real {
        wrong.push(format!(
            "the client did not get the real record ({REAL}) alone"
        ));
    }
    if !exchange_ended && flood_done >= HOLD {
        wrong.push(format!(
            "the flood outlasted the upstream's hold ({HOLD:?}), so the real answer may have \
             come first: the test proves nothing"
        ));
    }
    if dropped > 0 {
        wrong.push("the kernel dropped forged datagrams: not every ID reached pathwise".into());
    }
    (!wrong.is_empty())
        .then(|| format!("{}\n\n{answer}\n\n{again}\n\n{pathwise}", wrong.join("\n")))
}

/// Waits (at most 5s) until the upstream got pathwise's query; returns when it did.
fn wait_for_query(upstream: &FakeUpstream) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(5);
    while upstream.received().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the query never reached the upstream"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    Instant::now()
}

/// The local port of pathwise's socket connected to `upstream`: the one outstanding query's.
fn exchange_port(pathwise: &Pathwise, upstream: SocketAddrV4) -> u16 {
    let sockets: Vec<_> = udp_sockets_of(pathwise.pid())
        .into_iter()
        .filter(|socket| socket.remote == upstream)
        .collect();
    let [socket] = sockets[..] else {
        panic!("expected one pathwise socket connected to {upstream}, found {sockets:?}");
    };
    socket.local.port()
}

/// Waits (at most 1s) until pathwise has read every datagram queued on its socket, and
/// returns the socket's drops then; `None` once the socket is gone (the exchange is over).
fn drained(pathwise: &Pathwise, upstream: SocketAddrV4, port: u16) -> Option<u64> {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let socket = udp_sockets_of(pathwise.pid())
            .into_iter()
            .find(|socket| socket.remote == upstream && socket.local.port() == port);
        match socket {
            None => return None,
            Some(socket) if socket.rx_queue == 0 || Instant::now() > deadline => {
                return Some(socket.drops);
            }
            Some(_) => std::thread::sleep(Duration::from_micros(200)),
        }
    }
}

/// `net.ipv4.ip_local_port_range` of this namespace: where pathwise's source ports come from.
fn ephemeral_ports() -> (u16, u16) {
    let path = "/proc/sys/net/ipv4/ip_local_port_range";
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let ports: Vec<u16> = text
        .split_whitespace()
        .map(|word| word.parse().expect("a port"))
        .collect();
    let [low, high] = ports[..] else {
        panic!("{path}: {text:?}");
    };
    (low, high)
}

/// `SOCK_RAW` (Linux `<sys/socket.h>`); socket2 names it only under its `all` feature.
const SOCK_RAW: i32 = 3;
/// `IPPROTO_RAW`: a raw socket that sends any protocol, its IP header written by the caller
/// (it implies `IP_HDRINCL`).
const IPPROTO_RAW: i32 = 255;

/// Sends forged answers to pathwise's loopback ports, as if from `upstream`.
struct Forger {
    raw: Socket,
    plain: UdpSocket,
    upstream: SocketAddrV4,
    /// The forged datagram (its ID is patched per datagram).
    answer: Vec<u8>,
    /// Datagrams sent so far.
    sent: usize,
}

impl Forger {
    fn new(upstream: SocketAddrV4, forgery: Forgery) -> Self {
        let raw = Socket::new(
            Domain::IPV4,
            Type::from(SOCK_RAW),
            Some(Protocol::from(IPPROTO_RAW)),
        )
        .expect("a raw IPv4 socket (root has CAP_NET_RAW)");
        let query = Query::new(0, &NAME.to_ascii_lowercase(), rtype::A).to_bytes();
        let answer = match forgery {
            Forgery::Record => a_response(&query, &[FORGED], 3600),
            // QR and RD set, RCODE 5; every count 0.
            Forgery::Refusal => vec![0, 0, 0x81, 0x05, 0, 0, 0, 0, 0, 0, 0, 0],
        };
        Self {
            raw,
            plain: UdpSocket::bind("127.0.0.1:0").expect("a plain UDP socket"),
            upstream,
            answer,
            sent: 0,
        }
    }

    /// One forged answer with this ID to 127.0.0.1:`port`, from the upstream's address and
    /// port.
    fn send_raw(&mut self, port: u16, id: u16) {
        self.answer[..2].copy_from_slice(&id.to_be_bytes());
        let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
        let packet = ipv4_udp(self.upstream, to, &self.answer);
        self.raw
            .send_to(&packet, &SocketAddr::V4(to).into())
            .expect("send a forged datagram");
        self.sent += 1;
    }

    /// Every ID to `port` from the upstream's address and port, asking `go_on` after each
    /// datagram; returns how many were sent, and whether `go_on` stopped it.
    fn every_id_raw(&mut self, port: u16, mut go_on: impl FnMut(usize) -> bool) -> (usize, bool) {
        for (n, id) in (0..=u16::MAX).enumerate() {
            self.send_raw(port, id);
            if !go_on(n + 1) {
                return (n + 1, true);
            }
        }
        (1 << 16, false)
    }

    /// Every ID to `port` from a plain socket: the upstream's address, not its port.
    fn every_id_from_another_port(&mut self, port: u16) -> usize {
        let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
        for id in 0..=u16::MAX {
            self.answer[..2].copy_from_slice(&id.to_be_bytes());
            self.plain
                .send_to(&self.answer, to)
                .expect("send a datagram");
            self.sent += 1;
        }
        1 << 16
    }
}

/// An IPv4 packet (no options, DF) carrying one UDP datagram. The kernel fills in the IP
/// checksum and packet ID of a raw socket's packets; the UDP checksum is 0, "none", which
/// IPv4 allows (RFC 768).
fn ipv4_udp(from: SocketAddrV4, to: SocketAddrV4, payload: &[u8]) -> Vec<u8> {
    let udp_len = u16::try_from(8 + payload.len()).expect("a small datagram");
    let total = udp_len + 20;
    let mut packet = Vec::with_capacity(usize::from(total));
    packet.extend_from_slice(&[0x45, 0]); // version 4, 5 words of header; TOS
    packet.extend_from_slice(&total.to_be_bytes());
    packet.extend_from_slice(&[0, 0, 0x40, 0]); // ID (kernel), DF, no fragment offset
    packet.extend_from_slice(&[64, 17, 0, 0]); // TTL, UDP, checksum (kernel)
    packet.extend_from_slice(&from.ip().octets());
    packet.extend_from_slice(&to.ip().octets());
    packet.extend_from_slice(&from.port().to_be_bytes());
    packet.extend_from_slice(&to.port().to_be_bytes());
    packet.extend_from_slice(&udp_len.to_be_bytes());
    packet.extend_from_slice(&[0, 0]); // no checksum
    packet.extend_from_slice(payload);
    packet
}
