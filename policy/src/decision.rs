//! The AAAA decision for one response (docs/behaviour.md): from the path state, the policy config
//! and the facts of the query and its response to a decision with its reason.

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::svcb::SvcParamKey;
use hickory_proto::rr::{RData, Record, RecordType};

use crate::class::teredo_parts;
use crate::paths::{FilterMode, FilterReason, PathState};

/// The `policy.*` keys the decision reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyConfig {
    /// `policy.filter_aaaa`.
    pub filter_aaaa: FilterMode,
    /// `policy.keep_teredo_destinations`: keep AAAA records that are themselves Teredo.
    pub keep_teredo_destinations: bool,
    /// `policy.require_a`: keep AAAA records of names that have no A record.
    pub require_a: bool,
    /// `policy.break_dnssec`: filter signed answers even when the client set DO.
    pub break_dnssec: bool,
    /// `policy.filtered_ttl`, in seconds: the cap on a filtered answer's negative TTL.
    pub filtered_ttl: u32,
}

impl Default for PolicyConfig {
    /// The defaults of the `[policy]` keys (docs/configuration.md).
    fn default() -> Self {
        Self {
            filter_aaaa: FilterMode::TeredoOnly,
            keep_teredo_destinations: true,
            require_a: true,
            break_dnssec: false,
            filtered_ttl: 30,
        }
    }
}

/// Which explicit-ask signals (docs/behaviour.md) the query carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExplicitAsk {
    /// The client's address is in `policy.explicit.clients`.
    pub client: bool,
    /// The query carried the `policy.explicit.edns_option` EDNS option.
    pub edns_option: bool,
    /// An AAAA query with no A query for the same name from the client within the pair window.
    pub lone_aaaa: bool,
}

/// Whether the queried name has an A record, as far as the caller knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ARecord {
    /// It has one.
    Present,
    /// It has none (NODATA or NXDOMAIN for A).
    Absent,
    /// Not known yet: the caller looks it up when the decision asks ([`AaaaDecision::NeedARecord`]).
    #[default]
    Unknown,
}

/// What the caller knows of the query, beyond the response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueryFacts {
    /// The explicit-ask signals present.
    pub explicit: ExplicitAsk,
    /// The query's DO bit (RFC 3225).
    pub dnssec_ok: bool,
    /// Whether the queried name has an A record.
    pub a_record: ARecord,
}

/// What a response holds that the decision depends on; read once from the message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResponseFacts {
    /// The question's type; `None` for a response without a question.
    pub qtype: Option<RecordType>,
    /// The response code is NOERROR: the filter never touches other answers.
    pub noerror: bool,
    /// AAAA records in the answer section.
    pub answer_aaaa: usize,
    /// Of those, how many are Teredo addresses.
    pub answer_teredo_aaaa: usize,
    /// AAAA records in the additional section, or `ipv6hint` in an HTTPS/SVCB record.
    pub other_ipv6_data: bool,
    /// The answer section carries RRSIGs.
    pub signed: bool,
}

impl ResponseFacts {
    /// Reads the facts from a response, without allocating.
    pub fn of(message: &Message) -> Self {
        let mut facts = Self {
            qtype: message.queries.first().map(|query| query.query_type),
            noerror: message.metadata.response_code == ResponseCode::NoError,
            ..Self::default()
        };
        for record in &message.answers {
            match &record.data {
                RData::AAAA(aaaa) => {
                    facts.answer_aaaa += 1;
                    facts.answer_teredo_aaaa += usize::from(teredo_parts(aaaa.0).is_some());
                }
                _ if record.record_type() == RecordType::RRSIG => facts.signed = true,
                _ => facts.other_ipv6_data |= has_ipv6hint(record),
            }
        }
        facts.other_ipv6_data |= message
            .additionals
            .iter()
            .any(|record| matches!(record.data, RData::AAAA(_)) || has_ipv6hint(record));
        facts
    }

    /// Whether there is any IPv6 address data the filter could remove.
    pub const fn has_ipv6_data(&self) -> bool {
        self.answer_aaaa > 0 || self.other_ipv6_data
    }
}

/// Whether an HTTPS or SVCB record carries an `ipv6hint` (RFC 9460 section 7.3).
pub(crate) fn has_ipv6hint(record: &Record) -> bool {
    let svcb = match &record.data {
        RData::HTTPS(https) => &https.0,
        RData::SVCB(svcb) => svcb,
        _ => return false,
    };
    svcb.svc_params
        .iter()
        .any(|(key, _)| *key == SvcParamKey::Ipv6Hint)
}

