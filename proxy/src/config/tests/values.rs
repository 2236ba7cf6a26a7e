//! A bad value of every kind of key: the exact message, naming key, value and what is accepted.

use super::*;

/// Each key with a fixed set of values, a bad value, and the whole message.
#[test]
fn bad_enum_values_name_the_accepted_ones() {
    let cases = [
        (
            "[policy]\nfilter_aaaa = \"sometimes\"",
            "policy.filter_aaaa: \"sometimes\" is not one of teredo-only, no-native, always, never",
        ),
        (
            "[policy]\norder = \"fastest\"",
            "policy.order: \"fastest\" is not one of seed, rfc6724, custom",
        ),
        (
            "[upstream]\nstrategy = \"random\"",
            "upstream.strategy: \"random\" is not one of sequential, round-robin, fastest",
        ),
        (
            "[log]\nlevel = \"verbose\"",
            "log.level: \"verbose\" is not one of error, warn, info, debug, trace",
        ),
        (
            "[log]\nlevel = \"INFO\"",
            "log.level: \"INFO\" is not one of error, warn, info, debug, trace",
        ),
        (
            "[log]\nformat = \"xml\"",
            "log.format: \"xml\" is not one of text, json",
        ),
        (
            "[paths]\noverride = [\"teredo\", \"ipx\"]",
            "paths.override[1]: \"ipx\" is not one of native6, 6to4, ipv4, teredo",
        ),
        (
            "[paths]\noverride = \"manual\"",
            "paths.override: \"manual\" is not \"auto\" or a list of native6, 6to4, ipv4, teredo",
        ),
        (
            "[paths]\noverride = \"\"",
            "paths.override: \"\" is not \"auto\" or a list of native6, 6to4, ipv4, teredo",
        ),
    ];
    for (text, message) in cases {
        assert_eq!(error_of(text), message, "{text}");
    }
}

#[test]
fn every_duration_key_names_a_bad_duration() {
    let keys = [
        ("listen", "tcp_idle_timeout"),
        ("listen", "tcp_read_timeout"),
        ("upstream", "timeout"),
        ("cache", "min_ttl"),
        ("cache", "max_ttl"),
        ("cache", "max_negative_ttl"),
        ("cache", "stale_max_age"),
        ("paths", "stabilize"),
        ("paths", "poll_interval"),
        ("policy", "filtered_ttl"),
        ("policy.explicit", "pair_window"),
        ("policy.explicit", "hold"),
    ];
    for (table, key) in keys {
        assert_eq!(
            error_of(&format!("[{table}]\n{key} = \"soon\"\n")),
            format!("{table}.{key}: \"soon\" is not a duration (e.g. 30s, 25ms, 1h, 1d)")
        );
    }
    // An integer is coerced to text by the `config` crate and refused the same way.
    assert_eq!(
        error_of("[upstream]\ntimeout = 2\n"),
        "upstream.timeout: \"2\" is not a duration (e.g. 30s, 25ms, 1h, 1d)"
    );
}

