//! The lone-AAAA signal (docs/behaviour.md): which clients asked A for a name recently, so that an
//! AAAA query without its A twin can be told apart from `getaddrinfo(AF_UNSPEC)`.
//!
//! glibc's `getaddrinfo(AF_UNSPEC)` sends A and then AAAA from one socket within a
//! millisecond; `getaddrinfo(AF_INET6)` and `dig AAAA` send AAAA alone; `getent hosts` sends
//! AAAA first. So the pipeline decides when the AAAA *answer* is ready, not when the query
//! arrives: [`PairTracker::a_seen`] at that moment, and, when the answer came from cache
//! before the A could arrive, [`PairTracker::wait_for_a`] for at most `policy.explicit.hold`.
//! An A that arrives after the AAAA answer was sent (glibc's `AI_V4MAPPED` retry after an
//! empty AAAA) changes nothing about that answer.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use hickory_proto::rr::LowerName;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Who asked for which name (the pairing is per client address, as glibc sends both queries
/// from one socket), as a 64-bit fingerprint of the two under a random per-tracker seed: 8
/// bytes per record instead of a copy of the name, so a full tracker stays small. Two pairs
/// share a fingerprint with odds of about one in 2^64 per lookup; the cost of that would be
/// one AAAA taken as paired.
type PairKey = u64;

/// Remembers recent A queries per (client, name) for `pair_window`, and wakes AAAA answers
/// that wait for their A.
///
/// Memory is bounded by `capacity`: records are kept in arrival order, dropped when older
/// than the window, and the oldest dropped first when there are more than `capacity`. Under a
/// flood, the oldest A queries are forgotten first: the worst outcome is that an AAAA query
/// is taken as explicit and its AAAA records are kept, which is the unfiltered behaviour.
#[derive(Debug)]
pub struct PairTracker {
    pair_window: Duration,
    capacity: usize,
    seed: foldhash::fast::RandomState,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The latest A query time per key.
    seen: HashMap<PairKey, Instant, foldhash::fast::RandomState>,
    /// Every recorded A query, oldest first; a key asked again appears more than once, and
    /// only the record matching `seen` counts when one is dropped.
    order: VecDeque<(PairKey, Instant)>,
    /// AAAA answers waiting for the A of their key (removed by the last waiter to leave).
    waiters: HashMap<PairKey, Arc<Notify>, foldhash::fast::RandomState>,
    /// Records dropped before their time because the tracker was full, ever.
    evicted: u64,
}

