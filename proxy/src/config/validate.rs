//! [`RawConfig`] to [`Config`]: every value parsed, every rule between keys checked, the
//! first failure returned naming its dotted key. No I/O and no side effects, so that SIGHUP
//! can validate a new config before it swaps.

use std::str::FromStr;

use pathwise_policy::table::TableError;
use pathwise_policy::{FilterMode, Path, PathState, Prefix, TableKind, TableRow};

use super::field::{
    boolean, byte, count, duration, file_path, integer, list, parsed, positive_duration, ttl,
};
use super::raw::{
    RawCache, RawConfig, RawExplicit, RawList, RawListen, RawLog, RawMetrics, RawOrderRow,
    RawPaths, RawPolicy, RawUpstream, Scalar,
};
use super::value::{parse_cidr, parse_level, parse_listen_address, parse_metrics_listen};
use super::{
    CacheConfig, Config, ConfigError, ExplicitConfig, ListenConfig, LogConfig, MetricsConfig,
    PathOverride, PathsConfig, PolicySection, UpstreamConfig, UpstreamSpec,
};

/// The EDNS option codes RFC 6891 section 9 sets aside for local/experimental use.
const LOCAL_EDNS_OPTIONS: std::ops::RangeInclusive<i64> = 65001..=65534;

impl TryFrom<RawConfig> for Config {
    type Error = ConfigError;

    /// Validates `raw`; keys it leaves out take [`Config::default`]'s values.
    fn try_from(raw: RawConfig) -> Result<Self, ConfigError> {
        let defaults = Config::default();
        let config = Config {
            listen: listen(raw.listen, defaults.listen)?,
            upstream: upstream(raw.upstream, defaults.upstream)?,
            cache: cache(raw.cache, defaults.cache)?,
            paths: paths(raw.paths, defaults.paths)?,
            policy: policy(raw.policy, defaults.policy)?,
            metrics: metrics(raw.metrics, defaults.metrics)?,
            log: log(raw.log, defaults.log)?,
        };
        check_sockets(&config)?;
        Ok(config)
    }
}

fn listen(raw: RawListen, defaults: ListenConfig) -> Result<ListenConfig, ConfigError> {
    const KEY: &str = "listen.addresses";
    let addresses = list(KEY, raw.addresses, defaults.addresses, parse_listen_address)?;
    if addresses.is_empty() {
        return Err(ConfigError::invalid(
            KEY,
            "is empty (give at least one IP[:port], e.g. \"127.0.0.1:53\")",
        ));
    }
    // Binding one address twice fails at start-up; port 0 binds a fresh port each time.
    for (i, address) in addresses.iter().enumerate() {
        if address.port() != 0 && addresses[..i].contains(address) {
            return Err(ConfigError::invalid(
                format!("{KEY}[{i}]"),
                format!("\"{address}\" is listed twice"),
            ));
        }
    }
    Ok(ListenConfig {
        addresses,
        allow: list("listen.allow", raw.allow, defaults.allow, parse_cidr)?,
        tcp_idle_timeout: positive_duration(
            "listen.tcp_idle_timeout",
            raw.tcp_idle_timeout,
            defaults.tcp_idle_timeout,
        )?,
        max_tcp_connections: count(
            "listen.max_tcp_connections",
            raw.max_tcp_connections,
            defaults.max_tcp_connections,
            1,
        )?,
        max_tcp_per_client: count(
            "listen.max_tcp_per_client",
            raw.max_tcp_per_client,
            defaults.max_tcp_per_client,
            1,
        )?,
        tcp_read_timeout: positive_duration(
            "listen.tcp_read_timeout",
            raw.tcp_read_timeout,
            defaults.tcp_read_timeout,
        )?,
        client_rate: rate("listen.client_rate", raw.client_rate, defaults.client_rate)?,
        client_burst: rate(
            "listen.client_burst",
            raw.client_burst,
            defaults.client_burst,
        )?,
    })
}

fn upstream(raw: RawUpstream, defaults: UpstreamConfig) -> Result<UpstreamConfig, ConfigError> {
    Ok(UpstreamConfig {
        servers: list(
            "upstream.servers",
            raw.servers,
            defaults.servers,
            UpstreamSpec::from_str,
        )?,
        strategy: parsed(
            "upstream.strategy",
            raw.strategy,
            defaults.strategy,
            str::parse,
        )?,
        timeout: positive_duration("upstream.timeout", raw.timeout, defaults.timeout)?,
        resolv_conf: file_path("upstream.resolv_conf", raw.resolv_conf)?
            .unwrap_or(defaults.resolv_conf),
        tls_ca_file: file_path("upstream.tls_ca_file", raw.tls_ca_file)?.or(defaults.tls_ca_file),
        max_outstanding: count(
            "upstream.max_outstanding",
            raw.max_outstanding,
            defaults.max_outstanding,
            1,
        )?,
        randomize_case: boolean(
            "upstream.randomize_case",
            raw.randomize_case,
            defaults.randomize_case,
        )?,
        cookies: boolean("upstream.cookies", raw.cookies, defaults.cookies)?,
    })
}

