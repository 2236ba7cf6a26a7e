//! The metrics (docs/metrics.md): every name a constant with its help text, registered
//! once on pathwise's own registry, in one struct of handles shared by `Arc`.
//!
//! The per-query metrics are resolved to one handle per label combination when the struct is
//! built, so recording a query is a few atomic increments: no label hashing, no lock. Label
//! values that could be anything (`qtype`, `rcode`) are folded into a fixed set plus `other`,
//! so a client cannot grow the series count.

use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use pathwise_policy::{FilterReason, KeepReason, Path, PathState};
use prometheus::core::Collector;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::server::context::Transport;
use crate::upstream::{DropReason, Outcome};

pub use crate::metric_names::*;

/// Duration buckets, in seconds, for a resolver on the same host: a cache hit takes tens of
/// microseconds, a forwarded query one to a few hundred milliseconds, a failing one up to
/// `upstream.timeout` times the servers (seconds). Roughly 1-2.5-5 per decade from 25µs to 5s.
pub const DURATION_BUCKETS: [f64; 17] = [
    0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The `qtype` label values; any other type counts as `other`.
pub const QTYPES: [RecordType; 16] = [
    RecordType::A,
    RecordType::AAAA,
    RecordType::HTTPS,
    RecordType::SVCB,
    RecordType::CNAME,
    RecordType::PTR,
    RecordType::MX,
    RecordType::TXT,
    RecordType::SRV,
    RecordType::NS,
    RecordType::SOA,
    RecordType::DS,
    RecordType::DNSKEY,
    RecordType::CAA,
    RecordType::NAPTR,
    RecordType::ANY,
];

/// The `rcode` label values; any other code counts as `other`.
pub const RCODES: [ResponseCode; 6] = [
    ResponseCode::NoError,
    ResponseCode::FormErr,
    ResponseCode::ServFail,
    ResponseCode::NXDomain,
    ResponseCode::NotImp,
    ResponseCode::Refused,
];

/// The label value for everything outside a fixed set.
pub const OTHER: &str = "other";

/// The `section` label values of [`AAAA_RECORDS_REMOVED_TOTAL`].
pub const SECTIONS: [&str; 3] = ["answer", "additional", "ipv6hint"];

/// The `result` label of [`CACHE_LOOKUPS_TOTAL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheResult {
    /// A fresh entry answered.
    Hit,
    /// Not cached (or expired): asked upstream.
    Miss,
    /// Every upstream failed; an expired entry answered (RFC 8767).
    Stale,
}

impl CacheResult {
    /// Every result.
    pub const ALL: [CacheResult; 3] = [Self::Hit, Self::Miss, Self::Stale];

    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
            Self::Stale => "stale",
        }
    }
}

/// The `limit` label of [`LIMITED_TOTAL`]: which bound was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// A client sent more than `listen.client_rate` queries a second.
    ClientRate,
    /// `upstream.max_outstanding` queries were already waiting on upstream.
    Outstanding,
    /// `listen.max_tcp_connections` were open: the next client waited for a slot.
    TcpConnections,
    /// A client had `listen.max_tcp_per_client` connections open: its next was closed.
    TcpPerClient,
    /// A TCP client sent part of a message and not the rest within `listen.tcp_read_timeout`,
    /// or did not read its answers: the connection was closed.
    TcpTimeout,
    /// The lone-AAAA pair tracker was full: its oldest A query was forgotten.
    PairTable,
    /// The cache was full (`cache.max_entries`): an entry was evicted.
    Cache,
}

impl Limit {
    /// Every limit.
    pub const ALL: [Limit; 7] = [
        Self::ClientRate,
        Self::Outstanding,
        Self::TcpConnections,
        Self::TcpPerClient,
        Self::TcpTimeout,
        Self::PairTable,
        Self::Cache,
    ];

    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientRate => "client_rate",
            Self::Outstanding => "outstanding",
            Self::TcpConnections => "tcp_connections",
            Self::TcpPerClient => "tcp_per_client",
            Self::TcpTimeout => "tcp_timeout",
            Self::PairTable => "pair_table",
            Self::Cache => "cache",
        }
    }
}

