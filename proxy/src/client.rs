//! A small DNS client for `pathwise resolve`: one query over UDP, retried over TCP when the
//! answer is truncated.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// Sends `query` to `server` and returns the matching answer.
pub async fn exchange(
    server: SocketAddr,
    query: &Message,
    timeout: Duration,
) -> io::Result<Message> {
    let wire = query.to_vec().map_err(io::Error::other)?;
    let answer = tokio::time::timeout(timeout, udp(server, &wire, query.metadata.id))
        .await
        .map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no answer from {server} in {timeout:?}"),
            )
        })??;
    if !answer.metadata.truncation {
        return Ok(answer);
    }
    tokio::time::timeout(timeout, tcp(server, &wire))
        .await
        .map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no TCP answer from {server}"),
            )
        })?
}

async fn udp(server: SocketAddr, wire: &[u8], id: u16) -> io::Result<Message> {
    let local: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(server).await?;
    socket.send(wire).await?;
    let mut buffer = vec![0; 65_535];
    loop {
        let length = socket.recv(&mut buffer).await?;
        match Message::from_vec(&buffer[..length]) {
            Ok(answer) if answer.metadata.id == id => return Ok(answer),
            _ => continue,
        }
    }
}

async fn tcp(server: SocketAddr, wire: &[u8]) -> io::Result<Message> {
    let mut stream = TcpStream::connect(server).await?;
    let length = u16::try_from(wire.len()).map_err(io::Error::other)?;
    stream
        .write_all(&[&length.to_be_bytes()[..], wire].concat())
        .await?;
    let length = stream.read_u16().await?;
    let mut buffer = vec![0; usize::from(length)];
    stream.read_exact(&mut buffer).await?;
    Message::from_vec(&buffer).map_err(io::Error::other)
}
