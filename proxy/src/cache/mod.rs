//! The DNS cache (docs/behaviour.md): TTL-honouring, negative caching (RFC 2308), serve-stale
//! (RFC 8767), bounded by `cache.max_entries`.
//!
//! How the pipeline uses it:
//!
//! 1. [`Cache::get`] with the query's [`CacheKey`]. On [`Lookup::Hit`], serve
//!    `entry.response_at(age, false)`, shaped on that copy.
//! 2. On [`Lookup::Stale`] or [`Lookup::Miss`], ask upstream. Keep the stale entry.
//! 3. Upstream answered: [`Cache::insert`] (it decides whether and how long to keep it) and
//!    serve what upstream said. Every upstream failed: serve `entry.response_at(age, true)` of
//!    the stale entry if there was one (TTL 30s), SERVFAIL otherwise.
//!
//! An uncacheable response (SERVFAIL, TC, ...) never replaces an entry, so the stale copy
//! survives an upstream outage.

mod entry;
mod key;
pub mod render;
mod shard;
#[cfg(test)]
mod tests;
mod ttl;

use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use foldhash::fast::RandomState;
use hickory_proto::op::Message;
use tokio::time::Instant;

pub use entry::{Entry, STALE_TTL};
pub use key::CacheKey;
pub use ttl::{EntryKind, Lifetime, Uncacheable, lifetime};

use crate::config::CacheConfig;
use shard::Shard;

/// The most shards a cache is split into: enough that the listener tasks of a small host
/// rarely meet on one lock.
const MAX_SHARDS: usize = 16;

/// The fewest entries per shard worth a lock of its own: below this, eviction in a small
/// shard would be more arbitrary than the contention it saves.
const MIN_SHARD_ENTRIES: usize = 64;

/// The outcome of a lookup.
#[derive(Clone, Debug)]
pub enum Lookup {
    /// A fresh entry, `age` after its insertion.
    Hit {
        /// The entry.
        entry: Arc<Entry>,
        /// Time since insertion, to count TTLs down with [`Entry::response_at`].
        age: Duration,
    },
    /// An expired entry within `cache.stale_max_age` of its expiry (only when
    /// `cache.serve_stale` is on): ask upstream, and serve this only if every upstream fails.
    Stale {
        /// The entry.
        entry: Arc<Entry>,
        /// Time since insertion.
        age: Duration,
    },
    /// Nothing usable.
    Miss,
}

impl Lookup {
    /// The `result` label of `pathwise_cache_lookups_total` (docs/metrics.md).
    ///
    /// A stale entry that ends up unused (upstream answered) was still a stale lookup.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Hit { .. } => "hit",
            Self::Stale { .. } => "stale",
            Self::Miss => "miss",
        }
    }
}

/// The cache: `N` shards, each a `Mutex` over a map with CLOCK eviction.
///
/// Eviction: each shard is a CLOCK (second-chance) ring: a hit sets a bit, and when the shard
/// is full the hand evicts the first entry that is expired or was not hit since the hand last
/// passed. A lookup locks one shard (picked by the key's hash) for a hash probe and a bit
/// store, so lookups spread over shards instead of serializing on one lock, and a hit never
/// reorders a list. The bound is per shard (`max_entries` split evenly), so the whole cache
/// never holds more than `cache.max_entries`; with keys hashed under a random per-process seed (foldhash), a
/// flood of names cannot aim at one shard.
#[derive(Debug)]
pub struct Cache {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    config: CacheConfig,
}

impl Cache {
    /// An empty cache for `config`, with a shard count suited to `max_entries`.
    pub fn new(config: &CacheConfig) -> Self {
        let shards = (config.max_entries / MIN_SHARD_ENTRIES).clamp(1, MAX_SHARDS);
        Self::with_shards(config, shards)
    }

    /// An empty cache split into `shards` shards (at least one). `max_entries` is divided
    /// among them so that their sum is exactly `max_entries`.
    pub fn with_shards(config: &CacheConfig, shards: usize) -> Self {
        let shards = shards.max(1);
        let (each, extra) = (config.max_entries / shards, config.max_entries % shards);
        let shards = (0..shards)
            .map(|i| Mutex::new(Shard::new(each + usize::from(i < extra))))
            .collect();
        Self {
            shards,
            hasher: RandomState::default(),
            config: config.clone(),
        }
    }

    /// Caches `response` under `key` at `now`, if it may be cached (see [`lifetime`]).
    /// Returns the new entry, or `None` when the response was not cached; an existing entry
    /// for the key is then left as it was.
    pub fn insert(&self, key: CacheKey, response: &Message, now: Instant) -> Option<Arc<Entry>> {
        let lifetime = match lifetime(&key, response, &self.config) {
            Ok(lifetime) => lifetime,
            Err(reason) => {
                tracing::trace!(name = %key.name(), qtype = %key.qtype(), reason = reason.as_str(),
                    "response not cached");
                return None;
            }
        };
        let Some(entry) = Entry::new(response, lifetime, now) else {
            tracing::debug!(name = %key.name(), qtype = %key.qtype(), "response not cached: it does not re-encode");
            return None;
        };
        let entry = Arc::new(entry);
        let stored = self.shard(&key).insert(key, Arc::clone(&entry), now);
        stored.then_some(entry)
    }

    /// Looks `key` up at `now`. Returns [`Lookup::Stale`] only when `cache.serve_stale` is on
    /// and the entry expired at most `cache.stale_max_age` ago; entries expired longer ago are
    /// removed and reported as a miss.
    pub fn get(&self, key: &CacheKey, now: Instant) -> Lookup {
        let stale_window = self.config.serve_stale.then_some(self.config.stale_max_age);
        self.shard(key).get(key, now, stale_window)
    }

    /// The number of entries, fresh and expired, over all shards (the
    /// `pathwise_cache_entries` gauge).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|shard| lock(shard).len()).sum()
    }

    /// Entries evicted to make room under `cache.max_entries`, ever (counted in
    /// `pathwise_limited_total{limit="cache"}`).
    pub fn evictions(&self) -> u64 {
        self.shards.iter().map(|shard| lock(shard).evicted()).sum()
    }

    /// Whether the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every entry.
    pub fn clear(&self) {
        for shard in &self.shards {
            lock(shard).clear();
        }
    }

    /// The locked shard that holds `key`.
    fn shard(&self, key: &CacheKey) -> MutexGuard<'_, Shard> {
        let hash = self.hasher.hash_one(key);
        // The remainder is below the shard count, so the narrowing cast is lossless.
        lock(&self.shards[(hash % self.shards.len() as u64) as usize])
    }
}

/// Locks a shard. A panic while one was held cannot have left it half-updated (no shard
/// method panics between its writes), so a poisoned lock is used as it is rather than taking
/// the cache, and every query after, down with it.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}
