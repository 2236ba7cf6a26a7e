//! The sources: environment over file, flags over both, errors crediting the source.

use super::*;

#[test]
fn the_environment_sets_keys() {
    let env = env(&[
        ("PATHWISE_POLICY__FILTER_AAAA", "never"),
        ("PATHWISE_POLICY__EXPLICIT__EDNS_OPTION", "0"),
        ("PATHWISE_POLICY__EXPLICIT__LONE_AAAA", "FALSE"),
        ("PATHWISE_CACHE__MAX_ENTRIES", "5"),
        ("PATHWISE_CACHE__MAX_TTL", "1h"),
        ("PATHWISE_METRICS__LISTEN", "off"),
        ("PATHWISE_LOG__FORMAT", "json"),
        ("HOME", "/root"),
        ("PATHWISELESS", "ignored: not the PATHWISE_ prefix"),
    ]);
    let config = load(None, &env, &Flags::default()).unwrap();
    assert_eq!(config.policy.filter_aaaa, FilterMode::Never);
    assert_eq!(config.policy.explicit.edns_option, 0);
    assert!(!config.policy.explicit.lone_aaaa);
    assert_eq!(config.cache.max_entries, 5);
    assert_eq!(config.cache.max_ttl, Duration::from_secs(3600));
    assert_eq!(config.metrics.listen, None);
    assert_eq!(config.log.format, LogFormat::Json);
}

#[test]
fn the_environment_wins_over_the_file() {
    let env = env(&[("PATHWISE_UPSTREAM__STRATEGY", "fastest")]);
    let config = load(
        Some("[upstream]\nstrategy = \"round-robin\"\ntimeout = \"1s\"\n"),
        &env,
        &Flags::default(),
    )
    .unwrap();
    assert_eq!(config.upstream.strategy, Strategy::Fastest);
    assert_eq!(
        config.upstream.timeout,
        Duration::from_secs(1),
        "the file still counts"
    );
}

#[test]
fn the_environment_writes_lists_with_commas() {
    let env = env(&[
        (
            "PATHWISE_UPSTREAM__SERVERS",
            "192.0.2.1, tls://192.0.2.2#dns.example",
        ),
        ("PATHWISE_LISTEN__ADDRESSES", "127.0.0.1:5353,[::1]:5353"),
        ("PATHWISE_LISTEN__ALLOW", "0.0.0.0/0"),
        ("PATHWISE_PATHS__OVERRIDE", "teredo,ipv4"),
        ("PATHWISE_PATHS__IGNORE_INTERFACES", ""),
    ]);
    let config = load(
        Some("[paths]\nignore_interfaces = [\"docker*\"]\n"),
        &env,
        &Flags::default(),
    )
    .unwrap();
    assert_eq!(
        config.upstream.servers,
        vec![
            "192.0.2.1".parse::<UpstreamSpec>().unwrap(),
            "tls://192.0.2.2#dns.example".parse().unwrap(),
        ]
    );
    assert_eq!(
        config.listen.addresses,
        vec![
            "127.0.0.1:5353".parse::<SocketAddr>().unwrap(),
            "[::1]:5353".parse().unwrap()
        ]
    );
    assert_eq!(config.listen.allow, vec!["0.0.0.0/0".parse().unwrap()]);
    assert_eq!(
        config.paths.path_override,
        PathOverride::Fixed([Path::Teredo, Path::Ipv4].into_iter().collect())
    );
    assert!(
        config.paths.ignore_interfaces.is_empty(),
        "an empty variable is an empty list"
    );
}

#[test]
fn a_bad_environment_value_names_its_variable() {
    let env = env(&[("PATHWISE_UPSTREAM__SERVERS", "192.0.2.1,nowhere")]);
    let error = load(None, &env, &Flags::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "upstream.servers[1]: \"nowhere\" is not an upstream (IP[:port], tcp://IP[:port] or \
         tls://IP[:port]#name) (from PATHWISE_UPSTREAM__SERVERS)"
    );
    assert_eq!(error.key(), Some("upstream.servers[1]"));
}

