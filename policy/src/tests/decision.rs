//! The AAAA decision: one named case per rule of the filter (docs/behaviour.md), in the order the
//! rules apply.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use super::messages::{address, cname, https, response, rrsig};
use crate::decision::{
    ARecord, AaaaDecision, ExplicitAsk, KeepReason, PolicyConfig, QueryFacts, ResponseFacts, decide,
};
use crate::paths::{FilterMode, FilterReason, Path, PathState};

const TEREDO_ONLY: PathState = PathState::EMPTY.with(Path::Ipv4).with(Path::Teredo);
const DUAL_STACK: PathState = PathState::EMPTY.with(Path::Ipv4).with(Path::Native6);
const IPV4_ONLY: PathState = PathState::EMPTY.with(Path::Ipv4);

fn aaaa_response(addresses: &[&str]) -> ResponseFacts {
    let mut message = response("www.example.", RecordType::AAAA);
    message.add_answer(cname("www.example.", "web.example."));
    for a in addresses {
        message.add_answer(address("web.example.", a));
    }
    ResponseFacts::of(&message)
}

fn with_a() -> QueryFacts {
    QueryFacts {
        a_record: ARecord::Present,
        ..QueryFacts::default()
    }
}

const REMOVE_TEREDO_ONLY: AaaaDecision = AaaaDecision::Remove {
    reason: FilterReason::TeredoOnly,
    keep_teredo: true,
};

#[test]
fn filter_activity_per_mode_and_state() {
    use FilterMode::*;
    let six_to_four = IPV4_ONLY.with(Path::SixToFour).with(Path::Teredo);
    let cases = [
        (TeredoOnly, TEREDO_ONLY, Some(FilterReason::TeredoOnly)),
        (TeredoOnly, DUAL_STACK.with(Path::Teredo), None),
        (TeredoOnly, six_to_four, None),
        (TeredoOnly, IPV4_ONLY, None),
        (
            TeredoOnly,
            PathState::EMPTY.with(Path::Teredo),
            Some(FilterReason::TeredoOnly),
        ),
        (NoNative, IPV4_ONLY, Some(FilterReason::NoNative)),
        (NoNative, TEREDO_ONLY, Some(FilterReason::NoNative)),
        (NoNative, six_to_four, None),
        (NoNative, DUAL_STACK, None),
        (Always, DUAL_STACK, Some(FilterReason::Always)),
        (Always, PathState::EMPTY, Some(FilterReason::Always)),
        (Never, TEREDO_ONLY, None),
        (Never, IPV4_ONLY, None),
    ];
    for (mode, state, want) in cases {
        assert_eq!(mode.active(state), want, "{} with {state}", mode.as_str());
    }
}

#[test]
fn teredo_only_host_removes_native_aaaa() {
    let facts = aaaa_response(&["2a00::1", "2a00::2"]);
    let decision = decide(&PolicyConfig::default(), TEREDO_ONLY, &with_a(), &facts);
    assert_eq!(decision, REMOVE_TEREDO_ONLY);
}

#[test]
fn inactive_filter_passes() {
    let facts = aaaa_response(&["2a00::1"]);
    assert_eq!(
        decide(&PolicyConfig::default(), DUAL_STACK, &with_a(), &facts),
        AaaaDecision::Pass
    );
}

#[test]
fn nxdomain_and_empty_answers_pass() {
    let mut message = response("nope.example.", RecordType::AAAA);
    message.metadata.response_code = ResponseCode::NXDomain;
    let facts = ResponseFacts::of(&message);
    assert_eq!(
        decide(&PolicyConfig::default(), TEREDO_ONLY, &with_a(), &facts),
        AaaaDecision::Pass
    );
    let facts = aaaa_response(&[]);
    assert_eq!(
        decide(&PolicyConfig::default(), TEREDO_ONLY, &with_a(), &facts),
        AaaaDecision::Pass
    );
}

#[test]
fn explicit_signals_keep_in_order_client_edns_lone() {
    let facts = aaaa_response(&["2a00::1"]);
    let ask = |client, edns_option, lone_aaaa| QueryFacts {
        explicit: ExplicitAsk {
            client,
            edns_option,
            lone_aaaa,
        },
        ..with_a()
    };
    let config = PolicyConfig::default();
    let keep = |reason| AaaaDecision::Keep(reason);
    assert_eq!(
        decide(&config, TEREDO_ONLY, &ask(true, true, true), &facts),
        keep(KeepReason::ExplicitClient)
    );
    assert_eq!(
        decide(&config, TEREDO_ONLY, &ask(false, true, true), &facts),
        keep(KeepReason::ExplicitEdns)
    );
    assert_eq!(
        decide(&config, TEREDO_ONLY, &ask(false, false, true), &facts),
        keep(KeepReason::LoneAaaa)
    );
}

#[test]
fn lone_aaaa_says_nothing_about_other_query_types() {
    let mut message = response("svc.example.", RecordType::HTTPS);
    message.add_answer(https("svc.example.", &["2a00::1"], false));
    let facts = ResponseFacts::of(&message);
    let query = QueryFacts {
        explicit: ExplicitAsk {
            lone_aaaa: true,
            ..ExplicitAsk::default()
        },
        ..with_a()
    };
    assert_eq!(
        decide(&PolicyConfig::default(), TEREDO_ONLY, &query, &facts),
        REMOVE_TEREDO_ONLY
    );
}

