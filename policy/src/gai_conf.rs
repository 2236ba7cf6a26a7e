//! Renders a policy table as a glibc `/etc/gai.conf`, so that `getaddrinfo` sorts the way
//! pathwise does (`pathwise gai-conf`).

use std::fmt::Write;

use crate::table::PolicyTable;

/// IPv4 scopes of RFC 6724 section 3.2: link-local and loopback are link-local, everything else,
/// private ranges included, is global. glibc 2.36 has the same defaults; older releases
/// treated private ranges as site-local, so they are written out.
const SCOPEV4: [(&str, u8); 3] = [
    ("::ffff:169.254.0.0/112", 2),
    ("::ffff:127.0.0.0/104", 2),
    ("::ffff:0.0.0.0/96", 14),
];

/// The text of a `gai.conf` for `table`, headed by `title`. Any `label` or `precedence` line
/// replaces glibc's whole built-in table of that kind, so every row is written.
pub fn render(table: &PolicyTable, title: &str) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "# {title}");
    text.push_str(
        "# Written by `pathwise gai-conf`: install as /etc/gai.conf so that getaddrinfo(3)\n\
         # orders destinations as pathwise does (RFC 6724 section 6 over this table).\n",
    );
    text.push_str("\n# label <prefix> <label>\n");
    for row in table.rows() {
        let _ = writeln!(text, "label {} {}", row.prefix, row.label);
    }
    text.push_str("\n# precedence <prefix> <precedence>\n");
    for row in table.rows() {
        let _ = writeln!(text, "precedence {} {}", row.prefix, row.precedence);
    }
    text.push_str("\n# scopev4 <mapped prefix> <scope>: RFC 6724 section 3.2\n");
    for (prefix, scope) in SCOPEV4 {
        let _ = writeln!(text, "scopev4 {prefix} {scope}");
    }
    text
}