#[test]
fn an_unknown_environment_key_names_its_variable() {
    let error = load(
        None,
        &env(&[("PATHWISE_POLICY__BOGUS", "1")]),
        &Flags::default(),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "policy.bogus: unknown key (accepted: filter_aaaa, keep_teredo_destinations, \
         require_a, break_dnssec, filtered_ttl, order, order_table, explicit) \
         (from PATHWISE_POLICY__BOGUS)"
    );
    let error = load(
        None,
        &env(&[("PATHWISE_BOGUS__KEY", "1")]),
        &Flags::default(),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "bogus: unknown key (accepted: listen, upstream, cache, paths, policy, metrics, log) \
         (from PATHWISE_BOGUS__KEY)"
    );
}

#[test]
fn flags_win_over_the_environment_and_the_file() {
    let file = "[listen]\naddresses = [\"127.0.0.1:53\"]\n[upstream]\nservers = [\"192.0.2.1\"]\n\
                [metrics]\nlisten = \"127.0.0.1:9100\"\n";
    let env = env(&[
        ("PATHWISE_LISTEN__ADDRESSES", "127.0.0.1:5300"),
        ("PATHWISE_UPSTREAM__SERVERS", "192.0.2.2"),
        ("PATHWISE_METRICS__LISTEN", "127.0.0.1:9200"),
        ("PATHWISE_UPSTREAM__TIMEOUT", "3s"),
    ]);
    let flags = Flags {
        listen: vec!["127.0.0.1:0".to_owned(), "[::1]:0".to_owned()],
        upstream: vec!["tcp://192.0.2.3".to_owned()],
        metrics: Some("off".to_owned()),
    };
    let config = load(Some(file), &env, &flags).unwrap();
    assert_eq!(
        config.listen.addresses,
        vec![
            "127.0.0.1:0".parse::<SocketAddr>().unwrap(),
            "[::1]:0".parse().unwrap()
        ]
    );
    assert_eq!(
        config.upstream.servers,
        vec!["tcp://192.0.2.3".parse().unwrap()]
    );
    assert_eq!(config.metrics.listen, None);
    assert_eq!(
        config.upstream.timeout,
        Duration::from_secs(3),
        "no flag: the environment"
    );

    // Without flags, the environment's lists replace the file's.
    let config = load(Some(file), &env, &Flags::default()).unwrap();
    assert_eq!(config.upstream.servers, vec!["192.0.2.2".parse().unwrap()]);
}

#[test]
fn a_bad_flag_is_named() {
    let flags = Flags {
        listen: vec!["localhost".to_owned()],
        ..Flags::default()
    };
    let error = load(
        None,
        &env(&[("PATHWISE_LISTEN__ADDRESSES", "127.0.0.1")]),
        &flags,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "listen.addresses[0]: \"localhost\" is not an address (IP[:port], e.g. 127.0.0.1:53 or \
         [::1]:53) (from --listen)"
    );
    let flags = Flags {
        metrics: Some("on".to_owned()),
        ..Flags::default()
    };
    assert_eq!(
        load(None, &no_env(), &flags).unwrap_err().to_string(),
        "metrics.listen: \"on\" is not an address (IP:port, e.g. 127.0.0.1:9153 or [::1]:9153) \
         or \"off\" (from --metrics)"
    );
}

#[test]
fn a_toml_syntax_error_is_one_line() {
    let error = error_of("[policy]\norder = \"seed\"\norder = \"custom\"\n");
    assert_eq!(error, "not valid TOML: line 3, column 1: duplicate key");
}

#[test]
fn load_file_names_the_file() {
    let path = std::env::temp_dir().join(format!("pathwise-config-{}.toml", std::process::id()));
    std::fs::write(&path, "[log]\nlevel = \"loud\"\n").unwrap();
    let error = load_file(&path, &no_env(), &Flags::default()).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: log.level: \"loud\" is not one of error, warn, info, debug, trace",
            path.display()
        )
    );
    assert_eq!(error.key(), Some("log.level"));
    let error = load_file(&path, &no_env(), &Flags::default()).unwrap_err();
    assert!(matches!(error, ConfigError::Read { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        format!("{}: No such file or directory (os error 2)", path.display())
    );
}
