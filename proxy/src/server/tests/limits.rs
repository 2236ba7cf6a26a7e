//! The limits at the listeners: the per-client rate (TC over UDP, REFUSED over TCP),
//! the bound on queries waiting on upstream, TCP connections per client, the TCP read
//! timeout, and the lone-AAAA pair table; each counted in `pathwise_limited_total`.

use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use tokio::io::AsyncWriteExt;

use hickory_proto::op::Message;
use tokio::sync::watch;

use super::{
    Action, Harness, PATIENCE, Transport, V4, aaaa_count, addresses, query, read_framed,
    write_framed, zone,
};

/// The value of `pathwise_limited_total{limit="..."}` in a scrape.
fn limited(server: &Harness, limit: &str) -> u64 {
    server.shared.refresh_gauges();
    let text = String::from_utf8(server.shared.metrics.encode()).unwrap();
    let prefix = format!("pathwise_limited_total{{limit=\"{limit}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{prefix} in the scrape"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_client_over_its_rate_gets_tc_over_udp_and_refused_over_tcp() {
    let server = Harness::start(zone, |config| {
        config.listen.client_rate = 1;
        config.listen.client_burst = 3;
    })
    .await;
    let client = server.client(1).await;
    let mut truncated = 0;
    for _ in 0..5 {
        let answer = client.ask(&query("dual.example.", RecordType::A)).await;
        if answer.metadata.truncation {
            assert!(answer.answers.is_empty());
            assert_eq!(answer.queries.len(), 1, "the question stays");
            truncated += 1;
        } else {
            assert_eq!(
                addresses(&answer),
                [V4.parse::<std::net::IpAddr>().unwrap()]
            );
        }
    }
    assert_eq!(truncated, 2, "a burst of 3, then TC");
    assert_eq!(limited(&server, "client_rate"), 2);

    // Another client has its own bucket.
    let other = server.client(2).await;
    let answer = other.ask(&query("dual.example.", RecordType::A)).await;
    assert!(!answer.metadata.truncation);

    // TCP has a bucket of its own: the retry after TC is answered, until it too runs dry.
    let mut stream = server.connect().await;
    let mut rcodes = Vec::new();
    for _ in 0..4 {
        write_framed(&mut stream, &query("dual.example.", RecordType::A)).await;
        rcodes.push(
            read_framed(&mut stream)
                .await
                .unwrap()
                .metadata
                .response_code,
        );
    }
    assert_eq!(
        rcodes,
        [
            ResponseCode::NoError,
            ResponseCode::NoError,
            ResponseCode::NoError,
            ResponseCode::Refused
        ]
    );
}

/// [`zone`], except that upstream holds an answer for `first.held.example.` until `first`
/// is opened and one for `second.held.example.` until `second` is: a query waits on upstream
/// exactly as long as the test needs, on a slow machine too.
fn held_zone(
    first: watch::Receiver<bool>,
    second: watch::Receiver<bool>,
) -> impl Fn(&Message, Transport) -> Vec<Action> + Send + Sync + 'static {
    move |query, transport| {
        let name = query.queries[0].name().to_string().to_ascii_lowercase();
        let mut actions = zone(query, transport);
        match name.as_str() {
            "first.held.example." => actions.insert(0, Action::Hold(first.clone())),
            "second.held.example." => actions.insert(0, Action::Hold(second.clone())),
            _ => {}
        }
        actions
    }
}

/// Waits until `condition` holds, checking every few milliseconds; fails the test after
/// [`PATIENCE`], naming `what` it waited for.
async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "waited {PATIENCE:?} for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn beyond_max_outstanding_a_query_is_answered_at_once() {
    let (open_first, first) = watch::channel(false);
    let (open_second, second) = watch::channel(false);
    let server = Harness::start(held_zone(first, second), |config| {
        config.upstream.max_outstanding = 1
    })
    .await;
    let client = server.client(1).await;
    let other = server.client(2).await;

    // One query waits on upstream, held there; a second miss finds no slot: SERVFAIL, without
    // waiting for the slot (the held query would keep it past the client's patience).
    client
        .send(&query("first.held.example.", RecordType::A))
        .await;
    until("the held query upstream", || {
        server.upstream_count("first.held.example.", RecordType::A) == 1
    })
    .await;
    let answer = other.ask(&query("dual.example.", RecordType::A)).await;
    assert_eq!(answer.metadata.response_code, ResponseCode::ServFail);
    assert_eq!(limited(&server, "outstanding"), 1);
    assert_eq!(server.upstream_count("dual.example.", RecordType::A), 0);
    open_first.send(true).unwrap();
    let held = client.recv().await;
    assert_eq!(held.metadata.response_code, ResponseCode::NoError);

    // The slot is back (once the held query's task has ended): the same query is forwarded.
    until("the slot back", || server.shared.resolving.count() == 0).await;
    let answer = other.ask(&query("dual.example.", RecordType::A)).await;
    assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
    assert_eq!(server.upstream_count("dual.example.", RecordType::A), 1);
    // A cache hit needs no slot, whatever waits.
    client
        .send(&query("second.held.example.", RecordType::A))
        .await;
    until("the second held query upstream", || {
        server.upstream_count("second.held.example.", RecordType::A) == 1
    })
    .await;
    let hit = other.ask(&query("dual.example.", RecordType::A)).await;
    assert_eq!(hit.metadata.response_code, ResponseCode::NoError);
    assert_eq!(limited(&server, "outstanding"), 1);
    open_second.send(true).unwrap();
    client.recv().await;
}

