//! Forwarding: what reaches upstream, single flight, and SERVFAIL when it fails.

use std::time::Instant;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;
use hickory_proto::rr::rdata::opt::EdnsOption;

use super::{Harness, TIMEOUT, V4, addresses, query, with_edns, zone};
use crate::testing::{comparable, cookie_of};

/// The last query upstream received, parsed, and its bytes.
fn last_forwarded(server: &Harness) -> (Message, Vec<u8>) {
    let received = server.upstream.received();
    let (_, bytes) = received.last().expect("a forwarded query").clone();
    (Message::from_vec(&bytes).expect("parses"), bytes)
}

/// (code, data) of each EDNS option of `message`, in order.
fn options(message: &Message) -> Vec<(u16, Vec<u8>)> {
    let edns = message.edns.as_ref().expect("an OPT record");
    edns.options()
        .options
        .iter()
        .map(|(code, option)| match option {
            EdnsOption::Unknown(raw, data) => (*raw, data.clone()),
            other => (u16::from(*code), format!("{other:?}").into_bytes()),
        })
        .collect()
}

/// A query with RD, CD, AD, DO, payload 1400 and these options, in this order.
fn flagged_query(name: &str, options: &[(u16, Vec<u8>)]) -> Message {
    let mut sent = with_edns(query(name, RecordType::A), 1400, true);
    sent.metadata.checking_disabled = true;
    sent.metadata.authentic_data = true;
    let edns = sent.edns.as_mut().expect("OPT");
    for (code, data) in options {
        edns.options_mut()
            .insert(EdnsOption::Unknown(*code, data.clone()));
    }
    sent
}

#[tokio::test]
async fn forwarded_query_keeps_flags_do_cd_and_options_but_not_pathwise_option() {
    let server = Harness::start(zone, |_| {}).await;
    let client = server.client(1).await;
    let cookie = (10, vec![1, 2, 3, 4, 5, 6, 7, 8]);
    // RFC 7871 client subnet 192.0.2.0/24: three address octets, exactly.
    let subnet = (8, vec![0, 1, 24, 0, 192, 0, 2]);
    let own = (65432, Vec::new());
    let other = (65001, vec![0xab]);
    let name = "MiXeD.dual.example.";
    let sent = flagged_query(name, &[cookie.clone(), subnet.clone(), own, other.clone()]);
    let expected = flagged_query(name, &[cookie.clone(), subnet.clone(), other.clone()]);

    let answer = client.ask(&sent).await;

    assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
    let (forwarded, bytes) = last_forwarded(&server);
    let flags = &forwarded.metadata;
    assert!(flags.recursion_desired && flags.checking_disabled && flags.authentic_data);
    assert!(
        forwarded.queries[0]
            .name()
            .to_string()
            .eq_ignore_ascii_case(name),
        "the question as written, in a 0x20-mixed case"
    );
    assert_eq!(
        answer.queries[0].name().to_string(),
        name,
        "the answer has the client's case back"
    );
    let edns = forwarded
        .edns
        .as_ref()
        .expect("the OPT record is forwarded");
    assert_eq!(edns.max_payload(), 1400);
    assert!(edns.flags().dnssec_ok, "DO survives");
    assert!(
        !options(&forwarded).iter().any(|(code, _)| *code == 65432),
        "pathwise's option is stripped"
    );
    let expected = expected.to_vec().expect("encodable");
    let mut bytes = bytes;
    bytes[..2].copy_from_slice(&expected[..2]);
    let pathwise_cookie = cookie_of(&bytes).expect("pathwise's cookie");
    assert_eq!(
        pathwise_cookie.len(),
        8,
        "a client cookie alone, until the server sends one"
    );
    assert_ne!(
        pathwise_cookie, cookie.1,
        "the client's cookie is replaced (RFC 7873)"
    );
    assert_eq!(
        comparable(&bytes),
        comparable(&expected),
        "the client's query minus option 65432, byte for byte but for the 0x20 case and the cookie (options {:?})",
        options(&forwarded)
    );
    let answer_edns = answer.edns.as_ref().expect("the query had OPT");
    assert!(
        answer_edns.options().options.is_empty(),
        "pathwise's option is not echoed"
    );
}

#[tokio::test]
async fn forwarded_query_without_pathwise_option_is_the_client_bytes_but_for_the_id() {
    let server = Harness::start(zone, |_| {}).await;
    let client = server.client(1).await;
    let mut sent = with_edns(query("MiXeD.other.example.", RecordType::AAAA), 1232, true);
    sent.metadata.checking_disabled = true;
    sent.edns
        .as_mut()
        .expect("OPT")
        .options_mut()
        .insert(EdnsOption::Unknown(65001, vec![7, 7]));
    let bytes = sent.to_vec().expect("encodable");

    client.ask(&sent).await;

    let (_, forwarded) = last_forwarded(&server);
    let mut forwarded = forwarded;
    forwarded[..2].copy_from_slice(&bytes[..2]);
    assert!(
        cookie_of(&forwarded).is_some(),
        "pathwise's cookie is added to the OPT record"
    );
    assert_eq!(
        comparable(&forwarded),
        comparable(&bytes),
        "flags, question and OPT unchanged"
    );
}

#[tokio::test]
async fn concurrent_identical_misses_go_upstream_once() {
    let server = Harness::start(zone, |_| {}).await;
    let clients = [
        server.client(1).await,
        server.client(2).await,
        server.client(3).await,
    ];
    let queries: Vec<Message> = (0..6)
        .map(|_| query("slow.example.", RecordType::A))
        .collect();
    for (i, sent) in queries.iter().enumerate() {
        clients[i % 3].send(sent).await;
    }
    let mut ids = Vec::new();
    for i in 0..queries.len() {
        let answer = clients[i % 3].recv().await;
        assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
        assert_eq!(
            addresses(&answer),
            [V4.parse::<std::net::IpAddr>().unwrap()]
        );
        ids.push(answer.metadata.id);
    }
    ids.sort_unstable();
    let mut sent_ids: Vec<u16> = queries.iter().map(|q| q.metadata.id).collect();
    sent_ids.sort_unstable();
    assert_eq!(ids, sent_ids, "every client gets its own ID back");
    assert_eq!(server.upstream_count("slow.example.", RecordType::A), 1);
}

#[tokio::test]
async fn every_upstream_failing_without_a_stale_entry_gives_servfail_after_the_timeout() {
    let server = Harness::start(zone, |_| {}).await;
    let client = server.client(1).await;
    let sent = query("silent.example.", RecordType::A);
    let started = Instant::now();

    let answer = client.ask(&sent).await;

    let elapsed = started.elapsed();
    assert_eq!(answer.metadata.response_code, ResponseCode::ServFail);
    assert_eq!(answer.queries, sent.queries, "the question is echoed");
    assert!(answer.answers.is_empty());
    assert!(
        elapsed >= TIMEOUT && elapsed < TIMEOUT * 3,
        "SERVFAIL after one upstream timeout ({TIMEOUT:?}), not {elapsed:?}"
    );
    assert_eq!(server.upstream_count("silent.example.", RecordType::A), 1);
    client.assert_serving().await;
}
