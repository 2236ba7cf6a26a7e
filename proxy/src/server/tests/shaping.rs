//! Shaping on the way out: with teredo+ipv4 the `teredo-only` filter is active; which
//! AAAA answers lose their records and which keep them, and what the answer header carries.

use std::net::IpAddr;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::{RData, RecordType};

use super::{
    Client, Harness, NATIVE, SIX_TO_FOUR, TEREDO, V6, aaaa_count, addresses, native_ipv4, query,
    with_edns, zone,
};

/// Asks A then AAAA for `name`, as `getaddrinfo(AF_UNSPEC)` does; returns the AAAA answer.
async fn ask_pair(client: &Client, name: &str) -> Message {
    let a = client.ask(&query(name, RecordType::A)).await;
    assert_eq!(a.metadata.response_code, ResponseCode::NoError);
    client.ask(&query(name, RecordType::AAAA)).await
}

fn v6() -> IpAddr {
    V6.parse().expect("an IP")
}

/// A filtered answer: NOERROR, NODATA (never NXDOMAIN, REFUSED or silence).
fn assert_filtered(answer: &Message) {
    assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
    assert_eq!(aaaa_count(answer), 0, "AAAA removed: {answer:?}");
}

fn assert_kept(answer: &Message) {
    assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
    assert_eq!(addresses(answer), [v6()], "AAAA kept: {answer:?}");
}

#[tokio::test]
async fn paired_aaaa_is_filtered_to_nodata() {
    let server = Harness::start(zone, |_| {}).await;
    let client = server.client(1).await;

    let answer = ask_pair(&client, "dual.example.").await;

    assert_filtered(&answer);
    assert!(answer.answers.is_empty());
    assert_eq!(
        server.upstream_count("dual.example.", RecordType::A),
        1,
        "the A was known from cache: no extra lookup"
    );
}

#[tokio::test]
async fn lone_aaaa_is_kept() {
    let server = Harness::start(zone, |_| {}).await;
    let client = server.client(1).await;

    let answer = client.ask(&query("dual.example.", RecordType::AAAA)).await;

    assert_kept(&answer);
    assert_eq!(server.upstream_count("dual.example.", RecordType::A), 0);
    // Another client's A does not pair with this client's AAAA.
    let other = server.client(2).await;
    other.ask(&query("solo.example.", RecordType::A)).await;
    let solo = client.ask(&query("solo.example.", RecordType::AAAA)).await;
    assert_kept(&solo);
}

#[tokio::test]
async fn aaaa_with_pathwise_edns_option_is_kept() {
    let server = Harness::start(zone, |_| {}).await;
    let client = server.client(1).await;
    client.ask(&query("dual.example.", RecordType::A)).await;
    let mut explicit = with_edns(query("dual.example.", RecordType::AAAA), 1232, false);
    let edns = explicit.edns.as_mut().expect("OPT");
    edns.options_mut()
        .insert(EdnsOption::Unknown(65432, Vec::new()));

    let answer = client.ask(&explicit).await;

    assert_kept(&answer);
    // Without the option, the same client's next pair is filtered (from the same cache).
    let plain = ask_pair(&client, "dual.example.").await;
    assert_filtered(&plain);
}

#[tokio::test]
async fn aaaa_for_an_explicit_client_is_kept() {
    let server = Harness::start(zone, |config| {
        config.policy.explicit.clients = vec!["127.0.0.3/32".parse().expect("a CIDR")];
    })
    .await;
    let explicit = server.client(3).await;
    let other = server.client(1).await;

    assert_kept(&ask_pair(&explicit, "dual.example.").await);
    assert_filtered(&ask_pair(&other, "dual.example.").await);
}

#[tokio::test]
async fn filtered_nodata_caps_the_soa_ttl_and_clears_ad() {
    let server = Harness::start(zone, |_| {}).await;
    let client = server.client(1).await;

    let answer = ask_pair(&client, "soa.example.").await;

    assert_filtered(&answer);
    assert!(
        !answer.metadata.authentic_data,
        "AD cleared: the answer was edited"
    );
    let soa = answer
        .authorities
        .iter()
        .find_map(|record| match &record.data {
            RData::SOA(soa) => Some((record.ttl, soa.minimum)),
            _ => None,
        })
        .expect("upstream's SOA stays in authority");
    assert!(
        soa.0 <= 30 && soa.1 <= 30,
        "negative TTL at most policy.filtered_ttl (30s): SOA TTL {}, MINIMUM {}",
        soa.0,
        soa.1
    );
    // The same cached answer, kept for a lone AAAA, is upstream's: AD stays.
    let lone = server.client(2).await;
    let kept = lone.ask(&query("soa.example.", RecordType::AAAA)).await;
    assert_kept(&kept);
    assert!(
        kept.metadata.authentic_data,
        "not edited: AD as upstream said"
    );
}

#[tokio::test]
async fn answer_echoes_id_rd_cd_and_carries_opt_only_if_the_query_did() {
    let server = Harness::start(zone, |_| {}).await;
    let client = server.client(1).await;
    let mut plain = query("opt.example.", RecordType::A);
    plain.metadata.id = 0xabcd;
    plain.metadata.recursion_desired = false;
    plain.metadata.checking_disabled = true;

    let answer = client.ask(&plain).await;

    let header = &answer.metadata;
    assert_eq!(header.id, 0xabcd);
    assert!(!header.recursion_desired, "RD echoed (clear)");
    assert!(header.checking_disabled, "CD echoed");
    assert!(header.recursion_available);
    assert!(!header.truncation);
    assert_eq!(answer.queries, plain.queries);
    assert!(
        answer.edns.is_none(),
        "no OPT to a query without one, though upstream sent one"
    );

    let with_opt = with_edns(query("opt.example.", RecordType::A), 1232, true);
    let answer = client.ask(&with_opt).await;
    let edns = answer.edns.as_ref().expect("OPT to a query with one");
    assert!(edns.flags().dnssec_ok, "DO echoed");
    assert!(answer.metadata.recursion_desired, "RD echoed (set)");
}

#[tokio::test]
async fn teredo_destination_is_kept() {
    let server = Harness::start(zone, |_| {}).await;
    let client = server.client(1).await;

    let answer = ask_pair(&client, "teredo.example.").await;

    let teredo: IpAddr = TEREDO.parse().expect("an IP");
    assert_eq!(
        addresses(&answer),
        [teredo],
        "Teredo to Teredo needs no relay"
    );
}

#[tokio::test]
async fn filtered_answer_keeps_the_cname_chain() {
    let server = Harness::start(zone, |_| {}).await;
    let client = server.client(1).await;

    let answer = ask_pair(&client, "alias.example.").await;

    assert_filtered(&answer);
    let types: Vec<RecordType> = answer.answers.iter().map(|r| r.record_type()).collect();
    assert_eq!(types, [RecordType::CNAME], "the CNAME stays, the AAAA goes");
}

#[tokio::test]
async fn addresses_are_ordered_native_then_6to4_then_teredo() {
    let server = Harness::start(zone, |_| {}).await;
    server.paths.send_replace(native_ipv4());
    let client = server.client(1).await;

    let answer = client.ask(&query("mixed.example.", RecordType::AAAA)).await;

    let expected: Vec<IpAddr> = [NATIVE, SIX_TO_FOUR, TEREDO]
        .iter()
        .map(|ip| ip.parse().expect("an IP"))
        .collect();
    assert_eq!(
        addresses(&answer),
        expected,
        "upstream sent Teredo, 6to4, native"
    );
}
