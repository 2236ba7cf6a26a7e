//! The metrics endpoint of the real binary (docs/metrics.md): every metric name with its type
//! and labels (the binary's own constants), counters that move by exactly what known queries
//! did, `promtool check metrics` on the scrape, the health, readiness and `/paths` routes, bad
//! requests, and every metric that the dashboard and the alert rules use.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pathwise_tests::wire::a_response;
use pathwise_tests::{FakeUpstream, Pathwise, Run, Upstream, cannot_check, http_get, http_raw};

use crate::serve::zone::{DUAL, unsigned};

/// The binary's own metric names: the very file it registers them from.
#[path = "../../proxy/src/metric_names.rs"]
#[allow(dead_code, unreachable_pub)]
mod metric_names;
use metric_names::{self as metrics, METRICS};

/// `[paths]` pinned to a Teredo-only host: the filter is active.
const TEREDO_PATHS: &str = r#"["teredo", "ipv4"]"#;

/// NSD with the test zone, and pathwise in front of it with its metrics endpoint on a free
/// loopback port.
pub(crate) fn start() -> (Upstream, Pathwise, SocketAddr) {
    let upstream = Upstream::start(&unsigned());
    let config = format!(
        "[upstream]\nservers = [\"{}\"]\ntimeout = \"1s\"\n\n[paths]\noverride = {TEREDO_PATHS}\n",
        upstream.spec()
    );
    let pathwise = Pathwise::start(&config, &["--metrics", "127.0.0.1:0"]);
    let address = pathwise.metrics_addr();
    (upstream, pathwise, address)
}

/// Waits until `/readyz` says 200: the start-up probe has been answered, so no probe runs
/// during the test's own counting.
fn wait_ready(metrics: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = http_get(metrics, "/readyz");
        if response.status == 200 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz still {} after 10s: {}",
            response.status,
            response.body
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One scrape: the text, the `# TYPE` of each family, and the value of each series (its name
/// and labels as printed, labels in the order the encoder writes them: sorted by name).
struct Scrape {
    text: String,
    types: BTreeMap<String, String>,
    series: BTreeMap<String, f64>,
}

impl Scrape {
    fn of(metrics: SocketAddr) -> Self {
        let response = http_get(metrics, "/metrics");
        assert_eq!(response.status, 200, "GET /metrics: {}", response.body);
        assert_eq!(
            response.header("content-type"),
            Some("text/plain; version=0.0.4; charset=utf-8"),
            "{:?}",
            response.headers
        );
        let text = response.body;
        let mut types = BTreeMap::new();
        let mut series = BTreeMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
                types.insert(name.to_owned(), kind.to_owned());
            } else if !line.starts_with('#') && !line.is_empty() {
                let (key, value) = line.rsplit_once(' ').expect("series value");
                let value: f64 = value.parse().unwrap_or_else(|e| panic!("{line}: {e}"));
                series.insert(key.to_owned(), value);
            }
        }
        Self {
            text,
            types,
            series,
        }
    }

    /// The value of one series, e.g. `pathwise_filter_active` or
    /// `pathwise_aaaa_filtered_total{reason="teredo_only"}`; 0 when absent.
    fn value(&self, series: &str) -> f64 {
        self.series.get(series).copied().unwrap_or(0.0)
    }

    /// The label names used by the samples of family `name` (histograms: of `_bucket` without
    /// `le`, `_sum` and `_count`).
    fn label_names(&self, name: &str) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for key in self.series.keys() {
            let (metric, labels) = key.split_once('{').unwrap_or((key, ""));
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| metric.strip_suffix(suffix))
                .filter(|base| self.types.get(*base).is_some_and(|t| t == "histogram"))
                .unwrap_or(metric);
            if base != name {
                continue;
            }
            for pair in labels
                .trim_end_matches('}')
                .split(',')
                .filter(|p| !p.is_empty())
            {
                let label = pair.split_once('=').expect("label=value").0;
                if label != "le" {
                    names.insert(label.to_owned());
                }
            }
        }
        names
    }
}

