//! The rules between keys, checked once every key is read: no side effects, so that SIGHUP
//! can validate a new configuration before it swaps.

use pathwise_policy::TableKind;

use super::{Config, ConfigError, format_duration};

/// The first rule `config` breaks, naming its key.
pub(super) fn check(config: &Config) -> Result<(), ConfigError> {
    let cache = &config.cache;
    if cache.min_ttl > cache.max_ttl {
        return Err(ConfigError::invalid(
            "cache.min_ttl",
            format!(
                "\"{}\" is more than cache.max_ttl (\"{}\")",
                format_duration(cache.min_ttl),
                format_duration(cache.max_ttl)
            ),
        ));
    }
    if config.policy.order == TableKind::Custom && config.policy.order_table.is_empty() {
        return Err(ConfigError::invalid(
            "policy.order",
            "\"custom\" needs [[policy.order_table]] rows (prefix, precedence, label); \
             there are none",
        ));
    }
    check_sockets(config)
}

/// No upstream that is pathwise itself, no metrics endpoint on a DNS socket.
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
