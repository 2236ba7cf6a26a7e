//! One exchange with one server: over UDP, over TCP, or over an open stream (RFC 1035 section 4.2,
//! RFC 7766 section 8), accepting only the answer to the query that was sent.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout_at};
use tracing::trace;

use super::{DropReason, Dropped, wire};

/// The UDP payload size every DNS client accepts (RFC 1035 section 2.3.4), used when the query has
/// no OPT record or advertises less.
const MIN_UDP_PAYLOAD: u16 = 512;

/// Why an exchange produced no answer.
#[derive(Debug)]
pub(super) enum Failure {
    /// No matching answer before the deadline.
    Timeout,
    /// The network said no: refused, reset, closed early, or an unusable answer.
    Error(io::Error),
    /// A UDP answer that may be forged: its 0x20-mixed name in another case, or no cookie
    /// from a server that sent one before (the reason says which). Asked again over TCP.
    Suspect(DropReason),
}

/// What a UDP answer must show besides ID, question and source.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Expect {
    /// The question's name was 0x20-mixed: the answer's must be in the same case.
    pub(super) exact_case: bool,
    /// The client cookie sent (RFC 7873): an answer's COOKIE option must start with it.
    pub(super) client_cookie: Option<[u8; 8]>,
    /// The server sent a cookie before: an answer without one is suspect.
    pub(super) require_cookie: bool,
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Self {
        Self::Error(error)
    }
}

/// Runs `exchange` until `deadline`.
pub(super) async fn until<F>(deadline: Instant, exchange: F) -> Result<Vec<u8>, Failure>
where
    F: Future<Output = Result<Vec<u8>, Failure>>,
{
    timeout_at(deadline, exchange)
        .await
        .unwrap_or(Err(Failure::Timeout))
}

/// Sends `query` in one datagram and waits for its answer.
///
/// A fresh socket bound to port 0 per query gives a kernel-chosen random source port (RFC
/// 5452 section 9.2). Datagrams that do not answer this query (wrong source, ID or question,
/// garbage) are ignored, counted in `dropped`, and the wait goes on: a spoofer must not be
/// able to end it; so are answers with another client cookie. An answer that differs only in
/// the case of a 0x20 name, or lacks a cookie that [`Expect`] requires, ends the exchange
/// with [`Failure::Suspect`].
pub(super) async fn udp(
    server: SocketAddr,
    query: &[u8],
    expect: Expect,
    dropped: &mut Dropped,
) -> Result<Vec<u8>, Failure> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local).await?;
    // Connected: the kernel drops datagrams from other addresses, and an ICMP unreachable
    // comes back as an error, so a dead server fails over at once instead of timing out.
    socket.connect(server).await?;
    socket.send(query).await?;
    // The server may send up to what the query advertised; one byte more detects a
    // server that sends more, whose datagram would otherwise be cut silently.
    let limit = usize::from(
        wire::edns_udp_size(query).map_or(MIN_UDP_PAYLOAD, |size| size.max(MIN_UDP_PAYLOAD)),
    );
    let mut buffer = vec![0; limit + 1];
    loop {
        let (len, from) = socket.recv_from(&mut buffer).await?;
        // The socket is connected, so the kernel already drops datagrams from elsewhere (as
        // unbound's udp-connect does); this check only guards against that changing.
        let from_server = from.ip() == server.ip() && from.port() == server.port();
        if !from_server || !wire::answers(query, &buffer[..len]) {
            trace!(%server, %from, len, "ignored a datagram that does not answer the query");
            dropped.count(DropReason::Mismatch);
            continue;
        }
        if let Some(client_cookie) = expect.client_cookie {
            match wire::cookie(&buffer[..len]) {
                Some(cookie) if cookie.starts_with(&client_cookie) => {}
                Some(_) => {
                    trace!(%server, len, "ignored an answer with another client cookie");
                    dropped.count(DropReason::Cookie);
                    continue;
                }
                None if expect.require_cookie => {
                    trace!(%server, len, "an answer without the cookie the server gave before");
                    dropped.count(DropReason::Cookie);
                    return Err(Failure::Suspect(DropReason::Cookie));
                }
                None => {}
            }
        }
        // A refusal without a question has no case to check, so it is as suspect as one in
        // the wrong case: a forger who guessed ID and port could otherwise make pathwise give
        // up on the server.
        let answer = &buffer[..len];
        if expect.exact_case && !wire::same_question_case(query, answer) {
            trace!(%server, len, "an answer in another case than the 0x20 question");
            dropped.count(DropReason::Case);
            return Err(Failure::Suspect(DropReason::Case));
        }
        if len > limit {
            let message = "answer larger than the UDP payload size the query advertised";
            return Err(io::Error::new(io::ErrorKind::InvalidData, message).into());
        }
        // A matching header and question over a broken body: ignored like any stray datagram,
        // so a forger who guessed ID and port cannot end the exchange early.
        if !wire::is_complete(&buffer[..len]) {
            trace!(%server, len, "ignored an answer whose records are cut or padded");
            dropped.count(DropReason::Malformed);
            continue;
        }
        buffer.truncate(len);
        return Ok(buffer);
    }
}

/// Opens a TCP connection and makes one exchange on it (`frame` is length-prefixed).
pub(super) async fn tcp(
    server: SocketAddr,
    frame: &[u8],
    dropped: &mut Dropped,
) -> Result<Vec<u8>, Failure> {
    let mut stream = TcpStream::connect(server).await?;
    stream.set_nodelay(true)?;
    exchange(&mut stream, frame, dropped).await
}

/// Writes a length-prefixed query and reads length-prefixed messages until one answers it
/// (RFC 7766 section 8). Non-matching messages are skipped like stray datagrams, and counted.
pub(super) async fn exchange<S>(
    stream: &mut S,
    frame: &[u8],
    dropped: &mut Dropped,
) -> Result<Vec<u8>, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let query = frame.get(2..).unwrap_or_default();
    stream.write_all(frame).await?;
    stream.flush().await?;
    loop {
        let len = stream.read_u16().await?;
        let mut answer = vec![0; usize::from(len)];
        stream.read_exact(&mut answer).await?;
        if !wire::answers(query, &answer) {
            dropped.count(DropReason::Mismatch);
        } else if !wire::is_complete(&answer) {
            dropped.count(DropReason::Malformed);
        } else {
            return Ok(answer);
        }
        trace!(
            len,
            "ignored a stream message that does not answer the query"
        );
    }
}
