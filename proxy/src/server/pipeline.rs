//! The request pipeline: admit, classify the ask, cache, forward, shape, fit, record.
//! Every early exit is in this file.
//!
//! A query that can be answered without waiting (the ladder's answers, and cache hits that
//! need neither the A record nor the lone-AAAA hold) is answered by [`Pipeline::receive`] in
//! the receive loop itself; only the rest becomes a task ([`Pipeline::resolve`]).

use std::net::SocketAddr;
use std::sync::Arc;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use pathwise_policy::{AaaaDecision, PathState, ResponseFacts, shape};
use tokio::time::Instant;

use super::admit::{Admission, admit};
use super::context::{QueryContext, Source, Transport};
use super::decide::{Verdict, Wait};
use super::respond::{Addressee, error_answer, finish_answer, normalise, truncated_answer};
use super::state::{Settings, Shared};
use crate::cache::render::{Capped, Rendered, Variant};
use crate::cache::{CacheKey, Entry, Lookup};
use crate::metrics::{CacheResult, Limit, QueryRecord};

/// What the receive loop does with a packet.
#[derive(Debug)]
pub enum Step {
    /// Send nothing.
    Drop,
    /// Send this now.
    Answer(Vec<u8>),
    /// Resolve in a task of its own, then send.
    Resolve(Box<QueryContext>),
}

/// The pipeline over the shared state.
#[derive(Clone)]
pub struct Pipeline {
    pub(super) shared: Arc<Shared>,
    /// Tests only: queries whose bytes contain these make the pipeline panic.
    #[cfg(test)]
    pub(super) fault: Fault,
}

/// Tests only: where the pipeline panics, to show that a panic costs one query and no more.
#[cfg(test)]
#[derive(Clone, Copy, Default)]
pub(super) struct Fault {
    /// In [`Pipeline::receive`], for packets containing these bytes.
    pub(super) receive: Option<&'static [u8]>,
    /// In [`Pipeline::resolve`], for queries containing these bytes.
    pub(super) resolve: Option<&'static [u8]>,
}

#[cfg(test)]
impl Fault {
    fn strike(pattern: Option<&[u8]>, bytes: &[u8]) {
        if let Some(pattern) = pattern
            && bytes.windows(pattern.len()).any(|window| window == pattern)
        {
            panic!("a fault injected by a test");
        }
    }
}