#[tokio::test]
async fn connections_beyond_max_tcp_per_client_are_closed() {
    let server = Harness::start(zone, |config| config.listen.max_tcp_per_client = 2).await;
    let mut first = server.connect().await;
    let _second = server.connect().await;
    let mut third = server.connect().await;

    write_framed(&mut third, &query("dual.example.", RecordType::A)).await;
    assert!(read_framed(&mut third).await.is_none(), "closed");
    write_framed(&mut first, &query("dual.example.", RecordType::A)).await;
    assert!(
        read_framed(&mut first).await.is_some(),
        "the first two are served"
    );
    assert_eq!(limited(&server, "tcp_per_client"), 1);

    // A closed one frees its place once the server has seen it close: until then a new
    // connection is still one too many, and is closed in turn.
    drop(first);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut again = server.connect().await;
        write_framed(&mut again, &query("dual.example.", RecordType::A)).await;
        if read_framed(&mut again).await.is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a closed connection did not free its place in {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn half_a_message_is_not_waited_on_past_the_read_timeout() {
    let read = Duration::from_millis(300);
    let server = Harness::start(zone, |config| config.listen.tcp_read_timeout = read).await;
    let mut stream = server.connect().await;
    let whole = query("dual.example.", RecordType::A).to_vec().unwrap();
    let mut frame = u16::try_from(whole.len()).unwrap().to_be_bytes().to_vec();
    frame.extend_from_slice(&whole[..whole.len() / 2]);
    let started = Instant::now();

    stream.write_all(&frame).await.unwrap();
    let after = read_framed(&mut stream).await;

    assert!(after.is_none(), "closed, not answered");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= read - Duration::from_millis(50) && elapsed < read * 4,
        "closed after the read timeout ({read:?}), not {elapsed:?} (idle timeout 5s)"
    );
    assert_eq!(limited(&server, "tcp_timeout"), 1);
}

#[tokio::test]
async fn a_full_pair_table_forgets_its_oldest_a_query() {
    let server = Harness::start(zone, |config| config.policy.explicit.max_pairs = 1).await;
    let (first, second) = (server.client(1).await, server.client(2).await);
    first.ask(&query("dual.example.", RecordType::A)).await;
    // The table holds one pair: the second client's A pushes out the first client's.
    second.ask(&query("dual.example.", RecordType::A)).await;

    let forgotten = first.ask(&query("dual.example.", RecordType::AAAA)).await;
    let remembered = second.ask(&query("dual.example.", RecordType::AAAA)).await;

    assert_eq!(
        aaaa_count(&forgotten),
        1,
        "its A forgotten: a lone, explicit AAAA"
    );
    assert_eq!(
        aaaa_count(&remembered),
        0,
        "paired: filtered on a Teredo-only host"
    );
    assert_eq!(limited(&server, "pair_table"), 1);
}
