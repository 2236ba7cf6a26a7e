//! The AAAA decision for one answer, made in one place: [`Pipeline::verdict`] takes a query's
//! context, the answer's facts and what is known so far ([`Ask`]), and says either which
//! decision to shape with or what to wait for first (the client's late A query, or the A
//! record from upstream). The receive loop's fast path, the over-the-limit path and the
//! resolving task all call it; only the task can wait, so only it acts on the waits
//! ([`Pipeline::decide_after_waiting`]).

use std::sync::Arc;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use pathwise_policy::{
    ARecord, AaaaDecision, ExplicitAsk, PathState, QueryFacts, ResponseFacts, decide,
};
use tokio::time::Instant;

use super::admit::sibling_query;
use super::context::QueryContext;
use super::pipeline::Pipeline;
use super::state::Settings;
use crate::cache::{CacheKey, Lookup};

/// How long the answer at hand may wait for its decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Wait {
    /// The answer was ready at once (from the cache): the client's A query for the same name
    /// may still be on its way, so the lone-AAAA rule may hold the answer for it; an unknown
    /// A record may be looked up.
    ReadyAtOnce,
    /// The answer came from upstream, after the client's A query would have arrived: no hold;
    /// an unknown A record may be looked up.
    AfterUpstream,
    /// Nothing may wait (`upstream.max_outstanding` is reached): no hold, and an unknown A
    /// record counts as absent.
    Never,
}

/// What is known, so far, of the inputs to one AAAA decision.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ask {
    /// The explicit-ask signals of the query.
    signals: ExplicitAsk,
    /// Wait for a late A query before deciding whether this AAAA query is a lone one.
    hold: bool,
    /// Whether the queried name has an A record, as far as is known.
    a_record: ARecord,
    /// An unknown A record may be looked up upstream.
    may_fetch: bool,
}

/// What [`Pipeline::verdict`] says to do with an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Shape with this decision and send.
    Send(AaaaDecision),
    /// Wait up to `policy.explicit.hold` for the client's A query for the name, then ask again.
    HoldForA,
    /// Look the name's A record up (`policy.require_a`), then ask again.
    FetchA,
}

impl Pipeline {
    /// The inputs of the decision known before any waiting: the explicit-ask signals (the
    /// client list, the EDNS option, a lone AAAA query), whether the lone-AAAA rule wants to
    /// hold the answer, and the A record as far as the cache knows it.
    ///
    /// The hold applies only to an answer ready at once that carries IPv6 data the active
    /// filter could remove, for a client that gave no other signal: waiting on anything else
    /// changes nothing.
    pub(super) fn ask(
        &self,
        settings: &Settings,
        context: &QueryContext,
        key: &CacheKey,
        facts: &ResponseFacts,
        paths: PathState,
        wait: Wait,
    ) -> Ask {
        let explicit = &settings.config.policy.explicit;
        let client = context.client.ip();
        let mut signals = ExplicitAsk {
            client: explicit.clients.iter().any(|net| net.contains(&client)),
            edns_option: context.edns_option,
            lone_aaaa: false,
        };
        let mut hold = false;
        if explicit.lone_aaaa && context.qtype == RecordType::AAAA {
            let paired = self.shared.pairs.a_seen(client, key.name(), Instant::now());
            signals.lone_aaaa = !paired;
            hold = !paired
                && wait == Wait::ReadyAtOnce
                && !signals.client
                && !signals.edns_option
                && !explicit.hold.is_zero()
                && facts.has_ipv6_data()
                && settings.policy.filter_aaaa.active(paths).is_some();
        }
        Ask {
            signals,
            hold,
            // After a hold the cache is asked again (the A query may have come meanwhile).
            a_record: if hold {
                ARecord::Unknown
            } else {
                self.a_record_cached(context, key)
            },
            may_fetch: wait != Wait::Never,
        }
    }

    /// The AAAA decision for an answer with `facts` to `context`'s query, or what to wait for
    /// before it can be made.
    pub(super) fn verdict(
        &self,
        settings: &Settings,
        paths: PathState,
        context: &QueryContext,
        facts: &ResponseFacts,
        ask: &Ask,
    ) -> Verdict {
        if ask.hold {
            return Verdict::HoldForA;
        }
        let decide_with = |a_record| {
            let query = QueryFacts {
                explicit: ask.signals,
                dnssec_ok: context.dnssec_ok(),
                a_record,
            };
            decide(&settings.policy, paths, &query, facts)
        };
        match decide_with(ask.a_record) {
            AaaaDecision::NeedARecord if ask.may_fetch => Verdict::FetchA,
            // An A record that cannot be looked up counts as absent, as when the lookup
            // fails: the AAAA records stay, so that an IPv6-only name still resolves.
            AaaaDecision::NeedARecord => Verdict::Send(decide_with(ARecord::Absent)),
            decision => Verdict::Send(decision),
        }
    }

    /// The decision, doing the waits the verdict asks for: the lone-AAAA hold, then the A
    /// lookup. Each wait happens at most once.
    pub(super) async fn decide_after_waiting(
        &self,
        settings: &Arc<Settings>,
        paths: PathState,
        context: &QueryContext,
        key: &CacheKey,
        facts: &ResponseFacts,
        mut ask: Ask,
    ) -> AaaaDecision {
        loop {
            match self.verdict(settings, paths, context, facts, &ask) {
                Verdict::Send(decision) => return decision,
                Verdict::HoldForA => {
                    let hold = settings.config.policy.explicit.hold;
                    let paired = self
                        .shared
                        .pairs
                        .wait_for_a(context.client.ip(), key.name(), hold)
                        .await;
                    ask.signals.lone_aaaa = !paired;
                    ask.hold = false;
                    // The A query that came meanwhile may have put its answer in the cache.
                    ask.a_record = self.a_record_cached(context, key);
                }
                Verdict::FetchA => {
                    ask.a_record = self.a_record_fetched(settings, context).await;
                    ask.may_fetch = false;
                }
            }
        }
    }

    /// Whether the queried name has an A record, from cache only.
    fn a_record_cached(&self, context: &QueryContext, key: &CacheKey) -> ARecord {
        if context.qtype != RecordType::AAAA {
            return ARecord::Unknown;
        }
        match self
            .shared
            .cache
            .get(&key.with_qtype(RecordType::A), Instant::now())
        {
            Lookup::Hit { entry, .. } if entry.has_a_record() => ARecord::Present,
            Lookup::Hit { .. } => ARecord::Absent,
            _ => ARecord::Unknown,
        }
    }

    /// Whether the queried name has an A record, asking upstream.
    async fn a_record_fetched(&self, settings: &Arc<Settings>, context: &QueryContext) -> ARecord {
        let query = sibling_query(&context.query, RecordType::A);
        let Some(key) = CacheKey::from_query(&query) else {
            return ARecord::Absent;
        };
        let Ok(wire) = query.to_vec() else {
            return ARecord::Absent;
        };
        match self.fetch(settings, &key, &wire).await {
            Some(answer) => a_record_in(&answer),
            // Unknown after asking: keep the AAAA records, so that an IPv6-only name whose A
            // lookup failed still resolves (the client's own A query fails the same way).
            None => ARecord::Absent,
        }
    }
}

/// Whether an answer to an A query shows an A record: NODATA, NXDOMAIN and failures say no.
fn a_record_in(answer: &Message) -> ARecord {
    let present = answer.metadata.response_code == ResponseCode::NoError
        && answer
            .answers
            .iter()
            .any(|record| matches!(record.data, RData::A(_)));
    if present {
        ARecord::Present
    } else {
        ARecord::Absent
    }
}
