//! The TCP connection limits bound the process, not each listening address: with two
//! listeners, `listen.max_tcp_per_client` counts a client's connections to both.

use hickory_proto::op::Message;
use hickory_proto::rr::RecordType;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{Harness, query, zone};

/// Sends one framed query and reads one framed answer; `None` if the connection was closed.
async fn ask(stream: &mut TcpStream, query: &Message) -> Option<Message> {
    let wire = query.to_vec().expect("encodes");
    let length = u16::try_from(wire.len()).expect("short");
    stream.write_all(&length.to_be_bytes()).await.ok()?;
    stream.write_all(&wire).await.ok()?;
    let length = usize::from(stream.read_u16().await.ok()?);
    let mut answer = vec![0; length];
    stream.read_exact(&mut answer).await.ok()?;
    Message::from_vec(&answer).ok()
}

#[tokio::test]
async fn max_tcp_per_client_counts_connections_to_every_listener() {
    let mut server = Harness::start(zone, |config| config.listen.max_tcp_per_client = 2).await;
    let second = server.second_tcp_listener().await;
    let mut first = server.connect().await;
    let mut other = TcpStream::connect(second).await.expect("connect");
    assert!(
        ask(&mut first, &query("dual.example.", RecordType::A))
            .await
            .is_some()
    );
    assert!(
        ask(&mut other, &query("dual.example.", RecordType::A))
            .await
            .is_some()
    );

    // The client's third connection, to either listener, is one too many.
    let mut third = TcpStream::connect(second).await.expect("connect");
    assert!(
        ask(&mut third, &query("dual.example.", RecordType::A))
            .await
            .is_none(),
        "closed: the client already holds two connections to this process"
    );
}
