//! Outsiders: pathwise in one network namespace of the test's own, a client in a
//! second one, joined by a veth pair; no address of the host's own namespace is used. The
//! client gets REFUSED unless `listen.allow` admits it, and a refused client never gets more
//! bytes back than it sent (pathwise is no amplifier). Root only.

use std::net::SocketAddr;

use pathwise_tests::{Dig, NetNs, Pathwise, Upstream, require_root};

use crate::serve::zone::{DUAL, DUAL_A, unsigned};

const SERVER: &str = "10.77.0.1";
const CLIENT: &str = "10.77.0.2";

/// The server's namespace (NSD on its loopback, pathwise on `SERVER:53`) and the client's.
/// Fields drop in order: the processes, then the namespaces.
struct Outside {
    _pathwise: Pathwise,
    _upstream: Upstream,
    server: NetNs,
    client: NetNs,
}

impl Outside {
    /// `allow` is `listen.allow` (TOML list), `None` for its default (loopback only).
    fn new(allow: Option<&str>) -> Self {
        let server = NetNs::new("pwout");
        let client = NetNs::new("pwout");
        server.ip(&[
            "link",
            "add",
            "out0",
            "type",
            "veth",
            "peer",
            "name",
            "out1",
            "netns",
            client.name(),
        ]);
        server.ip(&["address", "add", &format!("{SERVER}/24"), "dev", "out0"]);
        server.ip(&["link", "set", "out0", "up"]);
        client.ip(&["address", "add", &format!("{CLIENT}/24"), "dev", "out1"]);
        client.ip(&["link", "set", "out1", "up"]);
        let nsd: SocketAddr = "127.0.0.1:5300".parse().expect("an address");
        let upstream = Upstream::start_in_netns(&server, nsd, &unsigned());
        let allow = allow
            .map(|list| format!("allow = {list}\n"))
            .unwrap_or_default();
        let config = format!(
            "[listen]\n{allow}\n[upstream]\nservers = [\"{}\"]\ntimeout = \"1s\"\n",
            upstream.spec()
        );
        let listen = format!("{SERVER}:53");
        let pathwise = Pathwise::start_in_netns(&server, &config, &["--listen", &listen]);
        Self {
            _pathwise: pathwise,
            _upstream: upstream,
            server,
            client,
        }
    }

    /// `dig` from the client's namespace to pathwise.
    fn dig(&self, name: &str, qtype: &str) -> Dig {
        let server: SocketAddr = format!("{SERVER}:53").parse().expect("an address");
        Dig::new(server, name, qtype).in_netns(self.client.name())
    }

    /// Sends `query` (hex) over UDP from the client's namespace; returns the sizes sent and
    /// received and the answer's rcode, by a few lines of python3 (no DNS library involved).
    fn raw_udp(&self, query_hex: &str) -> (usize, usize, u8) {
        let script = format!(
            "import socket\n\
             q = bytes.fromhex('{query_hex}')\n\
             s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
             s.settimeout(3)\n\
             s.sendto(q, ('{SERVER}', 53))\n\
             a = s.recv(65535)\n\
             print(len(q), len(a), a[3] & 15)\n"
        );
        let run = self.client.exec("python3", &["-c", &script]);
        let words: Vec<usize> = run
            .stdout()
            .split_whitespace()
            .map(|word| word.parse().expect("a number"))
            .collect();
        let [sent, received, rcode] = words[..] else {
            run.fail("expected three numbers");
        };
        (sent, received, u8::try_from(rcode).expect("a 4-bit rcode"))
    }
}

/// What an amplifier would be asked: `DUAL` A with EDNS and a 4096-byte buffer (ID 0x1234,
/// RD), in hex.
fn query_hex() -> String {
    // Header: ID, flags RD, QD=1, AN=0, NS=0, AR=1.
    let mut wire = String::from("123401000001000000000001");
    for label in DUAL.trim_end_matches('.').split('.') {
        wire.push_str(&format!("{:02x}", label.len()));
        for byte in label.bytes() {
            wire.push_str(&format!("{byte:02x}"));
        }
    }
    wire.push_str("00");
    wire.push_str("00010001"); // A, IN
    wire.push_str("0000291000000000000000"); // OPT: root, type 41, 4096, no flags, no options
    wire
}

#[test]
fn an_outsider_gets_refused_and_no_more_bytes_than_it_sent() {
    if !require_root("an_outsider_gets_refused_and_no_more_bytes_than_it_sent") {
        return;
    }
    let outside = Outside::new(None);

    outside.dig(DUAL, "A").run().rcode_is("REFUSED");
    outside.dig(DUAL, "A").tcp().run().rcode_is("REFUSED");
    let (sent, received, rcode) = outside.raw_udp(&query_hex());
    assert_eq!(rcode, 5, "REFUSED");
    eprintln!("refused: {sent} bytes sent, {received} bytes back");
    assert!(
        received <= sent,
        "a refused client got {received} bytes for a {sent}-byte query"
    );
    // A loopback client of its own namespace is admitted all the same.
    let inside: SocketAddr = format!("{SERVER}:53").parse().expect("an address");
    Dig::new(inside, DUAL, "A")
        .in_netns(outside.server.name())
        .from("127.0.0.1")
        .run()
        .rcode_is("NOERROR");
}

#[test]
fn listen_allow_admits_the_outsiders_network() {
    if !require_root("listen_allow_admits_the_outsiders_network") {
        return;
    }
    let outside = Outside::new(Some(r#"["127.0.0.0/8", "10.77.0.0/24"]"#));

    outside
        .dig(DUAL, "A")
        .run()
        .rcode_is("NOERROR")
        .answers_are("A", &[DUAL_A]);
    let (_, _, rcode) = outside.raw_udp(&query_hex());
    assert_eq!(rcode, 0, "NOERROR once admitted");
}