impl Pipeline {
    /// A pipeline over `shared`.
    pub fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            #[cfg(test)]
            fault: Fault::default(),
        }
    }

    /// The metric handles.
    pub fn metrics(&self) -> &Arc<crate::metrics::Metrics> {
        &self.shared.metrics
    }

    /// The synchronous part: the ladder, and answers from cache that need no waiting.
    pub fn receive(&self, packet: &[u8], client: SocketAddr, transport: Transport) -> Step {
        #[cfg(test)]
        Fault::strike(self.fault.receive, packet);
        // An IPv4 client of a `[::]` listener arrives as ::ffff:a.b.c.d: allow lists, the
        // explicit client list and pair tracking all see it as the IPv4 address it is.
        let started = Instant::now();
        let client = SocketAddr::new(client.ip().to_canonical(), client.port());
        let settings = self.shared.settings();
        let explicit = &settings.config.policy.explicit;
        let mut context = match admit(
            packet,
            client,
            transport,
            &settings.config.listen.allow,
            explicit.edns_option,
        ) {
            Admission::Drop => return Step::Drop,
            Admission::Answer(wire, rcode) => {
                self.record_ladder(client, transport, rcode, started);
                return Step::Answer(wire);
            }
            Admission::Query(context) => context,
        };
        if let Some(rate) = &settings.client_rate
            && !rate.admit(client.ip(), transport, context.received)
        {
            self.shared.metrics.record_limit(Limit::ClientRate);
            return Step::Answer(self.over_rate(&mut context));
        }
        let Some(key) = CacheKey::from_query(&context.query) else {
            return Step::Answer(self.fail(&mut context, ResponseCode::FormErr));
        };
        if context.qtype == RecordType::A {
            self.shared
                .pairs
                .record_a(client.ip(), key.name(), context.received);
        }
        let Lookup::Hit { entry, age } = self.shared.cache.get(&key, context.received) else {
            return self.defer(&settings, context, &key);
        };
        context.source = Source::CacheHit;
        let paths = self.shared.paths();
        let facts = entry.facts();
        let ask = self.ask(&settings, &context, &key, facts, paths, Wait::ReadyAtOnce);
        let Verdict::Send(decision) = self.verdict(&settings, paths, &context, facts, &ask) else {
            // The hold or the A lookup: only a task can wait.
            return self.defer(&settings, context, &key);
        };
        if let Some(wire) = self.rendered_answer(
            &settings,
            &mut context,
            packet,
            &entry,
            age,
            paths,
            decision,
        ) {
            return Step::Answer(wire);
        }
        let answer = entry.response_at(age, false);
        Step::Answer(self.shape_and_finish(&settings, &mut context, answer, decision))
    }

    /// Hands the query to a task of its own, holding one of `upstream.max_outstanding` slots;
    /// with none left it is answered now, from cache as far as it can be, else SERVFAIL.
    fn defer(&self, settings: &Settings, mut context: Box<QueryContext>, key: &CacheKey) -> Step {
        let max = settings.config.upstream.max_outstanding;
        if let Some(slot) = self.shared.resolving.try_take(max) {
            context.slot = Some(slot);
            return Step::Resolve(context);
        }
        self.shared.metrics.record_limit(Limit::Outstanding);
        Step::Answer(self.answer_without_waiting(settings, &mut context, key))
    }

    /// The answer when nothing may wait: a cached answer, fresh or (`cache.serve_stale`)
    /// expired, decided without the lone-AAAA hold and with the A record only as far as the
    /// cache knows it; else SERVFAIL.
    fn answer_without_waiting(
        &self,
        settings: &Settings,
        context: &mut QueryContext,
        key: &CacheKey,
    ) -> Vec<u8> {
        let (entry, age, stale) = match self.shared.cache.get(key, Instant::now()) {
            Lookup::Hit { entry, age } => (entry, age, false),
            Lookup::Stale { entry, age } => (entry, age, true),
            Lookup::Miss => return self.fail(context, ResponseCode::ServFail),
        };
        context.source = if stale {
            Source::Stale
        } else {
            Source::CacheHit
        };
        let paths = self.shared.paths();
        let facts = entry.facts();
        let ask = self.ask(settings, context, key, facts, paths, Wait::Never);
        let Verdict::Send(decision) = self.verdict(settings, paths, context, facts, &ask) else {
            // Not reached: an ask gathered with `Wait::Never` neither holds nor looks up. Should
            // that change, SERVFAIL is still an answer; tests catch it first.
            debug_assert!(false, "Wait::Never gave a verdict that waits");
            return self.fail(context, ResponseCode::ServFail);
        };
        let answer = entry.response_at(age, stale);
        self.shape_and_finish(settings, context, answer, decision)
    }

    /// The answer to a client over `listen.client_rate`: over UDP an empty answer with TC set
    /// (a real client retries over TCP, which has a bucket of its own; a forged source gets
    /// nothing larger than its query), over TCP REFUSED.
    fn over_rate(&self, context: &mut QueryContext) -> Vec<u8> {
        let wire = match context.transport {
            Transport::Udp => {
                context.truncated = true;
                context.rcode = ResponseCode::NoError;
                truncated_answer(&context.query)
            }
            Transport::Tcp => {
                context.rcode = ResponseCode::Refused;
                error_answer(
                    &context.query.metadata,
                    Some(&context.query),
                    ResponseCode::Refused,
                )
            }
        };
        self.record(context);
        wire
    }

    /// A cache hit served from the entry's rendering for this decision (shaped and encoded
    /// once per settings, path state and decision), patched for this client; `None` when it
    /// does not apply (truncation needed, an unusual question), and the slow path answers.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn rendered_answer(
        &self,
        settings: &Settings,
        context: &mut QueryContext,
        packet: &[u8],
        entry: &Entry,
        age: std::time::Duration,
        paths: PathState,
        decision: AaaaDecision,
    ) -> Option<Vec<u8>> {
        let variant = Variant {
            decision,
            edns: context.client_edns.as_ref().map(|_| context.dnssec_ok()),
        };
        let stamp = (settings.generation << 8) | u64::from(paths.bits());
        let rendered = entry.rendered(stamp, variant, |answer| {
            render(settings, answer, stamp, variant)
        })?;
        let limit = match context.transport {
            Transport::Udp => context.max_udp_size(),
            Transport::Tcp => usize::from(u16::MAX),
        };
        let age_secs = u32::try_from(age.as_secs()).unwrap_or(u32::MAX);
        let wire = rendered.answer_to(packet, age_secs, limit)?;
        context.shaped = rendered.report;
        context.decision = Some(decision);
        context.rcode = rendered.rcode;
        self.record(context);
        Some(wire)
    }

    /// [`resolve`](Self::resolve), owning the pipeline, for a task of its own.
    pub async fn resolve_owned(self, context: Box<QueryContext>) -> Vec<u8> {
        self.resolve(context).await
    }

    /// The asynchronous part: upstream, the A lookup, the lone-AAAA hold.
    pub async fn resolve(&self, mut context: Box<QueryContext>) -> Vec<u8> {
        #[cfg(test)]
        Fault::strike(self.fault.resolve, &context.wire);
        let settings = self.shared.settings();
        let Some(key) = CacheKey::from_query(&context.query) else {
            return self.fail(&mut context, ResponseCode::FormErr);
        };
        let (answer, from_cache) = match self.shared.cache.get(&key, Instant::now()) {
            Lookup::Hit { entry, age } => {
                context.source = Source::CacheHit;
                (entry.response_at(age, false), true)
            }
            lookup => match self.fetch(&settings, &key, &context.wire).await {
                Some(answer) => {
                    context.source = Source::Upstream;
                    (answer, false)
                }
                // RFC 8767: every upstream failed, an expired answer is better than none.
                None => match lookup {
                    Lookup::Stale { entry, age } if settings.config.cache.serve_stale => {
                        context.source = Source::Stale;
                        (entry.response_at(age, true), true)
                    }
                    _ => return self.fail(&mut context, ResponseCode::ServFail),
                },
            },
        };
        let paths = self.shared.paths();
        let facts = &ResponseFacts::of(&answer);
        let wait = if from_cache {
            Wait::ReadyAtOnce
        } else {
            Wait::AfterUpstream
        };
        let ask = self.ask(&settings, &context, &key, facts, paths, wait);
        let decision = self
            .decide_after_waiting(&settings, paths, &context, &key, facts, ask)
            .await;
        self.shape_and_finish(&settings, &mut context, answer, decision)
    }

    /// Asks upstream once for all concurrent identical misses, caches what comes back, and
    /// returns it; `None` when every upstream failed or the answer did not parse.
    pub(super) async fn fetch(
        &self,
        settings: &Arc<Settings>,
        key: &CacheKey,
        wire: &[u8],
    ) -> Option<Message> {
        let shared = Arc::clone(&self.shared);
        let upstreams = Arc::clone(&settings.upstreams);
        let owned_key = key.clone();
        let wire = wire.to_vec();
        let shared_answer = self
            .shared
            .fetches
            .run(key.clone(), move || async move {
                let forwarded = upstreams.query(&wire).await;
                shared.record_forwarded(&upstreams, &forwarded);
                let bytes = forwarded.result.ok()?;
                let message = Message::from_vec(&bytes).ok()?;
                shared.cache.insert(owned_key, &message, Instant::now());
                Some(Arc::new(message))
            })
            .await;
        shared_answer.map(|message| Message::clone(&message))
    }

    /// Shape (the filter and the order: docs/behaviour.md), fit (the client's size) and record.
    pub(super) fn shape_and_finish(
        &self,
        settings: &Settings,
        context: &mut QueryContext,
        mut answer: Message,
        decision: AaaaDecision,
    ) -> Vec<u8> {
        let filtered_ttl = settings.policy.filtered_ttl;
        context.shaped = shape(&mut answer, decision, &settings.table, filtered_ttl);
        context.decision = Some(decision);
        let wire = finish_answer(context, answer);
        self.record(context);
        wire
    }

    /// An answer with only `rcode`, recorded.
    fn fail(&self, context: &mut QueryContext, rcode: ResponseCode) -> Vec<u8> {
        context.rcode = rcode;
        let wire = error_answer(&context.query.metadata, Some(&context.query), rcode);
        self.record(context);
        wire
    }

    /// The last stage: the metrics and one debug line, from the context, once.
    fn record(&self, context: &QueryContext) {
        let elapsed = context.received.elapsed();
        let (filtered, kept) = match context.decision {
            Some(AaaaDecision::Remove { reason, .. }) => (Some(reason), None),
            Some(AaaaDecision::Keep(reason)) => (None, Some(reason)),
            _ => (None, None),
        };
        let shaped = &context.shaped;
        self.shared.metrics.record_query(&QueryRecord {
            transport: context.transport,
            qtype: Some(context.qtype),
            rcode: context.rcode,
            elapsed,
            cache: match context.source {
                Source::None => None,
                Source::CacheHit => Some(CacheResult::Hit),
                Source::Upstream => Some(CacheResult::Miss),
                Source::Stale => Some(CacheResult::Stale),
            },
            filtered,
            kept,
            removed: [
                shaped.removed_answer,
                shaped.removed_additional,
                shaped.removed_ipv6hint,
            ],
            reordered: shaped.reordered,
        });
        tracing::debug!(
            client = %context.client,
            transport = context.transport.as_str(),
            qtype = %context.qtype,
            source = ?context.source,
            decision = ?context.decision,
            removed = shaped.removed_answer + shaped.removed_additional,
            reordered = shaped.reordered,
            rcode = %context.rcode,
            truncated = context.truncated,
            micros = elapsed.as_micros() as u64,
            "query"
        );
    }

    /// The ladder's error answers (FORMERR, NOTIMP, REFUSED) are counted and logged too,
    /// without a context (the question may not have been readable: its type counts as
    /// `other`).
    fn record_ladder(
        &self,
        client: SocketAddr,
        transport: Transport,
        rcode: ResponseCode,
        started: Instant,
    ) {
        self.shared.metrics.record_query(&QueryRecord {
            transport,
            qtype: None,
            rcode,
            elapsed: started.elapsed(),
            cache: None,
            filtered: None,
            kept: None,
            removed: [0; 3],
            reordered: false,
        });
        tracing::debug!(%client, transport = transport.as_str(), %rcode, "query answered by the ladder");
    }
}

