//! Whether an upstream response may be cached, and for how long (docs/behaviour.md, RFC 2308).

use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{RData, Record, RecordType};

use super::CacheKey;
use crate::config::CacheConfig;

/// What a cached response says about its question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// NOERROR with records in the answer section.
    Positive,
    /// NOERROR with an empty answer section and a SOA in authority (RFC 2308 section 2.2).
    NoData,
    /// NXDOMAIN with a SOA in authority (RFC 2308 section 2.1).
    NxDomain,
}

impl EntryKind {
    /// Whether this is a negative answer (RFC 2308): its TTL came from the SOA.
    pub fn is_negative(self) -> bool {
        !matches!(self, Self::Positive)
    }
}

/// Why a response was not cached; `as_str` is a lower-case label for logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uncacheable {
    /// Not a response to a standard query (QR clear, or an opcode other than QUERY).
    NotQueryResponse,
    /// TC set: a partial answer, to be retried over TCP, never served from cache.
    Truncated,
    /// The response's question is not the key's (or there is not exactly one).
    QuestionMismatch,
    /// SERVFAIL, REFUSED, FORMERR, ...: only NOERROR and NXDOMAIN are cached. A cached
    /// SERVFAIL would outlive the upstream's trouble; RFC 2308 section 7 allows at most 5 minutes
    /// and serve-stale is the better answer to a failing upstream.
    Rcode,
    /// NXDOMAIN or NODATA without a SOA in authority: RFC 2308 section 5 says not to cache it.
    NegativeWithoutSoa,
    /// The TTL came out as zero: "only used for the transaction in progress" (RFC 1035
    /// section 3.2.1).
    ZeroTtl,
}

impl Uncacheable {
    /// A lower-case label for log lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotQueryResponse => "not_query_response",
            Self::Truncated => "truncated",
            Self::QuestionMismatch => "question_mismatch",
            Self::Rcode => "rcode",
            Self::NegativeWithoutSoa => "negative_without_soa",
            Self::ZeroTtl => "zero_ttl",
        }
    }
}

/// How long a response stays fresh in the cache, and what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetime {
    /// Seconds the entry is fresh, after the clamps.
    pub ttl: u32,
    /// The lowest TTL a served record may show: `cache.min_ttl` for positive answers, so a
    /// raised TTL is what clients see; 0 for negative ones.
    pub floor: u32,
    /// What the response says.
    pub kind: EntryKind,
}

/// Decides whether `response` may be cached under `key`, and for how long.
///
/// - Positive (NOERROR with answers): the lowest answer TTL, clamped to
///   `cache.min_ttl..=cache.max_ttl`.
/// - Negative (NXDOMAIN, or NOERROR without answers): min(SOA TTL, SOA MINIMUM) of the SOA in
///   authority (RFC 2308 section 5), capped at `cache.max_negative_ttl`; `min_ttl` does not raise
///   it, since a negative answer kept too long hides a name that just appeared.
/// - A CNAME chain that ends in NXDOMAIN or NODATA carries both; the lower wins.
pub fn lifetime(
    key: &CacheKey,
    response: &Message,
    config: &CacheConfig,
) -> Result<Lifetime, Uncacheable> {
    let metadata = &response.metadata;
    if metadata.message_type != MessageType::Response || metadata.op_code != OpCode::Query {
        return Err(Uncacheable::NotQueryResponse);
    }
    if metadata.truncation {
        return Err(Uncacheable::Truncated);
    }
    match response.queries.as_slice() {
        [question] if key.matches(question) => {}
        _ => return Err(Uncacheable::QuestionMismatch),
    }
    let answered = response
        .answers
        .iter()
        .any(|record| record.record_type() != RecordType::OPT);
    let kind = match metadata.response_code {
        ResponseCode::NoError if answered => EntryKind::Positive,
        ResponseCode::NoError => EntryKind::NoData,
        ResponseCode::NXDomain => EntryKind::NxDomain,
        _ => return Err(Uncacheable::Rcode),
    };
    let positive = answered.then(|| {
        let lowest = min_ttl(&response.answers).unwrap_or(0);
        lowest.clamp(
            secs(config.min_ttl),
            secs(config.max_ttl).max(secs(config.min_ttl)),
        )
    });
    let negative = negative_ttl(response).map(|ttl| ttl.min(secs(config.max_negative_ttl)));
    let ttl = match (kind, positive, negative) {
        (EntryKind::Positive, Some(positive), None) => positive,
        (_, Some(positive), Some(negative)) => positive.min(negative),
        (_, None, Some(negative)) => negative,
        _ => return Err(Uncacheable::NegativeWithoutSoa),
    };
    if ttl == 0 {
        return Err(Uncacheable::ZeroTtl);
    }
    let floor = if kind.is_negative() {
        0
    } else {
        secs(config.min_ttl)
    };
    Ok(Lifetime { ttl, floor, kind })
}

/// A record's TTL as a cache must read it: RFC 2181 section 8 says a value with the top bit set is
/// treated as zero.
pub(super) fn effective_ttl(record: &Record) -> u32 {
    if record.ttl > i32::MAX as u32 {
        0
    } else {
        record.ttl
    }
}

/// The lowest TTL of `records`, OPT pseudo-records aside (they carry flags, not a TTL).
fn min_ttl(records: &[Record]) -> Option<u32> {
    records
        .iter()
        .filter(|record| record.record_type() != RecordType::OPT)
        .map(effective_ttl)
        .min()
}

/// The negative TTL of RFC 2308 section 5: min(SOA TTL, SOA MINIMUM) of the first SOA in authority.
fn negative_ttl(response: &Message) -> Option<u32> {
    response
        .authorities
        .iter()
        .find_map(|record| match &record.data {
            RData::SOA(soa) => Some(effective_ttl(record).min(soa.minimum)),
            _ => None,
        })
}

/// A configured duration as whole TTL seconds, saturating.
fn secs(duration: Duration) -> u32 {
    u32::try_from(duration.as_secs()).unwrap_or(u32::MAX)
}
