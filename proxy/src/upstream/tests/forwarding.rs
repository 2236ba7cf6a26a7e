//! Forwarding over UDP and TCP: matching, failover, truncation, what reaches the server.

use hickory_proto::op::{Edns, Message, Query, ResponseCode};
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::{Name, RecordType};

use super::{TIMEOUT, addresses, config, ip, outcomes, query, udp_upstreams};
use crate::config::UpstreamSpec;
use crate::testing::fake_upstream::{
    Action, FakeUpstream, SPOOFED, Transport, address, answering, qname,
};
use crate::testing::{comparable, cookie_of};
use crate::upstream::{Forwarded, Outcome, UpstreamError, Upstreams, wire};

#[tokio::test]
async fn udp_answer_is_returned_as_received() {
    let server = FakeUpstream::start(answering("192.0.2.1")).await;
    let upstreams = udp_upstreams(&[server.addr()]);

    let forwarded = upstreams.query(&query("www.example.", RecordType::A)).await;

    let answer = forwarded.result.expect("an answer");
    assert_eq!(addresses(&answer), [ip("192.0.2.1")]);
    assert_eq!(outcomes(&forwarded.attempts), [(0, Outcome::Ok)]);
    assert!(forwarded.attempts[0].elapsed < TIMEOUT);
    assert_eq!(
        (
            server.queries(Transport::Udp),
            server.queries(Transport::Tcp)
        ),
        (1, 0)
    );
}

#[tokio::test]
async fn query_reaches_the_server_unchanged_but_for_its_id() {
    let server = FakeUpstream::start(answering("192.0.2.1")).await;
    let upstreams = udp_upstreams(&[server.addr()]);
    let mut message = Message::query();
    message.metadata.id = 0xbeef;
    message.metadata.recursion_desired = true;
    message.metadata.checking_disabled = true;
    message.metadata.authentic_data = true;
    message.add_query(Query::query(
        Name::from_ascii("MiXeD.example.").unwrap(),
        RecordType::AAAA,
    ));
    let mut edns = Edns::new();
    edns.set_max_payload(1400).set_dnssec_ok(true);
    edns.options_mut()
        .insert(EdnsOption::Unknown(10, vec![1, 2, 3, 4, 5, 6, 7, 8]));
    edns.options_mut()
        .insert(EdnsOption::Unknown(65001, vec![0xab]));
    message.set_edns(edns);
    let sent = message.to_vec().unwrap();

    let forwarded = upstreams.query(&sent).await;

    let received = server.received();
    assert_eq!(received.len(), 1);
    let (transport, bytes) = &received[0];
    assert_eq!(*transport, Transport::Udp);
    let upstream_id = [bytes[0], bytes[1]];
    let mut bytes = bytes.clone();
    bytes[..2].copy_from_slice(&sent[..2]);
    assert_ne!(
        cookie_of(&bytes),
        cookie_of(&sent),
        "pathwise's own cookie (RFC 7873)"
    );
    assert_eq!(
        comparable(&bytes),
        comparable(&sent),
        "flags, DO, payload size and options survive; only the name's case (0x20) and the cookie differ"
    );
    let answer = forwarded.result.expect("an answer");
    assert_eq!(answer[..2], upstream_id, "the answer keeps the upstream ID");
}

#[tokio::test]
async fn spoofed_and_garbage_datagrams_are_ignored_until_the_real_answer() {
    let server = FakeUpstream::start(|query, _| {
        vec![
            Action::WrongId,
            Action::WrongQuestion,
            Action::Garbage,
            Action::Cut,
            Action::WrongSource,
            Action::Delay(std::time::Duration::from_millis(20)),
            Action::Answer(vec![address(qname(query), "192.0.2.1")]),
        ]
    })
    .await;
    let upstreams = udp_upstreams(&[server.addr()]);

    let forwarded = upstreams.query(&query("www.example.", RecordType::A)).await;

    let answer = forwarded.result.expect("the real answer");
    assert_eq!(addresses(&answer), [ip("192.0.2.1")]);
    assert!(!addresses(&answer).contains(&SPOOFED.into()));
    assert_eq!(outcomes(&forwarded.attempts), [(0, Outcome::Ok)]);
}

#[tokio::test]
async fn answer_echoing_the_name_in_another_case_is_accepted() {
    let server = FakeUpstream::start(|query, _| {
        let upper = Name::from_ascii(qname(query).to_ascii().to_uppercase()).unwrap();
        let mut reply = Message::response(0, query.metadata.op_code);
        reply.add_query(Query::query(upper.clone(), RecordType::A));
        reply.add_answer(address(upper, "192.0.2.1"));
        vec![Action::Reply(reply)]
    })
    .await;
    let upstreams = udp_upstreams(&[server.addr()]);

    let forwarded = upstreams.query(&query("www.example.", RecordType::A)).await;

    assert_eq!(
        addresses(&forwarded.result.expect("an answer")),
        [ip("192.0.2.1")]
    );
}

