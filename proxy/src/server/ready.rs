//! Readiness (`/readyz`): ready once the listeners are bound and an upstream has answered,
//! whatever its answer (a SERVFAIL or REFUSED shows the server is there too). A real query's
//! answer counts; until one comes, pathwise asks the upstreams itself (`. NS`,
//! which any recursive resolver answers from cache), so that a server nobody has queried yet
//! still becomes ready: a pod's readiness must not wait for its application's first lookup.

use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RecordType};
use tokio::sync::watch;

use super::state::Shared;

/// The first probe comes at once; then the wait doubles up to this.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Probes the upstreams until one answers (or the server stops).
pub(crate) async fn probe_until_ready(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut query = Message::query();
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(Name::root(), RecordType::NS));
    let Ok(wire) = query.to_vec() else {
        return;
    };
    let mut backoff = Duration::from_secs(1);
    while !shared.has_upstream_answered() {
        let upstreams = Arc::clone(&shared.settings().upstreams);
        let forwarded = tokio::select! {
            forwarded = upstreams.query(&wire) => forwarded,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        shared.record_forwarded(&upstreams, &forwarded);
        if shared.has_upstream_answered() {
            tracing::info!("ready: an upstream answered");
            return;
        }
        tracing::warn!("not ready: no upstream answered the readiness probe; again in {backoff:?}");
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