/// Shapes `answer` (the cached response at age 0) for `variant` and encodes it as
/// [`finish_answer`] would (through the same [`normalise`]) for a client with ID 0 and RD, CD
/// clear, whose question is the cached one.
fn render(
    settings: &Settings,
    mut answer: Message,
    stamp: u64,
    variant: Variant,
) -> Option<Rendered> {
    let soa_ttls: Vec<u32> = answer
        .authorities
        .iter()
        .filter(|record| matches!(record.data, RData::SOA(_)))
        .map(|record| record.ttl)
        .collect();
    let report = shape(
        &mut answer,
        variant.decision,
        &settings.table,
        settings.policy.filtered_ttl,
    );
    let neutral = Addressee {
        id: 0,
        recursion_desired: false,
        checking_disabled: false,
        edns: variant.edns,
    };
    normalise(&mut answer, &neutral);
    let rcode = answer.metadata.response_code;
    let wire = answer.to_vec().ok()?;
    // A filtered NODATA's SOA TTLs were capped: served later, each is its own count-down or
    // the cap, whichever is smaller.
    let capped = report.nodata.then_some(Capped {
        cap: settings.policy.filtered_ttl,
        soa_ttls,
    });
    Rendered::new(stamp, variant, wire, report, rcode, capped)
}
