//! A scripted upstream for what a real server will not do (STYLE 14): answer with the AD bit
//! set, send spoofed answers first, or show exactly what pathwise forwarded.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the script sends back for one query (and the address it came from): zero or more
/// datagrams, in order.
type Script = dyn Fn(&[u8], SocketAddr) -> Vec<Vec<u8>> + Send + Sync;

/// A UDP server on `127.0.0.1` and a free port that answers each query with what `script`
/// returns for it, and keeps every query it got.
pub struct FakeUpstream {
    address: SocketAddr,
    received: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
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
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("set a read timeout");
        let address = socket.local_addr().expect("its address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (received, stop) = (Arc::clone(&received), Arc::clone(&stop));
            std::thread::spawn(move || serve(&socket, &script, &received, &stop))
        };
        Self {
            address,
            received,
            stop,
            thread: Some(thread),
        }
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Every query received so far, as sent.
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

fn serve(socket: &UdpSocket, script: &Script, received: &Mutex<Vec<Vec<u8>>>, stop: &AtomicBool) {
    let mut buffer = [0u8; 65_535];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = socket.recv_from(&mut buffer) else {
            continue; // the read timeout: look at `stop` again
        };
        let query = buffer[..n].to_vec();
        received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(query.clone());
        for datagram in script(&query, from) {
            let _ = socket.send_to(&datagram, from);
        }
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