#[tokio::test]
async fn silence_times_out_and_fails_over_to_the_next_server() {
    let silent = FakeUpstream::start(|_, _| vec![Action::Silent]).await;
    let working = FakeUpstream::start(answering("192.0.2.2")).await;
    let upstreams = udp_upstreams(&[silent.addr(), working.addr()]);

    let forwarded = upstreams.query(&query("www.example.", RecordType::A)).await;

    assert_second_answered(&forwarded, Outcome::Timeout);
    assert!(!forwarded.attempts[0].reached, "silence is no answer");
    assert!(forwarded.attempts[0].elapsed >= TIMEOUT);
    assert_eq!(silent.queries(Transport::Udp), 1);
}

#[tokio::test]
async fn closed_port_is_an_error_and_fails_over_at_once() {
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let closed_address = closed.local_addr().unwrap();
    drop(closed);
    let working = FakeUpstream::start(answering("192.0.2.2")).await;
    let upstreams = udp_upstreams(&[closed_address, working.addr()]);

    let forwarded = upstreams.query(&query("www.example.", RecordType::A)).await;

    assert!(forwarded.result.is_ok());
    assert_eq!(
        outcomes(&forwarded.attempts),
        [(0, Outcome::Error), (1, Outcome::Ok)]
    );
    assert!(
        forwarded.attempts[0].elapsed < TIMEOUT,
        "ICMP unreachable, not a timeout"
    );
}

#[tokio::test]
async fn servfail_fails_over_to_the_next_server() {
    let failing = FakeUpstream::start(|_, _| vec![Action::Rcode(ResponseCode::ServFail)]).await;
    let working = FakeUpstream::start(answering("192.0.2.2")).await;
    let upstreams = udp_upstreams(&[failing.addr(), working.addr()]);

    let forwarded = upstreams.query(&query("www.example.", RecordType::A)).await;

    assert_second_answered(&forwarded, Outcome::Servfail);
}

#[tokio::test]
async fn refused_fails_over_to_the_next_server_which_stays_up() {
    let refusing = FakeUpstream::start(|_, _| vec![Action::Rcode(ResponseCode::Refused)]).await;
    let working = FakeUpstream::start(answering("192.0.2.2")).await;
    let upstreams = udp_upstreams(&[refusing.addr(), working.addr()]);

    for _ in 0..4 {
        let forwarded = upstreams.query(&query("www.example.", RecordType::A)).await;
        assert_second_answered(&forwarded, Outcome::Error);
        assert!(
            forwarded.attempts[0].reached,
            "a refusal is an answer (readiness)"
        );
    }
    // It answers: four refusals in a row do not mark it down (health counts silence).
    assert!(upstreams.is_up(0));
}

#[tokio::test]
async fn a_refusal_without_the_question_fails_over_at_once() {
    for rcode in [
        ResponseCode::FormErr,
        ResponseCode::NotImp,
        ResponseCode::Refused,
    ] {
        let refusing = FakeUpstream::start(move |_, _| vec![Action::Questionless(rcode)]).await;
        let working = FakeUpstream::start(answering("192.0.2.2")).await;
        let upstreams = udp_upstreams(&[refusing.addr(), working.addr()]);
        for _ in 0..4 {
            let forwarded = upstreams.query(&query("www.example.", RecordType::A)).await;
            assert_second_answered(&forwarded, Outcome::Error);
            assert!(
                forwarded.attempts[0].elapsed < TIMEOUT,
                "{rcode}: not a timeout"
            );
            assert!(forwarded.attempts[0].reached, "{rcode}: an answer");
        }
        assert!(
            upstreams.is_up(0),
            "{rcode}: a server that answers stays up"
        );
    }
}

#[tokio::test]
async fn all_refusing_keeps_the_last_refused() {
    let refusing = FakeUpstream::start(|_, _| vec![Action::Rcode(ResponseCode::Refused)]).await;
    let upstreams = udp_upstreams(&[refusing.addr()]);

    let forwarded = upstreams.query(&query("www.example.", RecordType::A)).await;

    assert!(wire::is_refused(last_declined(&forwarded)));
}

#[tokio::test]
async fn other_rcodes_are_answers() {
    let server = FakeUpstream::start(|_, _| vec![Action::Rcode(ResponseCode::NXDomain)]).await;
    let other = FakeUpstream::start(answering("192.0.2.2")).await;
    let upstreams = udp_upstreams(&[server.addr(), other.addr()]);

    let forwarded = upstreams.query(&query("nx.example.", RecordType::A)).await;

    let answer = forwarded.result.expect("NXDOMAIN is an answer");
    assert_eq!(
        Message::from_vec(&answer).unwrap().metadata.response_code,
        ResponseCode::NXDomain
    );
    assert_eq!(outcomes(&forwarded.attempts), [(0, Outcome::Ok)]);
    assert_eq!(other.queries(Transport::Udp), 0);
}

