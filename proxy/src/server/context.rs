//! One query's context: what was parsed from the client's packet and what the pipeline has
//! learned and done so far. The last stage reads it to log (and count) everything once.

use std::net::SocketAddr;

use hickory_proto::op::{Edns, Message, ResponseCode};
use hickory_proto::rr::RecordType;
use pathwise_policy::{AaaaDecision, ShapeReport};
use tokio::time::Instant;

use super::resolving::ResolvingSlot;

/// The transport a query came in on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// UDP: answers are truncated to the client's size.
    Udp,
    /// TCP: answers up to 65535 bytes.
    Tcp,
}

impl Transport {
    /// The metric label (`transport`, docs/metrics.md).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
        }
    }
}

/// How an answer was obtained, for logs and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Not looked up: an error answer from the ladder.
    None,
    /// A fresh cache entry.
    CacheHit,
    /// Upstream answered.
    Upstream,
    /// Every upstream failed and an expired entry was served (RFC 8767).
    Stale,
}

/// A parsed client query and what has happened to it.
#[derive(Debug)]
pub struct QueryContext {
    /// When the packet was received.
    pub received: Instant,
    /// The client.
    pub client: SocketAddr,
    /// UDP or TCP.
    pub transport: Transport,
    /// The client's query as parsed; pathwise's own EDNS option is removed from it.
    pub query: Message,
    /// The query as it goes upstream: the client's bytes, or re-encoded if an option was removed.
    pub wire: Vec<u8>,
    /// The question's type.
    pub qtype: RecordType,
    /// The client's EDNS, as it came (its payload size bounds UDP answers).
    pub client_edns: Option<Edns>,
    /// The client set pathwise's explicit-ask EDNS option.
    pub edns_option: bool,
    /// Where the answer came from.
    pub source: Source,
    /// The AAAA decision, once made.
    pub decision: Option<AaaaDecision>,
    /// What shaping did.
    pub shaped: ShapeReport,
    /// The response code sent.
    pub rcode: ResponseCode,
    /// The answer was truncated to fit the client's UDP size.
    pub truncated: bool,
    /// Its place among the queries waiting on upstream (`upstream.max_outstanding`), held
    /// while it is resolved in a task of its own.
    pub slot: Option<ResolvingSlot>,
}

impl QueryContext {
    /// The DO bit of the client's query (RFC 3225).
    pub fn dnssec_ok(&self) -> bool {
        self.client_edns
            .as_ref()
            .is_some_and(|edns| edns.flags().dnssec_ok)
    }

    /// The largest UDP answer the client accepts: its EDNS size (at least 512), or 512.
    pub fn max_udp_size(&self) -> usize {
        self.client_edns
            .as_ref()
            .map_or(512, |edns| usize::from(edns.max_payload().max(512)))
    }
}
