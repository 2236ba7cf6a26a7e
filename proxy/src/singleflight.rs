//! Single flight: concurrent identical cache misses go upstream once, and share the answer.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

/// Runs at most one `make` per key at a time; callers that arrive while it runs wait for its
/// result instead of starting their own.
///
/// The first caller for a key (the leader) runs `make`; the others (followers) hold a
/// `watch` receiver that the leader fills in. The map entry is removed when the leader ends,
/// however it ends: finished, cancelled (its future dropped, e.g. the client went away or a
/// `timeout` fired) or panicked. A cancelled or panicked leader drops its sender, its
/// followers see the channel close, and they start over: one of them becomes the new leader.
/// So no follower waits on a leader that is gone. The map's lock is never held across an
/// `.await`.
#[derive(Debug)]
pub struct Singleflight<K, V> {
    in_flight: Mutex<HashMap<K, watch::Receiver<Option<V>>>>,
}

impl<K, V> Default for Singleflight<K, V> {
    fn default() -> Self {
        Self {
            in_flight: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Singleflight<K, V> {
    /// An empty group.
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the result of `make` for `key`, running it only if no call for `key` is in
    /// flight; otherwise waits for that call's result. `make` is called at most once per
    /// call of `run`, and not at all when a leader's result is shared.
    ///
    /// `V` is cloned once per follower: make it cheap (an `Arc`, or a `Result` of `Arc`s).
    pub async fn run<F, Fut>(&self, key: K, make: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let mut make = Some(make);
        loop {
            match self.join(&key) {
                Role::Leader(sender) => {
                    // Removes the map entry on every exit, cancellation included.
                    let _leading = Leading {
                        group: self,
                        key: &key,
                    };
                    let make = make.take().expect("a caller leads at most once");
                    let value = make().await;
                    sender.send_replace(Some(value.clone()));
                    return value;
                }
                Role::Follower(mut receiver) => {
                    // Clone under the channel's read lock, which ends with this statement.
                    let shared = receiver.wait_for(Option::is_some).await.map(|v| v.clone());
                    match shared {
                        Ok(Some(value)) => return value,
                        // The leader went away without a result: start over.
                        Ok(None) | Err(_) => continue,
                    }
                }
            }
        }
    }

    /// The number of keys with a call in flight.
    pub fn in_flight(&self) -> usize {
        self.lock().len()
    }

    /// Becomes the leader for `key`, or a follower of the call in flight.
    fn join(&self, key: &K) -> Role<V> {
        let mut in_flight = self.lock();
        if let Some(receiver) = in_flight.get(key) {
            // A receiver whose leader is gone would only make this caller loop: replace it.
            if receiver.has_changed().is_ok() {
                return Role::Follower(receiver.clone());
            }
        }
        let (sender, receiver) = watch::channel(None);
        in_flight.insert(key.clone(), receiver);
        Role::Leader(sender)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, watch::Receiver<Option<V>>>> {
        // Nothing panics while the map is locked, so a poisoned lock holds a whole map.
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a caller of `run` does.
enum Role<V> {
    /// Run `make` and publish its result through this sender.
    Leader(watch::Sender<Option<V>>),
    /// Wait for the leader's result.
    Follower(watch::Receiver<Option<V>>),
}

/// The leader's claim on its key: dropping it, on any exit, removes the map entry.
struct Leading<'a, K: Eq + Hash + Clone, V: Clone> {
    group: &'a Singleflight<K, V>,
    key: &'a K,
}

impl<K: Eq + Hash + Clone, V: Clone> Drop for Leading<'_, K, V> {
    fn drop(&mut self) {
        self.group.lock().remove(self.key);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::oneshot;
    use tokio::task::yield_now;

    use super::*;

    /// Lets every spawned task run until it blocks.
    async fn settle() {
        for _ in 0..10 {
            yield_now().await;
        }
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_call() {
        let group = Arc::new(Singleflight::<&str, u32>::new());
        let calls = Arc::new(AtomicUsize::new(0));
        let (release, released) = oneshot::channel::<u32>();
        let mut released = Some(released);
        let mut tasks = Vec::new();
        for _ in 0..5 {
            let (group, calls) = (Arc::clone(&group), Arc::clone(&calls));
            let released = released.take();
            tasks.push(tokio::spawn(async move {
                group
                    .run("key", || async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        released
                            .expect("only the first task leads")
                            .await
                            .expect("released")
                    })
                    .await
            }));
            settle().await;
        }
        assert_eq!(group.in_flight(), 1);
        release.send(42).expect("the leader waits");
        for task in tasks {
            assert_eq!(task.await.expect("no panic"), 42);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(group.in_flight(), 0, "the entry is removed when done");
    }

    #[tokio::test]
    async fn different_keys_run_separately() {
        let group = Singleflight::<u8, u8>::new();
        let (a, b) = tokio::join!(group.run(1, || async { 10 }), group.run(2, || async { 20 }));
        assert_eq!((a, b), (10, 20));
        // Done means gone: the next call runs again.
        assert_eq!(group.run(1, || async { 11 }).await, 11);
        assert_eq!(group.in_flight(), 0);
    }

    #[tokio::test]
    async fn cancelled_leader_hands_over_to_a_follower() {
        let group = Arc::new(Singleflight::<&str, u32>::new());
        let leader = {
            let group = Arc::clone(&group);
            tokio::spawn(async move { group.run("key", std::future::pending::<u32>).await })
        };
        settle().await;
        let follower = {
            let group = Arc::clone(&group);
            tokio::spawn(async move { group.run("key", || async { 7 }).await })
        };
        settle().await;
        assert!(!follower.is_finished(), "the follower waits for the leader");
        leader.abort();
        assert_eq!(
            follower.await.expect("no panic"),
            7,
            "the follower led the retry"
        );
        assert_eq!(group.in_flight(), 0);
    }

    #[tokio::test]
    async fn dropped_leader_future_frees_the_key() {
        let group = Singleflight::<&str, u32>::new();
        {
            let leader = group.run("key", std::future::pending::<u32>);
            tokio::pin!(leader);
            // Poll the leader once, so that it registers, then drop it.
            tokio::select! {
                biased;
                _ = &mut leader => unreachable!("pending never finishes"),
                () = std::future::ready(()) => {}
            }
            assert_eq!(group.in_flight(), 1);
        }
        assert_eq!(group.in_flight(), 0);
        assert_eq!(group.run("key", || async { 3 }).await, 3);
    }

    #[tokio::test]
    async fn panicking_leader_does_not_strand_followers() {
        let group = Arc::new(Singleflight::<&str, u32>::new());
        let (release, released) = oneshot::channel::<()>();
        let leader = {
            let group = Arc::clone(&group);
            tokio::spawn(async move {
                group
                    .run("key", || async move {
                        released.await.expect("released");
                        panic!("upstream code panicked");
                    })
                    .await
            })
        };
        settle().await;
        let follower = {
            let group = Arc::clone(&group);
            tokio::spawn(async move { group.run("key", || async { 9 }).await })
        };
        settle().await;
        release.send(()).expect("the leader waits");
        assert!(leader.await.is_err(), "the leader panicked");
        assert_eq!(follower.await.expect("no panic"), 9);
    }
}
