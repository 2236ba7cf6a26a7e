//! The effective configuration as TOML: every key, in the layout of `deploy/pathwise.toml`
//! (what `pathwise check-config` prints). Loading the text gives the same `Config` back.

use std::fmt::{Display, Write};

use super::value::level_str;
use super::{Config, PathOverride, format_duration};

impl Config {
    /// Every key as TOML, sections and keys in the order of `deploy/pathwise.toml`.
    pub fn to_toml(&self) -> String {
        let mut out = Toml::default();
        let listen = &self.listen;
        out.table("listen");
        out.key("addresses", strings(&listen.addresses));
        out.key("allow", strings(&listen.allow));
        out.key(
            "tcp_idle_timeout",
            quoted(format_duration(listen.tcp_idle_timeout)),
        );
        out.key("max_tcp_connections", listen.max_tcp_connections);
        out.key("max_tcp_per_client", listen.max_tcp_per_client);
        out.key(
            "tcp_read_timeout",
            quoted(format_duration(listen.tcp_read_timeout)),
        );
        out.key("client_rate", listen.client_rate);
        out.key("client_burst", listen.client_burst);

        let upstream = &self.upstream;
        out.table("upstream");
        out.key("servers", strings(&upstream.servers));
        out.key("strategy", quoted(upstream.strategy.as_str()));
        out.key("timeout", quoted(format_duration(upstream.timeout)));
        out.key("resolv_conf", quoted(upstream.resolv_conf.display()));
        match &upstream.tls_ca_file {
            Some(path) => out.key("tls_ca_file", quoted(path.display())),
            // TOML has no "none"; the key is left out.
            None => out.line("# tls_ca_file: not set"),
        }
        out.key("max_outstanding", upstream.max_outstanding);
        out.key("randomize_case", upstream.randomize_case);
        out.key("cookies", upstream.cookies);

        let cache = &self.cache;
        out.table("cache");
        out.key("max_entries", cache.max_entries);
        out.key("min_ttl", quoted(format_duration(cache.min_ttl)));
        out.key("max_ttl", quoted(format_duration(cache.max_ttl)));
        out.key(
            "max_negative_ttl",
            quoted(format_duration(cache.max_negative_ttl)),
        );
        out.key("serve_stale", cache.serve_stale);
        out.key(
            "stale_max_age",
            quoted(format_duration(cache.stale_max_age)),
        );

        let paths = &self.paths;
        out.table("paths");
        out.key("stabilize", quoted(format_duration(paths.stabilize)));
        out.key(
            "poll_interval",
            quoted(format_duration(paths.poll_interval)),
        );
        out.key("require_route", paths.require_route);
        out.key("ignore_interfaces", strings(&paths.ignore_interfaces));
        out.key("count_ula", paths.count_ula);
        out.key("count_documentation", paths.count_documentation);
        match paths.path_override {
            PathOverride::Auto => out.key("override", quoted("auto")),
            PathOverride::Fixed(state) => out.key("override", strings(state.iter())),
        }

        self.render_policy(&mut out);

        out.table("metrics");
        match self.metrics.listen {
            Some(address) => out.key("listen", quoted(address)),
            None => out.key("listen", quoted("off")),
        }

        out.table("log");
        out.key("level", quoted(level_str(self.log.level)));
        out.key("format", quoted(self.log.format.as_str()));
        out.0
    }

    fn render_policy(&self, out: &mut Toml) {
        let policy = &self.policy;
        out.table("policy");
        out.key("filter_aaaa", quoted(policy.filter_aaaa.as_str()));
        out.key("keep_teredo_destinations", policy.keep_teredo_destinations);
        out.key("require_a", policy.require_a);
        out.key("break_dnssec", policy.break_dnssec);
        out.key("filtered_ttl", quoted(format_duration(policy.filtered_ttl)));
        out.key("order", quoted(policy.order.as_str()));
        for row in &policy.order_table {
            out.rows("policy.order_table");
            out.key("prefix", quoted(row.prefix));
            out.key("precedence", row.precedence);
            out.key("label", row.label);
        }

        let explicit = &policy.explicit;
        out.table("policy.explicit");
        out.key("clients", strings(&explicit.clients));
        out.key("edns_option", explicit.edns_option);
        out.key("lone_aaaa", explicit.lone_aaaa);
        out.key("pair_window", quoted(format_duration(explicit.pair_window)));
        out.key("hold", quoted(format_duration(explicit.hold)));
        out.key("max_pairs", explicit.max_pairs);
    }
}

/// TOML text being written.
#[derive(Default)]
struct Toml(String);

impl Toml {
    /// `[name]`, after a blank line unless it is the first.
    fn table(&mut self, name: &str) {
        self.header(&format!("[{name}]"));
    }

    /// `[[name]]`: one more row of an array of tables.
    fn rows(&mut self, name: &str) {
        self.header(&format!("[[{name}]]"));
    }

    fn header(&mut self, header: &str) {
        if !self.0.is_empty() {
            self.0.push('\n');
        }
        self.line(header);
    }

    fn key(&mut self, key: &str, value: impl Display) {
        self.line(&format!("{key} = {value}"));
    }

    fn line(&mut self, line: &str) {
        let _ = writeln!(self.0, "{line}");
    }
}

/// A TOML basic string. JSON's escapes are a subset of TOML's, so serde_json quotes it.
fn quoted(value: impl Display) -> String {
    serde_json::to_string(&value.to_string()).expect("a string always serializes")
}

/// A TOML array of strings: `["a", "b"]`, or `[]`.
fn strings<T: Display>(items: impl IntoIterator<Item = T>) -> String {
    let items: Vec<String> = items.into_iter().map(quoted).collect();
    format!("[{}]", items.join(", "))
}