/// What one answered query did, for [`Metrics::record_query`].
#[derive(Clone, Copy, Debug)]
pub struct QueryRecord {
    /// UDP or TCP.
    pub transport: Transport,
    /// The question's type; `None` when the question could not be read.
    pub qtype: Option<RecordType>,
    /// The response code sent.
    pub rcode: ResponseCode,
    /// Receive to answer.
    pub elapsed: Duration,
    /// Where the answer came from; `None` when no lookup was made (ladder answers, errors).
    pub cache: Option<CacheResult>,
    /// Why AAAA data was removed, if it was.
    pub filtered: Option<FilterReason>,
    /// Why AAAA data was kept while the filter was active, if it was.
    pub kept: Option<KeepReason>,
    /// Records removed from the answer, additional section, and ipv6hint parameters removed.
    pub removed: [usize; 3],
    /// Whether an address RRset was reordered.
    pub reordered: bool,
}

/// Every metric handle; one per process, shared by `Arc`.
pub struct Metrics {
    registry: Registry,
    /// By transport (UDP, TCP), then by [`QTYPES`] index, `other` last.
    queries: [Vec<IntCounter>; 2],
    /// By [`RCODES`] index, `other` last.
    responses: Vec<IntCounter>,
    /// By transport.
    request_duration: [Histogram; 2],
    /// By [`FilterReason::ALL`] index.
    filtered: Vec<IntCounter>,
    /// By [`SECTIONS`] index.
    removed: Vec<IntCounter>,
    /// By [`KeepReason::ALL`] index.
    kept: Vec<IntCounter>,
    /// By [`QTYPES`] index, `other` last.
    reordered: Vec<IntCounter>,
    /// By [`Path::ALL`] index.
    path_available: Vec<IntGauge>,
    filter_active: IntGauge,
    path_changes: IntCounter,
    upstream_queries: IntCounterVec,
    upstream_duration: HistogramVec,
    /// By [`CacheResult::ALL`] index.
    cache_lookups: Vec<IntCounter>,
    cache_entries: IntGauge,
    /// By [`Limit::ALL`] index.
    limited: Vec<IntCounter>,
    /// By [`DropReason::ALL`] index.
    dropped: Vec<IntCounter>,
    upstream_up: IntGaugeVec,
    /// By [`Transport`] (UDP, TCP).
    query_panics: [IntCounter; 2],
}