#[test]
fn signed_answer_with_do_is_kept_unless_break_dnssec() {
    let mut message = response("www.example.", RecordType::AAAA);
    message.add_answer(address("www.example.", "2a00::1"));
    message.add_answer(rrsig("www.example.", RecordType::AAAA));
    let facts = ResponseFacts::of(&message);
    assert!(facts.signed);
    let query = QueryFacts {
        dnssec_ok: true,
        ..with_a()
    };
    let config = PolicyConfig::default();
    assert_eq!(
        decide(&config, TEREDO_ONLY, &query, &facts),
        AaaaDecision::Keep(KeepReason::Dnssec)
    );
    let breaking = PolicyConfig {
        break_dnssec: true,
        ..config
    };
    assert_eq!(
        decide(&breaking, TEREDO_ONLY, &query, &facts),
        REMOVE_TEREDO_ONLY
    );
    // Without DO the client cannot validate: filter.
    assert_eq!(
        decide(&config, TEREDO_ONLY, &with_a(), &facts),
        REMOVE_TEREDO_ONLY
    );
}

#[test]
fn all_teredo_answer_is_kept_as_teredo_destination() {
    let facts = aaaa_response(&["2001:0:4136:e378:8000:63bf:3fff:fdd2"]);
    let config = PolicyConfig::default();
    assert_eq!(
        decide(&config, TEREDO_ONLY, &with_a(), &facts),
        AaaaDecision::Keep(KeepReason::TeredoDestination)
    );
    let strict = PolicyConfig {
        keep_teredo_destinations: false,
        ..config
    };
    assert_eq!(
        decide(&strict, TEREDO_ONLY, &with_a(), &facts),
        AaaaDecision::Remove {
            reason: FilterReason::TeredoOnly,
            keep_teredo: false
        }
    );
}

#[test]
fn mixed_teredo_answer_is_removed_but_keeps_teredo() {
    let facts = aaaa_response(&["2001:0:4136:e378:8000:63bf:3fff:fdd2", "2a00::1"]);
    assert_eq!(
        decide(&PolicyConfig::default(), TEREDO_ONLY, &with_a(), &facts),
        REMOVE_TEREDO_ONLY
    );
}

#[test]
fn require_a_keeps_ipv6_only_names_and_asks_when_unknown() {
    let facts = aaaa_response(&["2a00::1"]);
    let config = PolicyConfig::default();
    let absent = QueryFacts {
        a_record: ARecord::Absent,
        ..QueryFacts::default()
    };
    assert_eq!(
        decide(&config, TEREDO_ONLY, &absent, &facts),
        AaaaDecision::Keep(KeepReason::NoARecord)
    );
    let unknown = QueryFacts::default();
    assert_eq!(
        decide(&config, TEREDO_ONLY, &unknown, &facts),
        AaaaDecision::NeedARecord
    );
    let lax = PolicyConfig {
        require_a: false,
        ..config
    };
    assert_eq!(
        decide(&lax, TEREDO_ONLY, &unknown, &facts),
        REMOVE_TEREDO_ONLY
    );
}

#[test]
fn reasons_follow_the_mode() {
    let facts = aaaa_response(&["2a00::1"]);
    for (mode, state, reason) in [
        (FilterMode::NoNative, IPV4_ONLY, FilterReason::NoNative),
        (FilterMode::Always, DUAL_STACK, FilterReason::Always),
    ] {
        let config = PolicyConfig {
            filter_aaaa: mode,
            ..PolicyConfig::default()
        };
        assert_eq!(
            decide(&config, state, &with_a(), &facts),
            AaaaDecision::Remove {
                reason,
                keep_teredo: true
            }
        );
    }
}

#[test]
fn labels_are_the_documented_ones() {
    let kept: Vec<&str> = KeepReason::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(
        kept,
        [
            "explicit_client",
            "explicit_edns",
            "lone_aaaa",
            "teredo_destination",
            "no_a_record",
            "dnssec"
        ]
    );
    let filtered: Vec<&str> = FilterReason::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(filtered, ["teredo_only", "no_native", "always"]);
    let paths: Vec<&str> = Path::ALL.iter().map(|p| p.as_str()).collect();
    assert_eq!(paths, ["native6", "6to4", "ipv4", "teredo"]);
    assert_eq!(
        "sometimes".parse::<FilterMode>(),
        Err("\"sometimes\" is not one of teredo-only, no-native, always, never".to_owned())
    );
}

#[test]
fn additional_aaaa_counts_as_ipv6_data() {
    let mut message = response("example.", RecordType::MX);
    message.add_additional(address("mail.example.", "192.0.2.1"));
    message.add_additional(address("mail.example.", "2a00::1"));
    let facts = ResponseFacts::of(&message);
    assert!(facts.has_ipv6_data());
    assert_eq!(facts.answer_aaaa, 0);
}
