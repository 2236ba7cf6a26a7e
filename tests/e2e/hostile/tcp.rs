//! Malformed TCP frames on many connections: zero-length frames, a length larger than what
//! follows (then the client closes), a 65535-byte length with a body that trickles in, frames
//! of garbage, half a query then silence, and connections closed at once. pathwise must close
//! every connection the client leaves open within its timeouts (`listen.tcp_idle_timeout`, 1s
//! here, between messages; `listen.tcp_read_timeout`, 2s by default, within one).

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use pathwise_tests::wire::{Query, frame, rtype};
use pathwise_tests::{Rng, Seed};
use socket2::{Domain, Socket, Type};

use super::{Target, assert_rss_held, mib};
use crate::serve::zone::DUAL;

/// Connections open at once in a round: below `listen.max_tcp_connections` (256), so that none
/// waits in the kernel's backlog, where pathwise's timeouts do not run yet.
const CONNECTIONS: usize = 200;
/// Client addresses (`127.0.0.20`...): ten connections each a round, below the per-client
/// limit (`listen.max_tcp_per_client`, 32 by default), so that every connection is served.
const SOURCES: usize = 20;
/// Rounds before memory is measured: glibc's allocator keeps what it has freed in per-thread
/// arenas, which take a few rounds to reach the size this traffic gives them.
const WARM_UP_ROUNDS: usize = 3;
/// Rounds after the warm-up.
const ROUNDS: usize = 10;
/// How soon after the client falls silent (or starts to trickle) pathwise must have closed
/// the connection: the longest of its timeouts (2s), plus slack for a busy machine.
const CLOSE_BOUND: Duration = Duration::from_secs(5);
/// How often a trickling client sends its next byte, and looks for the close.
const TICK: Duration = Duration::from_millis(100);

/// How a connection abuses the listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Abuse {
    ZeroLengths,
    LongerThanSent,
    SlowBody,
    Garbage,
    HalfQuery,
    ConnectAndClose,
}

impl Abuse {
    const ALL: [Abuse; 6] = [
        Abuse::ZeroLengths,
        Abuse::LongerThanSent,
        Abuse::SlowBody,
        Abuse::Garbage,
        Abuse::HalfQuery,
        Abuse::ConnectAndClose,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Abuse::ZeroLengths => "zero-length frames, then silence",
            Abuse::LongerThanSent => "length > data, then the client closes",
            Abuse::SlowBody => "length 65535, body 1 byte per 100ms",
            Abuse::Garbage => "garbage frames, then silence",
            Abuse::HalfQuery => "half a query, then silence",
            Abuse::ConnectAndClose => "connect, close at once",
        }
    }
}

/// How one connection ended.
#[derive(Debug)]
struct Outcome {
    abuse: Abuse,
    /// From the client's last byte (a trickle's length prefix) to pathwise's close; `None`
    /// when it had not closed after [`CLOSE_BOUND`], or the client closed at once.
    closed_after: Option<Duration>,
    /// Bytes pathwise sent back (answers to garbage frames: FORMERR and the like).
    received: usize,
}

/// One round: [`CONNECTIONS`] at once, the abuses in turn.
fn round(target: SocketAddr, seed: u64) -> Vec<Outcome> {
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..CONNECTIONS)
            .map(|i| {
                let abuse = Abuse::ALL[i % Abuse::ALL.len()];
                let source = Ipv4Addr::new(127, 0, 0, 20 + (i % SOURCES) as u8);
                let seed = seed ^ (i as u64).rotate_left(40);
                scope.spawn(move || abuse_once(abuse, source, target, seed))
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("a client thread"))
            .collect()
    })
}

/// Connects from `source` and abuses pathwise one way.
fn abuse_once(abuse: Abuse, source: Ipv4Addr, target: SocketAddr, seed: u64) -> Outcome {
    let mut stream = connect(source, target);
    let mut rng = Rng::new(seed);
    let query = Query::new(rng.u16(), DUAL, rtype::A).to_bytes();
    let mut trickle = false;
    match abuse {
        Abuse::ZeroLengths => send(&mut stream, &[0; 200]),
        Abuse::LongerThanSent => {
            send(&mut stream, &[0x01, 0x00]);
            send(&mut stream, &rng.bytes(10));
            let _ = stream.shutdown(Shutdown::Write);
        }
        Abuse::SlowBody => {
            send(&mut stream, &[0xff, 0xff]);
            trickle = true;
        }
        Abuse::Garbage => {
            for _ in 0..20 {
                let len = rng.below(300);
                send(&mut stream, &frame(&rng.bytes(len)));
            }
            send(&mut stream, &frame(&rng.bytes(65_535)));
        }
        Abuse::HalfQuery => {
            let whole = frame(&query);
            send(&mut stream, &whole[..whole.len() / 2]);
        }
        Abuse::ConnectAndClose => {
            return Outcome {
                abuse,
                closed_after: None,
                received: 0,
            };
        }
    }
    let (closed_after, received) = wait_for_close(&mut stream, trickle);
    Outcome {
        abuse,
        closed_after,
        received,
    }
}

