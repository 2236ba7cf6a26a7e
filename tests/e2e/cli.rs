//! `classify`, `order` and `gai-conf` through the real binary: output formats, RFC 6724
//! section 10.2's examples, one-line usage errors with exit code 2, and `--help` everywhere;
//! `resolve` against a server that fails, and `serve`'s bad flags.

use pathwise_tests::wire::response;
use pathwise_tests::{FakeUpstream, Pathwise, Run};
use serde_json::json;

/// Wikipedia's Teredo example (RFC 4380 section 4 layout): server 65.54.227.120, cone flag,
/// port 40000 and client 192.0.2.45, the last two obfuscated.
const TEREDO: &str = "2001:0:4136:e378:8000:63bf:3fff:fdd2";

#[test]
fn classify_decodes_teredo_as_text() {
    Run::pathwise(["classify", TEREDO])
        .success()
        .stdout_is(&format!(
            "{TEREDO} teredo server=65.54.227.120 client=192.0.2.45 port=40000 cone\n"
        ));
}

#[test]
fn classify_decodes_teredo_as_json() {
    let run = Run::pathwise(["classify", "--json", TEREDO]);
    let expected = json!([{
        "address": TEREDO,
        "class": "teredo",
        "teredo": {"server": "65.54.227.120", "client": "192.0.2.45", "port": 40000},
    }]);
    run.success()
        .check(run.json() == expected, format!("expected JSON {expected}"));
}

#[test]
fn classify_decodes_6to4_and_mapped_ipv4() {
    Run::pathwise(["classify", "2002:c633:640a::10", "::ffff:203.0.113.7"])
        .success()
        .stdout_is(concat!(
            "2002:c633:640a::10 6to4 ipv4=198.51.100.10\n",
            "::ffff:203.0.113.7 documentation ipv4=203.0.113.7\n",
        ));
}

/// An example of RFC 6724 section 10.2: candidate sources, destinations in the order given,
/// and the result, each destination with the source chosen for it.
struct Example {
    name: &'static str,
    sources: &'static [&'static str],
    destinations: &'static [&'static str],
    result: &'static [(&'static str, &'static str)],
}

/// Examples 1-4 and 9, as the RFC gives them (via lwIP's test suite, which quotes them).
const RFC6724_EXAMPLES: &[Example] = &[
    Example {
        name: "example 1: prefer matching scope",
        sources: &["2001:db8:1::2", "fe80::1", "169.254.13.78"],
        destinations: &["2001:db8:1::1", "198.51.100.121"],
        result: &[
            ("2001:db8:1::1", "2001:db8:1::2"),
            ("198.51.100.121", "169.254.13.78"),
        ],
    },
    Example {
        name: "example 2: prefer matching scope",
        sources: &["fe80::1", "198.51.100.117"],
        destinations: &["2001:db8:1::1", "198.51.100.121"],
        result: &[
            ("198.51.100.121", "198.51.100.117"),
            ("2001:db8:1::1", "fe80::1"),
        ],
    },
    Example {
        name: "example 3: prefer higher precedence",
        sources: &["2001:db8:1::2", "fe80::1", "10.1.2.4"],
        destinations: &["2001:db8:1::1", "10.1.2.3"],
        result: &[("2001:db8:1::1", "2001:db8:1::2"), ("10.1.2.3", "10.1.2.4")],
    },
    Example {
        name: "example 4: prefer smaller scope",
        sources: &["2001:db8:1::2", "fe80::2"],
        destinations: &["2001:db8:1::1", "fe80::1"],
        result: &[("fe80::1", "fe80::2"), ("2001:db8:1::1", "2001:db8:1::2")],
    },
    Example {
        name: "example 9: prefer higher precedence",
        sources: &["2002:c633:6401::2", "2001:db8:1::2", "fe80::2"],
        destinations: &["2002:c633:6401::1", "2001:db8:1::1"],
        result: &[
            ("2001:db8:1::1", "2001:db8:1::2"),
            ("2002:c633:6401::1", "2002:c633:6401::2"),
        ],
    },
];

