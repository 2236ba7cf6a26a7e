//! Shaping: what is removed, what stays, what is reordered, and what the report says.

use hickory_proto::op::Message;
use hickory_proto::rr::rdata::svcb::{SvcParamKey, SvcParamValue};
use hickory_proto::rr::{RData, RecordType};

use super::messages::{address, addresses, cname, https, response, rrsig, soa, types};
use crate::decision::{AaaaDecision, KeepReason};
use crate::paths::FilterReason;
use crate::shape::{ShapeReport, order_addresses, shape};
use crate::table::PolicyTable;

const TEREDO: &str = "2001:0:4136:e378:8000:63bf:3fff:fdd2";
const REMOVE: AaaaDecision = AaaaDecision::Remove {
    reason: FilterReason::TeredoOnly,
    keep_teredo: true,
};
const REMOVE_ALL: AaaaDecision = AaaaDecision::Remove {
    reason: FilterReason::TeredoOnly,
    keep_teredo: false,
};

fn signed_aaaa_answer() -> Message {
    let mut message = response("www.example.", RecordType::AAAA);
    message.add_answer(cname("www.example.", "web.example."));
    message.add_answer(rrsig("www.example.", RecordType::CNAME));
    message.add_answer(address("web.example.", "2a00::1"));
    message.add_answer(address("web.example.", "2a00::2"));
    message.add_answer(rrsig("web.example.", RecordType::AAAA));
    message.add_authority(soa("example.", 3600, 900));
    message
}

#[test]
fn aaaa_answer_becomes_nodata_keeping_the_cname_chain() {
    let mut message = signed_aaaa_answer();
    let report = shape(&mut message, REMOVE, &PolicyTable::seed(), 30);
    assert_eq!(
        types(&message.answers),
        [RecordType::CNAME, RecordType::RRSIG]
    );
    assert_eq!(
        report,
        ShapeReport {
            removed_answer: 2,
            removed_rrsig: 1,
            nodata: true,
            ..ShapeReport::default()
        }
    );
    assert!(
        !message.metadata.authentic_data,
        "AD must be cleared after an edit"
    );
    let RData::SOA(soa) = &message.authorities[0].data else {
        panic!("SOA expected")
    };
    assert_eq!((message.authorities[0].ttl, soa.minimum), (30, 30));
}

#[test]
fn filtered_nodata_does_not_look_like_a_referral() {
    let mut message = response("www.example.", RecordType::AAAA);
    message.add_answer(address("www.example.", "2a00::1"));
    message.add_authority(super::messages::ns("example.", "ns.example."));
    message.add_authority(rrsig("example.", RecordType::NS));
    let report = shape(&mut message, REMOVE, &PolicyTable::seed(), 30);
    assert!(report.nodata);
    assert!(message.answers.is_empty());
    assert!(
        message.authorities.is_empty(),
        "NS without SOA reads as a referral (RFC 2308 section 2.2.1)"
    );
}

#[test]
fn authority_ns_stays_when_the_answer_keeps_records() {
    let mut message = response("mix.example.", RecordType::AAAA);
    message.add_answer(address("mix.example.", "2a00::1"));
    message.add_answer(address("mix.example.", TEREDO));
    message.add_authority(super::messages::ns("example.", "ns.example."));
    shape(&mut message, REMOVE, &PolicyTable::seed(), 30);
    assert_eq!(types(&message.authorities), [RecordType::NS]);
}

#[test]
fn negative_ttl_below_the_cap_is_left_alone() {
    let mut message = signed_aaaa_answer();
    message.authorities[0] = soa("example.", 10, 5);
    shape(&mut message, REMOVE, &PolicyTable::seed(), 30);
    let RData::SOA(soa) = &message.authorities[0].data else {
        panic!("SOA expected")
    };
    assert_eq!((message.authorities[0].ttl, soa.minimum), (10, 5));
}

#[test]
fn teredo_destinations_stay_unless_configured_otherwise() {
    let build = || {
        let mut message = response("mix.example.", RecordType::AAAA);
        message.add_answer(address("mix.example.", "2a00::1"));
        message.add_answer(address("mix.example.", TEREDO));
        message
    };
    let mut message = build();
    let report = shape(&mut message, REMOVE, &PolicyTable::seed(), 30);
    assert_eq!(addresses(&message.answers), [TEREDO]);
    assert_eq!((report.removed_answer, report.nodata), (1, false));

    let mut message = build();
    let report = shape(&mut message, REMOVE_ALL, &PolicyTable::seed(), 30);
    assert!(message.answers.is_empty());
    assert_eq!((report.removed_answer, report.nodata), (2, true));
}

