//! Rules between keys, and every key read into its typed value.

use super::*;

#[test]
fn rules_between_keys_are_checked() {
    let cases = [
        (
            "[listen]\naddresses = []",
            "listen.addresses: is empty (give at least one IP[:port], e.g. \"127.0.0.1:53\")",
        ),
        (
            "[listen]\naddresses = [\"127.0.0.1\", \"127.0.0.1:53\"]",
            "listen.addresses[1]: \"127.0.0.1:53\" is listed twice",
        ),
        (
            "[cache]\nmin_ttl = \"2d\"",
            "cache.min_ttl: \"2d\" is more than cache.max_ttl (\"1d\")",
        ),
        (
            "[policy]\norder = \"custom\"",
            "policy.order: \"custom\" needs [[policy.order_table]] rows (prefix, precedence, \
             label); there are none",
        ),
        (
            "[upstream]\nservers = [\"127.0.0.1\"]",
            "upstream.servers[0]: \"127.0.0.1:53\" is pathwise's own listen address (a \
             forwarding loop)",
        ),
        (
            "[listen]\naddresses = [\"0.0.0.0:5353\"]\n[upstream]\nservers = [\"tcp://127.0.0.1:5353\"]",
            "upstream.servers[0]: \"tcp://127.0.0.1:5353\" is pathwise's own listen address (a \
             forwarding loop)",
        ),
        (
            "[metrics]\nlisten = \"127.0.0.1:53\"",
            "metrics.listen: \"127.0.0.1:53\" is also in listen.addresses (both use TCP)",
        ),
    ];
    for (text, message) in cases {
        assert_eq!(error_of(text), message, "{text}");
    }
    // Port 0 binds a fresh port each time, so it may repeat.
    let config = from_text("[listen]\naddresses = [\"127.0.0.1:0\", \"127.0.0.1:0\"]\n").unwrap();
    assert_eq!(config.listen.addresses.len(), 2);
    // A resolver on the same address, another port, is no loop.
    from_text("[listen]\naddresses = [\"127.0.0.1:5353\"]\n[upstream]\nservers = [\"127.0.0.1\"]")
        .unwrap();
}

#[test]
fn every_key_is_read() {
    let text = r#"
        [listen]
        addresses = ["192.0.2.1", "[2001:db8::1]:5353"]
        allow = ["192.0.2.0/24", "2001:db8::7"]
        tcp_idle_timeout = "3s"
        max_tcp_connections = 9
        max_tcp_per_client = 3
        tcp_read_timeout = "1s"
        client_rate = 100
        client_burst = 20
        [upstream]
        servers = ["198.51.100.1", "tcp://198.51.100.2:54", "tls://198.51.100.3#dns.example"]
        strategy = "round-robin"
        timeout = "500ms"
        resolv_conf = "/run/resolv.conf"
        tls_ca_file = "/etc/ca.pem"
        max_outstanding = 10
        randomize_case = false
        cookies = false
        [cache]
        max_entries = 0
        min_ttl = "5s"
        max_ttl = "1h"
        max_negative_ttl = "1m"
        serve_stale = false
        stale_max_age = "2h"
        [paths]
        stabilize = "0s"
        poll_interval = "250ms"
        require_route = false
        ignore_interfaces = ["docker*"]
        count_ula = true
        count_documentation = true
        override = ["teredo", "ipv4"]
        [policy]
        filter_aaaa = "no-native"
        keep_teredo_destinations = false
        require_a = false
        break_dnssec = true
        filtered_ttl = "10s"
        order = "custom"
        [[policy.order_table]]
        prefix = "::/0"
        precedence = 40
        label = 1
        [[policy.order_table]]
        prefix = "::ffff:10.0.0.0/104"
        precedence = 60
        label = 4
        [policy.explicit]
        clients = ["10.0.0.0/8"]
        edns_option = 65001
        lone_aaaa = false
        pair_window = "2s"
        hold = "0ms"
        max_pairs = 100
        [metrics]
        listen = "off"
        [log]
        level = "debug"
        format = "json"
    "#;
    let config = from_text(text).unwrap();
    let d = Config::default();
    // Every field differs from its default, so none was ignored.
    assert_ne!(config.listen.addresses, d.listen.addresses);
    assert_ne!(config.listen.allow, d.listen.allow);
    assert_ne!(config.listen.tcp_idle_timeout, d.listen.tcp_idle_timeout);
    assert_ne!(
        config.listen.max_tcp_connections,
        d.listen.max_tcp_connections
    );
    assert_ne!(
        config.listen.max_tcp_per_client,
        d.listen.max_tcp_per_client
    );
    assert_ne!(config.listen.tcp_read_timeout, d.listen.tcp_read_timeout);
    assert_ne!(config.listen.client_rate, d.listen.client_rate);
    assert_ne!(config.listen.client_burst, d.listen.client_burst);
    assert_ne!(config.upstream.max_outstanding, d.upstream.max_outstanding);
    assert_ne!(config.upstream.randomize_case, d.upstream.randomize_case);
    assert_ne!(config.upstream.cookies, d.upstream.cookies);
    assert_ne!(config.upstream.servers, d.upstream.servers);
    assert_ne!(config.upstream.strategy, d.upstream.strategy);
    assert_ne!(config.upstream.timeout, d.upstream.timeout);
    assert_ne!(config.upstream.resolv_conf, d.upstream.resolv_conf);
    assert_ne!(config.upstream.tls_ca_file, d.upstream.tls_ca_file);
    assert_ne!(config.cache.max_entries, d.cache.max_entries);
    assert_ne!(config.cache.min_ttl, d.cache.min_ttl);
    assert_ne!(config.cache.max_ttl, d.cache.max_ttl);
    assert_ne!(config.cache.max_negative_ttl, d.cache.max_negative_ttl);
    assert_ne!(config.cache.serve_stale, d.cache.serve_stale);
    assert_ne!(config.cache.stale_max_age, d.cache.stale_max_age);
    assert_ne!(config.paths.stabilize, d.paths.stabilize);
    assert_ne!(config.paths.poll_interval, d.paths.poll_interval);
    assert_ne!(config.paths.require_route, d.paths.require_route);
    assert_ne!(config.paths.ignore_interfaces, d.paths.ignore_interfaces);
    assert_ne!(config.paths.count_ula, d.paths.count_ula);
    assert_ne!(
        config.paths.count_documentation,
        d.paths.count_documentation
    );
    assert_ne!(config.paths.path_override, d.paths.path_override);
    assert_ne!(config.policy.filter_aaaa, d.policy.filter_aaaa);
    assert_ne!(
        config.policy.keep_teredo_destinations,
        d.policy.keep_teredo_destinations
    );
    assert_ne!(config.policy.require_a, d.policy.require_a);
    assert_ne!(config.policy.break_dnssec, d.policy.break_dnssec);
    assert_ne!(config.policy.filtered_ttl, d.policy.filtered_ttl);
    assert_ne!(config.policy.order, d.policy.order);
    assert_ne!(config.policy.order_table, d.policy.order_table);
    assert_ne!(config.policy.explicit.clients, d.policy.explicit.clients);
    assert_ne!(
        config.policy.explicit.edns_option,
        d.policy.explicit.edns_option
    );
    assert_ne!(
        config.policy.explicit.lone_aaaa,
        d.policy.explicit.lone_aaaa
    );
    assert_ne!(
        config.policy.explicit.pair_window,
        d.policy.explicit.pair_window
    );
    assert_ne!(config.policy.explicit.hold, d.policy.explicit.hold);
    assert_ne!(
        config.policy.explicit.max_pairs,
        d.policy.explicit.max_pairs
    );
    assert_ne!(config.metrics.listen, d.metrics.listen);
    assert_ne!(config.log.level, d.log.level);
    assert_ne!(config.log.format, d.log.format);

    // And what check-config prints reads back as the same configuration.
    assert_eq!(from_text(&config.to_toml()).unwrap(), config);
}

