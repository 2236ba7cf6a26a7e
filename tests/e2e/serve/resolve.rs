//! `pathwise resolve NAME` (docs/behaviour.md) through a running pathwise: A and AAAA in connect
//! order, and whether the server withheld AAAA records.

use pathwise_tests::Run;

use super::zone::*;
use super::{NATIVE_PATHS, TEREDO_PATHS, start};

fn resolve_json(server: std::net::SocketAddr, name: &str) -> (Run, serde_json::Value) {
    let server = server.to_string();
    let run = Run::pathwise(["resolve", name, "--server", server.as_str(), "--json"]);
    run.success();
    let json = run.json();
    (run, json)
}

fn addresses(json: &serde_json::Value) -> Vec<String> {
    json["addresses"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|entry| entry["address"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn teredo_host_resolves_ipv4_only_and_says_aaaa_was_withheld() {
    let (_upstream, pathwise) = start(TEREDO_PATHS, "");
    let (run, json) = resolve_json(pathwise.udp_addr(), DUAL);
    run.check(
        addresses(&json) == [DUAL_A],
        format!("expected only {DUAL_A}: {json}"),
    );
    run.check(
        json["aaaa_filtered"] == true,
        "expected aaaa_filtered: true",
    );
    run.check(json["name"] == DUAL, "expected the name echoed");
    run.check(
        json["addresses"][0]["class"] == "documentation",
        "expected the class of 192.0.2.1",
    );
}

#[test]
fn native_host_resolves_both_families_and_withholds_nothing() {
    let (_upstream, pathwise) = start(NATIVE_PATHS, "");
    let (run, json) = resolve_json(pathwise.udp_addr(), DUAL);
    let mut got = addresses(&json);
    got.sort();
    run.check(
        got == [DUAL_A, DUAL_AAAA],
        format!("expected both addresses: {json}"),
    );
    run.check(
        json["aaaa_filtered"] == false,
        "expected aaaa_filtered: false",
    );
}

#[test]
fn text_output_orders_native_before_teredo_within_ipv6() {
    let (_upstream, pathwise) = start(NATIVE_PATHS, "");
    let server = pathwise.udp_addr().to_string();
    let run = Run::pathwise(["resolve", EVERY, "--server", server.as_str()]);
    run.success();
    let lines: Vec<&str> = run.stdout().lines().collect();
    let position = |address: &str| lines.iter().position(|line| line.starts_with(address));
    let (Some(native), Some(teredo)) = (position(EVERY_NATIVE), position(EVERY_TEREDO)) else {
        run.fail("expected the native and the Teredo address in the output");
    };
    run.check(
        native < teredo,
        "expected native IPv6 before Teredo (seed table)",
    );
}
