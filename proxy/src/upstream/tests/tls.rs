//! DNS over TLS: trust through `upstream.tls_ca_file`, connection reuse, dead connections.

use hickory_proto::rr::RecordType;

use super::{addresses, config, ip, outcomes, query};
use crate::config::UpstreamSpec;
use crate::testing::TempFile;
use crate::testing::certs::test_tls;
use crate::testing::fake_upstream::{Action, FakeUpstream, Transport, address, answering, qname};
use crate::upstream::{Outcome, UpstreamError, Upstreams};

const NAME: &str = "dns.pathwise.test";

/// Upstreams with one `tls://` server trusted through a CA file (when given).
fn tls_upstreams(server: &FakeUpstream, ca_file: Option<&TempFile>) -> Upstreams {
    let spec = UpstreamSpec::Tls {
        address: server.addr(),
        name: NAME.to_owned(),
    };
    let mut config = config(vec![spec]);
    config.tls_ca_file = ca_file.map(|file| file.path().to_owned());
    Upstreams::new(&config, &[]).expect("upstreams")
}

#[tokio::test]
async fn tls_server_answers_and_its_connection_is_reused() {
    let tls = test_tls(NAME);
    let server = FakeUpstream::start_tls(answering("192.0.2.4"), tls.server).await;
    let ca_file = TempFile::new("ca.pem", &tls.ca_pem);
    let upstreams = tls_upstreams(&server, Some(&ca_file));

    for _ in 0..2 {
        let forwarded = upstreams.query(&query("www.example.", RecordType::A)).await;
        assert_eq!(
            addresses(&forwarded.result.expect("an answer")),
            [ip("192.0.2.4")]
        );
        assert_eq!(outcomes(&forwarded.attempts), [(0, Outcome::Ok)]);
    }
    assert_eq!(server.queries(Transport::Tls), 2);
    assert_eq!(server.accepts(), 1, "one handshake for two queries");
}

#[tokio::test]
async fn dead_pooled_connection_is_retried_once_on_a_fresh_one() {
    let tls = test_tls(NAME);
    let script = |query: &_, _| {
        vec![
            Action::Answer(vec![address(qname(query), "192.0.2.4")]),
            Action::Close,
        ]
    };
    let server = FakeUpstream::start_tls(script, tls.server).await;
    let ca_file = TempFile::new("ca.pem", &tls.ca_pem);
    let upstreams = tls_upstreams(&server, Some(&ca_file));

    for _ in 0..2 {
        let forwarded = upstreams.query(&query("www.example.", RecordType::A)).await;
        assert_eq!(
            addresses(&forwarded.result.expect("an answer")),
            [ip("192.0.2.4")]
        );
        assert_eq!(outcomes(&forwarded.attempts), [(0, Outcome::Ok)]);
    }
    assert_eq!(server.accepts(), 2, "the closed connection was replaced");
}

#[tokio::test]
async fn untrusted_certificate_is_an_error() {
    let tls = test_tls(NAME);
    let server = FakeUpstream::start_tls(answering("192.0.2.4"), tls.server).await;
    let upstreams = tls_upstreams(&server, None);

    let forwarded = upstreams.query(&query("www.example.", RecordType::A)).await;

    assert!(matches!(
        forwarded.result,
        Err(UpstreamError::AllFailed {
            last_declined: None
        })
    ));
    assert_eq!(outcomes(&forwarded.attempts), [(0, Outcome::Error)]);
    assert_eq!(server.queries(Transport::Tls), 0);
}

#[tokio::test]
async fn wrong_server_name_is_an_error() {
    let tls = test_tls("other.pathwise.test");
    let server = FakeUpstream::start_tls(answering("192.0.2.4"), tls.server).await;
    let ca_file = TempFile::new("ca.pem", &tls.ca_pem);
    let upstreams = tls_upstreams(&server, Some(&ca_file));

    let forwarded = upstreams.query(&query("www.example.", RecordType::A)).await;

    assert_eq!(outcomes(&forwarded.attempts), [(0, Outcome::Error)]);
}

#[test]
fn ca_file_without_a_certificate_is_rejected_by_name() {
    let ca_file = TempFile::new("empty.pem", "not a certificate\n");
    let spec = UpstreamSpec::Tls {
        address: "127.0.0.1:853".parse().unwrap(),
        name: NAME.into(),
    };
    let mut config = config(vec![spec]);
    config.tls_ca_file = Some(ca_file.path().to_owned());

    let error = Upstreams::new(&config, &[]).expect_err("an error");

    assert!(matches!(error, UpstreamError::TlsCaFile { .. }));
    assert_eq!(
        error.to_string(),
        format!(
            "upstream.tls_ca_file {}: holds no PEM certificate",
            ca_file.path().display()
        )
    );
}