/// Durations are read by `humantime`, and printed in the largest exact unit, which it reads
/// back to the same value.
#[test]
fn durations_parse_and_print_back() {
    let cases = [
        ("0s", Duration::ZERO, "0s"),
        ("25ms", Duration::from_millis(25), "25ms"),
        ("1500ms", Duration::from_millis(1500), "1500ms"),
        ("1000ms", Duration::from_secs(1), "1s"),
        ("1s", Duration::from_secs(1), "1s"),
        ("90s", Duration::from_secs(90), "90s"),
        ("2m", Duration::from_secs(120), "2m"),
        ("1h", Duration::from_secs(3600), "1h"),
        ("24h", Duration::from_secs(86_400), "1d"),
        ("1d", Duration::from_secs(86_400), "1d"),
        ("1m 30s", Duration::from_secs(90), "90s"),
        ("1.5s", Duration::from_millis(1500), "1500ms"),
        ("1w", Duration::from_secs(7 * 86_400), "7d"),
        ("1500us", Duration::from_micros(1500), "1500us"),
        ("7ns", Duration::from_nanos(7), "7ns"),
    ];
    for (text, duration, printed) in cases {
        assert_eq!(parse_duration(text), Ok(duration), "{text}");
        assert_eq!(format_duration(duration), printed, "{text}");
        assert_eq!(parse_duration(printed), Ok(duration), "{printed}");
    }
    for bad in ["", "s", "1", "-1s", "1S", "soon", "99999999999999999999s"] {
        assert_eq!(
            parse_duration(bad),
            Err(format!(
                "{bad:?} is not a duration (e.g. 30s, 25ms, 1h, 1d)"
            )),
        );
    }
    // A value below a millisecond survives check-config's TOML.
    let config = from_text("[policy.explicit]\nhold = \"1500us\"\n").unwrap();
    assert_eq!(from_text(&config.to_toml()).unwrap(), config);
}

#[test]
fn ttls_count_whole_seconds() {
    assert_eq!(
        error_of("[cache]\nmax_negative_ttl = \"1500ms\"\n"),
        "cache.max_negative_ttl: \"1500ms\" is not a whole number of seconds (DNS TTLs count \
         seconds)"
    );
    let config = from_text("[policy]\nfiltered_ttl = \"2000ms\"\n").unwrap();
    assert_eq!(config.policy.filtered_ttl, Duration::from_secs(2));
}

#[test]
fn timeouts_and_intervals_are_not_zero() {
    assert_eq!(
        error_of("[upstream]\ntimeout = \"0ms\"\n"),
        "upstream.timeout: \"0ms\" is not more than 0s"
    );
    assert_eq!(
        error_of("[paths]\npoll_interval = \"0s\"\n"),
        "paths.poll_interval: \"0s\" is not more than 0s"
    );
    assert_eq!(
        error_of("[listen]\ntcp_idle_timeout = \"0s\"\n"),
        "listen.tcp_idle_timeout: \"0s\" is not more than 0s"
    );
    let config = from_text("[paths]\nstabilize = \"0s\"\n").unwrap();
    assert_eq!(config.paths.stabilize, Duration::ZERO);
}

#[test]
fn bad_addresses_and_prefixes_are_named() {
    let cases = [
        (
            "[listen]\naddresses = [\"127.0.0.1:53\", \"localhost:53\"]",
            "listen.addresses[1]: \"localhost:53\" is not an address (IP[:port], e.g. \
             127.0.0.1:53 or [::1]:53)",
        ),
        (
            "[listen]\nallow = [\"10.0.0.0/33\"]",
            "listen.allow[0]: \"10.0.0.0/33\" is not a CIDR prefix (e.g. 10.0.0.0/8, \
             2001:db8::/32, ::1)",
        ),
        (
            "[policy.explicit]\nclients = [\"::1\", \"fe80::/ten\"]",
            "policy.explicit.clients[1]: \"fe80::/ten\" is not a CIDR prefix (e.g. 10.0.0.0/8, \
             2001:db8::/32, ::1)",
        ),
        (
            "[metrics]\nlisten = \"9153\"",
            "metrics.listen: \"9153\" is not an address (IP:port, e.g. 127.0.0.1:9153 or \
             [::1]:9153) or \"off\"",
        ),
        (
            "[metrics]\nlisten = \"127.0.0.1\"",
            "metrics.listen: \"127.0.0.1\" is not an address (IP:port, e.g. 127.0.0.1:9153 or \
             [::1]:9153) or \"off\"",
        ),
        (
            "[[policy.order_table]]\nprefix = \"10.0.0.0/40\"\nprecedence = 1\nlabel = 1",
            "policy.order_table[0].prefix: \"10.0.0.0/40\" is not a prefix (expected \
             ADDRESS/LENGTH, e.g. 2001::/32 or 10.0.0.0/8)",
        ),
    ];
    for (text, message) in cases {
        assert_eq!(error_of(text), message, "{text}");
    }
}