impl PairTracker {
    /// A tracker pairing queries within `pair_window` (`policy.explicit.pair_window`),
    /// remembering at most `capacity` A queries.
    pub fn new(pair_window: Duration, capacity: usize) -> Self {
        Self {
            pair_window,
            capacity,
            seed: foldhash::fast::RandomState::default(),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Records that `client` asked A for `name` at `now`, and wakes any AAAA answer waiting for
    /// it. Also drops records older than the window, and the oldest beyond `capacity`.
    pub fn record_a(&self, client: IpAddr, name: &LowerName, now: Instant) {
        let key = self.key(client, name);
        let mut inner = self.lock();
        if let Some(notify) = inner.waiters.get(&key) {
            notify.notify_waiters();
        }
        if self.capacity == 0 {
            return;
        }
        inner.seen.insert(key, now);
        inner.order.push_back((key, now));
        inner.expire(now.checked_sub(self.pair_window), self.capacity);
    }

    /// Whether `client` asked A for `name` within the pair window up to `now`: at most
    /// `pair_window` before it, and not after it.
    pub fn a_seen(&self, client: IpAddr, name: &LowerName, now: Instant) -> bool {
        self.seen(self.key(client, name), now)
    }

    fn seen(&self, key: PairKey, now: Instant) -> bool {
        self.lock()
            .seen
            .get(&key)
            .is_some_and(|&asked| self.in_window(asked, now))
    }

    /// Waits at most `hold` for `client` to ask A for `name`; true at once if it already did
    /// within the window, true when such an A is recorded during the wait, false after `hold`.
    pub async fn wait_for_a(&self, client: IpAddr, name: &LowerName, hold: Duration) -> bool {
        let key = self.key(client, name);
        let notify = {
            let mut inner = self.lock();
            if inner
                .seen
                .get(&key)
                .is_some_and(|&asked| self.in_window(asked, Instant::now()))
            {
                return true;
            }
            Arc::clone(inner.waiters.entry(key).or_default())
        };
        // Declared before `notified`, which borrows it, so it is dropped after it: on every
        // exit, cancellation included, the waiter entry is released.
        let waiting = Waiting {
            tracker: self,
            key,
            notify: Some(notify),
        };
        let notified = waiting.notify().notified();
        tokio::pin!(notified);
        // Register before checking again: an A recorded between the check above and this
        // registration would otherwise wake nobody.
        notified.as_mut().enable();
        if self.seen(waiting.key, Instant::now()) {
            return true;
        }
        tokio::time::timeout(hold, notified).await.is_ok()
    }

    /// A queries forgotten before the end of their window because the tracker was full, ever
    /// (counted in `pathwise_limited_total{limit="pair_table"}`).
    pub fn evictions(&self) -> u64 {
        self.lock().evicted
    }

    /// The number of A queries remembered (for tests and a gauge).
    pub fn len(&self) -> usize {
        self.lock().order.len()
    }

    /// Whether no A query is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn key(&self, client: IpAddr, name: &LowerName) -> PairKey {
        self.seed.hash_one((client, name))
    }

    fn in_window(&self, asked: Instant, now: Instant) -> bool {
        asked <= now && now - asked <= self.pair_window
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics while the lock is held, so a poisoned lock holds consistent data.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    /// Drops records older than `oldest` (if any), then the oldest beyond `capacity`.
    fn expire(&mut self, oldest: Option<Instant>, capacity: usize) {
        while let Some(&(_, asked)) = self.order.front() {
            let too_old = oldest.is_some_and(|oldest| asked < oldest);
            if !too_old && self.order.len() <= capacity {
                break;
            }
            let Some((key, asked)) = self.order.pop_front() else {
                break;
            };
            if !too_old {
                self.evicted += 1;
            }
            // Forget the key only if this was its latest A: a newer one is still queued.
            if self.seen.get(&key) == Some(&asked) {
                self.seen.remove(&key);
            }
        }
    }
}

/// One AAAA answer's wait: on drop, removes the key's `Notify` when no one else waits on it.
struct Waiting<'a> {
    tracker: &'a PairTracker,
    key: PairKey,
    notify: Option<Arc<Notify>>,
}

impl Waiting<'_> {
    fn notify(&self) -> &Notify {
        self.notify.as_deref().expect("present until drop")
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut inner = self.tracker.lock();
        // Our handle goes under the lock, where every other is taken, so the count is exact.
        drop(self.notify.take());
        if inner
            .waiters
            .get(&self.key)
            .is_some_and(|notify| Arc::strong_count(notify) == 1)
        {
            inner.waiters.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    //! Time is injected (`now`) for the window; the hold runs on tokio's timer, and every
    //! outcome is decided by what is recorded, never by how fast the test runs.

    use std::net::Ipv6Addr;
    use std::sync::Arc;

    use hickory_proto::rr::Name;
    use tokio::task::yield_now;

    use super::*;

    const WINDOW: Duration = Duration::from_secs(1);
    const CLIENT: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);
    const OTHER_CLIENT: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2));

    fn name(text: &str) -> LowerName {
        LowerName::new(&Name::from_ascii(text).expect("a valid name"))
    }

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn a_then_aaaa_within_window_is_paired() {
        let tracker = PairTracker::new(WINDOW, 100);
        let t0 = Instant::now();
        tracker.record_a(CLIENT, &name("www.example."), t0);
        assert!(tracker.a_seen(CLIENT, &name("www.example."), t0));
        assert!(tracker.a_seen(CLIENT, &name("WWW.Example."), t0 + ms(1)));
        assert!(tracker.a_seen(CLIENT, &name("www.example."), t0 + WINDOW));
    }

    #[test]
    fn aaaa_after_the_window_is_lone() {
        let tracker = PairTracker::new(WINDOW, 100);
        let t0 = Instant::now();
        tracker.record_a(CLIENT, &name("www.example."), t0);
        assert!(!tracker.a_seen(CLIENT, &name("www.example."), t0 + WINDOW + ms(1)));
    }

    #[test]
    fn a_after_the_answer_does_not_count() {
        // glibc's AI_V4MAPPED A follows the empty AAAA answer: it says nothing about it.
        let tracker = PairTracker::new(WINDOW, 100);
        let t0 = Instant::now();
        tracker.record_a(CLIENT, &name("www.example."), t0 + ms(5));
        assert!(!tracker.a_seen(CLIENT, &name("www.example."), t0));
    }

    #[test]
    fn other_client_or_name_is_lone() {
        let tracker = PairTracker::new(WINDOW, 100);
        let t0 = Instant::now();
        tracker.record_a(CLIENT, &name("www.example."), t0);
        assert!(!tracker.a_seen(OTHER_CLIENT, &name("www.example."), t0));
        assert!(!tracker.a_seen(CLIENT, &name("mail.example."), t0));
    }

    #[test]
    fn repeated_a_keeps_the_latest() {
        let tracker = PairTracker::new(WINDOW, 100);
        let t0 = Instant::now();
        tracker.record_a(CLIENT, &name("www.example."), t0);
        tracker.record_a(CLIENT, &name("www.example."), t0 + ms(900));
        // The first record expires here; the second still pairs.
        tracker.record_a(CLIENT, &name("other.example."), t0 + ms(1500));
        assert_eq!(tracker.len(), 2);
        assert!(tracker.a_seen(CLIENT, &name("www.example."), t0 + ms(1500)));
    }

    #[test]
    fn records_expire_after_the_window() {
        let tracker = PairTracker::new(WINDOW, 1000);
        let t0 = Instant::now();
        for i in 0..100 {
            tracker.record_a(CLIENT, &name(&format!("n{i}.example.")), t0);
        }
        tracker.record_a(CLIENT, &name("late.example."), t0 + 2 * WINDOW);
        assert_eq!(tracker.len(), 1);
        assert_eq!(tracker.lock().seen.len(), 1);
    }

    #[test]
    fn capacity_bound_holds_under_a_flood() {
        let tracker = PairTracker::new(WINDOW, 100);
        let t0 = Instant::now();
        for i in 0..10_000 {
            tracker.record_a(CLIENT, &name(&format!("n{i}.example.")), t0);
            assert!(tracker.len() <= 100);
        }
        assert_eq!(tracker.lock().seen.len(), 100);
        assert!(
            tracker.a_seen(CLIENT, &name("n9999.example."), t0),
            "newest kept"
        );
        assert!(
            !tracker.a_seen(CLIENT, &name("n0.example."), t0),
            "oldest evicted"
        );
    }

    #[tokio::test]
    async fn wait_for_a_true_when_a_arrives_within_hold() {
        let tracker = Arc::new(PairTracker::new(WINDOW, 100));
        let waiter = {
            let tracker = Arc::clone(&tracker);
            // A long hold: the wait ends on the A, so the test does not depend on timing.
            tokio::spawn(async move {
                tracker
                    .wait_for_a(CLIENT, &name("www.example."), Duration::from_secs(60))
                    .await
            })
        };
        for _ in 0..5 {
            yield_now().await;
        }
        assert!(!waiter.is_finished(), "waits for the A");
        tracker.record_a(CLIENT, &name("www.example."), Instant::now());
        assert!(waiter.await.expect("no panic"));
        assert!(
            tracker.lock().waiters.is_empty(),
            "the waiter entry is released"
        );
    }

    #[tokio::test]
    async fn wait_for_a_true_at_once_when_a_already_seen() {
        let tracker = PairTracker::new(WINDOW, 100);
        tracker.record_a(CLIENT, &name("www.example."), Instant::now());
        let hold = Duration::from_secs(3600);
        assert!(
            tracker
                .wait_for_a(CLIENT, &name("www.example."), hold)
                .await
        );
    }

    #[tokio::test]
    async fn wait_for_a_false_without_a_within_hold() {
        let tracker = Arc::new(PairTracker::new(WINDOW, 100));
        let waiter = {
            let tracker = Arc::clone(&tracker);
            tokio::spawn(async move {
                tracker
                    .wait_for_a(CLIENT, &name("www.example."), ms(20))
                    .await
            })
        };
        yield_now().await;
        // Another client's A, or another name's, is not this AAAA's pair.
        tracker.record_a(OTHER_CLIENT, &name("www.example."), Instant::now());
        tracker.record_a(CLIENT, &name("mail.example."), Instant::now());
        assert!(!waiter.await.expect("no panic"));
        assert!(
            tracker.lock().waiters.is_empty(),
            "the waiter entry is released"
        );
    }

    #[tokio::test]
    async fn cancelled_wait_releases_its_entry() {
        let tracker = PairTracker::new(WINDOW, 100);
        let hold = Duration::from_secs(3600);
        let name = name("a.example.");
        let outcome = tokio::time::timeout(ms(1), tracker.wait_for_a(CLIENT, &name, hold));
        assert!(outcome.await.is_err(), "nothing records the A");
        assert!(tracker.lock().waiters.is_empty());
    }
}
