//! The fault matrix: a scripted upstream on loopback misbehaves in one way per case,
//! and the client (dig, through the real binary) gets a proper DNS answer — never a forged
//! record, never a hang: at worst SERVFAIL within about `upstream.timeout`, and well within it
//! when the network or the server says no at once. Each case runs alone, and again with an
//! honest second server, which must then answer (failover).

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use pathwise_tests::wire::{a_response, frame, response};
use pathwise_tests::{FakeTcpUpstream, FakeUpstream, Pathwise};

/// `upstream.timeout` of the cases that wait for it.
const TIMEOUT: Duration = Duration::from_millis(500);
/// The bound on any answer: the timeout, plus slack for a busy machine.
const BOUND: Duration = Duration::from_millis(2500);
/// `upstream.timeout` of the [`Case::fast`] cases: long, so that waiting for it shows.
const LONG_TIMEOUT: Duration = Duration::from_secs(5);
/// The bound on the answer of a [`Case::fast`] case: well within [`LONG_TIMEOUT`].
const FAST_BOUND: Duration = Duration::from_secs(2);
/// The honest answer.
const REAL: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 99);
/// What a forged answer says; it must never reach the client.
const FORGED: Ipv4Addr = Ipv4Addr::new(6, 6, 6, 6);

/// The header's RCODE set to `rcode` (and the answer count cleared) on an answer to `query`.
fn rcode_answer(query: &[u8], rcode: u8) -> Vec<u8> {
    let mut answer = response(query, 0, &[], 60);
    answer[3] = (answer[3] & 0xf0) | rcode;
    answer
}

/// An empty answer to `query` with TC set: "ask again over TCP".
fn truncated_answer(query: &[u8]) -> Vec<u8> {
    response(query, 0x0200, &[], 60)
}

/// The TCP frame of a forged answer to `query`, cut 3 bytes before its end: the length prefix
/// promises more than ever comes.
fn cut_frame(query: &[u8]) -> Vec<u8> {
    let mut cut = frame(&a_response(query, &[FORGED], 60));
    cut.truncate(cut.len() - 3);
    cut
}

/// What a UDP server sends back for one query (and the address it came from).
type Script = Box<dyn Fn(&[u8], SocketAddr) -> Vec<Vec<u8>> + Send + Sync>;

/// What a TCP server writes back for one query (raw bytes) before it closes the connection.
type TcpScript = Box<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync>;

/// The misbehaving server, as `upstream.servers` names it.
enum Server {
    /// `IP:port`, scripted.
    Udp(Script),
    /// `IP:port`, scripted, with a scripted TCP server on the same port for the retry of a
    /// truncated answer.
    UdpAndTcp(Script, TcpScript),
    /// `tcp://IP:port`, scripted.
    Tcp(TcpScript),
    /// `tcp://IP:port` where nothing listens: every connection is refused.
    TcpNobody,
}

/// One case: its name, the server, the rcode the client must get from it alone, and whether
/// it must get the real address.
struct Case {
    name: &'static str,
    server: Server,
    rcode: &'static str,
    real_answer: bool,
    /// The network or the server says no at once (an answer, a refused or closed connection):
    /// run with [`LONG_TIMEOUT`], the client's answer must come within [`FAST_BOUND`].
    fast: bool,
}

