//! Property tests: classification is total, ordering is a stable idempotent permutation, and
//! shaping touches nothing but AAAA data, never the rcode, and nothing at all when it must not.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::svcb::SvcParamKey;
use hickory_proto::rr::{RData, Record, RecordType};
use proptest::prelude::*;

use super::messages::{address, cname, https, ns, response, rrsig, soa};
use crate::class::{AddressClass, classify};
use crate::decision::{
    ARecord, AaaaDecision, ExplicitAsk, PolicyConfig, QueryFacts, ResponseFacts, decide,
};
use crate::paths::{FilterMode, Path, PathState};
use crate::shape::{order_addresses, shape};
use crate::table::PolicyTable;

/// IPv6 addresses biased towards the classes that matter: Teredo, 6to4, native, others.
fn ipv6() -> impl Strategy<Value = Ipv6Addr> {
    prop_oneof![
        any::<u128>().prop_map(|bits| Ipv6Addr::from((0x2001_0000u128 << 96) | (bits >> 32))),
        any::<u128>().prop_map(|bits| Ipv6Addr::from((0x2002u128 << 112) | (bits >> 16))),
        any::<u128>().prop_map(|bits| Ipv6Addr::from((0x2a00u128 << 112) | (bits >> 16))),
        any::<u128>().prop_map(Ipv6Addr::from),
    ]
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        ipv6().prop_map(IpAddr::V6)
    ]
}

const OWNERS: [&str; 3] = ["a.example.", "b.example.", "A.EXAMPLE."];

/// One record of a kind found in real responses.
fn record() -> impl Strategy<Value = Record> {
    let owner = prop::sample::select(&OWNERS[..]);
    (owner, 0..7u8, ip(), ipv6()).prop_map(|(owner, kind, ip, v6)| match kind {
        0 => address(owner, &Ipv4Addr::from(u128::from(v6) as u32).to_string()),
        1 | 2 => address(owner, &IpAddr::V6(v6).to_string()),
        3 => address(owner, &ip.to_string()),
        4 => cname(owner, "c.example."),
        5 => rrsig(
            owner,
            if v6.segments()[7] % 2 == 0 {
                RecordType::AAAA
            } else {
                RecordType::A
            },
        ),
        _ => https(
            owner,
            &[&v6.to_string(), "2001:0:1::1"],
            v6.segments()[6] % 2 == 0,
        ),
    })
}

fn message() -> impl Strategy<Value = Message> {
    let qtype = prop::sample::select(
        &[
            RecordType::AAAA,
            RecordType::A,
            RecordType::HTTPS,
            RecordType::MX,
        ][..],
    );
    let rcode = prop::sample::select(
        &[
            ResponseCode::NoError,
            ResponseCode::NXDomain,
            ResponseCode::ServFail,
        ][..],
    );
    let section = || prop::collection::vec(record(), 0..10);
    (qtype, rcode, section(), section(), any::<bool>()).prop_map(
        |(qtype, rcode, answers, additionals, with_soa)| {
            let mut message = response("a.example.", qtype);
            message.metadata.response_code = rcode;
            message.answers = answers;
            message.additionals = additionals;
            if with_soa {
                message.add_authority(soa("example.", 3600, 600));
            } else {
                message.add_authority(ns("example.", "ns.example."));
            }
            message
        },
    )
}

fn path_state() -> impl Strategy<Value = PathState> {
    any::<[bool; 4]>().prop_map(|bits| {
        Path::ALL
            .into_iter()
            .zip(bits)
            .filter(|(_, on)| *on)
            .map(|(p, _)| p)
            .collect()
    })
}

fn config() -> impl Strategy<Value = PolicyConfig> {
    (
        prop::sample::select(&FilterMode::ALL[..]),
        any::<[bool; 3]>(),
        0..100u32,
    )
        .prop_map(|(mode, flags, ttl)| PolicyConfig {
            filter_aaaa: mode,
            keep_teredo_destinations: flags[0],
            require_a: flags[1],
            break_dnssec: flags[2],
            filtered_ttl: ttl,
        })
}

fn query() -> impl Strategy<Value = QueryFacts> {
    let a_record = prop::sample::select(&[ARecord::Present, ARecord::Absent, ARecord::Unknown][..]);
    (any::<[bool; 4]>(), a_record).prop_map(|(flags, a_record)| QueryFacts {
        explicit: ExplicitAsk {
            client: flags[0],
            edns_option: flags[1],
            lone_aaaa: flags[2],
        },
        dnssec_ok: flags[3],
        a_record,
    })
}

fn is_aaaa_data(record: &Record) -> bool {
    record.record_type() == RecordType::AAAA
        || (record.record_type() == RecordType::RRSIG && rrsig_covers_aaaa(record))
}

fn rrsig_covers_aaaa(record: &Record) -> bool {
    matches!(&record.data, RData::Unknown { rdata, .. } if rdata.anything[..2] == u16::from(RecordType::AAAA).to_be_bytes())
}

