//! The queries being resolved in tasks of their own (upstream, the A lookup, the lone-AAAA
//! hold): one count, bounded by `upstream.max_outstanding`, that a shutdown waits on to drain.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// The count of queries being resolved, shared by the pipeline and the listeners.
#[derive(Clone, Default)]
pub(crate) struct Resolving {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    count: AtomicUsize,
    idle: Notify,
}

/// One query's place among those being resolved, held until its answer is sent.
#[derive(Debug)]
pub struct ResolvingSlot {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolving")
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl Resolving {
    /// A slot, unless `max` queries already hold one (`upstream.max_outstanding`).
    pub(crate) fn try_take(&self, max: usize) -> Option<ResolvingSlot> {
        self.inner
            .count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                (held < max).then_some(held + 1)
            })
            .ok()
            .map(|_| ResolvingSlot {
                inner: Arc::clone(&self.inner),
            })
    }

    /// Queries being resolved now.
    pub(crate) fn count(&self) -> usize {
        self.inner.count.load(Ordering::Acquire)
    }

    /// Waits until nothing is being resolved or `limit` has passed; returns how many were left.
    pub(crate) async fn drained(&self, limit: Duration) -> usize {
        let wait = async {
            loop {
                let idle = self.inner.idle.notified();
                if self.count() == 0 {
                    return;
                }
                idle.await;
            }
        };
        let _ = tokio::time::timeout(limit, wait).await;
        self.count()
    }
}

impl Drop for ResolvingSlot {
    fn drop(&mut self) {
        if self.inner.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.inner.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_and_given_back() {
        let resolving = Resolving::default();
        let first = resolving.try_take(2).expect("a slot");
        let second = resolving.try_take(2).expect("a slot");
        assert!(resolving.try_take(2).is_none(), "two held, at most two");
        drop(first);
        assert_eq!(resolving.count(), 1);
        let _third = resolving.try_take(2).expect("a slot given back");
        drop(second);
        assert_eq!(resolving.count(), 1);
    }

    #[tokio::test]
    async fn a_drain_ends_when_the_last_slot_is_given_back() {
        let resolving = Resolving::default();
        let slot = resolving.try_take(1).expect("a slot");
        let later = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            drop(slot);
        });
        assert_eq!(resolving.drained(Duration::from_secs(5)).await, 0);
        later.await.expect("the task ends");
        let _held = resolving.try_take(1).expect("a slot");
        assert_eq!(
            resolving.drained(Duration::from_millis(10)).await,
            1,
            "left"
        );
    }
}
