//! The upstream defences: DNS 0x20 (mixed case, checked on the answer, with a TCP
//! retry when the case is wrong), DNS cookies (RFC 7873), and server health (down after
//! failing in a row, skipped, probed back).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

use super::{TIMEOUT, addresses, ip, outcomes, query, udp_upstreams};
use crate::testing::cookie_of;
use crate::testing::fake_upstream::{Action, FakeUpstream, Transport, address, qname};
use crate::upstream::health::DOWN_AFTER;
use crate::upstream::{DropReason, Outcome, UpstreamError, Upstreams};

/// A name with enough letters that a forger cannot guess its mixed case.
const NAME: &str = "MixedCaseNameWithManyLetters.example.";

/// A query for `name` with an OPT record, which cookies need.
fn edns_query(name: &str) -> Vec<u8> {
    let mut message = Message::from_vec(&query(name, RecordType::A)).unwrap();
    message.set_edns(hickory_proto::op::Edns::new());
    message.to_vec().unwrap()
}

/// The server cookie the fakes send.
const SERVER_COOKIE: [u8; 8] = [0xaa; 8];

/// The question name of a received query, as sent.
fn sent_name(bytes: &[u8]) -> String {
    let message = Message::from_vec(bytes).expect("a query");
    message.queries[0].name().to_string()
}

/// A server that sends `forged` over UDP (what a forger who guessed ID and port could send)
/// before the real answer, 192.0.2.1, which it also sends over TCP. Asserts that a query gets
/// the real answer, over TCP, with one answer dropped as suspect.
async fn real_answer_over_tcp_after(forged: Action) -> (FakeUpstream, Upstreams, Vec<u8>) {
    let server = FakeUpstream::start(move |query: &Message, transport| {
        let real = vec![address(qname(query), "192.0.2.1")];
        match transport {
            Transport::Udp => vec![forged.clone(), Action::Answer(real)],
            _ => vec![Action::Answer(real)],
        }
    })
    .await;
    let upstreams = udp_upstreams(&[server.addr()]);

    let forwarded = upstreams.query(&query(NAME, RecordType::A)).await;

    let answer = forwarded.result.expect("the real answer, over TCP");
    assert_eq!(addresses(&answer), [ip("192.0.2.1")]);
    assert_eq!(forwarded.dropped.of(DropReason::Case), 1);
    assert_eq!(server.queries(Transport::Tcp), 1);
    (server, upstreams, answer)
}

#[tokio::test]
async fn a_forged_answer_in_the_wrong_case_sends_the_query_over_tcp() {
    let (server, upstreams, answer) = real_answer_over_tcp_after(Action::WrongCase).await;
    let sent = server.received();
    assert!(sent_name(&sent[0].1).eq_ignore_ascii_case(NAME));
    assert_ne!(
        sent_name(&sent[0].1),
        NAME,
        "the case is mixed (2^-33 to fail)"
    );
    let message = Message::from_vec(&answer).unwrap();
    assert_eq!(
        message.queries[0].name().to_string(),
        NAME,
        "the client's case"
    );

    // The TCP answer kept the case: the server still gets 0x20 over UDP.
    upstreams.query(&query(NAME, RecordType::A)).await;
    let sent = server.received();
    let udp: Vec<_> = sent.iter().filter(|(t, _)| *t == Transport::Udp).collect();
    assert_eq!(udp.len(), 2);
    assert_ne!(sent_name(&udp[1].1), NAME);
}

#[tokio::test]
async fn a_forged_refusal_without_the_question_sends_the_query_over_tcp() {
    real_answer_over_tcp_after(Action::Questionless(ResponseCode::Refused)).await;
}

#[tokio::test]
async fn a_refusal_without_the_question_over_tcp_leaves_0x20_on() {
    let server = FakeUpstream::start(|_, _| vec![Action::Questionless(ResponseCode::NotImp)]).await;
    let upstreams = udp_upstreams(&[server.addr()]);

    for _ in 0..2 {
        let forwarded = upstreams.query(&query(NAME, RecordType::A)).await;
        assert!(matches!(
            forwarded.result,
            Err(UpstreamError::AllFailed { .. })
        ));
    }

    // No answer showed the server's case: the second UDP query is still mixed.
    let sent = server.received();
    let udp: Vec<_> = sent.iter().filter(|(t, _)| *t == Transport::Udp).collect();
    assert_eq!(udp.len(), 2, "one UDP query each, then TCP");
    assert_ne!(
        sent_name(&udp[1].1),
        NAME,
        "the case is mixed (2^-33 to fail)"
    );
}