fn connect(source: Ipv4Addr, target: SocketAddr) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a TCP socket");
    socket
        .bind(&SocketAddr::from((source, 0)).into())
        .unwrap_or_else(|e| panic!("bind {source}: {e}"));
    socket
        .connect_timeout(&target.into(), Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connect to {target} from {source}: {e}"));
    socket.into()
}

/// Writes `bytes`; pathwise may have closed already (it may drop a garbage connection at
/// once), which is no failure here.
fn send(stream: &mut TcpStream, bytes: &[u8]) {
    let _ = stream.write_all(bytes);
}

/// Reads (and, when `trickle` is set, writes a byte every [`TICK`]) until pathwise closes
/// the connection or [`CLOSE_BOUND`] passes; returns how long the close took and how many
/// bytes came back.
fn wait_for_close(stream: &mut TcpStream, trickle: bool) -> (Option<Duration>, usize) {
    let since = Instant::now();
    stream.set_read_timeout(Some(TICK)).expect("a read timeout");
    let mut buffer = vec![0u8; 4096];
    let mut received = 0;
    while since.elapsed() < CLOSE_BOUND {
        if trickle && stream.write_all(&[0]).is_err() {
            return (Some(since.elapsed()), received);
        }
        match stream.read(&mut buffer) {
            Ok(0) => return (Some(since.elapsed()), received),
            Ok(n) => received += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return (Some(since.elapsed()), received), // reset
        }
    }
    (None, received)
}

/// Prints what a set of rounds did, and returns the connections pathwise left open.
fn report(outcomes: &[Outcome], what: &str) -> Vec<String> {
    eprintln!("{what}: {} connections", outcomes.len());
    let mut left_open = Vec::new();
    for abuse in Abuse::ALL {
        let mine: Vec<&Outcome> = outcomes.iter().filter(|o| o.abuse == abuse).collect();
        let closed: Vec<Duration> = mine.iter().filter_map(|o| o.closed_after).collect();
        let slowest = closed.iter().max().copied().unwrap_or_default();
        let received: usize = mine.iter().map(|o| o.received).sum();
        eprintln!(
            "  {:<40} {:>4} connections, {:>4} closed by pathwise (slowest after {slowest:.2?}), {received} bytes back",
            abuse.as_str(),
            mine.len(),
            closed.len()
        );
        if abuse != Abuse::ConnectAndClose && closed.len() < mine.len() {
            left_open.push(format!(
                "{}: {} of {} connections still open {CLOSE_BOUND:?} after the client fell silent",
                abuse.as_str(),
                mine.len() - closed.len(),
                mine.len()
            ));
        }
    }
    left_open
}

#[test]
fn malformed_tcp_frames_on_many_connections_are_closed_and_leave_it_serving() {
    let mut target = Target::start();
    let tcp = target.pathwise.tcp_addr();
    let seed =
        Seed::for_test("malformed_tcp_frames_on_many_connections_are_closed_and_leave_it_serving");
    let started = Instant::now();

    let warm_up: Vec<Outcome> = (0..WARM_UP_ROUNDS)
        .flat_map(|n| round(tcp, seed.value().wrapping_add(n as u64)))
        .collect();
    let mut left_open = report(&warm_up, &format!("warm-up, {WARM_UP_ROUNDS} rounds"));
    let rss_warm = target.settled_rss();

    let mut outcomes = Vec::new();
    for n in 0..ROUNDS {
        outcomes.extend(round(
            tcp,
            seed.value().wrapping_add((WARM_UP_ROUNDS + n) as u64),
        ));
        eprintln!("  after round {}: RSS {}", n + 1, mib(target.settled_rss()));
    }
    left_open.extend(report(&outcomes, &format!("then {ROUNDS} rounds")));
    eprintln!("  in {:.1?} with the warm-up", started.elapsed());
    let rss_after = target.settled_rss();

    target.assert_still_serves();
    assert!(left_open.is_empty(), "{}", left_open.join("\n"));
    assert_rss_held(rss_warm, rss_after);
}
