//! The error-to-rcode ladder over real UDP: each bad packet gets its answer or none,
//! and the server answers the next good query.
//!
//! "No answer" is shown without waiting: the bad packet is followed by a good query on the
//! same socket, and the first datagram back must be the good query's answer.

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::RecordType;

use super::{Client, Harness, query, zone};

async fn harness() -> Harness {
    Harness::start(zone, |_| {}).await
}

/// Sends `bytes`, then a good query: the first datagram back answers the good query.
async fn assert_dropped(client: &Client, bytes: &[u8]) {
    client.send_raw(bytes).await;
    let good = query("dual.example.", RecordType::A);
    client.send(&good).await;
    let first = client.recv().await;
    assert_eq!(
        (first.metadata.id, first.metadata.response_code),
        (good.metadata.id, ResponseCode::NoError),
        "the bad packet got an answer: {first:?}"
    );
}

/// Sends `bytes` and expects an answer with `rcode` and `id`, then checks the server serves.
async fn assert_answered(client: &Client, bytes: &[u8], id: u16, rcode: ResponseCode) -> Message {
    client.send_raw(bytes).await;
    let answer = client.recv().await;
    assert_eq!(answer.metadata.id, id, "the query's ID comes back");
    assert_eq!(answer.metadata.message_type, MessageType::Response);
    assert_eq!(answer.metadata.response_code, rcode);
    client.assert_serving().await;
    answer
}

#[tokio::test]
async fn packet_shorter_than_a_header_is_dropped() {
    let server = harness().await;
    let client = server.client(1).await;
    assert_dropped(&client, &[0x12, 0x34, 0x01, 0x00, 0x00]).await;
    assert_dropped(&client, &[]).await;
    client.assert_serving().await;
}

#[tokio::test]
async fn response_sent_to_the_server_is_dropped() {
    let server = harness().await;
    let client = server.client(1).await;
    let mut response = query("dual.example.", RecordType::A);
    response.metadata.message_type = MessageType::Response;
    assert_dropped(&client, &response.to_vec().expect("encodable")).await;
    // Nothing was forwarded for it either (no reflection through upstream).
    assert_eq!(server.upstream_count("dual.example.", RecordType::A), 1);
}

#[tokio::test]
async fn client_outside_listen_allow_is_refused() {
    let server = Harness::start(zone, |config| {
        config.listen.allow = vec!["127.0.0.1/32".parse().expect("a CIDR")];
    })
    .await;
    let outsider = server.client(2).await;
    let refused = query("outsider.example.", RecordType::A);
    let bytes = refused.to_vec().expect("encodable");
    outsider.send_raw(&bytes).await;
    let answer = outsider.recv().await;
    assert_eq!(answer.metadata.id, refused.metadata.id);
    assert_eq!(answer.metadata.response_code, ResponseCode::Refused);
    assert!(answer.answers.is_empty());
    let insider = server.client(1).await;
    insider.assert_serving().await;
    assert_eq!(
        server.upstream_count("outsider.example.", RecordType::A),
        0,
        "a refused query never goes upstream"
    );
    // Still refused once the name is cached by an allowed client.
    insider
        .ask(&query("outsider.example.", RecordType::A))
        .await;
    let again = outsider
        .ask(&query("outsider.example.", RecordType::A))
        .await;
    assert_eq!(again.metadata.response_code, ResponseCode::Refused);
    assert!(
        again.answers.is_empty(),
        "no cached data leaks to outsiders"
    );
}

#[tokio::test]
async fn notify_gets_notimp() {
    let server = harness().await;
    let client = server.client(1).await;
    let mut notify = query("example.", RecordType::SOA);
    notify.metadata.op_code = OpCode::Notify;
    let bytes = notify.to_vec().expect("encodable");
    let answer = assert_answered(&client, &bytes, notify.metadata.id, ResponseCode::NotImp).await;
    assert_eq!(answer.metadata.op_code, OpCode::Notify);
    assert_eq!(server.upstream_count("example.", RecordType::SOA), 0);
}

#[tokio::test]
async fn unparsable_question_gets_formerr_with_the_same_id() {
    let server = harness().await;
    let client = server.client(1).await;
    // ID 0x5151, RD, one question whose name runs off the end of the packet.
    let bytes = [
        0x51, 0x51, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, b'a', b'b',
    ];
    let answer = assert_answered(&client, &bytes, 0x5151, ResponseCode::FormErr).await;
    assert!(answer.metadata.recursion_desired, "RD is echoed");
}

#[tokio::test]
async fn two_questions_get_formerr() {
    let server = harness().await;
    let client = server.client(1).await;
    let mut two = query("dual.example.", RecordType::A);
    two.add_query(query("other.example.", RecordType::A).queries[0].clone());
    let bytes = two.to_vec().expect("encodable");
    let answer = assert_answered(&client, &bytes, two.metadata.id, ResponseCode::FormErr).await;
    assert!(answer.answers.is_empty());
    // No question echoed: re-encoded, questions can be longer than the query (no amplifier).
    assert!(answer.queries.is_empty(), "{:?}", answer.queries);
    assert_eq!(server.upstream_count("other.example.", RecordType::A), 0);
}

#[tokio::test]
async fn zone_transfers_get_notimp() {
    let server = harness().await;
    let client = server.client(1).await;
    for qtype in [RecordType::AXFR, RecordType::IXFR] {
        let transfer = query("example.", qtype);
        let bytes = transfer.to_vec().expect("encodable");
        assert_answered(&client, &bytes, transfer.metadata.id, ResponseCode::NotImp).await;
        assert_eq!(server.upstream_count("example.", qtype), 0);
    }
}

/// A listener on `[::]` is dual-stack on Linux (bindv6only=0): IPv4 clients arrive as
/// `::ffff:a.b.c.d`. The default `listen.allow` (loopback) must still admit 127.0.0.1.
#[tokio::test]
async fn ipv4_loopback_client_of_a_dual_stack_listener_is_allowed() {
    if std::net::UdpSocket::bind("[::]:0").is_err() {
        crate::testing::cannot_check(
            "ipv4_loopback_client_of_a_dual_stack_listener_is_allowed",
            "needs IPv6 (a socket on [::])",
        );
        return;
    }
    let server = Harness::start(zone, |config| {
        config.listen.addresses = vec!["[::]:0".parse().expect("an address")];
        config.listen.allow = crate::config::Config::default().listen.allow;
    })
    .await;
    let client = server.client(1).await;
    let answer = client.ask(&query("dual.example.", RecordType::A)).await;
    assert_eq!(
        answer.metadata.response_code,
        ResponseCode::NoError,
        "127.0.0.1 through a [::] listener is a loopback client"
    );
}
