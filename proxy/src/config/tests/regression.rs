//! A test per bug found, named after it.

use super::*;

/// Regression: with `separator("__")` alone the `config` crate expects `PATHWISE__POLICY__...`
/// (the prefix separator defaults to the level separator), so the documented
/// `PATHWISE_POLICY__FILTER_AAAA` was silently ignored.
#[test]
fn regression_env_prefix_is_followed_by_one_underscore() {
    let env = env(&[("PATHWISE_POLICY__FILTER_AAAA", "never")]);
    let config = load(None, &env, &Flags::default()).unwrap();
    assert_eq!(config.policy.filter_aaaa, FilterMode::Never);
}

/// Regression: the `config` crate reads `5` as true and `1.5` as 2; the raw form keeps values
/// as written so that these are errors.
#[test]
fn regression_config_crate_coercions_are_refused() {
    assert_eq!(
        error_of("[cache]\nserve_stale = 5"),
        "cache.serve_stale: 5 is not true or false"
    );
    assert_eq!(
        error_of("[listen]\nmax_tcp_connections = 1.5"),
        "listen.max_tcp_connections: 1.5 is not a whole number of at least 1"
    );
    assert_eq!(
        error_of("[policy.explicit]\nlone_aaaa = \"on\""),
        "policy.explicit.lone_aaaa: \"on\" is not true or false"
    );
}

/// Regression: a string without quotes, the commonest slip, got the TOML parser's message
/// about floats or booleans (`level = info` reads as a bad `inf`), which names neither.
#[test]
fn regression_an_unquoted_string_gets_a_quoting_hint() {
    let cases = [
        (
            "[log]\nlevel = info\n",
            "not valid TOML: line 2, column 9: invalid float, expected `inf`; strings are \
             quoted: level = \"info\"",
        ),
        (
            "[upstream]\ntimeout = 2s\n",
            "not valid TOML: line 2, column 11: string values must be quoted, expected literal \
             string; strings are quoted: timeout = \"2s\"",
        ),
        (
            "[policy]\nfilter_aaaa = teredo-only\n",
            "not valid TOML: line 2, column 15: invalid boolean, expected `true`; strings are \
             quoted: filter_aaaa = \"teredo-only\"",
        ),
    ];
    for (text, message) in cases {
        assert_eq!(error_of(text), message, "{text}");
    }
}