/// A record as the property compares it: HTTPS/SVCB without ipv6hint or mandatory, SOA TTLs
/// zeroed (the filter may cap them).
fn normalized(record: &Record) -> Record {
    let mut record = record.clone();
    match &mut record.data {
        RData::HTTPS(https) => https
            .0
            .svc_params
            .retain(|(k, _)| !matches!(k, SvcParamKey::Ipv6Hint | SvcParamKey::Mandatory)),
        RData::SOA(soa) => {
            soa.minimum = 0;
            record.ttl = 0;
        }
        _ => {}
    }
    record
}

/// The records other than AAAA data, normalized, in order.
fn others(section: &[Record]) -> Vec<Record> {
    section
        .iter()
        .filter(|r| !is_aaaa_data(r))
        .map(normalized)
        .collect()
}

fn sorted_addresses(section: &[Record]) -> Vec<String> {
    let mut all: Vec<String> = section
        .iter()
        .map(|r| format!("{} {}", r.name, r.data))
        .collect();
    all.sort();
    all
}

proptest! {
    #[test]
    fn classification_is_total_and_mapped_follows_ipv4(bits in any::<u32>(), v6 in any::<u128>()) {
        let v4 = Ipv4Addr::from(bits);
        let class = classify(IpAddr::V4(v4));
        prop_assert!(AddressClass::ALL.contains(&class));
        prop_assert_eq!(classify(IpAddr::V6(v4.to_ipv6_mapped())), class);
        prop_assert!(AddressClass::ALL.contains(&classify(IpAddr::V6(Ipv6Addr::from(v6)))));
    }

    #[test]
    fn ordering_is_a_stable_idempotent_permutation(message in message(), rfc in any::<bool>()) {
        let table = if rfc { PolicyTable::rfc6724() } else { PolicyTable::seed() };
        let mut answers = message.answers.clone();
        order_addresses(&mut answers, &table);
        prop_assert_eq!(sorted_addresses(&answers), sorted_addresses(&message.answers));
        // Non-address records keep their slots.
        for (before, after) in message.answers.iter().zip(&answers) {
            let is_address = |r: &Record| matches!(r.record_type(), RecordType::A | RecordType::AAAA);
            prop_assert_eq!(is_address(before), is_address(after));
            if !is_address(before) {
                prop_assert_eq!(before, after);
            }
        }
        // Within each RRset: precedence never rises, and equal precedences keep upstream order.
        for owner in OWNERS {
            for rtype in [RecordType::A, RecordType::AAAA] {
                let rrset = |section: &[Record]| -> Vec<(u8, String)> {
                    section.iter()
                        .filter(|r| r.record_type() == rtype && r.name == hickory_proto::rr::Name::from_ascii(owner).unwrap())
                        .map(|r| {
                            let address = match &r.data { RData::A(a) => IpAddr::V4(a.0), RData::AAAA(a) => IpAddr::V6(a.0), _ => unreachable!() };
                            (table.precedence(address), address.to_string())
                        })
                        .collect()
                };
                let after = rrset(&answers);
                prop_assert!(after.windows(2).all(|w| w[0].0 >= w[1].0), "not ordered: {after:?}");
                let mut stable = rrset(&message.answers);
                stable.sort_by_key(|entry| std::cmp::Reverse(entry.0));
                prop_assert_eq!(&after, &stable);
            }
        }
        let again = answers.clone();
        prop_assert!(!order_addresses(&mut answers, &table));
        prop_assert_eq!(answers, again);
    }

    #[test]
    fn shaping_touches_only_aaaa_data(
        message in message(),
        config in config(),
        state in path_state(),
        query in query(),
    ) {
        let decision = decide(&config, state, &query, &ResponseFacts::of(&message));
        let mut shaped = message.clone();
        let report = shape(&mut shaped, decision, &PolicyTable::seed(), config.filtered_ttl);
        prop_assert_eq!(shaped.metadata.response_code, message.metadata.response_code);
        prop_assert_eq!(&shaped.queries, &message.queries);
        prop_assert_eq!(others(&shaped.answers), others(&message.answers));
        prop_assert_eq!(others(&shaped.additionals), others(&message.additionals));
        // A filtered NODATA loses its authority NS records (not a referral); nothing else goes.
        let authorities = |section: &[Record]| -> Vec<Record> {
            others(section)
                .into_iter()
                .filter(|r| !(report.nodata && r.record_type() == RecordType::NS))
                .collect()
        };
        prop_assert_eq!(authorities(&shaped.authorities), authorities(&message.authorities));
        let explicit = query.explicit.client || query.explicit.edns_option;
        let inactive = config.filter_aaaa.active(state).is_none();
        if explicit || inactive || !matches!(decision, AaaaDecision::Remove { .. }) {
            // Nothing removed: the same records, at most reordered, and the header untouched.
            prop_assert!(!report.removed_any());
            prop_assert_eq!(sorted_addresses(&shaped.answers), sorted_addresses(&message.answers));
            prop_assert_eq!(sorted_addresses(&shaped.additionals), sorted_addresses(&message.additionals));
            prop_assert_eq!(&shaped.authorities, &message.authorities);
            prop_assert_eq!(shaped.metadata, message.metadata);
        }
    }
}
