//! Every configuration key, defined once: its doc comment (which is also its row in
//! `docs/configuration.md`), type, default, kind of value, and whether a change is applied on
//! SIGHUP or needs a restart. `section!` makes the rest from this: the structs other modules
//! read, the raw serde form, reading and its errors, `check-config`'s TOML and the docs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use pathwise_policy::{FilterMode, TableKind, TableRow};

use super::kinds::{
    AddressOrOff, AnyDuration, Choice, Count, EdnsOption, File, Flag, OptionalFile, Rate, Timeout,
    Ttl,
};
use super::lists::{Cidr, Interface, List, ListenAddresses, OrderRows, Override, Upstream};
use super::section::{key_name, section};
use super::{LogFormat, PathOverride, Strategy, UpstreamSpec};

section! {
    /// The whole configuration, validated.
    pub struct Config(RawConfig) at "" {}
    tables {
        /// `[listen]`
        listen: ListenConfig;
        /// `[upstream]`
        upstream: UpstreamConfig;
        /// `[cache]`
        cache: CacheConfig;
        /// `[paths]`
        paths: PathsConfig;
        /// `[policy]`
        policy: PolicySection;
        /// `[metrics]`
        metrics: MetricsConfig;
        /// `[log]`
        log: LogConfig;
    }
}

section! {
    /// `[listen]`: where pathwise answers, and whom.
    pub struct ListenConfig(RawListen) at "listen" {
        /// Where pathwise answers, over UDP and TCP on each: IP[:port], port 53 when left out.
        /// Port 0 takes any free port (for tests). At least one address.
        addresses: Vec<SocketAddr> = vec![
            SocketAddr::from(([127, 0, 0, 1], 53)),
            SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], 53)),
        ], ListenAddresses, Restart;
        /// The clients that may query, as CIDR prefixes (a bare address is that one address).
        /// Others get REFUSED, so that pathwise is never an open resolver.
        allow: Vec<IpNet> = vec![
            "127.0.0.0/8".parse().expect("a CIDR"),
            "::1/128".parse().expect("a CIDR"),
        ], List<Cidr>, Sighup;
        /// A TCP connection that sends no query for this long is closed; so is one whose
        /// client does not read an answer for this long.
        tcp_idle_timeout: Duration = Duration::from_secs(10), Timeout, Sighup;
        /// At most this many TCP connections at once, over every listen address together;
        /// more wait for a slot.
        max_tcp_connections: usize = 256, Count<1>, Sighup;
        /// At most this many TCP connections at once from one client address, over every listen
        /// address together; more are closed as they arrive.
        max_tcp_per_client: usize = 32, Count<1>, Sighup;
        /// Once the first byte of a TCP message has arrived, the rest must follow within this,
        /// or the connection is closed.
        tcp_read_timeout: Duration = Duration::from_secs(2), Timeout, Sighup;
        /// Queries per second that one client address (IPv6: its /64) may send over each of
        /// UDP and TCP. Over the limit, a UDP query gets an empty answer with TC set and a TCP
        /// query gets REFUSED. 0 is no limit.
        client_rate: u32 = 0, Rate, Sighup;
        /// How many queries above client_rate a client may send at once; 0 means client_rate.
        client_burst: u32 = 0, Rate, Sighup;
    }
}

section! {
    /// `[upstream]`: where queries go.
    pub struct UpstreamConfig(RawUpstream) at "upstream" {
        /// The servers queries are forwarded to: IP[:port] (UDP, retried over TCP when the
        /// answer is truncated), tcp://IP[:port] (TCP only) or tls://IP[:port]#name (DNS over
        /// TLS, RFC 7858, port 853; the certificate must carry name). Empty: the nameservers
        /// of resolv_conf.
        servers: Vec<UpstreamSpec> = Vec::new(), List<Upstream>, Sighup;
        /// Which server a query goes to first: sequential (in order), round-robin (each query
        /// starts at the next server) or fastest (lowest smoothed response time). Every
        /// strategy fails over to the other servers.
        strategy: Strategy = Strategy::Sequential, Choice<Strategy>, Sighup;
        /// How long to wait for one server's answer before trying the next.
        timeout: Duration = Duration::from_secs(2), Timeout, Sighup;
        /// Where the nameservers come from when servers is empty; pathwise's own listen
        /// addresses are skipped there.
        resolv_conf: PathBuf = PathBuf::from("/etc/resolv.conf"), File, Sighup;
        /// A PEM file of CA certificates trusted for tls:// servers besides the system's roots.
        tls_ca_file: Option<PathBuf> = None, OptionalFile, Sighup;
        /// At most this many client queries wait at once (on upstream, the A lookup or the
        /// lone-AAAA hold); beyond it a query is answered at once from the cache, stale data
        /// included (cache.serve_stale), or with SERVFAIL.
        max_outstanding: usize = 4096, Count<1>, Sighup;
        /// Mix the case of the question sent upstream (DNS 0x20) and accept only an answer in
        /// the same case.
        randomize_case: bool = true, Flag, Sighup;
        /// Send DNS cookies (RFC 7873) in queries that carry an OPT record, and check the
        /// client cookie of answers. Not used over TLS.
        cookies: bool = true, Flag, Sighup;
    }
}

