//! The names of pathwise's metrics (docs/metrics.md), with their types and labels: plain
//! constants with no dependencies, so that the end-to-end tests compile this very file (the tests
//! check the scrape against the constants the code registers).

/// Queries received, by `transport` and `qtype`.
pub const QUERIES_TOTAL: &str = "pathwise_queries_total";
/// Responses sent, by `rcode`.
pub const RESPONSES_TOTAL: &str = "pathwise_responses_total";
/// From receiving a query to its answer being ready to send, by `transport`.
pub const REQUEST_DURATION_SECONDS: &str = "pathwise_request_duration_seconds";
/// Responses whose AAAA data was removed, by the `reason` the filter was active.
pub const AAAA_FILTERED_TOTAL: &str = "pathwise_aaaa_filtered_total";
/// AAAA records (or ipv6hint parameters) removed, by `section`.
pub const AAAA_RECORDS_REMOVED_TOTAL: &str = "pathwise_aaaa_records_removed_total";
/// Responses that kept their AAAA data while the filter was active, by `reason`.
pub const AAAA_KEPT_TOTAL: &str = "pathwise_aaaa_kept_total";
/// Answers whose address records were put in table order, by `qtype`.
pub const ANSWERS_REORDERED_TOTAL: &str = "pathwise_answers_reordered_total";
/// Whether the host has each `path` now (1) or not (0).
pub const PATH_AVAILABLE: &str = "pathwise_path_available";
/// Whether the AAAA filter is active now (1) or not (0).
pub const FILTER_ACTIVE: &str = "pathwise_filter_active";
/// Changes of the path state.
pub const PATH_CHANGES_TOTAL: &str = "pathwise_path_changes_total";
/// Attempts at upstream servers, by `upstream` and `outcome`.
pub const UPSTREAM_QUERIES_TOTAL: &str = "pathwise_upstream_queries_total";
/// From sending an upstream query to its outcome, by `upstream`.
pub const UPSTREAM_DURATION_SECONDS: &str = "pathwise_upstream_duration_seconds";
/// Cache lookups of answered queries, by `result`.
pub const CACHE_LOOKUPS_TOTAL: &str = "pathwise_cache_lookups_total";
/// Answers in the cache.
pub const CACHE_ENTRIES: &str = "pathwise_cache_entries";
/// Always 1, with the running `version`.
pub const BUILD_INFO: &str = "pathwise_build_info";

/// Limits that were hit, by `limit`.
pub const LIMITED_TOTAL: &str = "pathwise_limited_total";
/// Upstream answers dropped as not answering the query sent, by `reason`.
pub const UPSTREAM_DROPPED_TOTAL: &str = "pathwise_upstream_dropped_total";
/// Whether each `upstream` is up (1) or marked down after failing (0).
pub const UPSTREAM_UP: &str = "pathwise_upstream_up";
/// Queries whose handling panicked and were dropped, by `transport`.
pub const QUERY_PANICS_TOTAL: &str = "pathwise_query_panics_total";

/// Every metric: name, Prometheus type, label names. The scrape tests check these.
pub const METRICS: [(&str, &str, &[&str]); 19] = [
    (QUERIES_TOTAL, "counter", &["transport", "qtype"]),
    (RESPONSES_TOTAL, "counter", &["rcode"]),
    (REQUEST_DURATION_SECONDS, "histogram", &["transport"]),
    (AAAA_FILTERED_TOTAL, "counter", &["reason"]),
    (AAAA_RECORDS_REMOVED_TOTAL, "counter", &["section"]),
    (AAAA_KEPT_TOTAL, "counter", &["reason"]),
    (ANSWERS_REORDERED_TOTAL, "counter", &["qtype"]),
    (PATH_AVAILABLE, "gauge", &["path"]),
    (FILTER_ACTIVE, "gauge", &[]),
    (PATH_CHANGES_TOTAL, "counter", &[]),
    (UPSTREAM_QUERIES_TOTAL, "counter", &["upstream", "outcome"]),
    (UPSTREAM_DURATION_SECONDS, "histogram", &["upstream"]),
    (CACHE_LOOKUPS_TOTAL, "counter", &["result"]),
    (CACHE_ENTRIES, "gauge", &[]),
    (BUILD_INFO, "gauge", &["version"]),
    (LIMITED_TOTAL, "counter", &["limit"]),
    (UPSTREAM_DROPPED_TOTAL, "counter", &["reason"]),
    (UPSTREAM_UP, "gauge", &["upstream"]),
    (QUERY_PANICS_TOTAL, "counter", &["transport"]),
];