/// Which `what` (`promtool`, `prometheus`) binary to use, or `None` when it is missing: then
/// `test` could not make its check (see [`cannot_check`]).
pub(crate) fn tool(what: &str, test: &str) -> Option<PathBuf> {
    let path = Path::new("/usr/bin").join(what);
    if path.exists() {
        return Some(path);
    }
    cannot_check(
        test,
        &format!(
            "needs {} (Debian's prometheus package; tests/setup installs it)",
            path.display()
        ),
    );
    None
}

#[test]
fn every_metric_is_scraped_with_its_type_and_labels() {
    let (upstream, _pathwise, address) = start();
    let scrape = Scrape::of(address);

    // Every metric: the decisions, and limits, dropped answers and upstream health.
    for (name, kind, labels) in METRICS {
        assert_eq!(
            scrape.types.get(name).map(String::as_str),
            Some(kind),
            "{name} should be a {kind}:\n{}",
            scrape.text
        );
        let expected: BTreeSet<String> = labels.iter().map(|&l| l.to_owned()).collect();
        assert_eq!(scrape.label_names(name), expected, "labels of {name}");
    }
    assert_eq!(
        scrape
            .types
            .get("process_cpu_seconds_total")
            .map(String::as_str),
        Some("counter")
    );
    assert!(
        scrape.value("process_resident_memory_bytes") > 0.0,
        "{}",
        scrape.text
    );
    let version = format!(
        "pathwise_build_info{{version=\"{}\"}}",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(scrape.value(&version), 1.0);
    // The configured upstream has its series before its first query.
    let ok = format!(
        "pathwise_upstream_queries_total{{outcome=\"ok\",upstream=\"{}\"}}",
        upstream.spec()
    );
    assert!(scrape.series.contains_key(&ok), "{ok}:\n{}", scrape.text);
    assert_eq!(
        scrape.value("pathwise_path_available{path=\"teredo\"}"),
        1.0
    );
    assert_eq!(
        scrape.value("pathwise_path_available{path=\"native6\"}"),
        0.0
    );
    assert_eq!(scrape.value("pathwise_filter_active"), 1.0);

    let Some(promtool) = tool(
        "promtool",
        "every_metric_is_scraped_with_its_type_and_labels",
    ) else {
        return;
    };
    let mut child = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(scrape.text.as_bytes())
        .expect("write the scrape to promtool");
    let out = child.wait_with_output().expect("promtool finishes");
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn known_queries_move_the_counters_by_exactly_their_count() {
    let (upstream, pathwise, address) = start();
    wait_ready(address);
    let before = Scrape::of(address);

    // getaddrinfo(AF_UNSPEC) from one client: A then AAAA; the AAAA is filtered.
    pathwise
        .dig(DUAL, "A")
        .from("127.0.0.2")
        .run()
        .rcode_is("NOERROR");
    let aaaa = pathwise.dig(DUAL, "AAAA").from("127.0.0.2").run();
    aaaa.rcode_is("NOERROR");
    assert!(aaaa.answers("AAAA").is_empty(), "filtered: {aaaa}");
    // A lone AAAA from another client, from cache: kept.
    let lone = pathwise.dig(DUAL, "AAAA").from("127.0.0.3").run();
    assert_eq!(lone.answers("AAAA").len(), 1, "kept: {lone}");

    let after = Scrape::of(address);
    let moved = |series: &str| after.value(series) - before.value(series);
    let upstream_ok = format!(
        "pathwise_upstream_queries_total{{outcome=\"ok\",upstream=\"{}\"}}",
        upstream.spec()
    );
    for (series, by) in [
        ("pathwise_aaaa_filtered_total{reason=\"teredo_only\"}", 1.0),
        ("pathwise_aaaa_filtered_total{reason=\"no_native\"}", 0.0),
        (
            "pathwise_aaaa_records_removed_total{section=\"answer\"}",
            1.0,
        ),
        ("pathwise_aaaa_kept_total{reason=\"lone_aaaa\"}", 1.0),
        ("pathwise_queries_total{qtype=\"a\",transport=\"udp\"}", 1.0),
        (
            "pathwise_queries_total{qtype=\"aaaa\",transport=\"udp\"}",
            2.0,
        ),
        ("pathwise_responses_total{rcode=\"noerror\"}", 3.0),
        ("pathwise_cache_lookups_total{result=\"miss\"}", 2.0),
        ("pathwise_cache_lookups_total{result=\"hit\"}", 1.0),
        (
            "pathwise_request_duration_seconds_count{transport=\"udp\"}",
            3.0,
        ),
        (upstream_ok.as_str(), 2.0),
        ("pathwise_cache_entries", 2.0),
    ] {
        assert_eq!(moved(series), by, "{series} moved by {}", moved(series));
    }
}

#[test]
fn health_readiness_paths_and_bad_requests() {
    let (_upstream, pathwise, address) = start();
    let health = http_get(address, "/healthz");
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    wait_ready(address);

    let paths = http_get(address, "/paths");
    assert_eq!(paths.status, 200);
    assert_eq!(paths.header("content-type"), Some("application/json"));
    let json: serde_json::Value = serde_json::from_str(&paths.body).expect("JSON");
    assert_eq!(
        json["paths"],
        serde_json::json!(["ipv4", "teredo"]),
        "{json}"
    );
    assert_eq!(json["pinned"], true, "{json}");
    assert_eq!(json["filter_active"], true, "{json}");
    assert!(
        json["addresses"]
            .as_array()
            .expect("addresses")
            .iter()
            .any(|entry| entry["address"] == "127.0.0.1" && entry["usable"] == false),
        "{json}"
    );

    // A connection that says nothing holds no one else up.
    let silent = std::net::TcpStream::connect(address).expect("connect");
    assert_eq!(
        http_get(address, "/metrics?x=1").status,
        200,
        "a query string is ignored"
    );

    let head = http_raw(address, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some("3"))
    );
    assert_eq!(head.body, "", "HEAD has no body");
    assert_eq!(http_get(address, "/nope").status, 404);
    let post = http_raw(
        address,
        b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(
        (post.status, post.header("allow")),
        (405, Some("GET, HEAD"))
    );
    assert_eq!(http_raw(address, b"garbage\r\n\r\n").status, 400);
    assert_eq!(
        http_raw(address, b"GET /metrics SPDY/3\r\n\r\n").status,
        400
    );
    let mut huge = b"GET /metrics HTTP/1.1\r\nX-Filler: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 20_000));
    huge.extend_from_slice(b"\r\n\r\n");
    assert_eq!(http_raw(address, &huge).status, 431);
    drop(silent);

    // Neither the endpoint nor DNS minds.
    assert_eq!(http_get(address, "/healthz").status, 200);
    pathwise.dig(DUAL, "A").run().rcode_is("NOERROR");
}

#[test]
fn not_ready_while_no_upstream_answers() {
    // An upstream that never answers: the readiness probe times out, /readyz stays 503.
    let silent = FakeUpstream::start(|_| Vec::new());
    let config = format!(
        "[upstream]\nservers = [\"{}\"]\ntimeout = \"200ms\"\n",
        silent.address()
    );
    let pathwise = Pathwise::start(&config, &["--metrics", "127.0.0.1:0"]);
    let address = pathwise.metrics_addr();
    pathwise.wait_for_log("not ready: no upstream answered", Duration::from_secs(5));
    let ready = http_get(address, "/readyz");
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert_eq!(ready.body, "not ready: no upstream has answered yet\n");
    assert_eq!(
        http_get(address, "/healthz").status,
        200,
        "alive all the same"
    );
    let scrape = Scrape::of(address);
    let timeouts = format!(
        "pathwise_upstream_queries_total{{outcome=\"timeout\",upstream=\"{}\"}}",
        silent.address()
    );
    assert!(
        scrape.value(&timeouts) >= 1.0,
        "{timeouts}:\n{}",
        scrape.text
    );
}

#[test]
fn readiness_follows_the_health_of_the_upstreams() {
    // Ready, then the only upstream goes silent: after three failures in a row it is marked
    // down, /readyz says 503 and a query fails within one timeout; once it answers again a
    // background probe marks it up and /readyz says 200.
    let alive = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = std::sync::Arc::clone(&alive);
    let fake = FakeUpstream::start(move |query| {
        if flag.load(std::sync::atomic::Ordering::SeqCst) {
            vec![a_response(
                query,
                &[std::net::Ipv4Addr::new(192, 0, 2, 1)],
                0,
            )]
        } else {
            Vec::new()
        }
    });
    let config = format!(
        "[upstream]\nservers = [\"{}\"]\ntimeout = \"300ms\"\n\n[cache]\nserve_stale = false\n",
        fake.address()
    );
    let pathwise = Pathwise::start(&config, &["--metrics", "127.0.0.1:0"]);
    let address = pathwise.metrics_addr();
    wait_ready(address);
    let up = format!("pathwise_upstream_up{{upstream=\"{}\"}}", fake.address());
    assert_eq!(Scrape::of(address).value(&up), 1.0);

    alive.store(false, std::sync::atomic::Ordering::SeqCst);
    for attempt in 0..3 {
        let name = format!("down{attempt}.pathwise.test.");
        pathwise
            .dig(&name, "A")
            .timeout(5)
            .run()
            .rcode_is("SERVFAIL");
    }
    let unready = http_get(address, "/readyz");
    assert_eq!(unready.status, 503, "{}", unready.body);
    // Regression: it said "no upstream has answered yet", though one had.
    assert_eq!(unready.body, "not ready: every upstream is marked down\n");
    assert_eq!(Scrape::of(address).value(&up), 0.0);
    let answer = pathwise.dig("down3.pathwise.test.", "A").timeout(5).run();
    answer.rcode_is("SERVFAIL");
    assert!(
        answer.elapsed < Duration::from_millis(900),
        "one timeout (300ms), not more: {:?}",
        answer.elapsed
    );

    alive.store(true, std::sync::atomic::Ordering::SeqCst);
    wait_ready(address);
    assert_eq!(Scrape::of(address).value(&up), 1.0);
    pathwise
        .dig("up.pathwise.test.", "A")
        .run()
        .rcode_is("NOERROR");
}

#[test]
fn every_metric_of_the_dashboard_and_the_rules_exists() {
    let (_upstream, _pathwise, address) = start();
    let scrape = Scrape::of(address);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("dashboards"))
        .expect("dashboards/")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.push(root.join("deploy/prometheus/pathwise.rules.yml"));
    assert!(files.len() >= 2, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        let used = metric_names(&text);
        assert!(!used.is_empty(), "{} names no metric", file.display());
        for name in used {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .filter(|base| scrape.types.get(*base).is_some_and(|t| t == "histogram"))
                .unwrap_or(&name);
            assert!(
                scrape.types.contains_key(family),
                "{} uses {name}, which the scrape does not have",
                file.display()
            );
        }
    }
    // The names the dashboard must show are there too.
    let dashboard = std::fs::read_to_string(root.join("dashboards/pathwise.json")).expect("read");
    for name in [
        metrics::AAAA_FILTERED_TOTAL,
        metrics::AAAA_KEPT_TOTAL,
        metrics::PATH_AVAILABLE,
        metrics::FILTER_ACTIVE,
        metrics::UPSTREAM_QUERIES_TOTAL,
        metrics::CACHE_LOOKUPS_TOTAL,
        metrics::ANSWERS_REORDERED_TOTAL,
        metrics::REQUEST_DURATION_SECONDS,
    ] {
        assert!(dashboard.contains(name), "the dashboard shows {name}");
    }
}

/// Every `pathwise_*` and `process_*` metric name in `text`.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for prefix in ["pathwise_", "process_"] {
        let mut rest = text;
        while let Some(at) = rest.find(prefix) {
            let preceded = rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            if !preceded {
                names.insert(tail[..end].to_owned());
            }
            rest = &tail[end..];
        }
    }
    // Words that are not metrics: the job label and the names of the alerts' own files.
    names.retain(|name| !name.ends_with('_') && name != "pathwise_rules");
    names
}

#[test]
fn promtool_checks_and_unit_tests_the_alert_rules() {
    let test = "promtool_checks_and_unit_tests_the_alert_rules";
    let Some(promtool) = tool("promtool", test) else {
        return;
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/prometheus");
    for args in [
        &["check", "rules", "pathwise.rules.yml"][..],
        &["test", "rules", "pathwise.rules.test.yml"][..],
        &["check", "config", "prometheus.yml"][..],
    ] {
        let run = Run::command(Command::new(&promtool).args(args).current_dir(&dir));
        run.success();
    }
}