#[tokio::test]
async fn all_failing_keeps_the_last_declined() {
    let failing = FakeUpstream::start(|_, _| vec![Action::Rcode(ResponseCode::ServFail)]).await;
    let silent = FakeUpstream::start(|_, _| vec![Action::Silent]).await;
    let upstreams = udp_upstreams(&[failing.addr(), silent.addr()]);

    let forwarded = upstreams.query(&query("www.example.", RecordType::A)).await;

    assert!(wire::is_servfail(last_declined(&forwarded)));
    assert_eq!(
        outcomes(&forwarded.attempts),
        [(0, Outcome::Servfail), (1, Outcome::Timeout)]
    );
}

#[tokio::test]
async fn truncated_udp_answer_is_retried_over_tcp() {
    let server = FakeUpstream::start(|query, transport| match transport {
        Transport::Udp => vec![Action::Truncated],
        _ => vec![Action::Answer(vec![
            address(qname(query), "2001:db8::1"),
            address(qname(query), "2001:db8::2"),
        ])],
    })
    .await;
    let upstreams = udp_upstreams(&[server.addr()]);

    let forwarded = upstreams
        .query(&query("big.example.", RecordType::AAAA))
        .await;

    let answer = forwarded.result.expect("the full answer over TCP");
    assert_eq!(addresses(&answer), [ip("2001:db8::1"), ip("2001:db8::2")]);
    assert!(!wire::is_truncated(&answer));
    assert_eq!(
        outcomes(&forwarded.attempts),
        [(0, Outcome::Truncated), (0, Outcome::Ok)]
    );
    assert_eq!(
        (
            server.queries(Transport::Udp),
            server.queries(Transport::Tcp)
        ),
        (1, 1)
    );
}

#[tokio::test]
async fn tcp_server_is_asked_over_tcp_only() {
    let server = FakeUpstream::start(answering("192.0.2.3")).await;
    let upstreams =
        Upstreams::new(&config(vec![UpstreamSpec::Tcp(server.addr())]), &[]).expect("upstreams");

    for _ in 0..2 {
        let forwarded = upstreams.query(&query("www.example.", RecordType::A)).await;
        assert_eq!(
            addresses(&forwarded.result.expect("an answer")),
            [ip("192.0.2.3")]
        );
        assert_eq!(outcomes(&forwarded.attempts), [(0, Outcome::Ok)]);
    }
    assert_eq!(
        (
            server.queries(Transport::Udp),
            server.queries(Transport::Tcp)
        ),
        (0, 2)
    );
}

#[tokio::test]
async fn tcp_skips_messages_that_do_not_answer() {
    let server = FakeUpstream::start(|query, _| {
        vec![
            Action::WrongId,
            Action::Garbage,
            Action::Answer(vec![address(qname(query), "192.0.2.3")]),
        ]
    })
    .await;
    let upstreams =
        Upstreams::new(&config(vec![UpstreamSpec::Tcp(server.addr())]), &[]).expect("upstreams");

    let forwarded = upstreams.query(&query("www.example.", RecordType::A)).await;

    assert_eq!(
        addresses(&forwarded.result.expect("an answer")),
        [ip("192.0.2.3")]
    );
}

#[tokio::test]
async fn stopped_server_fails_over() {
    let stopped = FakeUpstream::start(answering("192.0.2.1")).await;
    let working = FakeUpstream::start(answering("192.0.2.2")).await;
    let upstreams = Upstreams::new(
        &config(vec![
            UpstreamSpec::Tcp(stopped.addr()),
            UpstreamSpec::Udp(working.addr()),
        ]),
        &[],
    )
    .expect("upstreams");
    stopped.stop();
    tokio::task::yield_now().await;

    let forwarded = upstreams.query(&query("www.example.", RecordType::A)).await;

    assert_second_answered(&forwarded, Outcome::Error);
}

#[tokio::test]
async fn bytes_that_are_no_query_are_refused_without_traffic() {
    let server = FakeUpstream::start(answering("192.0.2.1")).await;
    let upstreams = udp_upstreams(&[server.addr()]);

    let forwarded = upstreams.query(&[0x12, 0x34, 0x01]).await;

    assert!(matches!(forwarded.result, Err(UpstreamError::BadQuery(3))));
    assert!(forwarded.attempts.is_empty());
    assert_eq!(server.queries(Transport::Udp), 0);
}

/// Asserts that the first server's attempt ended in `first` and the second server (the one
/// answering 192.0.2.2) answered.
fn assert_second_answered(forwarded: &Forwarded, first: Outcome) {
    let answer = forwarded.result.as_ref().expect("an answer");
    assert_eq!(addresses(answer), [ip("192.0.2.2")]);
    assert_eq!(
        outcomes(&forwarded.attempts),
        [(0, first), (1, Outcome::Ok)]
    );
}

/// The refusing answer kept when every server failed; panics if the query did not end so.
fn last_declined(forwarded: &Forwarded) -> &[u8] {
    match &forwarded.result {
        Err(UpstreamError::AllFailed {
            last_declined: Some(answer),
        }) => answer,
        other => panic!("expected AllFailed with a refusing answer, got {other:?}"),
    }
}
