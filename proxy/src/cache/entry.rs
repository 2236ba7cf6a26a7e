//! A cached response, and the copy of it that is served at a given age.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, Record, RecordType};
use pathwise_policy::ResponseFacts;
use tokio::time::Instant;

use super::render::{Rendered, Variant};
use super::ttl::{EntryKind, Lifetime, effective_ttl};

/// Renderings kept per entry: one per AAAA decision and EDNS form seen under the current
/// settings and path state, which is a handful at most.
const MAX_RENDERINGS: usize = 4;

/// The TTL of every record in a stale answer: RFC 8767 section 4 recommends 30 seconds, so a client
/// comes back soon, when upstream may have recovered.
pub const STALE_TTL: u32 = 30;

/// One cached response: what upstream said, when, and for how long it is fresh.
///
/// The message is upstream's: it is never filtered or reordered here, so a change of
/// path state applies to the next answer served from it. Only the OPT record (EDNS is per
/// hop; RFC 6891 section 6.1.1 says OPT "MUST NOT be cached") and any TSIG are dropped on insert.
#[derive(Debug)]
pub struct Entry {
    /// The response in wire form (a `Message` is several times larger): decoded when an
    /// answer must be built from it, which a cache hit with a rendering never needs.
    wire: Box<[u8]>,
    lifetime: Lifetime,
    inserted: Instant,
    /// What the AAAA decision reads of the response, read once.
    facts: ResponseFacts,
    /// The response is NOERROR with an A record in its answer (`policy.require_a`).
    has_a_record: bool,
    /// Answers already shaped and encoded from `response` (see [`Rendered`]).
    renderings: Mutex<Vec<Arc<Rendered>>>,
}

impl Entry {
    /// Wraps `response`, dropping its OPT and TSIG records; `None` if it does not survive
    /// encoding and decoding again (then it is not cached).
    pub(super) fn new(response: &Message, lifetime: Lifetime, inserted: Instant) -> Option<Self> {
        let mut response = response.clone();
        response.edns = None;
        response.signature = None;
        let wire = response.to_vec().ok()?.into_boxed_slice();
        Message::from_vec(&wire).ok()?;
        let has_a_record = response.metadata.response_code == ResponseCode::NoError
            && response
                .answers
                .iter()
                .any(|record| matches!(record.data, RData::A(_)));
        Some(Self {
            facts: ResponseFacts::of(&response),
            has_a_record,
            wire,
            lifetime,
            inserted,
            renderings: Mutex::new(Vec::new()),
        })
    }

    /// Whether the response is NOERROR with an A record in its answer.
    pub fn has_a_record(&self) -> bool {
        self.has_a_record
    }

    /// Bytes held by the response's wire form.
    pub fn wire_len(&self) -> usize {
        self.wire.len()
    }

    /// The rendering of this entry for `variant` under `stamp`, made by `render` (from the
    /// response as served at age 0) the first time it is asked for. `None` when `render`
    /// declines. Renderings of older stamps are dropped as new ones come.
    pub fn rendered(
        &self,
        stamp: u64,
        variant: Variant,
        render: impl FnOnce(Message) -> Option<Rendered>,
    ) -> Option<Arc<Rendered>> {
        let lock = || {
            self.renderings
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        if let Some(found) = lock()
            .iter()
            .find(|rendered| rendered.stamp == stamp && rendered.variant == variant)
        {
            return Some(Arc::clone(found));
        }
        // Rendered outside the lock; two racing hits may both render, and one copy is kept.
        let rendered = Arc::new(render(self.response_at(Duration::ZERO, false))?);
        let mut renderings = lock();
        renderings.retain(|kept| kept.stamp == stamp);
        if renderings.len() < MAX_RENDERINGS {
            renderings.push(Arc::clone(&rendered));
        }
        Some(rendered)
    }

    /// What the AAAA decision reads of the response (docs/behaviour.md), read once at insertion.
    pub fn facts(&self) -> &ResponseFacts {
        &self.facts
    }

    /// The response as upstream sent it (minus OPT and TSIG), with upstream's TTLs.
    pub fn response(&self) -> Message {
        // It decoded when the entry was made; should that ever change, an empty SERVFAIL
        // answer is served rather than nothing.
        Message::from_vec(&self.wire).unwrap_or_else(|error| {
            tracing::warn!(%error, "a cached response no longer decodes");
            let mut message = Message::response(0, hickory_proto::op::OpCode::Query);
            message.metadata.response_code = ResponseCode::ServFail;
            message
        })
    }

    /// How long the entry is fresh, after the `cache.*_ttl` clamps.
    pub fn ttl(&self) -> Duration {
        Duration::from_secs(u64::from(self.lifetime.ttl))
    }

    /// Positive, NODATA or NXDOMAIN.
    pub fn kind(&self) -> EntryKind {
        self.lifetime.kind
    }

    /// When the entry was inserted.
    pub fn inserted(&self) -> Instant {
        self.inserted
    }

    /// When the entry stops being fresh.
    pub fn expires(&self) -> Instant {
        self.inserted + self.ttl()
    }

    /// Time since insertion, zero if `now` is before it.
    pub fn age(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.inserted)
    }

    /// Whether the entry is no longer fresh at `now`.
    pub fn is_expired(&self, now: Instant) -> bool {
        self.age(now) >= self.ttl()
    }

    /// A copy to serve at `age`: the caller shapes it and sets the ID.
    ///
    /// Fresh: each record's TTL is min(its TTL raised to `cache.min_ttl` for positive answers,
    /// the entry's TTL), counted down by the whole seconds of `age`, at least 0. So no record
    /// outlives the entry in a client's cache, the SOA of a negative answer shows the negative
    /// TTL (RFC 2308 section 5), and a TTL raised by `min_ttl` is what the client sees.
    ///
    /// Stale (`stale` true): every record gets [`STALE_TTL`] (RFC 8767 section 4).
    pub fn response_at(&self, age: Duration, stale: bool) -> Message {
        let mut response = self.response();
        let age = u32::try_from(age.as_secs()).unwrap_or(u32::MAX);
        let Lifetime {
            ttl: lifetime,
            floor,
            ..
        } = self.lifetime;
        let served = |record: &Record| {
            if stale {
                STALE_TTL
            } else {
                effective_ttl(record)
                    .max(floor)
                    .min(lifetime)
                    .saturating_sub(age)
            }
        };
        for record in response
            .answers
            .iter_mut()
            .chain(response.authorities.iter_mut())
            .chain(response.additionals.iter_mut())
            .filter(|record| record.record_type() != RecordType::OPT)
        {
            record.ttl = served(record);
        }
        response
    }
}