/// A per-second rate or a burst: 0 to 1,000,000.
fn rate(key: &str, raw: Option<Scalar>, default: u32) -> Result<u32, ConfigError> {
    const MAX: usize = 1_000_000;
    let value = count(key, raw.clone(), default as usize, 0)?;
    if value > MAX {
        let written = raw.map_or_else(String::new, |raw| raw.to_string());
        return Err(ConfigError::invalid(
            key,
            format!("{written} is more than {MAX} (0 means no limit)"),
        ));
    }
    Ok(u32::try_from(value).unwrap_or(u32::MAX))
}

fn cache(raw: RawCache, defaults: CacheConfig) -> Result<CacheConfig, ConfigError> {
    let min_ttl = ttl("cache.min_ttl", raw.min_ttl, defaults.min_ttl)?;
    let max_ttl = ttl("cache.max_ttl", raw.max_ttl, defaults.max_ttl)?;
    if min_ttl > max_ttl {
        return Err(ConfigError::invalid(
            "cache.min_ttl",
            format!(
                "\"{}\" is more than cache.max_ttl (\"{}\")",
                super::format_duration(min_ttl),
                super::format_duration(max_ttl)
            ),
        ));
    }
    Ok(CacheConfig {
        // 0 is allowed: nothing is cached, as with dnsmasq's cache-size=0.
        max_entries: count(
            "cache.max_entries",
            raw.max_entries,
            defaults.max_entries,
            0,
        )?,
        min_ttl,
        max_ttl,
        max_negative_ttl: ttl(
            "cache.max_negative_ttl",
            raw.max_negative_ttl,
            defaults.max_negative_ttl,
        )?,
        serve_stale: boolean("cache.serve_stale", raw.serve_stale, defaults.serve_stale)?,
        stale_max_age: duration(
            "cache.stale_max_age",
            raw.stale_max_age,
            defaults.stale_max_age,
        )?,
    })
}

fn paths(raw: RawPaths, defaults: PathsConfig) -> Result<PathsConfig, ConfigError> {
    Ok(PathsConfig {
        stabilize: duration("paths.stabilize", raw.stabilize, defaults.stabilize)?,
        poll_interval: positive_duration(
            "paths.poll_interval",
            raw.poll_interval,
            defaults.poll_interval,
        )?,
        require_route: boolean(
            "paths.require_route",
            raw.require_route,
            defaults.require_route,
        )?,
        ignore_interfaces: list(
            "paths.ignore_interfaces",
            raw.ignore_interfaces,
            defaults.ignore_interfaces,
            |text| match text {
                "" => Err("\"\" is not an interface name or glob pattern".to_owned()),
                name => Ok(name.to_owned()),
            },
        )?,
        count_ula: boolean("paths.count_ula", raw.count_ula, defaults.count_ula)?,
        count_documentation: boolean(
            "paths.count_documentation",
            raw.count_documentation,
            defaults.count_documentation,
        )?,
        path_override: path_override(raw.path_override, defaults.path_override)?,
    })
}

/// `paths.override`: `"auto"`, or a list of path names (in the environment, comma-separated).
fn path_override(raw: Option<RawList>, default: PathOverride) -> Result<PathOverride, ConfigError> {
    const KEY: &str = "paths.override";
    let Some(raw) = raw else {
        return Ok(default);
    };
    let items = raw.items();
    if let RawList::Joined(text) = &raw {
        // A string is "auto" or a comma-separated list; an empty one is neither, so that an
        // empty variable does not silently pin "no path at all" (write `[]` for that).
        if text.trim() == "auto" {
            return Ok(PathOverride::Auto);
        }
        if items.len() <= 1
            && items
                .first()
                .is_none_or(|item| item.parse::<Path>().is_err())
        {
            return Err(ConfigError::invalid(
                KEY,
                format!("{text:?} is not \"auto\" or a list of native6, 6to4, ipv4, teredo"),
            ));
        }
    }
    let mut state = PathState::EMPTY;
    for (i, item) in items.into_iter().enumerate() {
        let path: Path = item
            .parse()
            .map_err(|problem| ConfigError::invalid(format!("{KEY}[{i}]"), problem))?;
        state = state.with(path);
    }
    Ok(PathOverride::Fixed(state))
}

