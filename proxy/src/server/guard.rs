//! What keeps one bad query from taking a listener down, and what tells when a listener ended
//! anyway.
//!
//! A panic while handling one query (a bug: nothing a client sends should cause one) costs
//! that query only: it is caught around the synchronous pipeline and around the resolving
//! task, counted in `pathwise_query_panics_total` and logged with the packet's size (at most one
//! line every [`LOG_EVERY`], saying how many were not logged: whoever found the panic may send
//! the packet again and again). A
//! listener loop that ends while the server is not stopping is recorded in [`Liveness`], and
//! `/healthz` then fails naming it, so that a supervisor restarts the process.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use super::context::Transport;
use crate::metrics::Metrics;

/// Runs `handle` for one packet of `size` bytes over `transport`; `None` if it panicked.
pub(crate) fn survive<T>(
    metrics: &Metrics,
    transport: Transport,
    size: usize,
    handle: impl FnOnce() -> T,
) -> Option<T> {
    match catch_unwind(AssertUnwindSafe(handle)) {
        Ok(value) => Some(value),
        Err(_) => {
            panicked(metrics, transport, size);
            None
        }
    }
}

/// `future`, with a panic while polling it caught: it then resolves to `None`, counted and
/// logged like a panic in [`survive`].
pub(crate) fn survive_async<F: Future>(
    metrics: Arc<Metrics>,
    transport: Transport,
    size: usize,
    future: F,
) -> Survive<F> {
    Survive {
        future,
        metrics,
        transport,
        size,
    }
}

pin_project_lite::pin_project! {
    /// The future of [`survive_async`]: `F` in place, no allocation of its own.
    pub(crate) struct Survive<F> {
        #[pin]
        future: F,
        metrics: Arc<Metrics>,
        transport: Transport,
        size: usize,
    }
}

impl<F: Future> Future for Survive<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let future = this.future;
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Some(value)),
            Ok(Poll::Pending) => Poll::Pending,
            // Not polled again: the caller sees the end of the future.
            Err(_) => {
                panicked(this.metrics, *this.transport, *this.size);
                Poll::Ready(None)
            }
        }
    }
}

/// The least time between two log lines about panics.
pub(crate) const LOG_EVERY: Duration = Duration::from_secs(10);

/// When a panic was last logged (seconds since the epoch), and how many since were not.
static LAST_LOGGED: AtomicU64 = AtomicU64::new(0);
static NOT_LOGGED: AtomicU64 = AtomicU64::new(0);

fn panicked(metrics: &Metrics, transport: Transport, size: usize) {
    metrics.record_panic(transport);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let last = LAST_LOGGED.load(Ordering::Relaxed);
    let due = last == 0 || now >= last + LOG_EVERY.as_secs();
    if !due
        || LAST_LOGGED
            .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        NOT_LOGGED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let not_logged = NOT_LOGGED.swap(0, Ordering::Relaxed);
    tracing::error!(
        transport = transport.as_str(),
        size,
        not_logged,
        "handling a query panicked: that query is dropped, the listener goes on"
    );
}

/// The listeners that ended while the server was not stopping.
#[derive(Default)]
pub(crate) struct Liveness {
    ended: Mutex<Vec<String>>,
}

impl Liveness {
    /// The listeners that ended, as `udp 127.0.0.1:53`; empty while all serve.
    pub(crate) fn ended(&self) -> Vec<String> {
        self.ended
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs the listener loop `serve`, named `listener` (e.g. `udp 127.0.0.1:53`), in a task
    /// of its own; if it returns or panics while `stopping` is false, records it as ended.
    pub(crate) async fn watch(
        self: Arc<Self>,
        listener: String,
        serve: impl Future<Output = ()> + Send + 'static,
        stopping: watch::Receiver<bool>,
    ) {
        let outcome = tokio::spawn(serve).await;
        if *stopping.borrow() {
            return;
        }
        match outcome {
            Ok(()) => tracing::error!("listener {listener} ended; /healthz now fails"),
            Err(error) => tracing::error!(%error, "listener {listener} ended; /healthz now fails"),
        }
        self.ended
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(listener);
    }
}