/// `pathwise order --table rfc6724 --source ...` gives each example's order (`--json`) and
/// each destination's source (text: `ADDR CLASS source=SRC`).
#[test]
fn order_reproduces_rfc6724_section_10_2_examples() {
    for example in RFC6724_EXAMPLES {
        let name = example.name;
        let mut args = vec!["order", "--table", "rfc6724"];
        for source in example.sources {
            args.extend(["--source", source]);
        }
        args.extend(example.destinations);

        let json = Run::pathwise(args.iter().chain(&["--json"]));
        let expected = json!(example.result.iter().map(|(d, _)| d).collect::<Vec<_>>());
        json.success().check(
            json.json() == expected,
            format!("{name}: expected {expected}"),
        );

        let text = Run::pathwise(&args);
        let chosen: Vec<(&str, &str)> = text
            .success()
            .stdout()
            .lines()
            .filter(|line| !line.starts_with('#'))
            .map(destination_and_source)
            .collect();
        let result = example.result;
        text.check(
            chosen == result,
            format!("{name}: expected (destination, source) {result:?}"),
        );
    }
}

/// `ADDR CLASS source=SRC` as `(ADDR, SRC)`.
fn destination_and_source(line: &str) -> (&str, &str) {
    let destination = line.split(' ').next().unwrap_or_default();
    let source = line
        .rsplit(' ')
        .next()
        .and_then(|w| w.strip_prefix("source="));
    (destination, source.unwrap_or_default())
}

#[test]
fn bad_address_exits_2_with_one_line_naming_it() {
    let cases: [&[&str]; 4] = [
        &["classify", "2001:db8::zz"],
        &["classify", "--json", "192.0.2.1", "2001:db8::zz"],
        &["order", "--table", "seed", "2001:db8::zz"],
        &["order", "--source", "2001:db8::zz", "192.0.2.1"],
    ];
    for args in cases {
        one_line_usage_error(args, "2001:db8::zz");
    }
}

#[test]
fn unknown_table_exits_2_with_one_line_naming_it() {
    one_line_usage_error(&["order", "--table", "fastest", "192.0.2.1"], "fastest");
    one_line_usage_error(&["gai-conf", "--table", "fastest"], "fastest");
}

/// A bad `--listen` or `--upstream` exited 1 (a bad configuration) where a bad argument
/// exits 2.
#[test]
fn bad_listen_or_upstream_exits_2_with_one_line_naming_it() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["serve", "--listen", "nowhere"],
            "'nowhere' for '--listen <ADDR>'",
        ),
        (&["serve", "--listen", "127.0.0.1:99999"], "--listen"),
        (
            &["serve", "--upstream", "192.0.2.1:0"],
            "'192.0.2.1:0' for '--upstream <SERVER>'",
        ),
        (&["serve", "--upstream", "tls://192.0.2.1"], "--upstream"),
    ];
    for (args, bad) in cases {
        one_line_usage_error(args, bad);
    }
    let run = Run::pathwise(["serve", "--listen", "nowhere"]);
    run.check(
        run.stderr()
            == "pathwise: invalid value 'nowhere' for '--listen <ADDR>': \"nowhere\" is not an \
                address (IP[:port], e.g. 127.0.0.1:53 or [::1]:53)\n",
        "expected the whole message",
    );
}

/// Regression: `--upstream 127.0.0.1:53` was refused as a forwarding loop, checked against
/// the default listen address even when `--listen` moved it (`serve --listen 127.0.0.1:5353
/// --upstream 127.0.0.1:53`, the unprivileged way to sit in front of a local resolver).
#[test]
fn upstream_on_the_default_port_is_accepted_when_pathwise_listens_elsewhere() {
    let pathwise = Pathwise::start(
        "[upstream]\ntimeout = \"200ms\"\n",
        &["--upstream", "127.0.0.1:53", "--metrics", "off"],
    );
    pathwise.wait_for_log("upstream 127.0.0.1:53", std::time::Duration::from_secs(5));
}

/// `pathwise resolve NAME` printed nothing and exited 0 when the server answered SERVFAIL.
#[test]
fn resolve_says_so_and_exits_1_when_the_server_fails() {
    let failing = FakeUpstream::start(|query| vec![response(query, 2, &[], 60)]);
    let server = failing.address().to_string();
    let run = Run::pathwise(["resolve", "www.example.test", "--server", server.as_str()]);
    run.exit_code(1)
        .check(run.stdout().is_empty(), "expected nothing on stdout")
        .check(
            run.stderr()
                == format!("pathwise: asking {server} for A: the server answered SERVFAIL\n"),
            "expected the whole message",
        );

    let missing = FakeUpstream::start(|query| vec![response(query, 3, &[], 60)]);
    let server = missing.address().to_string();
    let run = Run::pathwise(["resolve", "www.example.test", "--server", server.as_str()]);
    run.exit_code(1)
        .check(run.stdout().is_empty(), "expected nothing on stdout")
        .check(
            run.stderr()
                == format!("pathwise: www.example.test does not exist (NXDOMAIN from {server})\n"),
            "expected the whole message",
        );

    let empty = FakeUpstream::start(|query| vec![response(query, 0, &[], 60)]);
    let server = empty.address().to_string();
    let run = Run::pathwise(["resolve", "www.example.test", "--server", server.as_str()]);
    run.exit_code(1).check(
        run.stderr()
            == format!("pathwise: www.example.test has no A or AAAA record (asked {server})\n"),
        "expected the whole message",
    );

    let help = Run::pathwise(["resolve", "--help"]);
    help.success().check(
        help.stdout()
            .contains("Exit status: 0 when the server gave at least one address"),
        "expected the exit codes in --help",
    );
}