impl Metrics {
    /// Registers every metric, and the process collector, on a new registry.
    pub fn new() -> Self {
        let registry = Registry::new();
        let queries_vec = counter_vec(&registry, QUERIES_TOTAL, &["transport", "qtype"]);
        let qtype_labels = qtype_labels();
        let queries = [Transport::Udp, Transport::Tcp].map(|transport| {
            qtype_labels
                .iter()
                .map(|qtype| queries_vec.with_label_values(&[transport.as_str(), qtype.as_str()]))
                .collect()
        });
        let responses_vec = counter_vec(&registry, RESPONSES_TOTAL, &["rcode"]);
        let responses = rcode_labels()
            .iter()
            .map(|rcode| responses_vec.with_label_values(&[rcode.as_str()]))
            .collect();
        let duration_vec = histogram_vec(&registry, REQUEST_DURATION_SECONDS, &["transport"]);
        let request_duration = [Transport::Udp, Transport::Tcp]
            .map(|transport| duration_vec.with_label_values(&[transport.as_str()]));
        let filtered_vec = counter_vec(&registry, AAAA_FILTERED_TOTAL, &["reason"]);
        let filtered = FilterReason::ALL
            .iter()
            .map(|reason| filtered_vec.with_label_values(&[reason.as_str()]))
            .collect();
        let removed_vec = counter_vec(&registry, AAAA_RECORDS_REMOVED_TOTAL, &["section"]);
        let removed = SECTIONS
            .iter()
            .map(|section| removed_vec.with_label_values(&[*section]))
            .collect();
        let kept_vec = counter_vec(&registry, AAAA_KEPT_TOTAL, &["reason"]);
        let kept = KeepReason::ALL
            .iter()
            .map(|reason| kept_vec.with_label_values(&[reason.as_str()]))
            .collect();
        let reordered_vec = counter_vec(&registry, ANSWERS_REORDERED_TOTAL, &["qtype"]);
        let reordered = qtype_labels
            .iter()
            .map(|qtype| reordered_vec.with_label_values(&[qtype.as_str()]))
            .collect();
        let available_vec = gauge_vec(&registry, PATH_AVAILABLE, &["path"]);
        let path_available = Path::ALL
            .iter()
            .map(|path| available_vec.with_label_values(&[path.as_str()]))
            .collect();
        let filter_active = gauge(&registry, FILTER_ACTIVE);
        let path_changes = counter(&registry, PATH_CHANGES_TOTAL);
        let upstream_queries =
            counter_vec(&registry, UPSTREAM_QUERIES_TOTAL, &["upstream", "outcome"]);
        let upstream_duration = histogram_vec(&registry, UPSTREAM_DURATION_SECONDS, &["upstream"]);
        let lookups_vec = counter_vec(&registry, CACHE_LOOKUPS_TOTAL, &["result"]);
        let cache_lookups = CacheResult::ALL
            .iter()
            .map(|result| lookups_vec.with_label_values(&[result.as_str()]))
            .collect();
        let cache_entries = gauge(&registry, CACHE_ENTRIES);
        let limited_vec = counter_vec(&registry, LIMITED_TOTAL, &["limit"]);
        let limited = Limit::ALL
            .iter()
            .map(|limit| limited_vec.with_label_values(&[limit.as_str()]))
            .collect();
        let dropped_vec = counter_vec(&registry, UPSTREAM_DROPPED_TOTAL, &["reason"]);
        let dropped = DropReason::ALL
            .iter()
            .map(|reason| dropped_vec.with_label_values(&[reason.as_str()]))
            .collect();
        let upstream_up = gauge_vec(&registry, UPSTREAM_UP, &["upstream"]);
        let panics_vec = counter_vec(&registry, QUERY_PANICS_TOTAL, &["transport"]);
        let query_panics = [Transport::Udp, Transport::Tcp]
            .map(|transport| panics_vec.with_label_values(&[transport.as_str()]));
        let build_info = gauge_vec(&registry, BUILD_INFO, &["version"]);
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        register(
            &registry,
            prometheus::process_collector::ProcessCollector::for_self(),
        );
        Self {
            registry,
            queries,
            responses,
            request_duration,
            filtered,
            removed,
            kept,
            reordered,
            path_available,
            filter_active,
            path_changes,
            upstream_queries,
            upstream_duration,
            cache_lookups,
            cache_entries,
            limited,
            dropped,
            upstream_up,
            query_panics,
        }
    }

    /// Counts one query over `transport` whose handling panicked.
    pub fn record_panic(&self, transport: Transport) {
        self.query_panics[transport as usize].inc();
    }

    /// Counts one time `limit` was hit.
    pub fn record_limit(&self, limit: Limit) {
        self.limited[limit as usize].inc();
    }

    /// Brings the count of `limit` up to `total`, for limits counted elsewhere (the cache's
    /// and the pair tracker's evictions, read at scrape time).
    pub fn sync_limit(&self, limit: Limit, total: u64) {
        let counter = &self.limited[limit as usize];
        let now = counter.get();
        if total > now {
            counter.inc_by(total - now);
        }
    }

    /// Counts upstream answers dropped for `reason`.
    pub fn record_dropped(&self, reason: DropReason, count: u32) {
        if count > 0 {
            self.dropped[reason as usize].inc_by(u64::from(count));
        }
    }

    /// Records one answered query: everything it did, once.
    pub fn record_query(&self, record: &QueryRecord) {
        let transport = record.transport as usize;
        let qtype = qtype_index(record.qtype);
        self.queries[transport][qtype].inc();
        self.responses[rcode_index(record.rcode)].inc();
        self.request_duration[transport].observe(record.elapsed.as_secs_f64());
        if let Some(result) = record.cache {
            self.cache_lookups[result as usize].inc();
        }
        if let Some(reason) = record.filtered {
            self.filtered[reason as usize].inc();
        }
        if let Some(reason) = record.kept {
            self.kept[reason as usize].inc();
        }
        for (counter, &count) in self.removed.iter().zip(&record.removed) {
            if count > 0 {
                counter.inc_by(count as u64);
            }
        }
        if record.reordered {
            self.reordered[qtype].inc();
        }
    }