#[test]
fn additional_aaaa_removed_only_for_owners_with_an_a() {
    let mut message = response("example.", RecordType::MX);
    message.add_additional(address("mail1.example.", "192.0.2.1"));
    message.add_additional(address("mail1.example.", "2a00::1"));
    message.add_additional(rrsig("mail1.example.", RecordType::AAAA));
    message.add_additional(address("mail2.example.", "2a00::2"));
    message.add_additional(rrsig("mail2.example.", RecordType::AAAA));
    let report = shape(&mut message, REMOVE, &PolicyTable::seed(), 30);
    assert_eq!(addresses(&message.additionals), ["192.0.2.1", "2a00::2"]);
    assert_eq!(
        types(&message.additionals),
        [RecordType::A, RecordType::AAAA, RecordType::RRSIG]
    );
    assert_eq!(
        (
            report.removed_answer,
            report.removed_additional,
            report.removed_rrsig
        ),
        (0, 1, 1)
    );
}

#[test]
fn ipv6hint_is_removed_with_its_mandatory_entry() {
    let mut message = response("svc.example.", RecordType::HTTPS);
    message.add_answer(https("svc.example.", &["2a00::1", "2a00::2"], true));
    let report = shape(&mut message, REMOVE, &PolicyTable::seed(), 30);
    assert_eq!(report.removed_ipv6hint, 1);
    let RData::HTTPS(https) = &message.answers[0].data else {
        panic!("HTTPS expected")
    };
    let keys: Vec<SvcParamKey> = https.0.svc_params.iter().map(|(key, _)| *key).collect();
    assert_eq!(keys, [SvcParamKey::Alpn, SvcParamKey::Ipv4Hint]);
    assert!(!message.metadata.authentic_data);
}

#[test]
fn ipv6hint_keeps_its_teredo_addresses() {
    let mut message = response("svc.example.", RecordType::HTTPS);
    message.add_answer(https("svc.example.", &["2a00::1", TEREDO], false));
    shape(&mut message, REMOVE, &PolicyTable::seed(), 30);
    let RData::HTTPS(https) = &message.answers[0].data else {
        panic!("HTTPS expected")
    };
    let hint = https
        .0
        .svc_params
        .iter()
        .find_map(|(_, value)| match value {
            SvcParamValue::Ipv6Hint(hint) => {
                Some(hint.0.iter().map(|a| a.0.to_string()).collect::<Vec<_>>())
            }
            _ => None,
        });
    assert_eq!(hint, Some(vec![TEREDO.to_owned()]));
}

#[test]
fn kept_answers_are_only_reordered() {
    let mut message = signed_aaaa_answer();
    message.add_answer(address("web.example.", TEREDO));
    message.answers.swap(2, 5);
    let mut expected = message.clone();
    let report = shape(
        &mut message,
        AaaaDecision::Keep(KeepReason::LoneAaaa),
        &PolicyTable::seed(),
        30,
    );
    assert!(report.reordered);
    assert!(!report.removed_any());
    assert!(message.metadata.authentic_data, "reordering keeps AD");
    expected.answers.swap(2, 5);
    assert_eq!(addresses(&message.answers), ["2a00::2", "2a00::1", TEREDO]);
}

#[test]
fn rrsets_are_ordered_by_precedence_stably_in_their_own_slots() {
    let mut message = response("www.example.", RecordType::AAAA);
    message.add_answer(address("www.example.", TEREDO));
    message.add_answer(address("www.example.", "2a00::1"));
    message.add_answer(address("other.example.", "2001:0:1::1"));
    message.add_answer(address("WWW.example.", "2002:c000:22d::1"));
    message.add_answer(address("other.example.", "2a00::9"));
    message.add_answer(address("www.example.", "2a00::2"));
    assert!(order_addresses(&mut message.answers, &PolicyTable::seed()));
    assert_eq!(
        addresses(&message.answers),
        [
            "2a00::1",
            "2a00::2",
            "2a00::9",
            "2002:c000:22d::1",
            "2001:0:1::1",
            TEREDO
        ]
    );
    assert!(
        !order_addresses(&mut message.answers, &PolicyTable::seed()),
        "idempotent"
    );
}

#[test]
fn ipv4_rrsets_follow_a_custom_table() {
    use crate::table::TableRow;
    let row = |prefix: &str, precedence| TableRow {
        prefix: prefix.parse().unwrap(),
        precedence,
        label: 1,
    };
    let table = PolicyTable::custom([row("::/0", 40), row("10.0.0.0/8", 50)]).unwrap();
    let mut message = response("v4.example.", RecordType::A);
    for a in ["192.0.2.1", "10.0.0.1", "192.0.2.2", "10.0.0.2"] {
        message.add_answer(address("v4.example.", a));
    }
    let report = shape(&mut message, AaaaDecision::Pass, &table, 30);
    assert!(report.reordered);
    assert_eq!(
        addresses(&message.answers),
        ["10.0.0.1", "10.0.0.2", "192.0.2.1", "192.0.2.2"]
    );
}

#[test]
fn pass_on_an_ordered_answer_changes_nothing() {
    let mut message = signed_aaaa_answer();
    let before = message.clone();
    let report = shape(&mut message, AaaaDecision::Pass, &PolicyTable::seed(), 30);
    assert_eq!(report, ShapeReport::default());
    assert_eq!(message, before);
}