#[test]
fn bad_upstream_specs_are_named() {
    let forms = "IP[:port], tcp://IP[:port] or tls://IP[:port]#name";
    let cases = [
        (
            "dns.example",
            format!("\"dns.example\" is not an upstream ({forms})"),
        ),
        (
            "udp://192.0.2.1",
            format!("\"udp://192.0.2.1\" is not an upstream ({forms})"),
        ),
        (
            "tcp://192.0.2.1:x",
            format!("\"tcp://192.0.2.1:x\" is not an upstream ({forms})"),
        ),
        (
            "[192.0.2.1]",
            format!("\"[192.0.2.1]\" is not an upstream ({forms})"),
        ),
        (
            "192.0.2.1#dns.example",
            format!("\"192.0.2.1#dns.example\" is not an upstream ({forms})"),
        ),
        (
            "tls://192.0.2.1",
            "\"tls://192.0.2.1\" is not an upstream: tls:// needs #name, the name the server's \
             certificate must carry (tls://IP[:port]#name)"
                .to_owned(),
        ),
        (
            "tls://192.0.2.1#",
            "\"tls://192.0.2.1#\" is not an upstream: \"\" is not a DNS name or IP address"
                .to_owned(),
        ),
        (
            "tls://192.0.2.1#bad name",
            "\"tls://192.0.2.1#bad name\" is not an upstream: \"bad name\" is not a DNS name or \
             IP address"
                .to_owned(),
        ),
        (
            "192.0.2.1:0",
            "\"192.0.2.1:0\" is not an upstream: port 0 cannot be sent to".to_owned(),
        ),
    ];
    for (spec, problem) in cases {
        assert_eq!(
            error_of(&format!(
                "[upstream]\nservers = [\"192.0.2.9\", {spec:?}]\n"
            )),
            format!("upstream.servers[1]: {problem}"),
            "{spec}"
        );
    }
}

#[test]
fn upstream_specs_parse_and_print_back() {
    let v4 = |text: &str| text.parse::<SocketAddr>().unwrap();
    let cases = [
        (
            "192.0.2.1",
            UpstreamSpec::Udp(v4("192.0.2.1:53")),
            "192.0.2.1:53",
        ),
        (
            "192.0.2.1:5353",
            UpstreamSpec::Udp(v4("192.0.2.1:5353")),
            "192.0.2.1:5353",
        ),
        (
            "2001:db8::1",
            UpstreamSpec::Udp(v4("[2001:db8::1]:53")),
            "[2001:db8::1]:53",
        ),
        (
            "[2001:db8::1]",
            UpstreamSpec::Udp(v4("[2001:db8::1]:53")),
            "[2001:db8::1]:53",
        ),
        (
            "[2001:db8::1]:5353",
            UpstreamSpec::Udp(v4("[2001:db8::1]:5353")),
            "[2001:db8::1]:5353",
        ),
        (
            "tcp://192.0.2.1",
            UpstreamSpec::Tcp(v4("192.0.2.1:53")),
            "tcp://192.0.2.1:53",
        ),
        (
            "tcp://[2001:db8::1]:54",
            UpstreamSpec::Tcp(v4("[2001:db8::1]:54")),
            "tcp://[2001:db8::1]:54",
        ),
        (
            "tls://192.0.2.1#dns.example",
            UpstreamSpec::Tls {
                address: v4("192.0.2.1:853"),
                name: "dns.example".to_owned(),
            },
            "tls://192.0.2.1:853#dns.example",
        ),
        (
            "tls://[2001:db8::1]:8853#dns.example",
            UpstreamSpec::Tls {
                address: v4("[2001:db8::1]:8853"),
                name: "dns.example".to_owned(),
            },
            "tls://[2001:db8::1]:8853#dns.example",
        ),
    ];
    for (text, spec, printed) in cases {
        assert_eq!(text.parse::<UpstreamSpec>().as_ref(), Ok(&spec), "{text}");
        assert_eq!(spec.to_string(), printed);
        assert_eq!(printed.parse::<UpstreamSpec>(), Ok(spec));
    }
}