#[test]
fn custom_order_rows_make_the_table() {
    let config = from_text(
        r#"
        [policy]
        order = "custom"
        [[policy.order_table]]
        prefix = "::/0"
        precedence = 40
        label = 1
        [[policy.order_table]]
        prefix = "10.0.0.0/8"
        precedence = 60
        label = 4
        [[policy.order_table]]
        prefix = "::ffff:192.168.0.0/112"
        precedence = 50
        label = 4
        "#,
    )
    .unwrap();
    assert_eq!(config.policy.order, TableKind::Custom);
    assert_eq!(config.policy.order_table.len(), 3);
    let table = config.policy.table();
    let precedence = |address: &str| table.precedence(address.parse().unwrap());
    assert_eq!(precedence("10.9.9.9"), 60);
    assert_eq!(precedence("192.168.1.1"), 50);
    assert_eq!(precedence("2a00::1"), 40);
    assert_eq!(
        precedence("198.51.100.1"),
        40,
        "::/0 covers IPv4 too, as ::ffff:0:0/96"
    );
}

#[test]
fn paths_override_pins_the_state() {
    let pinned = |text: &str| from_text(text).unwrap().paths.path_override;
    let teredo_ipv4: PathState = [Path::Teredo, Path::Ipv4].into_iter().collect();
    assert_eq!(
        pinned("[paths]\noverride = [\"teredo\", \"ipv4\"]"),
        PathOverride::Fixed(teredo_ipv4)
    );
    assert_eq!(
        pinned("[paths]\noverride = []"),
        PathOverride::Fixed(PathState::EMPTY)
    );
    assert_eq!(pinned("[paths]\noverride = \"auto\""), PathOverride::Auto);
    assert_eq!(
        pinned("[paths]\noverride = \"6to4\""),
        PathOverride::Fixed(PathState::EMPTY.with(Path::SixToFour))
    );
}

#[test]
fn metrics_can_be_off() {
    let config = from_text("[metrics]\nlisten = \"off\"\n").unwrap();
    assert_eq!(config.metrics.listen, None);
    let config = from_text("[metrics]\nlisten = \"[::1]:9000\"\n").unwrap();
    assert_eq!(config.metrics.listen, Some("[::1]:9000".parse().unwrap()));
}