section! {
    /// `[cache]`: the answers kept, and for how long.
    pub struct CacheConfig(RawCache) at "cache" {
        /// At most this many answers are cached; 0 caches nothing.
        max_entries: usize = 10_000, Count<0>, Restart;
        /// The TTLs of cached answers are raised to this (at most max_ttl).
        min_ttl: Duration = Duration::ZERO, Ttl, Restart;
        /// The TTLs of cached answers are lowered to this.
        max_ttl: Duration = Duration::from_secs(86_400), Ttl, Restart;
        /// Negative answers (NXDOMAIN and NODATA, RFC 2308) are cached for at most this.
        max_negative_ttl: Duration = Duration::from_secs(3_600), Ttl, Restart;
        /// When every upstream fails, answer from entries expired for at most stale_max_age,
        /// with TTL 30s (RFC 8767).
        serve_stale: bool = true, Flag, Restart;
        /// How long after expiry an entry may still be served stale.
        stale_max_age: Duration = Duration::from_secs(86_400), AnyDuration, Restart;
    }
}

section! {
    /// `[paths]`: how the host's paths are watched.
    pub struct PathsConfig(RawPaths) at "paths" {
        /// A newly usable path counts only once it has stayed usable this long; a lost path is
        /// dropped at once. Paths present at start-up count at once.
        stabilize: Duration = Duration::from_secs(2), AnyDuration, Sighup;
        /// How often the interface addresses and routes are read again (on Linux, also at once
        /// on every kernel notification).
        poll_interval: Duration = Duration::from_secs(1), Timeout, Sighup;
        /// A path counts only while its interface also has a route to global destinations.
        require_route: bool = true, Flag, Sighup;
        /// Interfaces whose addresses never count: names or glob patterns (* any run, ? any
        /// one character).
        ignore_interfaces: Vec<String> = Vec::new(), List<Interface>, Sighup;
        /// Whether ULA (fc00::/7) addresses count as native IPv6.
        count_ula: bool = false, Flag, Sighup;
        /// Whether documentation addresses (2001:db8::/32, 3fff::/20, 192.0.2.0/24,
        /// 198.51.100.0/24, 203.0.113.0/24) count.
        count_documentation: bool = false, Flag, Sighup;
        /// "auto": the host's addresses decide. A list of paths pins the path state instead;
        /// [] pins "no path at all".
        path_override as "override": PathOverride = PathOverride::Auto, Override, Sighup;
    }
}

section! {
    /// `[policy]`: the AAAA filter and ordering.
    pub struct PolicySection(RawPolicy) at "policy" {
        /// When AAAA answers are filtered for clients that did not ask for AAAA explicitly:
        /// teredo-only (Teredo is the only IPv6 path), no-native (neither native IPv6 nor
        /// 6to4), always or never.
        filter_aaaa: FilterMode = FilterMode::TeredoOnly, Choice<FilterMode>, Sighup;
        /// Keep AAAA records whose address is itself Teredo (Teredo to Teredo needs no relay).
        keep_teredo_destinations: bool = true, Flag, Sighup;
        /// Keep the AAAA records of names that have no A record, so that IPv6-only names still
        /// resolve.
        require_a: bool = true, Flag, Sighup;
        /// Filter signed answers to clients that set DO too, which breaks their DNSSEC
        /// validation.
        break_dnssec: bool = false, Flag, Sighup;
        /// A filtered answer is NODATA with a negative TTL of at most this.
        filtered_ttl: Duration = Duration::from_secs(30), Ttl, Sighup;
        /// How the addresses of an answer are ordered: seed (native IPv6, 6to4, IPv4, Teredo),
        /// rfc6724 (RFC 6724's default table) or custom (the policy.order_table rows).
        order: TableKind = TableKind::Seed, Choice<TableKind>, Sighup;
        /// The rows of the custom table, as in gai.conf; required when order is custom.
        // Last of the keys: in TOML, rows end the table they are written in.
        order_table: Vec<TableRow> = Vec::new(), OrderRows, Sighup;
    }
    tables {
        /// `[policy.explicit]`
        explicit: ExplicitConfig;
    }
}

section! {
    /// `[policy.explicit]`: how a client explicitly asks for AAAA records, which it then gets
    /// even while the filter is active. Any one signal is enough.
    pub struct ExplicitConfig(RawExplicit) at "policy.explicit" {
        /// Clients (CIDR prefixes) that always get AAAA records.
        clients: Vec<IpNet> = Vec::new(), List<Cidr>, Sighup;
        /// A query carrying this EDNS0 option code asks for AAAA; pathwise strips it before
        /// forwarding. 0 turns it off.
        edns_option: u16 = 65432, EdnsOption, Sighup;
        /// An AAAA query with no A query for the same name from the same client within
        /// pair_window is explicit.
        lone_aaaa: bool = true, Flag, Sighup;
        /// How long an A query pairs with a later AAAA query.
        pair_window: Duration = Duration::from_secs(1), AnyDuration, Restart;
        /// When an AAAA query is answered from cache before its A arrives, pathwise waits at
        /// most this for the A.
        hold: Duration = Duration::from_millis(25), AnyDuration, Sighup;
        /// At most this many recent A queries are remembered for lone_aaaa; when full, the
        /// oldest is forgotten.
        max_pairs: usize = 65_536, Count<1>, Restart;
    }
}

section! {
    /// `[metrics]`: the HTTP endpoint.
    pub struct MetricsConfig(RawMetrics) at "metrics" {
        /// The HTTP endpoint of /metrics, /healthz, /readyz and /paths: IP:port (port 0 picks
        /// a free one), or "off".
        listen: Option<SocketAddr> = Some(SocketAddr::from(([127, 0, 0, 1], 9153))),
            AddressOrOff, Restart;
    }
}

section! {
    /// `[log]`: what is logged, and how.
    pub struct LogConfig(RawLog) at "log" {
        /// The least severe messages logged.
        level: tracing::Level = tracing::Level::INFO, Choice<tracing::Level>, Restart;
        /// text (for people) or json (one object per line, for log collectors).
        format: LogFormat = LogFormat::Text, Choice<LogFormat>, Restart;
    }
}
