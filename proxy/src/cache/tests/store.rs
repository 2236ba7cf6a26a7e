//! Keys, serve-stale and eviction.

use hickory_proto::rr::{DNSClass, RecordType};
use tokio::time::Instant;

use super::*;
use crate::cache::{Cache, CacheKey, Lookup, STALE_TTL};

#[test]
fn key_case_folding_shares_entry() {
    let cache = Cache::new(&config());
    let t0 = Instant::now();
    let upper = key("WWW.Example.");
    cache
        .insert(upper, &positive("WWW.Example.", &[60]), t0)
        .expect("cached");
    let (entry, _) = hit(cache.get(&key("www.example."), t0));
    // What upstream said, its spelling included, is kept.
    assert_eq!(entry.response().answers[0].name.to_string(), "WWW.Example.");
    assert_eq!(cache.len(), 1);
}

#[test]
fn do_and_cd_are_separate_entries() {
    let cache = Cache::new(&config());
    let t0 = Instant::now();
    let plain = key("a.example.");
    let dnssec = CacheKey::new(
        &name("a.example."),
        RecordType::A,
        DNSClass::IN,
        true,
        false,
    );
    let cd = CacheKey::new(
        &name("a.example."),
        RecordType::A,
        DNSClass::IN,
        false,
        true,
    );
    cache
        .insert(dnssec.clone(), &positive("a.example.", &[60]), t0)
        .expect("cached");
    assert_eq!(cache.get(&plain, t0).as_str(), "miss");
    assert_eq!(cache.get(&cd, t0).as_str(), "miss");
    assert_eq!(cache.get(&dnssec, t0).as_str(), "hit");
    cache
        .insert(cd.clone(), &positive("a.example.", &[60]), t0)
        .expect("cached");
    assert_eq!(cache.len(), 2);
}

#[test]
fn stale_window_then_removed() {
    let config = CacheConfig {
        stale_max_age: 100 * SECOND,
        ..config()
    };
    let cache = Cache::new(&config);
    let (k, t0) = (key("a.example."), Instant::now());
    cache
        .insert(k.clone(), &positive("a.example.", &[60]), t0)
        .expect("cached");
    assert_eq!(cache.get(&k, t0 + 59 * SECOND).as_str(), "hit");
    let Lookup::Stale { entry, age } = cache.get(&k, t0 + 60 * SECOND) else {
        panic!("expected stale at expiry");
    };
    assert_eq!(ttls(&entry.response_at(age, true)), [STALE_TTL]);
    assert_eq!(cache.get(&k, t0 + 160 * SECOND).as_str(), "stale");
    assert_eq!(cache.get(&k, t0 + 161 * SECOND).as_str(), "miss");
    assert!(cache.is_empty(), "expired beyond stale_max_age is removed");
}

#[test]
fn serve_stale_off_misses_at_expiry() {
    let cache = Cache::new(&CacheConfig {
        serve_stale: false,
        ..config()
    });
    let (k, t0) = (key("a.example."), Instant::now());
    cache
        .insert(k.clone(), &positive("a.example.", &[60]), t0)
        .expect("cached");
    assert_eq!(cache.get(&k, t0 + 60 * SECOND).as_str(), "miss");
    assert!(cache.is_empty());
}

#[test]
fn bound_respected_under_many_inserts() {
    let cache = Cache::new(&CacheConfig {
        max_entries: 500,
        ..config()
    });
    let t0 = Instant::now();
    for i in 0..5_000 {
        let qname = format!("n{i}.example.");
        cache
            .insert(key(&qname), &positive(&qname, &[60]), t0)
            .expect("cached");
        assert!(cache.len() <= 500);
    }
    assert_eq!(cache.len(), 500, "every shard is full");
    cache.clear();
    assert!(cache.is_empty());
}

#[test]
fn clock_evicts_unreferenced_before_referenced() {
    let cache = Cache::with_shards(
        &CacheConfig {
            max_entries: 4,
            ..config()
        },
        1,
    );
    let t0 = Instant::now();
    for qname in ["a.example.", "b.example.", "c.example.", "d.example."] {
        cache
            .insert(key(qname), &positive(qname, &[60]), t0)
            .expect("cached");
    }
    for qname in ["a.example.", "b.example.", "d.example."] {
        hit(cache.get(&key(qname), t0));
    }
    cache
        .insert(key("e.example."), &positive("e.example.", &[60]), t0)
        .expect("cached");
    assert_eq!(
        cache.get(&key("c.example."), t0).as_str(),
        "miss",
        "c was never hit"
    );
    for qname in ["a.example.", "b.example.", "d.example.", "e.example."] {
        assert_eq!(cache.get(&key(qname), t0).as_str(), "hit", "{qname}");
    }
}

#[test]
fn clock_evicts_expired_even_if_referenced() {
    let cache = Cache::with_shards(
        &CacheConfig {
            max_entries: 3,
            ..config()
        },
        1,
    );
    let t0 = Instant::now();
    // The short-lived entry is last in the ring: plain CLOCK would clear every bit and come
    // back round to a; an expired entry is taken without a second chance.
    for (qname, ttl) in [("a.example.", 600), ("b.example.", 600), ("c.example.", 10)] {
        cache
            .insert(key(qname), &positive(qname, &[ttl]), t0)
            .expect("cached");
        hit(cache.get(&key(qname), t0));
    }
    let later = t0 + 20 * SECOND;
    cache
        .insert(key("d.example."), &positive("d.example.", &[60]), later)
        .expect("cached");
    assert!(
        matches!(cache.get(&key("c.example."), later), Lookup::Miss),
        "expired goes first"
    );
    for qname in ["a.example.", "b.example.", "d.example."] {
        assert_eq!(cache.get(&key(qname), later).as_str(), "hit", "{qname}");
    }
}

#[test]
fn zero_max_entries_caches_nothing() {
    let cache = Cache::new(&CacheConfig {
        max_entries: 0,
        ..config()
    });
    let cached = cache.insert(
        key("a.example."),
        &positive("a.example.", &[60]),
        Instant::now(),
    );
    assert!(cached.is_none());
    assert!(cache.is_empty());
}
