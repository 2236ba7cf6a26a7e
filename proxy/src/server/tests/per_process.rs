//! The TCP connection limits bound the process, not each listening address: with two
//! listeners, `listen.max_tcp_per_client` counts a client's connections to both; and a
//! reload keeps the per-client rate buckets.

use hickory_proto::op::Message;
use hickory_proto::rr::RecordType;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::super::state::Settings;
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

#[tokio::test]
async fn a_reload_keeps_the_clients_rate_buckets() {
    let server = Harness::start(zone, |config| {
        config.listen.client_rate = 1;
        config.listen.client_burst = 1;
    })
    .await;
    let client = server.client(1).await;
    let first = client.ask(&query("dual.example.", RecordType::A)).await;
    assert!(!first.metadata.truncation, "the burst of one");

    let old = server.shared.settings();
    let mut config = old.config.clone();
    config.policy.filter_aaaa = pathwise_policy::FilterMode::Never;
    let settings = Settings::succeeding(config, &old).expect("settings");
    server.shared.replace_settings(settings);

    let second = client.ask(&query("dual.example.", RecordType::A)).await;
    assert!(
        second.metadata.truncation,
        "still over the rate after the reload: its bucket was kept"
    );
}
