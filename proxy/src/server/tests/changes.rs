//! Changes under a running server: a new path state, and new settings (SIGHUP), apply to the
//! very next answer, from the same cache (the cache holds upstream's answer).

use hickory_proto::op::Message;
use hickory_proto::rr::RecordType;
use pathwise_policy::FilterMode;

use super::super::state::Settings;
use super::{Client, Harness, aaaa_count, native_ipv4, query, teredo_ipv4, zone};

/// A then AAAA for `dual.example.`; returns the AAAA answer.
async fn pair(client: &Client) -> Message {
    client.ask(&query("dual.example.", RecordType::A)).await;
    client.ask(&query("dual.example.", RecordType::AAAA)).await
}

#[tokio::test]
async fn path_state_change_applies_to_the_next_answer() {
    let server = Harness::start(zone, |_| {}).await;
    server.paths.send_replace(native_ipv4());
    let client = server.client(1).await;
    assert_eq!(
        aaaa_count(&pair(&client).await),
        1,
        "native IPv6: no filter"
    );

    server.paths.send_replace(teredo_ipv4());
    assert_eq!(aaaa_count(&pair(&client).await), 0, "Teredo only: filtered");

    server.paths.send_replace(native_ipv4());
    assert_eq!(aaaa_count(&pair(&client).await), 1, "native IPv6 again");

    assert_eq!(
        server.upstream_count("dual.example.", RecordType::AAAA),
        1,
        "every answer after the first came from the one cached copy"
    );
}

#[tokio::test]
async fn reloaded_settings_apply_to_the_next_answer() {
    let server = Harness::start(zone, |_| {}).await;
    let client = server.client(1).await;
    assert_eq!(aaaa_count(&pair(&client).await), 0, "teredo-only filters");

    let mut config = server.shared.settings().config.clone();
    config.policy.filter_aaaa = FilterMode::Never;
    server
        .shared
        .replace_settings(Settings::new(config).expect("settings"));

    assert_eq!(aaaa_count(&pair(&client).await), 1, "never: unfiltered");
    assert_eq!(server.upstream_count("dual.example.", RecordType::AAAA), 1);
}
