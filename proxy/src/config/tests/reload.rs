//! Which keys a SIGHUP applies and which need a restart, and the documentation of every key.

use super::*;

/// Each key changed alone: whether the reload must warn that it needs a restart, and keep its
/// old value in force meanwhile.
#[test]
fn a_reload_keeps_exactly_the_restart_only_keys_and_names_them() {
    let cases = [
        (
            "[listen]\naddresses = [\"127.0.0.1:5353\"]",
            Some("listen.addresses"),
        ),
        ("[listen]\nallow = [\"0.0.0.0/0\"]", None),
        ("[listen]\ntcp_idle_timeout = \"3s\"", None),
        ("[listen]\nmax_tcp_connections = 9", None),
        ("[listen]\nmax_tcp_per_client = 3", None),
        ("[listen]\ntcp_read_timeout = \"1s\"", None),
        ("[listen]\nclient_rate = 100", None),
        ("[listen]\nclient_burst = 20", None),
        ("[upstream]\nservers = [\"192.0.2.1\"]", None),
        ("[upstream]\ntimeout = \"1s\"", None),
        ("[cache]\nmax_entries = 5", Some("cache.max_entries")),
        ("[cache]\nmin_ttl = \"5s\"", Some("cache.min_ttl")),
        ("[cache]\nmax_ttl = \"1h\"", Some("cache.max_ttl")),
        (
            "[cache]\nmax_negative_ttl = \"1m\"",
            Some("cache.max_negative_ttl"),
        ),
        ("[cache]\nserve_stale = false", Some("cache.serve_stale")),
        (
            "[cache]\nstale_max_age = \"1h\"",
            Some("cache.stale_max_age"),
        ),
        ("[paths]\noverride = [\"ipv4\"]", None),
        ("[policy]\nfilter_aaaa = \"never\"", None),
        ("[policy.explicit]\nhold = \"0ms\"", None),
        (
            "[policy.explicit]\npair_window = \"2s\"",
            Some("policy.explicit.pair_window"),
        ),
        (
            "[policy.explicit]\nmax_pairs = 10",
            Some("policy.explicit.max_pairs"),
        ),
        ("[metrics]\nlisten = \"off\"", Some("metrics.listen")),
        ("[log]\nlevel = \"debug\"", Some("log.level")),
        ("[log]\nformat = \"json\"", Some("log.format")),
    ];
    let old = Config::default();
    for (text, restart) in cases {
        let mut new = from_text(text).unwrap();
        assert_ne!(new, old, "{text} changes nothing");
        let read = new.clone();
        assert_eq!(
            old.keep_restart_only(&mut new),
            Vec::from_iter(restart),
            "{text}"
        );
        let in_force = if restart.is_some() { &old } else { &read };
        assert_eq!(&new, in_force, "{text}: the config a reload puts in force");
    }
    assert!(old.keep_restart_only(&mut old.clone()).is_empty());
}

/// The marks in the documentation are the ones the reload acts on.
#[test]
fn the_reference_marks_every_key_as_the_reload_treats_it() {
    let restart: Vec<&str> = Config::reference()
        .into_iter()
        .filter(|key| key.reload == Reload::Restart)
        .map(|key| key.key)
        .collect();
    assert_eq!(
        restart,
        [
            "listen.addresses",
            "cache.max_entries",
            "cache.min_ttl",
            "cache.max_ttl",
            "cache.max_negative_ttl",
            "cache.serve_stale",
            "cache.stale_max_age",
            "policy.explicit.pair_window",
            "policy.explicit.max_pairs",
            "metrics.listen",
            "log.level",
            "log.format",
        ]
    );
}

