//! Counting queries in flight, so that a shutdown can wait for them (SIGTERM drains).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// A count of queries being resolved, shared by the listeners.
#[derive(Clone, Default)]
pub(crate) struct InFlight {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    count: AtomicUsize,
    idle: Notify,
}

/// Held while one query is in flight.
pub(crate) struct Guard {
    inner: Arc<Inner>,
}

impl InFlight {
    /// Counts one query in until the guard is dropped.
    pub(crate) fn enter(&self) -> Guard {
        self.inner.count.fetch_add(1, Ordering::SeqCst);
        Guard {
            inner: Arc::clone(&self.inner),
        }
    }

    /// Queries in flight now.
    pub(crate) fn count(&self) -> usize {
        self.inner.count.load(Ordering::SeqCst)
    }

    /// Waits until nothing is in flight or `limit` has passed; returns how many were left.
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

impl Drop for Guard {
    fn drop(&mut self) {
        if self.inner.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.inner.idle.notify_waiters();
        }
    }
}