#[test]
fn bad_booleans_and_numbers_are_named() {
    let cases = [
        (
            "[cache]\nserve_stale = \"maybe\"",
            "cache.serve_stale: \"maybe\" is not true or false",
        ),
        (
            "[paths]\ncount_ula = \"yes\"",
            "paths.count_ula: \"yes\" is not true or false",
        ),
        (
            "[cache]\nmax_entries = \"lots\"",
            "cache.max_entries: \"lots\" is not a whole number of at least 0",
        ),
        (
            "[cache]\nmax_entries = -1",
            "cache.max_entries: -1 is not a whole number of at least 0",
        ),
        (
            "[cache]\nmax_entries = 1.5",
            "cache.max_entries: 1.5 is not a whole number of at least 0",
        ),
        (
            "[listen]\nmax_tcp_connections = 0",
            "listen.max_tcp_connections: 0 is not a whole number of at least 1",
        ),
        (
            "[policy.explicit]\nmax_pairs = 0",
            "policy.explicit.max_pairs: 0 is not a whole number of at least 1",
        ),
        (
            "[listen]\nclient_rate = 2000000",
            "listen.client_rate: 2000000 is more than 1000000 (0 means no limit)",
        ),
        (
            "[listen]\nclient_burst = -3",
            "listen.client_burst: -3 is not a whole number of at least 0",
        ),
        (
            "[upstream]\nmax_outstanding = 0",
            "upstream.max_outstanding: 0 is not a whole number of at least 1",
        ),
        (
            "[upstream]\nrandomize_case = \"yes\"",
            "upstream.randomize_case: \"yes\" is not true or false",
        ),
        (
            "[[policy.order_table]]\nprefix = \"::/0\"\nprecedence = 256\nlabel = 1",
            "policy.order_table[0].precedence: 256 is not a whole number from 0 to 255",
        ),
        (
            "[[policy.order_table]]\nprefix = \"::/0\"\nprecedence = 1\nlabel = -1",
            "policy.order_table[0].label: -1 is not a whole number from 0 to 255",
        ),
        (
            "[[policy.order_table]]\nprefix = \"::/0\"\nlabel = 1",
            "policy.order_table[0].precedence: is missing (each row has prefix, precedence, label)",
        ),
        (
            "[policy]\nfilter_aaaa = [\"never\"]",
            "policy.filter_aaaa: a list is not a string",
        ),
        (
            "[upstream]\nservers = 5",
            "upstream.servers: integer `5` is not a list of strings",
        ),
        (
            "[upstream]\nservers = [[\"192.0.2.1\"]]",
            "upstream.servers[0]: a list is not a string",
        ),
        (
            "[paths]\nrequire_route = [true]",
            "paths.require_route: a list is not a single value",
        ),
    ];
    for (text, message) in cases {
        assert_eq!(error_of(text), message, "{text}");
    }
}

#[test]
fn the_edns_option_is_off_or_in_the_local_range() {
    for code in ["12", "65000", "65535", "70000", "-1", "\"x\""] {
        assert_eq!(
            error_of(&format!("[policy.explicit]\nedns_option = {code}\n")),
            format!(
                "policy.explicit.edns_option: {code} is not 0 (off) or an option code from \
                 65001 to 65534 (RFC 6891 local/experimental use)"
            )
        );
    }
    for code in [0, 65001, 65534] {
        let config = from_text(&format!("[policy.explicit]\nedns_option = {code}\n")).unwrap();
        assert_eq!(config.policy.explicit.edns_option, code);
    }
}