/// `pathwise order` put IPv4 above 6to4 on a host without a 6to4 source (RFC 6724 rule 5)
/// and nothing said why.
#[test]
fn order_explains_when_a_label_mismatch_beats_precedence() {
    let base = ["order", "--table", "seed", "--source", "192.0.2.10/24"];
    let destinations = ["2002:c000:201::1", "198.51.100.7"];
    let run = Run::pathwise(
        base.iter()
            .chain(&["--source", "2a00::2"])
            .chain(&destinations),
    );
    run.success().stdout_is(concat!(
        "198.51.100.7 documentation source=192.0.2.10\n",
        "2002:c000:201::1 6to4 source=2a00::2\n",
        "# 2002:c000:201::1 (6to4) comes after 198.51.100.7 (documentation) despite its higher ",
        "precedence (30 > 10): RFC 6724 rule 5 (prefer matching label) comes before rule 6 ",
        "(precedence), and its source 2a00::2 has label 1, not 2 (a 6to4 destination matches ",
        "only a 6to4 source)\n",
    ));
    // With a 6to4 source the order follows precedence, and there is nothing to explain.
    let run = Run::pathwise(
        base.iter()
            .chain(&["--source", "2002:c000:201::2"])
            .chain(&destinations),
    );
    run.success().stdout_is(concat!(
        "2002:c000:201::1 6to4 source=2002:c000:201::2\n",
        "198.51.100.7 documentation source=192.0.2.10\n",
    ));
    let json = Run::pathwise(
        base.iter()
            .chain(&["--source", "2a00::2", "--json"])
            .chain(&destinations),
    );
    json.success().check(
        json.json() == json!(["198.51.100.7", "2002:c000:201::1"]),
        "expected the JSON unchanged",
    );
    let help = Run::pathwise(["order", "--help"]);
    help.success().check(
        help.stdout().contains("Rule 5 comes before precedence")
            && help.stdout().contains("IPv4 (label 4, as the host's IPv4"),
        "expected rule 5 explained in --help",
    );
}

/// Exit code 2, nothing on stdout, and exactly one stderr line `pathwise: ...` naming `bad`.
fn one_line_usage_error(args: &[&str], bad: &str) {
    let run = Run::pathwise(args);
    let lines: Vec<&str> = run.stderr().lines().collect();
    run.exit_code(2)
        .check(run.stdout().is_empty(), "expected nothing on stdout")
        .check(lines.len() == 1, "expected exactly one line on stderr")
        .check(
            lines[0].starts_with("pathwise: "),
            "expected stderr to start `pathwise: `",
        )
        .check(
            lines[0].contains(bad),
            format!("expected stderr to name {bad:?}"),
        );
}

#[test]
fn help_works_on_every_subcommand() {
    let top = Run::pathwise(["--help"]);
    top.success().check(
        top.stdout().contains("Usage: pathwise"),
        "expected a usage line",
    );
    let subcommands = listed_subcommands(top.stdout());
    for expected in ["classify", "order", "gai-conf"] {
        top.check(
            subcommands.contains(&expected),
            format!("expected {expected} listed"),
        );
    }
    for subcommand in subcommands {
        let run = Run::pathwise([subcommand, "--help"]);
        let usage = format!("Usage: pathwise {subcommand}");
        run.success()
            .check(run.stdout().contains(&usage), format!("expected {usage:?}"));
    }
}

/// The names in the `Commands:` section of `pathwise --help`, other than `help`, so that every
/// subcommand added later is covered too.
fn listed_subcommands(help: &str) -> Vec<&str> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|&name| name != "help")
        .collect()
}
