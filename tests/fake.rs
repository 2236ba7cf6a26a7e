//! Scripted upstreams for what a real server will not do: answer with the AD bit
//! set, send spoofed answers first, cut a TCP answer short, or show exactly what pathwise
//! forwarded.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the script sends back for one query (and the address it came from): zero or more
/// datagrams, in order.
type Script = dyn Fn(&[u8], SocketAddr) -> Vec<Vec<u8>> + Send + Sync;

/// What the TCP script writes back for one query: raw bytes, length prefixes included, so
/// that a script can stop anywhere in a frame. The connection is closed after them.
type TcpScript = dyn Fn(&[u8]) -> Vec<u8> + Send + Sync;

/// How long the TCP fake waits for a query on a connection it accepted.
const TCP_READ_TIMEOUT: Duration = Duration::from_secs(2);

/// A UDP server on `127.0.0.1` and a free port that answers each query with what `script`
/// returns for it, and keeps every query it got.
pub struct FakeUpstream {
    address: SocketAddr,
    received: Received,
    _worker: Worker,
}

impl FakeUpstream {
    /// Starts answering at once.
    pub fn start(script: impl Fn(&[u8]) -> Vec<Vec<u8>> + Send + Sync + 'static) -> Self {
        Self::start_with_peer(move |query, _| script(query))
    }

    /// [`start`](Self::start), the script also told where each query came from.
    pub fn start_with_peer(
        script: impl Fn(&[u8], SocketAddr) -> Vec<Vec<u8>> + Send + Sync + 'static,
    ) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the fake upstream");
        Self::serve_on(socket, script)
    }

    /// A UDP fake and a TCP fake on the same port (pathwise retries a truncated answer over
    /// TCP at the UDP server's address): `udp_script` answers datagrams as in
    /// [`start_with_peer`](Self::start_with_peer), `tcp_script` connections as in
    /// [`FakeTcpUpstream::start`]. Both sockets are bound before either is used, on a port
    /// free for both (see [`bind_udp_and_tcp`]).
    pub fn start_with_tcp(
        udp_script: impl Fn(&[u8], SocketAddr) -> Vec<Vec<u8>> + Send + Sync + 'static,
        tcp_script: impl Fn(&[u8]) -> Vec<u8> + Send + Sync + 'static,
    ) -> (Self, FakeTcpUpstream) {
        let (udp, tcp) = bind_udp_and_tcp();
        (
            Self::serve_on(udp, udp_script),
            FakeTcpUpstream::serve_on(tcp, tcp_script),
        )
    }

    fn serve_on(
        socket: UdpSocket,
        script: impl Fn(&[u8], SocketAddr) -> Vec<Vec<u8>> + Send + Sync + 'static,
    ) -> Self {
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("set a read timeout");
        let address = socket.local_addr().expect("its address");
        let received = Received::default();
        let worker = {
            let received = received.clone();
            Worker::spawn(move |stop| serve(&socket, &script, &received, stop))
        };
        Self {
            address,
            received,
            _worker: worker,
        }
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Every query received so far, as sent.
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.received.all()
    }
}

fn serve(socket: &UdpSocket, script: &Script, received: &Received, stop: &AtomicBool) {
    let mut buffer = [0u8; 65_535];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = socket.recv_from(&mut buffer) else {
            continue; // the read timeout: look at `stop` again
        };
        let query = buffer[..n].to_vec();
        received.push(query.clone());
        for datagram in script(&query, from) {
            let _ = socket.send_to(&datagram, from);
        }
    }
}

/// A TCP server on `127.0.0.1` that reads one length-prefixed query per connection, writes
/// what `script` returns for it and closes the connection; it keeps every query it got.
/// Connections are served one at a time.
pub struct FakeTcpUpstream {
    address: SocketAddr,
    received: Received,
    _worker: Worker,
}

impl FakeTcpUpstream {
    /// Listens on a free port.
    pub fn start(script: impl Fn(&[u8]) -> Vec<u8> + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the TCP fake upstream");
        Self::serve_on(listener, script)
    }

    fn serve_on(
        listener: TcpListener,
        script: impl Fn(&[u8]) -> Vec<u8> + Send + Sync + 'static,
    ) -> Self {
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let address = listener.local_addr().expect("its address");
        let received = Received::default();
        let worker = {
            let received = received.clone();
            Worker::spawn(move |stop| accept(&listener, &script, &received, stop))
        };
        Self {
            address,
            received,
            _worker: worker,
        }
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Every query received so far, without its length prefix.
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.received.all()
    }
}

fn accept(listener: &TcpListener, script: &TcpScript, received: &Received, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            // An error ends that connection only; the next is served all the same.
            Ok((stream, _)) => drop(answer_one(stream, script, received)),
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Reads one query, writes the script's bytes; the stream closes as it drops.
fn answer_one(mut stream: TcpStream, script: &TcpScript, received: &Received) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(TCP_READ_TIMEOUT))?;
    let mut length = [0u8; 2];
    stream.read_exact(&mut length)?;
    let mut query = vec![0u8; usize::from(u16::from_be_bytes(length))];
    stream.read_exact(&mut query)?;
    received.push(query.clone());
    stream.write_all(&script(&query))?;
    stream.flush()
}

/// How many ports [`bind_udp_and_tcp`] tries before it gives up.
const PAIR_ATTEMPTS: usize = 100;

/// A UDP socket and a TCP listener bound together on one free `127.0.0.1` port. The kernel
/// picks a free UDP port; its TCP twin may be held by another test (TCP and UDP ports are
/// apart), and then both are let go and another port is tried. Nothing is released between
/// the check and the use, so no other test can take the port in between.
fn bind_udp_and_tcp() -> (UdpSocket, TcpListener) {
    let mut last_error = None;
    for _ in 0..PAIR_ATTEMPTS {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket on 127.0.0.1");
        let address = udp.local_addr().expect("a bound socket's address");
        match TcpListener::bind(address) {
            Ok(tcp) => return (udp, tcp),
            Err(error) => last_error = Some((address, error)),
        }
    }
    let (address, error) = last_error.expect("at least one attempt");
    panic!(
        "no 127.0.0.1 port free for both UDP and TCP in {PAIR_ATTEMPTS} attempts; the last, {address}: {error}"
    );
}

/// The queries a fake got, shared with its thread.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Vec<u8>>>>);

impl Received {
    fn push(&self, query: Vec<u8>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(query);
    }

    fn all(&self) -> Vec<Vec<u8>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A fake's thread, told to stop and joined on Drop.
struct Worker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Runs `work` on a thread of its own; `work` returns once the flag it is given turns true.
    fn spawn(work: impl FnOnce(&AtomicBool) + Send + 'static) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || work(&stop))
        };
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
