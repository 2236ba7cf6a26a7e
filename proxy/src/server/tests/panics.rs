//! A panic while handling one query costs that query, never the listener; a listener loop
//! that ends anyway fails `/healthz`, naming it.

use std::sync::Arc;
use std::time::Duration;

use hickory_proto::rr::RecordType;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

use super::super::guard::Liveness;
use super::super::pipeline::Fault;
use super::{Harness, query};

/// A query for a name with this label panics in the synchronous pipeline.
const AT_ONCE: &[u8] = b"\x05boom1";
/// A query for a name with this label panics in the resolving task.
const LATER: &[u8] = b"\x05boom2";

fn panics(harness: &Harness, transport: &str) -> u64 {
    let text = String::from_utf8(harness.shared.metrics.encode()).expect("UTF-8");
    let prefix = format!("pathwise_query_panics_total{{transport=\"{transport}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |value| value.parse().expect("a count"))
}

async fn faulty() -> Harness {
    let fault = Fault {
        receive: Some(AT_ONCE),
        resolve: Some(LATER),
    };
    Harness::start_with_fault(super::zone, |_| {}, fault).await
}

#[tokio::test]
async fn a_panic_over_udp_costs_that_query_and_the_listener_serves_on() {
    let harness = faulty().await;
    let client = harness.client(1).await;
    for (name, counted) in [("boom1.example.", 1), ("boom2.example.", 2)] {
        client.send(&query(name, RecordType::A)).await;
        let mut buffer = [0u8; 512];
        let answer = tokio::time::timeout(
            Duration::from_millis(500),
            client.socket.recv_from(&mut buffer),
        )
        .await;
        assert!(
            answer.is_err(),
            "{name}: no answer to a query whose handling panicked"
        );
        client.assert_serving().await;
        assert_eq!(panics(&harness, "udp"), counted, "{name}: counted");
    }
    assert!(harness.shared.liveness.ended().is_empty());
}

#[tokio::test]
async fn a_panic_over_tcp_costs_that_query_and_the_connection_serves_on() {
    let harness = faulty().await;
    let mut stream = harness.connect().await;
    for name in ["boom1.example.", "boom2.example.", "dual.example."] {
        let wire = query(name, RecordType::A).to_vec().expect("encodes");
        let length = u16::try_from(wire.len()).expect("short");
        stream
            .write_all(&length.to_be_bytes())
            .await
            .expect("write");
        stream.write_all(&wire).await.expect("write");
    }
    let length = usize::from(stream.read_u16().await.expect("an answer"));
    let mut answer = vec![0; length];
    stream.read_exact(&mut answer).await.expect("the answer");
    let answer = hickory_proto::op::Message::from_vec(&answer).expect("parses");
    assert_eq!(answer.queries[0].name().to_ascii(), "dual.example.");
    assert_eq!(panics(&harness, "tcp"), 2);
}

#[tokio::test]
async fn a_listener_that_ends_while_serving_is_named_and_one_that_stops_is_not() {
    let liveness = Arc::new(Liveness::default());
    let (stop, stopping) = watch::channel(false);
    let crashing = async { panic!("a listener loop crashed") };
    Arc::clone(&liveness)
        .watch("udp 127.0.0.1:53".into(), crashing, stopping.clone())
        .await;
    let returning = async {};
    Arc::clone(&liveness)
        .watch("tcp 127.0.0.1:53".into(), returning, stopping.clone())
        .await;
    assert_eq!(liveness.ended(), ["udp 127.0.0.1:53", "tcp 127.0.0.1:53"]);
    stop.send(true).expect("a receiver");
    Arc::clone(&liveness)
        .watch("udp [::1]:53".into(), async {}, stopping)
        .await;
    assert_eq!(
        liveness.ended().len(),
        2,
        "a listener that stops on shutdown did not end"
    );
}