#[tokio::test]
async fn a_server_that_folds_case_is_then_asked_in_the_clients_case() {
    let server = FakeUpstream::start(|query: &Message, _| {
        vec![Action::Folded(vec![address(qname(query), "192.0.2.7")])]
    })
    .await;
    let upstreams = udp_upstreams(&[server.addr()]);

    let first = upstreams.query(&query(NAME, RecordType::A)).await;
    let answer = first.result.expect("the TCP answer is taken in any case");
    assert_eq!(addresses(&answer), [ip("192.0.2.7")]);
    let message = Message::from_vec(&answer).unwrap();
    assert_eq!(message.queries[0].name().to_string(), NAME);

    let second = upstreams.query(&query(NAME, RecordType::A)).await;
    assert!(second.result.is_ok());
    assert_eq!(second.dropped.of(DropReason::Case), 0);
    let sent = server.received();
    let last = sent.last().unwrap();
    assert_eq!(
        last.0,
        Transport::Udp,
        "no TCP retry once the server is known"
    );
    assert_eq!(sent_name(&last.1), NAME, "asked in the client's case");
    assert_eq!(server.queries(Transport::Tcp), 1);
}

#[tokio::test]
async fn randomize_case_off_sends_the_clients_case() {
    let server = FakeUpstream::start(|query: &Message, _| {
        vec![Action::Answer(vec![address(qname(query), "192.0.2.1")])]
    })
    .await;
    let mut config = super::config(vec![crate::config::UpstreamSpec::Udp(server.addr())]);
    config.randomize_case = false;
    let upstreams = crate::upstream::Upstreams::new(&config, &[]).unwrap();

    upstreams.query(&query(NAME, RecordType::A)).await;

    assert_eq!(sent_name(&server.received()[0].1), NAME);
}

#[tokio::test]
async fn a_failing_server_is_skipped_after_failing_in_a_row() {
    let silent = FakeUpstream::start(|_: &Message, _| vec![Action::Silent]).await;
    let good = FakeUpstream::start(|query: &Message, _| {
        vec![Action::Answer(vec![address(qname(query), "192.0.2.2")])]
    })
    .await;
    let upstreams = udp_upstreams(&[silent.addr(), good.addr()]);

    for _ in 0..DOWN_AFTER {
        let forwarded = upstreams.query(&query("a.example.", RecordType::A)).await;
        assert_eq!(
            outcomes(&forwarded.attempts),
            [(0, Outcome::Timeout), (1, Outcome::Ok)]
        );
    }
    assert!(!upstreams.is_up(0) && upstreams.is_up(1) && upstreams.any_up());

    let forwarded = upstreams.query(&query("a.example.", RecordType::A)).await;
    assert_eq!(
        outcomes(&forwarded.attempts),
        [(1, Outcome::Ok)],
        "down: skipped"
    );
    assert_eq!(silent.queries(Transport::Udp), DOWN_AFTER as usize);
}

#[tokio::test]
async fn with_every_server_down_one_is_tried_once_and_a_probe_brings_them_back() {
    let answering = Arc::new(AtomicBool::new(false));
    let start = |flag: Arc<AtomicBool>| async move {
        FakeUpstream::start(move |query: &Message, _| {
            if flag.load(Ordering::SeqCst) {
                vec![Action::Answer(vec![address(qname(query), "192.0.2.3")])]
            } else {
                vec![Action::Silent]
            }
        })
        .await
    };
    let first = start(Arc::clone(&answering)).await;
    let second = start(Arc::clone(&answering)).await;
    let upstreams = Arc::new(udp_upstreams(&[first.addr(), second.addr()]));
    upstreams.start_prober();
    for _ in 0..DOWN_AFTER {
        let forwarded = upstreams.query(&query("b.example.", RecordType::A)).await;
        assert_eq!(
            outcomes(&forwarded.attempts),
            [(0, Outcome::Timeout), (1, Outcome::Timeout)]
        );
    }
    assert!(!upstreams.any_up());

    let started = tokio::time::Instant::now();
    let forwarded = upstreams.query(&query("b.example.", RecordType::A)).await;
    assert!(matches!(
        forwarded.result,
        Err(UpstreamError::AllFailed { .. })
    ));
    assert_eq!(
        outcomes(&forwarded.attempts),
        [(0, Outcome::Timeout)],
        "one server, once: one timeout, not one per server"
    );
    assert!(started.elapsed() < TIMEOUT * 2, "{:?}", started.elapsed());

    // The prober asks after one second; once the servers answer they are up again.
    answering.store(true, Ordering::SeqCst);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !(upstreams.is_up(0) && upstreams.is_up(1)) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(upstreams.is_up(1), "a probe answered");
    let probes = second.received();
    let probe = Message::from_vec(&probes.last().unwrap().1).unwrap();
    assert_eq!(probe.queries[0].name().to_string(), ".");
    assert_eq!(probe.queries[0].query_type(), RecordType::NS);
    let forwarded = upstreams.query(&query("b.example.", RecordType::A)).await;
    assert_eq!(addresses(&forwarded.result.unwrap()), [ip("192.0.2.3")]);
}

