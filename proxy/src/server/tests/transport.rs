//! UDP size limits and TCP (RFC 7766): truncation with TC, whole answers over TCP, pipelined
//! queries answered as they are ready, and the idle timeout.

use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use super::{Harness, SLOW, query, read_framed, with_edns, write_framed, zone};

#[tokio::test]
async fn large_answer_to_a_udp_query_without_edns_is_truncated_to_header_and_question() {
    let server = Harness::start(zone, |_| {}).await;
    let client = server.client(1).await;
    let sent = query("big.example.", RecordType::A);

    client.send(&sent).await;
    let raw = client.recv_raw().await;

    assert!(raw.len() <= 512, "{} bytes", raw.len());
    let answer = hickory_proto::op::Message::from_vec(&raw).expect("parses");
    assert_eq!(answer.metadata.id, sent.metadata.id);
    assert!(answer.metadata.truncation, "TC set");
    assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
    assert_eq!(answer.queries, sent.queries, "the question stays");
    assert!(
        answer.answers.is_empty() && answer.authorities.is_empty() && answer.additionals.is_empty(),
        "header and question only: {answer:?}"
    );
    assert!(answer.edns.is_none());

    // The client's EDNS size allows it: the whole answer, from cache.
    let roomy = client
        .ask(&with_edns(
            query("big.example.", RecordType::A),
            1232,
            false,
        ))
        .await;
    assert!(!roomy.metadata.truncation);
    assert_eq!(roomy.answers.len(), 40);
}

#[tokio::test]
async fn large_answer_over_tcp_is_whole() {
    let server = Harness::start(zone, |_| {}).await;
    let mut stream = server.connect().await;
    let sent = query("big.example.", RecordType::A);

    write_framed(&mut stream, &sent).await;
    let answer = read_framed(&mut stream).await.expect("an answer");

    assert_eq!(answer.metadata.id, sent.metadata.id);
    assert!(!answer.metadata.truncation);
    assert_eq!(answer.answers.len(), 40);
    assert!(answer.edns.is_none());
}

#[tokio::test]
async fn pipelined_tcp_queries_are_answered_as_they_are_ready() {
    let server = Harness::start(zone, |_| {}).await;
    let mut stream = server.connect().await;
    let slow = query("slow.example.", RecordType::A);
    let fast = query("dual.example.", RecordType::A);

    // Back to back, slow first, in one write each without waiting.
    write_framed(&mut stream, &slow).await;
    write_framed(&mut stream, &fast).await;
    let started = Instant::now();
    let first = read_framed(&mut stream).await.expect("an answer");
    let first_after = started.elapsed();
    let second = read_framed(&mut stream).await.expect("an answer");

    assert_eq!(
        (first.metadata.id, second.metadata.id),
        (fast.metadata.id, slow.metadata.id),
        "the fast answer is not held behind the slow one"
    );
    assert!(first_after < SLOW, "{first_after:?}");
    assert_eq!(second.metadata.response_code, ResponseCode::NoError);
}

#[tokio::test]
async fn idle_tcp_connection_is_closed() {
    let idle = Duration::from_millis(300);
    let server = Harness::start(zone, |config| config.listen.tcp_idle_timeout = idle).await;
    let mut stream = server.connect().await;
    let sent = query("dual.example.", RecordType::A);
    write_framed(&mut stream, &sent).await;
    assert!(read_framed(&mut stream).await.is_some(), "answered first");
    let started = Instant::now();

    let after_idle = read_framed(&mut stream).await;

    assert!(after_idle.is_none(), "closed: EOF instead of a message");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= idle - Duration::from_millis(50) && elapsed < idle * 4,
        "closed after the idle timeout ({idle:?}), not {elapsed:?}"
    );
}
