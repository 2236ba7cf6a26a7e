//! The types of single configuration values (upstream specs, strategies, the path override,
//! the log format) and their parsers and printers, with those of durations and addresses.
//! Each error is the text after `key: `, naming the value and what is accepted.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use ipnet::IpNet;
use tokio_rustls::rustls::pki_types::ServerName;

use pathwise_policy::PathState;

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

/// `paths.override`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PathOverride {
    /// `"auto"`: the path watcher decides.
    #[default]
    Auto,
    /// A list such as `["teredo", "ipv4"]`: the state is pinned.
    Fixed(PathState),
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

/// The units [`format_duration`] prints, largest first, in nanoseconds; each is one that
/// `humantime` reads.
const UNITS: [(&str, u128); 7] = [
    ("d", 86_400_000_000_000),
    ("h", 3_600_000_000_000),
    ("m", 60_000_000_000),
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("ns", 1),
];

/// Parses a duration as `humantime` does: `25ms`, `30s`, `2m`, `1h`, `1d`, and combinations
/// such as `1m 30s`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|_| format!("{text:?} is not a duration (e.g. 30s, 25ms, 1h, 1d)"))
}

/// Prints a duration as [`parse_duration`] reads it back exactly, in the largest exact unit:
/// `1d`, `90s`, `1500ms`, `0s`.
pub fn format_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    let (unit, size) = UNITS
        .iter()
        .find(|(_, size)| nanos.is_multiple_of(*size))
        .expect("every count of nanoseconds divides by 1");
    format!("{}{unit}", nanos / size)
}

/// `IP`, `IP:port`, `[v6]` or `[v6]:port`; a missing port is `default_port`.
pub(crate) fn parse_ip_port(text: &str, default_port: u16) -> Option<SocketAddr> {
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Some(address);
    }
    let bare = text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(text);
    let ip: IpAddr = bare.parse().ok()?;
    // `[1.2.3.4]` is no IPv4 form anyone writes; brackets are for IPv6.
    if bare.len() != text.len() && ip.is_ipv4() {
        return None;
    }
    Some(SocketAddr::new(ip, default_port))
}

/// A `listen.addresses` entry: `IP[:port]`, port 53 by default, 0 for any free port.
pub fn parse_listen_address(text: &str) -> Result<SocketAddr, String> {
    parse_ip_port(text, 53).ok_or_else(|| {
        format!("{text:?} is not an address (IP[:port], e.g. 127.0.0.1:53 or [::1]:53)")
    })
}

/// A CIDR prefix such as `10.0.0.0/8`; a bare address is the prefix of that one address.
pub(crate) fn parse_cidr(text: &str) -> Result<IpNet, String> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{text:?} is not a CIDR prefix (e.g. 10.0.0.0/8, 2001:db8::/32, ::1)"))
}

/// `metrics.listen`: a socket address, or `off`.
pub(crate) fn parse_metrics_listen(text: &str) -> Result<Option<SocketAddr>, String> {
    if text == "off" {
        return Ok(None);
    }
    text.parse::<SocketAddr>().map(Some).map_err(|_| {
        format!(
            "{text:?} is not an address (IP:port, e.g. 127.0.0.1:9153 or [::1]:9153) or \"off\""
        )
    })
}

/// What `upstream.servers` accepts, for error messages.
const UPSTREAM_FORMS: &str = "IP[:port], tcp://IP[:port] or tls://IP[:port]#name";

impl FromStr for UpstreamSpec {
    type Err = String;

    /// `IP[:port]` (UDP, port 53), `tcp://IP[:port]` (port 53), `tls://IP[:port]#name`
    /// (port 853; the name the certificate must carry is required, as in Unbound's
    /// `forward-tls-upstream`, since without it nothing is authenticated).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{text:?} is not an upstream ({UPSTREAM_FORMS})");
        let port_zero = || format!("{text:?} is not an upstream: port 0 cannot be sent to");
        if let Some(rest) = text.strip_prefix("tls://") {
            let Some((address, name)) = rest.split_once('#') else {
                return Err(format!(
                    "{text:?} is not an upstream: tls:// needs #name, the name the server's \
                     certificate must carry (tls://IP[:port]#name)"
                ));
            };
            let address = parse_ip_port(address, 853).ok_or_else(bad)?;
            if ServerName::try_from(name).is_err() {
                return Err(format!(
                    "{text:?} is not an upstream: {name:?} is not a DNS name or IP address"
                ));
            }
            return match address.port() {
                0 => Err(port_zero()),
                _ => Ok(Self::Tls {
                    address,
                    name: name.to_owned(),
                }),
            };
        }
        let (address, tcp) = match text.strip_prefix("tcp://") {
            Some(rest) => (rest, true),
            None => (text, false),
        };
        let address = parse_ip_port(address, 53).ok_or_else(bad)?;
        match (address.port(), tcp) {
            (0, _) => Err(port_zero()),
            (_, true) => Ok(Self::Tcp(address)),
            (_, false) => Ok(Self::Udp(address)),
        }
    }
}

impl fmt::Display for UpstreamSpec {
    /// The form [`FromStr`] reads, port always given: `192.0.2.1:53`, `tcp://[2001:db8::1]:53`,
    /// `tls://192.0.2.1:853#dns.example`. Also the `upstream` label of the metrics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Udp(address) => write!(f, "{address}"),
            Self::Tcp(address) => write!(f, "tcp://{address}"),
            Self::Tls { address, name } => write!(f, "tls://{address}#{name}"),
        }
    }
}

impl UpstreamSpec {
    /// The server's address, whatever the transport.
    pub fn address(&self) -> SocketAddr {
        match self {
            Self::Udp(address) | Self::Tcp(address) | Self::Tls { address, .. } => *address,
        }
    }
}

impl Strategy {
    /// Every strategy, in the order the documentation lists them.
    pub const ALL: [Strategy; 3] = [Self::Sequential, Self::RoundRobin, Self::Fastest];

    /// The value of `upstream.strategy`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sequential => "sequential",
            Self::RoundRobin => "round-robin",
            Self::Fastest => "fastest",
        }
    }
}

impl LogFormat {
    /// The value of `log.format`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Json => "json",
        }
    }
}