#[tokio::test]
async fn a_udp_only_server_that_folds_case_is_asked_again_in_the_clients_case() {
    let server = FakeUpstream::start(|query: &Message, transport| match transport {
        Transport::Udp => vec![Action::Folded(vec![address(qname(query), "192.0.2.8")])],
        _ => vec![Action::Close],
    })
    .await;
    let upstreams = udp_upstreams(&[server.addr()]);

    let forwarded = upstreams.query(&query(NAME, RecordType::A)).await;

    assert_eq!(addresses(&forwarded.result.unwrap()), [ip("192.0.2.8")]);
    let sent = server.received();
    let udp: Vec<_> = sent.iter().filter(|(t, _)| *t == Transport::Udp).collect();
    assert_eq!(udp.len(), 2, "mixed, then the client's case");
    assert_eq!(sent_name(&udp[1].1), NAME);
    upstreams.query(&query(NAME, RecordType::A)).await;
    let sent = server.received();
    assert_eq!(
        sent_name(&sent.last().unwrap().1),
        NAME,
        "folding from then on"
    );
    assert_eq!(server.queries(Transport::Tcp), 1);
}

#[tokio::test]
async fn cookies_are_sent_learned_and_sent_back() {
    let server = FakeUpstream::start(|query: &Message, _| {
        let real = vec![address(qname(query), "192.0.2.1")];
        vec![Action::Cookie(SERVER_COOKIE.to_vec(), real)]
    })
    .await;
    let upstreams = udp_upstreams(&[server.addr()]);

    upstreams.query(&edns_query("a.example.")).await;
    upstreams.query(&edns_query("a.example.")).await;
    upstreams.query(&query("a.example.", RecordType::A)).await;

    let sent = server.received();
    let first = cookie_of(&sent[0].1).expect("a client cookie");
    let second = cookie_of(&sent[1].1).expect("client and server cookie");
    assert_eq!(first.len(), 8);
    assert_eq!(second[..8], first[..], "the same client cookie per server");
    assert_eq!(second[8..], SERVER_COOKIE, "the server cookie sent back");
    assert!(cookie_of(&sent[2].1).is_none(), "no OPT record is added");
}

#[tokio::test]
async fn an_answer_with_another_client_cookie_is_dropped() {
    let server = FakeUpstream::start(|query: &Message, _| {
        let real = vec![address(qname(query), "192.0.2.1")];
        vec![
            Action::WrongCookie,
            Action::Cookie(SERVER_COOKIE.to_vec(), real),
        ]
    })
    .await;
    let upstreams = udp_upstreams(&[server.addr()]);

    let forwarded = upstreams.query(&edns_query("a.example.")).await;

    assert_eq!(addresses(&forwarded.result.unwrap()), [ip("192.0.2.1")]);
    assert_eq!(forwarded.dropped.of(DropReason::Cookie), 1);
    assert_eq!(
        server.queries(Transport::Tcp),
        0,
        "simply waited for the real one"
    );
}

#[tokio::test]
async fn without_the_cookie_a_server_sent_before_the_query_goes_over_tcp() {
    let forget = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&forget);
    let server = FakeUpstream::start(move |query: &Message, transport| {
        let real = vec![address(qname(query), "192.0.2.1")];
        match transport {
            // A forger who guessed ID, port and case, but cannot know the cookies.
            Transport::Udp if flag.load(Ordering::SeqCst) => {
                vec![Action::Answer(vec![address(qname(query), "192.0.2.66")])]
            }
            _ => vec![Action::Cookie(SERVER_COOKIE.to_vec(), real)],
        }
    })
    .await;
    let mut config = super::config(vec![crate::config::UpstreamSpec::Udp(server.addr())]);
    config.randomize_case = false;
    let upstreams = crate::upstream::Upstreams::new(&config, &[]).unwrap();
    upstreams.query(&edns_query("a.example.")).await;
    forget.store(true, Ordering::SeqCst);

    let forwarded = upstreams.query(&edns_query("a.example.")).await;

    assert_eq!(addresses(&forwarded.result.unwrap()), [ip("192.0.2.1")]);
    assert_eq!(forwarded.dropped.of(DropReason::Cookie), 1);
    assert_eq!(server.queries(Transport::Tcp), 1);
}

#[tokio::test]
async fn cookies_off_leaves_the_clients_option_alone() {
    let server = FakeUpstream::start(|query: &Message, _| {
        vec![Action::Answer(vec![address(qname(query), "192.0.2.1")])]
    })
    .await;
    let mut config = super::config(vec![crate::config::UpstreamSpec::Udp(server.addr())]);
    config.cookies = false;
    let upstreams = crate::upstream::Upstreams::new(&config, &[]).unwrap();

    upstreams.query(&edns_query("a.example.")).await;

    assert!(cookie_of(&server.received()[0].1).is_none());
}