fn cases() -> Vec<Case> {
    let other_port = Arc::new(UdpSocket::bind("127.0.0.1:0").expect("a second socket"));
    let case = |name, server, rcode, real_answer, fast| Case {
        name,
        server,
        rcode,
        real_answer,
        fast,
    };
    vec![
        case(
            "silence",
            Server::Udp(Box::new(|_, _| vec![])),
            "SERVFAIL",
            false,
            false,
        ),
        case(
            "slow but within the timeout",
            Server::Udp(Box::new(|query, _| {
                std::thread::sleep(Duration::from_millis(200));
                vec![a_response(query, &[REAL], 60)]
            })),
            "NOERROR",
            true,
            false,
        ),
        case(
            "wrong ID",
            Server::Udp(Box::new(|query, _| {
                let mut forged = a_response(query, &[FORGED], 60);
                forged[1] ^= 0x5a;
                vec![forged]
            })),
            "SERVFAIL",
            false,
            false,
        ),
        case(
            "wrong question",
            Server::Udp(Box::new(|query, _| {
                let mut forged = a_response(query, &[FORGED], 60);
                forged[13] ^= 0x01; // the first letter of the name
                vec![forged]
            })),
            "SERVFAIL",
            false,
            false,
        ),
        case(
            "from another port",
            Server::Udp(Box::new(move |query, peer| {
                // The right ID and question, but not from the server's own port.
                let _ = other_port.send_to(&a_response(query, &[FORGED], 60), peer);
                vec![]
            })),
            "SERVFAIL",
            false,
            false,
        ),
        case(
            "garbage",
            Server::Udp(Box::new(|query, _| {
                vec![query[..2].iter().copied().chain([0xff; 40]).collect()]
            })),
            "SERVFAIL",
            false,
            false,
        ),
        case(
            "truncated packet",
            Server::Udp(Box::new(|query, _| {
                let mut cut = a_response(query, &[FORGED], 60);
                cut.truncate(cut.len() - 3);
                vec![cut]
            })),
            "SERVFAIL",
            false,
            false,
        ),
        case(
            "cut short, then the real answer",
            Server::Udp(Box::new(|query, _| {
                let mut cut = a_response(query, &[FORGED], 60);
                cut.truncate(cut.len() - 3);
                vec![cut, a_response(query, &[REAL], 60)]
            })),
            "NOERROR",
            true,
            true,
        ),
        case(
            "garbage, then the real answer",
            Server::Udp(Box::new(|query, _| {
                let mut wrong = a_response(query, &[FORGED], 60);
                wrong[0] ^= 0xff;
                vec![vec![0; 5], wrong, a_response(query, &[REAL], 60)]
            })),
            "NOERROR",
            true,
            true,
        ),
        case(
            "SERVFAIL",
            Server::Udp(Box::new(|query, _| vec![rcode_answer(query, 2)])),
            "SERVFAIL",
            false,
            true,
        ),
        // pathwise fails over on timeout, error and SERVFAIL (docs/behaviour.md), and on REFUSED
        // too (as dnsmasq and Unbound do); a lone server that refuses means SERVFAIL.
        case(
            "REFUSED",
            Server::Udp(Box::new(|query, _| vec![rcode_answer(query, 5)])),
            "SERVFAIL",
            false,
            true,
        ),
        case(
            "NOTIMP without the question",
            Server::Udp(Box::new(|query, _| {
                let mut bare = rcode_answer(query, 4);
                bare.truncate(12);
                bare[4..12].fill(0);
                vec![bare]
            })),
            "SERVFAIL",
            false,
            true,
        ),
        case(
            "TC, and no TCP listener",
            Server::Udp(Box::new(|query, _| vec![truncated_answer(query)])),
            "SERVFAIL",
            false,
            true,
        ),
        case(
            "TC, then the real answer over TCP",
            Server::UdpAndTcp(
                Box::new(|query, _| vec![truncated_answer(query)]),
                Box::new(|query| frame(&a_response(query, &[REAL], 60))),
            ),
            "NOERROR",
            true,
            true,
        ),
        case(
            "TC, then TCP closed mid-answer",
            Server::UdpAndTcp(
                Box::new(|query, _| vec![truncated_answer(query)]),
                Box::new(cut_frame),
            ),
            "SERVFAIL",
            false,
            true,
        ),
        case(
            "tcp://, the real answer",
            Server::Tcp(Box::new(|query| frame(&a_response(query, &[REAL], 60)))),
            "NOERROR",
            true,
            true,
        ),
        case(
            "tcp://, connection refused",
            Server::TcpNobody,
            "SERVFAIL",
            false,
            true,
        ),
        case(
            "tcp://, closed without an answer",
            Server::Tcp(Box::new(|_| vec![])),
            "SERVFAIL",
            false,
            true,
        ),
        case(
            "tcp://, closed mid-answer",
            Server::Tcp(Box::new(cut_frame)),
            "SERVFAIL",
            false,
            true,
        ),
    ]
}

