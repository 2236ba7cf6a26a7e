//! One shard of the cache: a map plus a CLOCK (second-chance) ring for eviction.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{CacheKey, Entry, Lookup};

/// A bounded map from key to entry, evicting by CLOCK.
///
/// Entries sit in a ring (`slots`) that a hand walks when the shard is full. A hit only sets
/// the slot's `referenced` bit: no list to relink, so a lookup is a hash probe and a store.
/// The hand evicts the first slot that is expired (a stale entry only answers when upstream is
/// down, so it never gets a second chance) or was not referenced since the hand last passed;
/// referenced slots have their bit cleared and are passed over. A new key starts
/// unreferenced, so a flood of names asked once (random subdomains) is evicted before the
/// names clients keep asking for; a key inserted again (it was asked for after expiring)
/// starts referenced.
#[derive(Debug)]
pub(super) struct Shard {
    index: HashMap<CacheKey, usize, foldhash::fast::RandomState>,
    slots: Vec<Slot>,
    hand: usize,
    capacity: usize,
    /// Entries evicted to make room, ever.
    evicted: u64,
}

#[derive(Debug)]
struct Slot {
    key: CacheKey,
    entry: Arc<Entry>,
    referenced: bool,
}

impl Shard {
    /// An empty shard holding at most `capacity` entries.
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            index: HashMap::default(),
            slots: Vec::new(),
            hand: 0,
            capacity,
            evicted: 0,
        }
    }

    /// Looks `key` up at `now`. `stale_window` is how long after expiry an entry may still be
    /// served stale (`None`: serve-stale is off); entries beyond it are removed.
    pub(super) fn get(
        &mut self,
        key: &CacheKey,
        now: Instant,
        stale_window: Option<Duration>,
    ) -> Lookup {
        let Some(&at) = self.index.get(key) else {
            return Lookup::Miss;
        };
        let slot = &mut self.slots[at];
        let age = slot.entry.age(now);
        let ttl = slot.entry.ttl();
        if age < ttl {
            slot.referenced = true;
            return Lookup::Hit {
                entry: Arc::clone(&slot.entry),
                age,
            };
        }
        if stale_window.is_some_and(|window| age - ttl <= window) {
            return Lookup::Stale {
                entry: Arc::clone(&slot.entry),
                age,
            };
        }
        self.remove_at(at);
        Lookup::Miss
    }

    /// Stores `entry` under `key`, evicting one entry if the shard is full. False only when
    /// the shard has no room at all (capacity 0).
    pub(super) fn insert(&mut self, key: CacheKey, entry: Arc<Entry>, now: Instant) -> bool {
        if let Some(&at) = self.index.get(&key) {
            let slot = &mut self.slots[at];
            slot.entry = entry;
            slot.referenced = true;
            return true;
        }
        if self.slots.len() < self.capacity {
            self.index.insert(key.clone(), self.slots.len());
            self.slots.push(Slot {
                key,
                entry,
                referenced: false,
            });
            return true;
        }
        if self.slots.is_empty() {
            return false;
        }
        let victim = self.victim(now);
        let old = std::mem::replace(
            &mut self.slots[victim],
            Slot {
                key: key.clone(),
                entry,
                referenced: false,
            },
        );
        self.index.remove(&old.key);
        self.index.insert(key, victim);
        self.evicted += 1;
        self.hand = (victim + 1) % self.slots.len();
        true
    }

    /// Walks the hand to the slot to evict. Ends within one turn plus one step: each
    /// passed-over slot has its bit cleared, so the hand stops at the latest where it began.
    fn victim(&mut self, now: Instant) -> usize {
        loop {
            let at = self.hand;
            let slot = &mut self.slots[at];
            if !slot.referenced || slot.entry.is_expired(now) {
                return at;
            }
            slot.referenced = false;
            self.hand = (at + 1) % self.slots.len();
        }
    }

    /// Removes the slot at `at`, moving the last slot into its place.
    fn remove_at(&mut self, at: usize) {
        let removed = self.slots.swap_remove(at);
        self.index.remove(&removed.key);
        if let Some(moved) = self.slots.get(at)
            && let Some(index) = self.index.get_mut(&moved.key)
        {
            *index = at;
        }
        if self.hand >= self.slots.len() {
            self.hand = 0;
        }
    }

    /// Entries evicted to make room since the shard was made.
    pub(super) fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The number of entries, fresh or not.
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Removes every entry.
    pub(super) fn clear(&mut self) {
        self.index.clear();
        self.slots.clear();
        self.hand = 0;
    }
}