    /// Creates the series of each upstream at zero, so that dashboards and alerts see a server
    /// before its first query (and a rate of 0, not an absent series, while it is idle).
    pub fn know_upstreams<'a>(&self, upstreams: impl IntoIterator<Item = &'a str>) {
        for upstream in upstreams {
            for outcome in Outcome::ALL {
                self.upstream_queries
                    .with_label_values(&[upstream, outcome.as_str()]);
            }
            self.upstream_duration.with_label_values(&[upstream]);
        }
    }

    /// Sets whether each upstream is up; servers no longer configured lose their series.
    pub fn set_upstreams_up<'a>(&self, upstreams: impl IntoIterator<Item = (&'a str, bool)>) {
        self.upstream_up.reset();
        for (upstream, up) in upstreams {
            self.upstream_up
                .with_label_values(&[upstream])
                .set(i64::from(up));
        }
    }

    /// Records one attempt at an upstream server.
    pub fn record_upstream(&self, upstream: &str, outcome: Outcome, elapsed: Duration) {
        self.upstream_queries
            .with_label_values(&[upstream, outcome.as_str()])
            .inc();
        self.upstream_duration
            .with_label_values(&[upstream])
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one change of the path state.
    pub fn record_path_change(&self) {
        self.path_changes.inc();
    }

    /// Sets the gauges that describe the present (read at scrape time, so never stale).
    pub fn set_state(&self, paths: PathState, filter_active: bool, cache_entries: usize) {
        for (gauge, path) in self.path_available.iter().zip(Path::ALL) {
            gauge.set(i64::from(paths.has(path)));
        }
        self.filter_active.set(i64::from(filter_active));
        self.cache_entries
            .set(i64::try_from(cache_entries).unwrap_or(i64::MAX));
    }

    /// Every metric in the Prometheus text format (version 0.0.4).
    pub fn encode(&self) -> Vec<u8> {
        let mut text = Vec::with_capacity(16 * 1024);
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut text) {
            tracing::warn!(%error, "encoding the metrics");
        }
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// The `qtype` label of a type: its lower-case mnemonic if it is one of [`QTYPES`], else
/// [`OTHER`].
pub fn qtype_label(qtype: Option<RecordType>) -> String {
    qtype_labels().swap_remove(qtype_index(qtype))
}

/// The `rcode` label of a response code, lower-case, or [`OTHER`].
pub fn rcode_label(rcode: ResponseCode) -> String {
    rcode_labels().swap_remove(rcode_index(rcode))
}

fn qtype_labels() -> Vec<String> {
    QTYPES
        .iter()
        .map(|qtype| qtype.to_string().to_ascii_lowercase())
        .chain([OTHER.to_owned()])
        .collect()
}

fn rcode_labels() -> Vec<String> {
    RCODES
        .iter()
        .map(|rcode| match rcode {
            ResponseCode::NoError => "noerror".to_owned(),
            ResponseCode::FormErr => "formerr".to_owned(),
            ResponseCode::ServFail => "servfail".to_owned(),
            ResponseCode::NXDomain => "nxdomain".to_owned(),
            ResponseCode::NotImp => "notimp".to_owned(),
            ResponseCode::Refused => "refused".to_owned(),
            other => other.to_string().to_ascii_lowercase(),
        })
        .chain([OTHER.to_owned()])
        .collect()
}

fn qtype_index(qtype: Option<RecordType>) -> usize {
    qtype
        .and_then(|qtype| QTYPES.iter().position(|&known| known == qtype))
        .unwrap_or(QTYPES.len())
}

fn rcode_index(rcode: ResponseCode) -> usize {
    RCODES
        .iter()
        .position(|&known| known == rcode)
        .unwrap_or(RCODES.len())
}

fn register(registry: &Registry, collector: impl Collector + 'static) {
    registry
        .register(Box::new(collector))
        .expect("each metric is registered once, under a valid name");
}

fn help(name: &str) -> String {
    // The help lines are the constants' doc comments; kept in one table for the text format.
    let help = match name {
        QUERIES_TOTAL => "Queries received, by transport and qtype.",
        RESPONSES_TOTAL => "Responses sent, by rcode.",
        REQUEST_DURATION_SECONDS => "Seconds from receiving a query to its answer, by transport.",
        AAAA_FILTERED_TOTAL => {
            "Responses whose AAAA data was removed, by why the filter was active."
        }
        AAAA_RECORDS_REMOVED_TOTAL => "AAAA records and ipv6hint parameters removed, by section.",
        AAAA_KEPT_TOTAL => {
            "Responses that kept their AAAA data while the filter was active, by reason."
        }
        ANSWERS_REORDERED_TOTAL => {
            "Answers whose address records were put in table order, by qtype."
        }
        PATH_AVAILABLE => "Whether the host has this path now (1) or not (0).",
        FILTER_ACTIVE => "Whether the AAAA filter is active now (1) or not (0).",
        PATH_CHANGES_TOTAL => "Changes of the path state.",
        UPSTREAM_QUERIES_TOTAL => "Attempts at upstream servers, by upstream and outcome.",
        UPSTREAM_DURATION_SECONDS => {
            "Seconds from sending an upstream query to its outcome, by upstream."
        }
        CACHE_LOOKUPS_TOTAL => "Cache lookups of answered queries, by result.",
        CACHE_ENTRIES => "Answers in the cache.",
        BUILD_INFO => "Always 1, labelled with the running version.",
        LIMITED_TOTAL => "Limits reached, by limit.",
        UPSTREAM_DROPPED_TOTAL => {
            "Upstream answers dropped as not answering the query sent, by reason."
        }
        UPSTREAM_UP => "Whether the upstream is up (1) or marked down after failing (0).",
        QUERY_PANICS_TOTAL => "Queries whose handling panicked and were dropped, by transport.",
        _ => "",
    };
    help.to_owned()
}

fn counter(registry: &Registry, name: &str) -> IntCounter {
    let counter = IntCounter::with_opts(Opts::new(name, help(name))).expect("a valid metric");
    register(registry, counter.clone());
    counter
}

fn counter_vec(registry: &Registry, name: &str, labels: &[&str]) -> IntCounterVec {
    let vec = IntCounterVec::new(Opts::new(name, help(name)), labels).expect("a valid metric");
    register(registry, vec.clone());
    vec
}

fn gauge(registry: &Registry, name: &str) -> IntGauge {
    let gauge = IntGauge::with_opts(Opts::new(name, help(name))).expect("a valid metric");
    register(registry, gauge.clone());
    gauge
}

fn gauge_vec(registry: &Registry, name: &str, labels: &[&str]) -> IntGaugeVec {
    let vec = IntGaugeVec::new(Opts::new(name, help(name)), labels).expect("a valid metric");
    register(registry, vec.clone());
    vec
}

fn histogram_vec(registry: &Registry, name: &str, labels: &[&str]) -> HistogramVec {
    let opts = HistogramOpts::new(name, help(name)).buckets(DURATION_BUCKETS.to_vec());
    let vec = HistogramVec::new(opts, labels).expect("a valid metric");
    register(registry, vec.clone());
    vec
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrape(metrics: &Metrics) -> String {
        String::from_utf8(metrics.encode()).expect("UTF-8")
    }

    #[test]
    fn every_metric_is_in_the_scrape_with_its_type() {
        let metrics = Metrics::new();
        metrics.know_upstreams(["127.0.0.1:53"]);
        metrics.set_upstreams_up([("127.0.0.1:53", true)]);
        let text = scrape(&metrics);
        for (name, kind, _) in METRICS {
            assert!(
                text.contains(&format!("# TYPE {name} {kind}\n")),
                "{name} {kind}:\n{text}"
            );
        }
        assert!(text.contains("process_resident_memory_bytes"), "{text}");
        assert!(
            text.contains(&format!(
                "pathwise_build_info{{version=\"{}\"}} 1",
                env!("CARGO_PKG_VERSION")
            )),
            "{text}"
        );
    }

    #[test]
    fn a_query_is_recorded_once_under_its_labels() {
        let metrics = Metrics::new();
        metrics.record_query(&QueryRecord {
            transport: Transport::Tcp,
            qtype: Some(RecordType::AAAA),
            rcode: ResponseCode::NoError,
            elapsed: Duration::from_micros(40),
            cache: Some(CacheResult::Hit),
            filtered: Some(FilterReason::TeredoOnly),
            kept: None,
            removed: [2, 1, 0],
            reordered: false,
        });
        metrics.record_query(&QueryRecord {
            transport: Transport::Udp,
            qtype: Some(RecordType::Unknown(65_000)),
            rcode: ResponseCode::BADCOOKIE,
            elapsed: Duration::from_millis(3),
            cache: None,
            filtered: None,
            kept: Some(KeepReason::LoneAaaa),
            removed: [0; 3],
            reordered: true,
        });
        let text = scrape(&metrics);
        for line in [
            "pathwise_queries_total{qtype=\"aaaa\",transport=\"tcp\"} 1",
            "pathwise_queries_total{qtype=\"other\",transport=\"udp\"} 1",
            "pathwise_responses_total{rcode=\"noerror\"} 1",
            "pathwise_responses_total{rcode=\"other\"} 1",
            "pathwise_aaaa_filtered_total{reason=\"teredo_only\"} 1",
            "pathwise_aaaa_kept_total{reason=\"lone_aaaa\"} 1",
            "pathwise_aaaa_records_removed_total{section=\"answer\"} 2",
            "pathwise_aaaa_records_removed_total{section=\"additional\"} 1",
            "pathwise_aaaa_records_removed_total{section=\"ipv6hint\"} 0",
            "pathwise_answers_reordered_total{qtype=\"other\"} 1",
            "pathwise_cache_lookups_total{result=\"hit\"} 1",
            "pathwise_request_duration_seconds_bucket{transport=\"tcp\",le=\"0.00005\"} 1",
            "pathwise_request_duration_seconds_bucket{transport=\"tcp\",le=\"0.000025\"} 0",
            "pathwise_request_duration_seconds_count{transport=\"udp\"} 1",
        ] {
            assert!(text.contains(line), "{line}:\n{text}");
        }
    }

    #[test]
    fn state_gauges_and_upstreams() {
        let metrics = Metrics::new();
        let state: PathState = [Path::Teredo, Path::Ipv4].into_iter().collect();
        metrics.set_state(state, true, 42);
        metrics.record_path_change();
        metrics.record_upstream("127.0.0.1:53", Outcome::Timeout, Duration::from_secs(2));
        let text = scrape(&metrics);
        for line in [
            "pathwise_path_available{path=\"teredo\"} 1",
            "pathwise_path_available{path=\"native6\"} 0",
            "pathwise_filter_active 1",
            "pathwise_cache_entries 42",
            "pathwise_path_changes_total 1",
            "pathwise_upstream_queries_total{outcome=\"timeout\",upstream=\"127.0.0.1:53\"} 1",
            "pathwise_upstream_duration_seconds_bucket{upstream=\"127.0.0.1:53\",le=\"2.5\"} 1",
        ] {
            assert!(text.contains(line), "{line}:\n{text}");
        }
    }

    #[test]
    fn enum_indexes_match_their_all_lists() {
        // record_query indexes the handle vectors by discriminant.
        for (index, reason) in FilterReason::ALL.into_iter().enumerate() {
            assert_eq!(reason as usize, index, "{reason:?}");
        }
        for (index, reason) in KeepReason::ALL.into_iter().enumerate() {
            assert_eq!(reason as usize, index, "{reason:?}");
        }
        for (index, limit) in Limit::ALL.into_iter().enumerate() {
            assert_eq!(limit as usize, index, "{limit:?}");
        }
        for (index, reason) in DropReason::ALL.into_iter().enumerate() {
            assert_eq!(reason as usize, index, "{reason:?}");
        }
        for (index, result) in CacheResult::ALL.into_iter().enumerate() {
            assert_eq!(result as usize, index, "{result:?}");
        }
        assert_eq!([Transport::Udp as usize, Transport::Tcp as usize], [0, 1]);
    }

    #[test]
    fn labels_fold_into_a_fixed_set() {
        assert_eq!(qtype_label(Some(RecordType::HTTPS)), "https");
        assert_eq!(qtype_label(Some(RecordType::Unknown(65_280))), OTHER);
        assert_eq!(qtype_label(None), OTHER);
        assert_eq!(rcode_label(ResponseCode::NXDomain), "nxdomain");
        assert_eq!(rcode_label(ResponseCode::YXDomain), OTHER);
    }
}
