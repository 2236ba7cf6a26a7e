//! What is cached and for how long (RFC 2308, RFC 8767), and the TTLs a served copy shows.

use std::time::Duration;

use hickory_proto::op::{Edns, MessageType, ResponseCode};
use hickory_proto::rr::rdata::CNAME;
use hickory_proto::rr::{RData, Record};
use tokio::time::Instant;

use super::*;
use crate::cache::{Cache, EntryKind, Uncacheable, lifetime};

#[test]
fn ttl_counts_down_with_age() {
    let cache = Cache::new(&config());
    let t0 = Instant::now();
    cache
        .insert(key("a.example."), &positive("a.example.", &[300, 60]), t0)
        .expect("cached");

    let (entry, age) = hit(cache.get(&key("a.example."), t0 + 25 * SECOND));
    assert_eq!(entry.ttl(), 60 * SECOND);
    assert_eq!(age, 25 * SECOND);
    // No record outlives the entry: the 300s record is served at the entry's 60s too.
    assert_eq!(ttls(&entry.response_at(age, false)), [35, 35]);
    // The cache keeps upstream's TTLs; only the served copy counts down.
    assert_eq!(ttls(&entry.response()), [300, 60]);
    assert_eq!(
        ttls(&entry.response_at(Duration::from_millis(59_999), false)),
        [1, 1]
    );
    assert_eq!(
        cache.get(&key("a.example."), t0 + 60 * SECOND).as_str(),
        "stale"
    );
}

#[test]
fn ttl_clamped_to_min_and_max() {
    let config = CacheConfig {
        min_ttl: 60 * SECOND,
        max_ttl: 600 * SECOND,
        ..config()
    };
    let cache = Cache::new(&config);
    let t0 = Instant::now();
    let low = cache.insert(key("low.example."), &positive("low.example.", &[5]), t0);
    let low = low.expect("cached");
    assert_eq!(low.ttl(), 60 * SECOND);
    // The raised TTL is what clients see.
    assert_eq!(ttls(&low.response_at(10 * SECOND, false)), [50]);
    let high = cache.insert(
        key("high.example."),
        &positive("high.example.", &[86_400]),
        t0,
    );
    let high = high.expect("cached");
    assert_eq!(high.ttl(), 600 * SECOND);
    assert_eq!(ttls(&high.response_at(Duration::ZERO, false)), [600]);
}

#[test]
fn nxdomain_cached_for_soa_negative_ttl() {
    let config = CacheConfig {
        max_negative_ttl: 900 * SECOND,
        ..config()
    };
    let cache = Cache::new(&config);
    let t0 = Instant::now();
    let nx = negative("nx.example.", ResponseCode::NXDomain, 3600, 300);
    let entry = cache.insert(key("nx.example."), &nx, t0).expect("cached");
    assert_eq!(entry.kind(), EntryKind::NxDomain);
    assert_eq!(entry.ttl(), 300 * SECOND); // min(SOA TTL, MINIMUM)
    // The SOA is served with the negative TTL, counted down (RFC 2308 section 5).
    assert_eq!(ttls(&entry.response_at(100 * SECOND, false)), [200]);
    let long = negative("long.example.", ResponseCode::NXDomain, 7200, 7200);
    let entry = cache
        .insert(key("long.example."), &long, t0)
        .expect("cached");
    assert_eq!(entry.ttl(), 900 * SECOND); // capped at max_negative_ttl
}

#[test]
fn nodata_cached_with_soa_min_ttl_not_applied() {
    let config = CacheConfig {
        min_ttl: 600 * SECOND,
        ..config()
    };
    let cache = Cache::new(&config);
    let nodata = negative("v4only.example.", ResponseCode::NoError, 120, 3600);
    let entry = cache
        .insert(key("v4only.example."), &nodata, Instant::now())
        .expect("cached");
    assert_eq!(entry.kind(), EntryKind::NoData);
    assert_eq!(entry.ttl(), 120 * SECOND);
}

#[test]
fn cname_chain_to_nxdomain_takes_lowest_ttl() {
    let mut message = negative("alias.example.", ResponseCode::NXDomain, 600, 600);
    let target = RData::CNAME(CNAME(name("gone.example.")));
    message.add_answer(Record::from_rdata(name("alias.example."), 30, target));
    let entry = Cache::new(&config()).insert(key("alias.example."), &message, Instant::now());
    assert_eq!(entry.expect("cached").ttl(), 30 * SECOND);
}

#[test]
fn negative_without_soa_not_cached() {
    let config = config();
    for rcode in [ResponseCode::NXDomain, ResponseCode::NoError] {
        let message = response("bare.example.", rcode);
        let decision = lifetime(&key("bare.example."), &message, &config);
        assert_eq!(decision, Err(Uncacheable::NegativeWithoutSoa), "{rcode}");
    }
    let cache = Cache::new(&config);
    let message = response("bare.example.", ResponseCode::NXDomain);
    assert!(
        cache
            .insert(key("bare.example."), &message, Instant::now())
            .is_none()
    );
    assert!(cache.is_empty());
}

#[test]
fn servfail_refused_truncated_not_cached() {
    let config = config();
    let k = key("a.example.");
    for rcode in [
        ResponseCode::ServFail,
        ResponseCode::Refused,
        ResponseCode::FormErr,
    ] {
        let decision = lifetime(&k, &negative("a.example.", rcode, 60, 60), &config);
        assert_eq!(decision, Err(Uncacheable::Rcode), "{rcode}");
    }
    let mut truncated = positive("a.example.", &[60]);
    truncated.metadata.truncation = true;
    assert_eq!(
        lifetime(&k, &truncated, &config),
        Err(Uncacheable::Truncated)
    );
    let mut query = positive("a.example.", &[60]);
    query.metadata.message_type = MessageType::Query;
    assert_eq!(
        lifetime(&k, &query, &config),
        Err(Uncacheable::NotQueryResponse)
    );
}

#[test]
fn mismatched_question_or_zero_ttl_not_cached() {
    let config = config();
    let other = positive("b.example.", &[60]);
    assert_eq!(
        lifetime(&key("a.example."), &other, &config),
        Err(Uncacheable::QuestionMismatch)
    );
    let zero = positive("a.example.", &[0]);
    assert_eq!(
        lifetime(&key("a.example."), &zero, &config),
        Err(Uncacheable::ZeroTtl)
    );
    // RFC 2181 section 8: a TTL with the top bit set reads as zero.
    let huge = positive("a.example.", &[0x8000_0000]);
    assert_eq!(
        lifetime(&key("a.example."), &huge, &config),
        Err(Uncacheable::ZeroTtl)
    );
}

#[test]
fn uncacheable_response_keeps_existing_entry() {
    let cache = Cache::new(&config());
    let t0 = Instant::now();
    cache
        .insert(key("a.example."), &positive("a.example.", &[60]), t0)
        .expect("cached");
    let servfail = response("a.example.", ResponseCode::ServFail);
    assert!(
        cache
            .insert(key("a.example."), &servfail, t0 + 70 * SECOND)
            .is_none()
    );
    assert_eq!(
        cache.get(&key("a.example."), t0 + 70 * SECOND).as_str(),
        "stale"
    );
}

#[test]
fn opt_dropped_on_insert() {
    let mut message = positive("a.example.", &[60]);
    message.set_edns(Edns::new());
    let entry = Cache::new(&config()).insert(key("a.example."), &message, Instant::now());
    assert!(entry.expect("cached").response().edns.is_none());
}
