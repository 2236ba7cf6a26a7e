//! The typed configuration (docs/configuration.md): what every other module reads.
//!
//! Loading (file text, `PATHWISE_*` environment, flags) lives in `load`, the form as written
//! in `raw`, its validation in `validate`; this module holds the validated values.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use pathwise_policy::{FilterMode, PathState, PolicyConfig, PolicyTable, TableKind, TableRow};

mod error;
mod field;
pub mod load;
pub mod raw;
mod render;
#[cfg(test)]
mod tests;
mod validate;
mod value;

pub use error::{ConfigError, Origin};
pub use load::{Flags, load, load_file, process_env};
pub use value::{format_duration, parse_duration};

/// The whole configuration, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `[listen]`
    pub listen: ListenConfig,
    /// `[upstream]`
    pub upstream: UpstreamConfig,
    /// `[cache]`
    pub cache: CacheConfig,
    /// `[paths]`
    pub paths: PathsConfig,
    /// `[policy]`
    pub policy: PolicySection,
    /// `[metrics]`
    pub metrics: MetricsConfig,
    /// `[log]`
    pub log: LogConfig,
}

/// `[listen]`: where pathwise answers, and whom.
#[derive(Clone, Debug, PartialEq)]
pub struct ListenConfig {
    /// `listen.addresses`, UDP and TCP on each; default `127.0.0.1:53`, `[::1]:53`.
    pub addresses: Vec<SocketAddr>,
    /// `listen.allow`: clients outside get REFUSED; default loopback only.
    pub allow: Vec<IpNet>,
    /// `listen.tcp_idle_timeout`: a TCP connection with no query for this long, or whose client
    /// does not read an answer for this long, is closed; 10s.
    pub tcp_idle_timeout: Duration,
    /// `listen.max_tcp_connections`: concurrent TCP connections; more wait for a slot; 256.
    pub max_tcp_connections: usize,
    /// `listen.max_tcp_per_client`: concurrent TCP connections from one client address; more
    /// are closed at once; 32.
    pub max_tcp_per_client: usize,
    /// `listen.tcp_read_timeout`: a TCP message must arrive whole this long after its first
    /// byte, or the connection is closed; 2s.
    pub tcp_read_timeout: Duration,
    /// `listen.client_rate`: queries per second one client address (IPv6: its /64) may send
    /// over each transport; 0 (the default) is no limit.
    pub client_rate: u32,
    /// `listen.client_burst`: how many queries above the rate a client may send at once; 0
    /// means as many as `client_rate`.
    pub client_burst: u32,
}

/// One `upstream.servers` entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum UpstreamSpec {
    /// `IP[:port]`: UDP, retried over TCP on TC.
    Udp(SocketAddr),
    /// `tcp://IP[:port]`: TCP only.
    Tcp(SocketAddr),
    /// `tls://IP[:port]#name`: DNS over TLS (RFC 7858), port 853 by default; `name` is
    /// the name the server's certificate must carry.
    Tls {
        /// The server's address.
        address: SocketAddr,
        /// The TLS server name.
        name: String,
    },
}

/// `upstream.strategy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Strategy {
    /// In the configured order, failing over to the next.
    #[default]
    Sequential,
    /// Each query starts at the next server in turn.
    RoundRobin,
    /// The server with the lowest smoothed response time first.
    Fastest,
}

/// `[upstream]`: where queries go.
#[derive(Clone, Debug, PartialEq)]
pub struct UpstreamConfig {
    /// `upstream.servers`; empty means the nameservers of `resolv_conf`.
    pub servers: Vec<UpstreamSpec>,
    /// `upstream.strategy`.
    pub strategy: Strategy,
    /// `upstream.timeout`: per server and query; 2s.
    pub timeout: Duration,
    /// `upstream.resolv_conf`: default `/etc/resolv.conf`.
    pub resolv_conf: PathBuf,
    /// `upstream.tls_ca_file`: extra PEM roots for `tls://` servers (besides the system's).
    pub tls_ca_file: Option<PathBuf>,
    /// `upstream.max_outstanding`: client queries waiting on upstream at once; beyond it a
    /// query is answered from stale data or SERVFAIL at once; 4096.
    pub max_outstanding: usize,
    /// `upstream.randomize_case`: mix the case of the question sent upstream and accept only
    /// an answer in the same case (DNS 0x20); true.
    pub randomize_case: bool,
    /// `upstream.cookies`: send DNS cookies (RFC 7873) in queries that carry an OPT record,
    /// and check the client cookie of answers; true.
    pub cookies: bool,
}

/// `[cache]`.
#[derive(Clone, Debug, PartialEq)]
pub struct CacheConfig {
    /// `cache.max_entries`; 10000.
    pub max_entries: usize,
    /// `cache.min_ttl`; 0s.
    pub min_ttl: Duration,
    /// `cache.max_ttl`; 1d.
    pub max_ttl: Duration,
    /// `cache.max_negative_ttl`; 1h.
    pub max_negative_ttl: Duration,
    /// `cache.serve_stale` (RFC 8767); true.
    pub serve_stale: bool,
    /// `cache.stale_max_age`; 1d.
    pub stale_max_age: Duration,
}

/// `paths.override`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PathOverride {
    /// `"auto"`: the path watcher decides.
    #[default]
    Auto,
    /// A list such as `["teredo", "ipv4"]`: the state is pinned.
    Fixed(PathState),
}