fn policy(raw: RawPolicy, defaults: PolicySection) -> Result<PolicySection, ConfigError> {
    let order = parsed(
        "policy.order",
        raw.order,
        defaults.order,
        str::parse::<TableKind>,
    )?;
    let order_table = match raw.order_table {
        Some(rows) => order_rows(rows)?,
        None => defaults.order_table,
    };
    if order == TableKind::Custom && order_table.is_empty() {
        return Err(ConfigError::invalid(
            "policy.order",
            "\"custom\" needs [[policy.order_table]] rows (prefix, precedence, label); \
             there are none",
        ));
    }
    Ok(PolicySection {
        filter_aaaa: parsed(
            "policy.filter_aaaa",
            raw.filter_aaaa,
            defaults.filter_aaaa,
            str::parse::<FilterMode>,
        )?,
        keep_teredo_destinations: boolean(
            "policy.keep_teredo_destinations",
            raw.keep_teredo_destinations,
            defaults.keep_teredo_destinations,
        )?,
        require_a: boolean("policy.require_a", raw.require_a, defaults.require_a)?,
        break_dnssec: boolean(
            "policy.break_dnssec",
            raw.break_dnssec,
            defaults.break_dnssec,
        )?,
        filtered_ttl: ttl(
            "policy.filtered_ttl",
            raw.filtered_ttl,
            defaults.filtered_ttl,
        )?,
        order,
        order_table,
        explicit: explicit(raw.explicit, defaults.explicit)?,
    })
}

/// `[[policy.order_table]]` rows, each field required.
fn order_rows(rows: Vec<RawOrderRow>) -> Result<Vec<TableRow>, ConfigError> {
    let mut table = Vec::with_capacity(rows.len());
    for (i, row) in rows.into_iter().enumerate() {
        let key = |field: &str| format!("policy.order_table[{i}].{field}");
        let missing = |field: &str| {
            ConfigError::invalid(
                key(field),
                "is missing (each row has prefix, precedence, label)",
            )
        };
        let prefix = row.prefix.ok_or_else(|| missing("prefix"))?;
        let prefix: Prefix = prefix
            .parse()
            .map_err(|e: TableError| ConfigError::invalid(key("prefix"), e.to_string()))?;
        let precedence = row.precedence.ok_or_else(|| missing("precedence"))?;
        let label = row.label.ok_or_else(|| missing("label"))?;
        table.push(TableRow {
            prefix,
            precedence: byte(&key("precedence"), &precedence)?,
            label: byte(&key("label"), &label)?,
        });
    }
    Ok(table)
}

fn explicit(raw: RawExplicit, defaults: ExplicitConfig) -> Result<ExplicitConfig, ConfigError> {
    const KEY: &str = "policy.explicit.edns_option";
    let edns_option = match raw.edns_option {
        None => defaults.edns_option,
        Some(value) => match integer(&value) {
            Some(code) if code == 0 || LOCAL_EDNS_OPTIONS.contains(&code) => {
                u16::try_from(code).expect("checked to be in range")
            }
            _ => {
                return Err(ConfigError::invalid(
                    KEY,
                    format!(
                        "{value} is not 0 (off) or an option code from 65001 to 65534 \
                         (RFC 6891 local/experimental use)"
                    ),
                ));
            }
        },
    };
    Ok(ExplicitConfig {
        clients: list(
            "policy.explicit.clients",
            raw.clients,
            defaults.clients,
            parse_cidr,
        )?,
        edns_option,
        lone_aaaa: boolean(
            "policy.explicit.lone_aaaa",
            raw.lone_aaaa,
            defaults.lone_aaaa,
        )?,
        pair_window: duration(
            "policy.explicit.pair_window",
            raw.pair_window,
            defaults.pair_window,
        )?,
        hold: duration("policy.explicit.hold", raw.hold, defaults.hold)?,
        max_pairs: count(
            "policy.explicit.max_pairs",
            raw.max_pairs,
            defaults.max_pairs,
            1,
        )?,
    })
}

fn metrics(raw: RawMetrics, defaults: MetricsConfig) -> Result<MetricsConfig, ConfigError> {
    Ok(MetricsConfig {
        listen: parsed(
            "metrics.listen",
            raw.listen,
            defaults.listen,
            parse_metrics_listen,
        )?,
    })
}

fn log(raw: RawLog, defaults: LogConfig) -> Result<LogConfig, ConfigError> {
    Ok(LogConfig {
        level: parsed("log.level", raw.level, defaults.level, parse_level)?,
        format: parsed("log.format", raw.format, defaults.format, str::parse)?,
    })
}

/// Rules between sections: no upstream that is pathwise itself, no metrics endpoint on a DNS
/// socket.
fn check_sockets(config: &Config) -> Result<(), ConfigError> {
    for (i, server) in config.upstream.servers.iter().enumerate() {
        let target = server.address();
        let is_self = config.listen.addresses.iter().any(|own| {
            own.port() == target.port()
                && (own.ip() == target.ip()
                    || (own.ip().is_unspecified()
                        && own.is_ipv4() == target.is_ipv4()
                        && target.ip().is_loopback()))
        });
        if is_self {
            return Err(ConfigError::invalid(
                format!("upstream.servers[{i}]"),
                format!("\"{server}\" is pathwise's own listen address (a forwarding loop)"),
            ));
        }
    }
    if let Some(metrics) = config.metrics.listen
        && metrics.port() != 0
        && config.listen.addresses.contains(&metrics)
    {
        return Err(ConfigError::invalid(
            "metrics.listen",
            format!("\"{metrics}\" is also in listen.addresses (both use TCP)"),
        ));
    }
    Ok(())
}
