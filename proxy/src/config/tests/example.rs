//! The example config is the defaults, names every key, and each table refuses unknown keys.

use super::*;

#[test]
fn the_example_is_the_defaults() {
    assert_eq!(from_text(EXAMPLE).unwrap(), Config::default());
}

#[test]
fn no_file_and_an_empty_file_are_the_defaults() {
    assert_eq!(
        load(None, &no_env(), &Flags::default()).unwrap(),
        Config::default()
    );
    assert_eq!(from_text("").unwrap(), Config::default());
    assert_eq!(from_text("[policy.explicit]\n").unwrap(), Config::default());
}

#[test]
fn the_example_names_every_key_check_config_prints() {
    let rendered = Config::default().to_toml();
    assert_eq!(significant_lines(EXAMPLE), significant_lines(&rendered));
}

#[test]
fn every_key_of_the_example_has_a_comment() {
    let mut commented = false;
    for line in EXAMPLE.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            commented = true;
        } else if line.starts_with('[') || line.is_empty() {
            commented = line.is_empty() && commented;
        } else {
            // A key directly under a comment, or one of a group the comment describes.
            assert!(commented, "no comment above {line:?}");
        }
    }
}

#[test]
fn an_unknown_key_in_each_table_is_named() {
    for table in TABLES {
        let header = format!("[{table}]\n");
        let text = EXAMPLE.replacen(&header, &format!("{header}bogus = 1\n"), 1);
        assert_ne!(text, EXAMPLE, "no {header:?} in the example");
        let error = from_text(&text).unwrap_err();
        assert!(
            matches!(&error, ConfigError::UnknownKey { key, .. } if *key == format!("{table}.bogus")),
            "{table}: {error}"
        );
    }
}

#[test]
fn an_unknown_key_lists_the_accepted_ones() {
    assert_eq!(
        error_of("[policy.explicit]\nbogus = 1\n"),
        "policy.explicit.bogus: unknown key (accepted: clients, edns_option, lone_aaaa, \
         pair_window, hold, max_pairs)"
    );
    assert_eq!(
        error_of("bogus = 1\n"),
        "bogus: unknown key (accepted: listen, upstream, cache, paths, policy, metrics, log)"
    );
    assert_eq!(
        error_of("[bogus]\nkey = 1\n"),
        "bogus: unknown key (accepted: listen, upstream, cache, paths, policy, metrics, log)"
    );
    assert_eq!(
        error_of("[paths]\npath_override = \"auto\"\n"),
        "paths.path_override: unknown key (accepted: stabilize, poll_interval, require_route, \
         ignore_interfaces, count_ula, count_documentation, override)"
    );
    assert_eq!(
        error_of(
            "[[policy.order_table]]\nprefix = \"::/0\"\nprecedence = 1\nlabel = 1\nweight = 2\n"
        ),
        "policy.order_table[0].weight: unknown key (accepted: prefix, precedence, label)"
    );
}

#[test]
fn a_table_written_as_a_value_is_named() {
    assert_eq!(
        error_of("policy = 5\n"),
        "policy: 5 is not a table ([policy])"
    );
    assert_eq!(
        error_of("[policy]\nexplicit = \"yes\"\n"),
        "policy.explicit: \"yes\" is not a table ([policy.explicit])"
    );
    assert_eq!(
        error_of("[policy]\norder_table = 3\n"),
        "policy.order_table: 3 is not a list of tables ([[policy.order_table]] rows)"
    );
}