/// Why AAAA data was kept although the filter was active (docs/metrics.md
/// `pathwise_aaaa_kept_total{reason}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeepReason {
    /// The client is in `policy.explicit.clients`.
    ExplicitClient,
    /// The query carried the explicit-ask EDNS option.
    ExplicitEdns,
    /// An AAAA query not paired with an A query: `getaddrinfo(AF_INET6)` or `dig AAAA`.
    LoneAaaa,
    /// Every AAAA record is itself Teredo: Teredo to Teredo needs no relay (the seed).
    TeredoDestination,
    /// The name has no A record, so the AAAA records are all it has (`policy.require_a`).
    NoARecord,
    /// The client set DO and the answer is signed: removal would break validation.
    Dnssec,
}

impl KeepReason {
    /// Every reason.
    pub const ALL: [KeepReason; 6] = [
        Self::ExplicitClient,
        Self::ExplicitEdns,
        Self::LoneAaaa,
        Self::TeredoDestination,
        Self::NoARecord,
        Self::Dnssec,
    ];

    /// The metric label (docs/metrics.md).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ExplicitClient => "explicit_client",
            Self::ExplicitEdns => "explicit_edns",
            Self::LoneAaaa => "lone_aaaa",
            Self::TeredoDestination => "teredo_destination",
            Self::NoARecord => "no_a_record",
            Self::Dnssec => "dnssec",
        }
    }
}

/// What to do with the IPv6 address data of one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AaaaDecision {
    /// The filter is not active, the response is not NOERROR, or it holds no IPv6 data.
    Pass,
    /// The filter is active but this response keeps its AAAA data.
    Keep(KeepReason),
    /// `policy.require_a` applies and the caller does not know whether the name has an A record:
    /// look it up (cache, else upstream) and decide again.
    NeedARecord,
    /// Remove AAAA data as the filter says (docs/behaviour.md).
    Remove {
        /// The mode under which the filter is active.
        reason: FilterReason,
        /// `policy.keep_teredo_destinations`: Teredo addresses stay.
        keep_teredo: bool,
    },
}

/// Decides what happens to one response's AAAA data (docs/behaviour.md). Each early return is one
/// rule.
pub fn decide(
    config: &PolicyConfig,
    state: PathState,
    query: &QueryFacts,
    response: &ResponseFacts,
) -> AaaaDecision {
    let Some(reason) = config.filter_aaaa.active(state) else {
        return AaaaDecision::Pass;
    };
    // An NXDOMAIN or other rcode passes through unchanged; so does an answer with no IPv6 data.
    if !response.noerror || !response.has_ipv6_data() {
        return AaaaDecision::Pass;
    }
    let aaaa_query = response.qtype == Some(RecordType::AAAA);
    // The seed: "an application must explicitly use the DnsQuery API for AAAA records".
    if query.explicit.client {
        return AaaaDecision::Keep(KeepReason::ExplicitClient);
    }
    if query.explicit.edns_option {
        return AaaaDecision::Keep(KeepReason::ExplicitEdns);
    }
    if query.explicit.lone_aaaa && aaaa_query {
        return AaaaDecision::Keep(KeepReason::LoneAaaa);
    }
    // RFC 4035 section 3.2: a validating client would see the edited RRset as bogus.
    if query.dnssec_ok && response.signed && !config.break_dnssec {
        return AaaaDecision::Keep(KeepReason::Dnssec);
    }
    if aaaa_query && response.answer_aaaa > 0 {
        // The seed: "a relay router ... is not required" between Teredo interfaces.
        let all_teredo = response.answer_teredo_aaaa == response.answer_aaaa;
        if config.keep_teredo_destinations && all_teredo && !response.other_ipv6_data {
            return AaaaDecision::Keep(KeepReason::TeredoDestination);
        }
        // As BIND's filter-aaaa: an IPv6-only name keeps its addresses.
        if config.require_a {
            match query.a_record {
                ARecord::Absent => return AaaaDecision::Keep(KeepReason::NoARecord),
                ARecord::Unknown => return AaaaDecision::NeedARecord,
                ARecord::Present => {}
            }
        }
    }
    AaaaDecision::Remove {
        reason,
        keep_teredo: config.keep_teredo_destinations,
    }
}