/// Every key of `check-config`'s output (and so of the example) is documented, with a
/// description, and nothing else is.
#[test]
fn the_reference_documents_every_key() {
    let reference = Config::reference();
    let documented: Vec<&str> = reference.iter().map(|key| key.key).collect();
    let mut rendered = Vec::new();
    let mut table = String::new();
    for line in significant_lines(EXAMPLE) {
        if let Some(header) = line.strip_prefix('[') {
            table = header.trim_matches(|c| c == '[' || c == ']').to_owned();
        } else if let Some((key, _)) = line.split_once(" = ") {
            rendered.push(format!("{table}.{key}"));
        }
    }
    rendered.push("upstream.tls_ca_file".to_owned());
    rendered.push("policy.order_table".to_owned());
    rendered.sort();
    let mut sorted = documented.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, rendered);
    for key in &reference {
        assert!(!key.doc.trim().is_empty(), "{} has no description", key.key);
    }
}

/// `docs/configuration.md` holds the table made from the definitions. After changing a key,
/// `UPDATE_DOCS=1 cargo nextest run -p pathwise reference` writes it.
#[test]
fn docs_configuration_md_holds_the_reference() {
    const BEGIN: &str = "<!-- keys: begin (made from proxy/src/config/keys.rs by a test) -->\n";
    const END: &str = "<!-- keys: end -->\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/configuration.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find(BEGIN).expect("the begin marker") + BEGIN.len();
    let end = text.find(END).expect("the end marker");
    let made = Config::reference_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, format!("{}{made}{}", &text[..start], &text[end..])).unwrap();
        return;
    }
    assert!(
        text[start..end] == made,
        "docs/configuration.md is not the keys' definitions: run \
         `UPDATE_DOCS=1 cargo nextest run -p pathwise reference`, then review the diff"
    );
}

/// Regression: a reload that moved `listen.addresses` and pointed an upstream at the address
/// still being served passed the checks (made on the file as written), then the old address
/// was kept in force: a forwarding loop. The config to be put in force is checked too.
#[test]
fn the_config_a_reload_would_put_in_force_is_checked_with_the_old_listen_addresses() {
    let old = from_text("[listen]\naddresses = [\"127.0.0.1:5353\"]").unwrap();
    let mut new = from_text(
        "[listen]\naddresses = [\"127.0.0.1:5454\"]\n[upstream]\nservers = [\"127.0.0.1:5353\"]",
    )
    .unwrap();
    assert_eq!(old.keep_restart_only(&mut new), ["listen.addresses"]);
    let error = new.check_rules().unwrap_err().to_string();
    assert!(error.contains("upstream.servers[0]"), "{error}");
    assert!(error.contains("forwarding loop"), "{error}");
}

/// The defaults that README.md and the docs quote in prose, "`dotted.key` (VALUE" or
/// "`dotted.key` (default VALUE", are the definitions' own: a changed default fails here until
/// the prose says it too.
#[test]
fn defaults_quoted_in_the_prose_are_the_definitions() {
    let defaults: std::collections::HashMap<&str, String> = Config::reference()
        .into_iter()
        .filter_map(|key| Some((key.key, key.default?.trim_matches('"').to_owned())))
        .collect();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut quoted = 0;
    let mut wrong = Vec::new();
    for page in [
        "README.md",
        "docs/behaviour.md",
        "docs/metrics.md",
        "docs/architecture.md",
    ] {
        let text = std::fs::read_to_string(root.join(page)).unwrap();
        for (at, _) in text.match_indices("` (") {
            let Some(open) = text[..at].rfind('`') else {
                continue;
            };
            let key = &text[open + 1..at];
            let Some(default) = defaults.get(key) else {
                continue;
            };
            let after = &text[at + 3..];
            let after = after.strip_prefix("default ").unwrap_or(after);
            let value: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
                .collect();
            // Prose in the parentheses ("e.g. ...", "defaults 0s and 1d") is not a default.
            let prose = matches!(value.as_str(), "e.g." | "defaults");
            let plain = !value.is_empty() && !prose && !default.contains(['[', ' ', ',']);
            if !plain {
                continue;
            }
            quoted += 1;
            if value != *default {
                wrong.push(format!(
                    "{page}: `{key}` ({value}...; the default is {default}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(
        quoted >= 10,
        "only {quoted} quoted defaults found: is the pattern still right?"
    );
}
