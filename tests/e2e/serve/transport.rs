//! Listeners (docs/behaviour.md): UDP and TCP, truncation to the client's UDP size, the
//! `listen.allow` ACL, and packets that are not well-formed queries.

use std::net::UdpSocket;
use std::time::Duration;

use super::zone::*;
use super::{NATIVE_PATHS, start};

#[test]
fn udp_and_tcp_both_answer() {
    let (_upstream, pathwise) = start(NATIVE_PATHS, "");
    assert_eq!(pathwise.udp_addr().port(), pathwise.tcp_addr().port());
    let udp = pathwise.dig(V4ONLY, "A").run();
    udp.rcode_is("NOERROR").answers_are("A", &[V4ONLY_A]);
    let tcp = pathwise.dig_tcp(V4ONLY, "A").run();
    tcp.rcode_is("NOERROR").answers_are("A", &[V4ONLY_A]);
}

#[test]
fn large_answer_is_truncated_over_udp_and_whole_over_tcp() {
    let (_upstream, pathwise) = start(NATIVE_PATHS, "");
    let udp = pathwise.dig(MANY, "A").no_edns().run();
    udp.rcode_is("NOERROR").check(
        udp.has_flag("tc"),
        "expected TC: 60 A records do not fit in 512 bytes",
    );
    let tcp = pathwise.dig_tcp(MANY, "A").no_edns().run();
    tcp.rcode_is("NOERROR")
        .check(!tcp.has_flag("tc"), "expected no TC over TCP")
        .check(
            tcp.answers("A").len() == MANY_COUNT,
            format!("expected all {MANY_COUNT} A records over TCP"),
        );
}

#[test]
fn client_outside_listen_allow_is_refused() {
    let (_upstream, pathwise) = start(NATIVE_PATHS, "[listen]\nallow = [\"127.0.0.1/32\"]\n");
    let outside = pathwise.dig(DUAL, "A").from("127.0.0.9").run();
    outside.rcode_is("REFUSED").check(
        outside.answer.is_empty(),
        "expected no answer records for a refused client",
    );
    let inside = pathwise.dig(DUAL, "A").from("127.0.0.1").run();
    inside.rcode_is("NOERROR").answers_are("A", &[DUAL_A]);
    let outside_tcp = pathwise.dig_tcp(DUAL, "A").from("127.0.0.9").run();
    outside_tcp.rcode_is("REFUSED");
}

#[test]
fn unreadable_packets_are_dropped_and_the_server_keeps_answering() {
    let (_upstream, pathwise) = start(NATIVE_PATHS, "");
    let socket = client_socket();
    let mut response_header = query_header(0x1234, 1);
    response_header[2] |= 0x80; // QR: a response, which a server must not answer
    let packets: [(&str, Vec<u8>); 4] = [
        ("empty", vec![]),
        ("3 bytes of garbage", vec![0xde, 0xad, 0xbe]),
        (
            "a truncated header (11 bytes)",
            query_header(0x4321, 1)[..11].to_vec(),
        ),
        (
            "a response (QR set) with no question",
            response_header.to_vec(),
        ),
    ];
    for (what, packet) in &packets {
        socket.send_to(packet, pathwise.udp_addr()).expect("send");
        let answer = pathwise.dig(V4ONLY, "A").run();
        answer.check(
            answer.rcode == "NOERROR" && answer.answers("A") == [V4ONLY_A],
            format!("expected pathwise to keep answering after {what} ({packet:02x?})"),
        );
    }
}

#[test]
fn readable_header_with_a_bad_question_gets_formerr() {
    let (_upstream, pathwise) = start(NATIVE_PATHS, "");
    let socket = client_socket();
    let mut packet = query_header(0xbeef, 1).to_vec();
    // A label of 5 bytes with only 2 there.
    packet.extend_from_slice(&[5, b'a', b'b']);
    socket.send_to(&packet, pathwise.udp_addr()).expect("send");
    let mut buffer = [0u8; 512];
    let (n, _) = socket.recv_from(&mut buffer).unwrap_or_else(|e| {
        panic!("expected a FORMERR answer to {packet:02x?}, got nothing in 3s: {e}")
    });
    let reply = &buffer[..n];
    assert!(n >= 12, "a reply shorter than a header: {reply:02x?}");
    assert_eq!(&reply[..2], &[0xbe, 0xef], "reply ID, in {reply:02x?}");
    assert_ne!(reply[2] & 0x80, 0, "QR set, in {reply:02x?}");
    assert_eq!(reply[3] & 0x0f, 1, "rcode FORMERR (1), in {reply:02x?}");
    // And the server still answers.
    pathwise
        .dig(V4ONLY, "A")
        .run()
        .answers_are("A", &[V4ONLY_A]);
}

/// A UDP socket on loopback that gives up reading after 3s.
fn client_socket() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a client socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(3)))
        .expect("set a read timeout");
    socket
}

/// A query header: this ID, RD set, `questions` questions, no other records.
fn query_header(id: u16, questions: u16) -> [u8; 12] {
    let [id_hi, id_lo] = id.to_be_bytes();
    let [qd_hi, qd_lo] = questions.to_be_bytes();
    [id_hi, id_lo, 0x01, 0x00, qd_hi, qd_lo, 0, 0, 0, 0, 0, 0]
}

/// A client could make pathwise log a warning per packet: the DNS library logged `WARN
/// incomplete or poorly formatted EDNS options` for each query whose OPT record ends inside
/// an option. What a client controls is logged at debug level at most.
#[test]
fn a_malformed_edns_option_logs_no_warning_per_packet() {
    let (_upstream, pathwise) = start(NATIVE_PATHS, "");
    let mut query = pathwise_tests::wire::Query::new(0x4d21, V4ONLY, 1).to_bytes();
    // The OPT record is last, with RDLENGTH 0: give it two bytes, an option code and no
    // length, so that the option is cut short.
    let length = query.len();
    query[length - 2..].copy_from_slice(&2u16.to_be_bytes());
    query.extend_from_slice(&[0xff, 0x00]);
    let socket = client_socket();
    for _ in 0..20 {
        socket
            .send_to(&query, pathwise.udp_addr())
            .expect("send the query");
        let mut reply = [0u8; 1500];
        socket.recv(&mut reply).expect("an answer");
    }
    // The server still answers, and has logged what it logs, in order, since.
    pathwise
        .dig(V4ONLY, "A")
        .run()
        .answers_are("A", &[V4ONLY_A]);
    let warnings: Vec<String> = pathwise
        .log()
        .into_iter()
        .filter(|line| line.contains("WARN"))
        .collect();
    assert!(
        warnings.is_empty(),
        "no warning for what a client sent:\n{}",
        warnings.join("\n")
    );
}