/// `[paths]`: how the host's paths are watched (docs/behaviour.md).
#[derive(Clone, Debug, PartialEq)]
pub struct PathsConfig {
    /// `paths.stabilize`; 2s.
    pub stabilize: Duration,
    /// `paths.poll_interval`; 1s.
    pub poll_interval: Duration,
    /// `paths.require_route`; true.
    pub require_route: bool,
    /// `paths.ignore_interfaces`: glob patterns such as `docker*`; empty.
    pub ignore_interfaces: Vec<String>,
    /// `paths.count_ula`; false.
    pub count_ula: bool,
    /// `paths.count_documentation`; false.
    pub count_documentation: bool,
    /// `paths.override`; auto.
    pub path_override: PathOverride,
}

/// `[policy.explicit]`: the signals of an explicit AAAA request (docs/behaviour.md).
#[derive(Clone, Debug, PartialEq)]
pub struct ExplicitConfig {
    /// `policy.explicit.clients`; empty.
    pub clients: Vec<IpNet>,
    /// `policy.explicit.edns_option`; 65432, 0 disables.
    pub edns_option: u16,
    /// `policy.explicit.lone_aaaa`; true.
    pub lone_aaaa: bool,
    /// `policy.explicit.pair_window`; 1s.
    pub pair_window: Duration,
    /// `policy.explicit.hold`; 25ms.
    pub hold: Duration,
    /// `policy.explicit.max_pairs`: how many recent A queries the lone-AAAA tracker keeps
    /// (beyond it the oldest is forgotten); 65536.
    pub max_pairs: usize,
}

/// `[policy]`: the AAAA filter and ordering.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicySection {
    /// `policy.filter_aaaa`.
    pub filter_aaaa: FilterMode,
    /// `policy.keep_teredo_destinations`; true.
    pub keep_teredo_destinations: bool,
    /// `policy.require_a`; true.
    pub require_a: bool,
    /// `policy.break_dnssec`; false.
    pub break_dnssec: bool,
    /// `policy.filtered_ttl`; 30s.
    pub filtered_ttl: Duration,
    /// `policy.order`; seed.
    pub order: TableKind,
    /// `[[policy.order_table]]`, required (non-empty) when `order` is custom.
    pub order_table: Vec<TableRow>,
    /// `[policy.explicit]`.
    pub explicit: ExplicitConfig,
}

impl PolicySection {
    /// The decision inputs of the policy crate.
    pub fn policy_config(&self) -> PolicyConfig {
        PolicyConfig {
            filter_aaaa: self.filter_aaaa,
            keep_teredo_destinations: self.keep_teredo_destinations,
            require_a: self.require_a,
            break_dnssec: self.break_dnssec,
            filtered_ttl: u32::try_from(self.filtered_ttl.as_secs()).unwrap_or(u32::MAX),
        }
    }

    /// The ordering table `order` names.
    pub fn table(&self) -> PolicyTable {
        PolicyTable::builtin(self.order).unwrap_or_else(|| {
            PolicyTable::custom(self.order_table.iter().copied())
                .expect("validation rejects a custom order without rows")
        })
    }
}

/// `[metrics]`.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsConfig {
    /// `metrics.listen`; `127.0.0.1:9153`; `None` (the value `"off"`) turns the endpoint off.
    pub listen: Option<SocketAddr>,
}

/// `log.format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `[log]`.
#[derive(Clone, Debug, PartialEq)]
pub struct LogConfig {
    /// `log.level`: error, warn, info (default), debug, trace.
    pub level: tracing::Level,
    /// `log.format`: text (default) or json.
    pub format: LogFormat,
}

impl Default for Config {
    /// Every default (docs/configuration.md).
    fn default() -> Self {
        Self {
            listen: ListenConfig {
                addresses: vec![
                    SocketAddr::from(([127, 0, 0, 1], 53)),
                    SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], 53)),
                ],
                allow: vec![
                    "127.0.0.0/8".parse().expect("a CIDR"),
                    "::1/128".parse().expect("a CIDR"),
                ],
                tcp_idle_timeout: Duration::from_secs(10),
                max_tcp_connections: 256,
                max_tcp_per_client: 32,
                tcp_read_timeout: Duration::from_secs(2),
                client_rate: 0,
                client_burst: 0,
            },
            upstream: UpstreamConfig {
                servers: Vec::new(),
                strategy: Strategy::Sequential,
                timeout: Duration::from_secs(2),
                resolv_conf: PathBuf::from("/etc/resolv.conf"),
                tls_ca_file: None,
                max_outstanding: 4096,
                randomize_case: true,
                cookies: true,
            },
            cache: CacheConfig {
                max_entries: 10_000,
                min_ttl: Duration::ZERO,
                max_ttl: Duration::from_secs(86_400),
                max_negative_ttl: Duration::from_secs(3_600),
                serve_stale: true,
                stale_max_age: Duration::from_secs(86_400),
            },
            paths: PathsConfig {
                stabilize: Duration::from_secs(2),
                poll_interval: Duration::from_secs(1),
                require_route: true,
                ignore_interfaces: Vec::new(),
                count_ula: false,
                count_documentation: false,
                path_override: PathOverride::Auto,
            },
            policy: PolicySection {
                filter_aaaa: FilterMode::TeredoOnly,
                keep_teredo_destinations: true,
                require_a: true,
                break_dnssec: false,
                filtered_ttl: Duration::from_secs(30),
                order: TableKind::Seed,
                order_table: Vec::new(),
                explicit: ExplicitConfig {
                    clients: Vec::new(),
                    edns_option: 65432,
                    lone_aaaa: true,
                    pair_window: Duration::from_secs(1),
                    hold: Duration::from_millis(25),
                    max_pairs: 65_536,
                },
            },
            metrics: MetricsConfig {
                listen: Some(SocketAddr::from(([127, 0, 0, 1], 9153))),
            },
            log: LogConfig {
                level: tracing::Level::INFO,
                format: LogFormat::Text,
            },
        }
    }
}
