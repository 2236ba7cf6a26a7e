//! A real Prometheus (Debian's package) scrapes pathwise every second on loopback, and a PromQL
//! query through its HTTP API sees the filter counter that a known query moved.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pathwise_tests::{TempDir, free_port, http_get};
use serde_json::Value;

use crate::metrics::tool;
use crate::serve::zone::DUAL;

/// A Prometheus server in a scratch directory, stopped on drop.
struct Prometheus {
    child: Child,
    address: SocketAddr,
    dir: TempDir,
}

impl Prometheus {
    /// Starts `binary` scraping `target` every second; returns once it says it is ready.
    fn start(binary: PathBuf, target: SocketAddr) -> Self {
        let dir = TempDir::new("prometheus");
        let config = dir.write(
            "prometheus.yml",
            &format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: pathwise\n    static_configs:\n      \
                 - targets: [\"{target}\"]\n"
            ),
        );
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port(Ipv4Addr::LOCALHOST)));
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("a log file");
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={address}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("run prometheus");
        let prometheus = Self {
            child,
            address,
            dir,
        };
        prometheus.wait(Duration::from_secs(30), "ready", || {
            std::net::TcpStream::connect(address).is_ok()
                && http_get(address, "/-/ready").status == 200
        });
        prometheus
    }

    /// The result vector of an instant PromQL query.
    fn query(&self, promql: &str) -> Vec<Value> {
        let response = http_get(
            self.address,
            &format!("/api/v1/query?query={}", encode(promql)),
        );
        assert_eq!(response.status, 200, "{promql}: {}", response.body);
        let json: Value = serde_json::from_str(&response.body).expect("JSON");
        assert_eq!(json["status"], "success", "{json}");
        json["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The single value of an instant query, if it has exactly one series.
    fn value(&self, promql: &str) -> Option<f64> {
        match self.query(promql).as_slice() {
            [series] => series["value"][1].as_str()?.parse().ok(),
            _ => None,
        }
    }

    /// Polls `done` every 200 ms; fails with Prometheus's log after `timeout`.
    fn wait(&self, timeout: Duration, what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + timeout;
        while !done() {
            assert!(
                Instant::now() < deadline,
                "prometheus: not {what} after {timeout:?}; its log:\n{}",
                std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Percent-encodes a query parameter.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[test]
fn prometheus_scrapes_the_filter_counter() {
    let Some(binary) = tool("prometheus", "prometheus_scrapes_the_filter_counter") else {
        return;
    };
    let (_upstream, pathwise, target) = crate::metrics::start();
    // One getaddrinfo(AF_UNSPEC)-like pair: the AAAA is filtered, once.
    pathwise
        .dig(DUAL, "A")
        .from("127.0.0.2")
        .run()
        .rcode_is("NOERROR");
    let aaaa = pathwise.dig(DUAL, "AAAA").from("127.0.0.2").run();
    assert!(aaaa.answers("AAAA").is_empty(), "filtered: {aaaa}");

    let prometheus = Prometheus::start(binary, target);
    let filtered = r#"pathwise_aaaa_filtered_total{job="pathwise",reason="teredo_only"}"#;
    prometheus.wait(
        Duration::from_secs(20),
        "scraping the filter counter",
        || prometheus.value(filtered) == Some(1.0),
    );
    assert_eq!(prometheus.value(r#"up{job="pathwise"}"#), Some(1.0));
    assert_eq!(
        prometheus.value(r#"pathwise_filter_active{job="pathwise"}"#),
        Some(1.0)
    );
}
