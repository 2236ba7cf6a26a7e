//! A pathwise host in process for the checks: the real `Shared` state and `Pipeline` on a
//! Teredo-only host, with no listener and an upstream that is never asked (every query that
//! would go upstream stops at `Step::Resolve`, which the checks drop).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};

use hickory_proto::op::{Edns, Message, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use pathwise::cache::CacheKey;
use pathwise::config::{Config, PathOverride, UpstreamSpec};
use pathwise::metrics::Metrics;
use pathwise::server::pipeline::Pipeline;
use pathwise::server::state::{Settings, Shared};
use pathwise_policy::{FilterMode, Path, PathState};
use tokio::sync::watch;
use tokio::time::Instant;

/// A client inside `listen.allow` (the default: loopback).
pub(super) const INSIDER: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)), 40000);
/// A second insider that never sends an A query first: its AAAA queries are lone.
pub(super) const LONE: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), 40001);
/// A client outside `listen.allow` (a documentation address; nothing is ever sent to it).
pub(super) const OUTSIDER: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 99)), 40002);

/// Which `[policy]` the host runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Policy {
    /// The defaults: `teredo-only`, Teredo destinations kept, `require_a` on.
    Default,
    /// `filter_aaaa = always`, `keep_teredo_destinations = false`, `require_a = false`: every
    /// IPv6 address is removed from a NOERROR answer for a client that did not ask explicitly.
    Strict,
}

/// The host: its pipeline and shared state, and the sender that keeps its path state alive.
pub(super) struct Host {
    /// The request pipeline, as the listeners drive it.
    pub(super) pipeline: Pipeline,
    /// Cache, pair tracker, settings.
    pub(super) shared: Arc<Shared>,
    _paths: watch::Sender<PathState>,
}

impl Host {
    /// A fresh host (empty cache, no A query seen) on a Teredo-only path state.
    pub(super) fn teredo_only(policy: Policy) -> Self {
        let mut config = Config::default();
        // Never contacted: the checks drop every Step::Resolve. Loopback all the same.
        config.upstream.servers = vec![UpstreamSpec::Udp(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            9,
        ))];
        config.paths.path_override = PathOverride::Auto;
        if policy == Policy::Strict {
            config.policy.filter_aaaa = FilterMode::Always;
            config.policy.keep_teredo_destinations = false;
            config.policy.require_a = false;
        }
        let settings = Settings::new(config).expect("a loopback UDP upstream is always valid");
        let teredo: PathState = [Path::Teredo, Path::Ipv4].into_iter().collect();
        let (paths, paths_rx) = watch::channel(teredo);
        let shared = Arc::new(Shared::new(settings, paths_rx, metrics()));
        Self {
            pipeline: Pipeline::new(Arc::clone(&shared)),
            shared,
            _paths: paths,
        }
    }

    /// Caches `answer` under `question` for every DO and CD combination of a client query;
    /// returns whether the cache took it.
    pub(super) fn cache(&self, question: &Query, answer: &Message) -> bool {
        let mut cached = false;
        for (dnssec_ok, checking_disabled) in
            [(false, false), (true, false), (false, true), (true, true)]
        {
            let key = CacheKey::new(
                question.name(),
                question.query_type(),
                question.query_class(),
                dnssec_ok,
                checking_disabled,
            );
            cached |= self
                .shared
                .cache
                .insert(key, answer, Instant::now())
                .is_some();
        }
        cached
    }
}

/// One registry for every host: metrics only count, they decide nothing.
fn metrics() -> Arc<Metrics> {
    static METRICS: OnceLock<Arc<Metrics>> = OnceLock::new();
    Arc::clone(METRICS.get_or_init(|| Arc::new(Metrics::new())))
}

/// A client query for `question`, with an OPT record of `payload` bytes when given.
pub(super) fn client_query(id: u16, question: &Query, payload: Option<u16>) -> Vec<u8> {
    let mut query = Message::query();
    query.metadata.id = id;
    query.metadata.recursion_desired = true;
    query.add_query(question.clone());
    if let Some(payload) = payload {
        let mut edns = Edns::new();
        edns.set_max_payload(payload);
        query.edns = Some(edns);
    }
    query.to_vec().expect("a parsed question encodes")
}

/// An upstream answer to `question` holding `data` (NODATA with an SOA when empty).
pub(super) fn answer(question: &Query, data: Vec<RData>) -> Message {
    let mut message = Message::response(0, OpCode::Query);
    message.metadata.response_code = ResponseCode::NoError;
    message.metadata.recursion_desired = true;
    message.metadata.recursion_available = true;
    message.add_query(question.clone());
    let owner = question.name().clone();
    if data.is_empty() {
        let zone = owner.base_name();
        let soa = SOA::new(zone.clone(), zone.clone(), 1, 3600, 600, 86400, 60);
        message.add_authority(Record::from_rdata(zone, 60, RData::SOA(soa)));
    }
    for rdata in data {
        message.add_answer(Record::from_rdata(owner.clone(), 300, rdata));
    }
    message
}

/// The names the query target's cache holds, as in `tests/e2e/serve/zone.rs` and the seed
/// corpus: (name, A addresses, AAAA addresses).
pub(super) const CACHED: [(&str, &[&str], &[&str]); 4] = [
    (
        "dual.pathwise.test.",
        &["192.0.2.1"],
        &["2a00:1450:4001::1"],
    ),
    (
        "every.pathwise.test.",
        &["192.0.2.4"],
        &[
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2002:c633:640a::10",
            "2a00:1450:4001::4",
        ],
    ),
    (
        "teredo.pathwise.test.",
        &["192.0.2.5"],
        &["2001:0:4136:e378:8000:63bf:3fff:fdd5"],
    ),
    ("v6only.pathwise.test.", &[], &["2a00:1450:4001::3"]),
];

/// A host whose cache holds A and AAAA of every [`CACHED`] name, and whose [`INSIDER`] has
/// just asked each name's A (so its AAAA queries are paired, not lone).
pub(super) fn cached_host() -> Host {
    let host = Host::teredo_only(Policy::Default);
    for (name, v4, v6) in CACHED {
        let name = Name::from_ascii(name).expect("a valid name");
        let a = Query::query(name.clone(), RecordType::A);
        let v4 = v4.iter().map(|a| RData::A(A(a.parse().expect("IPv4"))));
        host.cache(&a, &answer(&a, v4.collect()));
        let aaaa = Query::query(name, RecordType::AAAA);
        let v6 = v6
            .iter()
            .map(|a| RData::AAAA(AAAA(a.parse().expect("IPv6"))));
        host.cache(&aaaa, &answer(&aaaa, v6.collect()));
        let _ = host.pipeline.receive(
            &client_query(1, &a, None),
            INSIDER,
            pathwise::server::context::Transport::Udp,
        );
    }
    host
}