/// A started server: its `upstream.servers` entry, and the fakes that serve it.
struct Started {
    spec: String,
    _udp: Option<FakeUpstream>,
    _tcp: Option<FakeTcpUpstream>,
}

impl Started {
    fn new(server: Server) -> Self {
        let (spec, udp, tcp) = match server {
            Server::Udp(script) => {
                let udp = FakeUpstream::start_with_peer(script);
                (udp.address().to_string(), Some(udp), None)
            }
            Server::UdpAndTcp(script, tcp_script) => {
                let (udp, tcp) = FakeUpstream::start_with_tcp(script, tcp_script);
                (udp.address().to_string(), Some(udp), Some(tcp))
            }
            Server::Tcp(script) => {
                let tcp = FakeTcpUpstream::start(script);
                (format!("tcp://{}", tcp.address()), None, Some(tcp))
            }
            Server::TcpNobody => (format!("tcp://{}", closed_tcp_port()), None, None),
        };
        Self {
            spec,
            _udp: udp,
            _tcp: tcp,
        }
    }
}

/// A loopback address where no TCP socket listens: one bound and released at once.
fn closed_tcp_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a TCP port");
    listener.local_addr().expect("its address")
}

/// Runs every case, each with an honest second server when `failover` is set, and fails
/// naming every case whose answer was wrong.
fn run_matrix(failover: bool) {
    let honest =
        failover.then(|| FakeUpstream::start(|query| vec![a_response(query, &[REAL], 60)]));
    let mut failures = Vec::new();
    for case in cases() {
        let started = Started::new(case.server);
        let mut servers = vec![format!("\"{}\"", started.spec)];
        servers.extend(honest.iter().map(|h| format!("\"{}\"", h.address())));
        let (timeout, bound) = if case.fast {
            (LONG_TIMEOUT, FAST_BOUND)
        } else {
            (TIMEOUT, BOUND)
        };
        // With an honest second server every case ends in its answer.
        let (rcode, real_answer) = if failover {
            ("NOERROR", true)
        } else {
            (case.rcode, case.real_answer)
        };
        let config = format!(
            "[upstream]\nservers = [{}]\ntimeout = \"{}ms\"\n",
            servers.join(", "),
            timeout.as_millis()
        );
        let pathwise = Pathwise::start(&config, &[]);
        let answer = pathwise.dig("fault.pathwise.test.", "A").timeout(8).run();
        let addresses = answer.answers("A");
        let mut wrong = Vec::new();
        if answer.rcode != rcode {
            wrong.push(format!("rcode {} (expected {rcode})", answer.rcode));
        }
        if addresses.iter().any(|a| *a == FORGED.to_string()) {
            wrong.push(format!("a forged record reached the client: {addresses:?}"));
        }
        if real_answer && addresses != [REAL.to_string().as_str()] {
            wrong.push(format!("expected the real answer, got {addresses:?}"));
        }
        if answer.elapsed > bound {
            wrong.push(format!(
                "took {:?} (bound {bound:?}, upstream.timeout {timeout:?})",
                answer.elapsed
            ));
        }
        let with = if failover { ", then honest" } else { "" };
        eprintln!(
            "{:<50} -> {} in {:?}",
            format!("{}{with}", case.name),
            answer.rcode,
            answer.elapsed
        );
        if !wrong.is_empty() {
            failures.push(format!("{}: {}\n{answer}", case.name, wrong.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_fault_gets_a_proper_answer_in_time_and_no_forged_record() {
    run_matrix(false);
}

#[test]
fn every_fault_fails_over_to_an_honest_second_server() {
    run_matrix(true);
}
