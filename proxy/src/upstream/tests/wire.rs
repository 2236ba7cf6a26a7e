//! The wire helpers: matching answers to queries, reading the EDNS size, and surviving
//! garbage.

use hickory_proto::op::{Edns, Message, Query};
use hickory_proto::rr::{Name, RecordType};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::query;
use crate::upstream::wire::{
    answers, cookie, copy_question_case, edns_udp_size, id, is_badcookie, is_servfail,
    is_truncated, randomize_case, same_question, same_question_case, set_id, with_cookie,
};

/// `query` turned into a response (QR set), same ID and question.
fn as_response(query: &[u8]) -> Vec<u8> {
    let mut response = query.to_vec();
    response[2] |= 0x80;
    response
}

#[test]
fn answer_needs_qr_id_and_question() {
    let sent = query("www.example.", RecordType::A);
    let response = as_response(&sent);
    assert!(answers(&sent, &response));

    assert!(
        !answers(&sent, &sent),
        "QR clear: a reflected query is no answer"
    );
    let mut other_id = response.clone();
    set_id(&mut other_id, 0x4321);
    assert!(!answers(&sent, &other_id));
    assert!(!answers(
        &sent,
        &as_response(&query("www.example.", RecordType::AAAA))
    ));
    assert!(!answers(
        &sent,
        &as_response(&query("ww.example.", RecordType::A))
    ));
    assert!(!answers(&sent, &response[..11]));
}

#[test]
fn only_a_refusal_may_leave_the_question_out() {
    let sent = query("www.example.", RecordType::A);
    // An OPT record (root name, type 41, size 1232) and an A record at the root.
    let opt = [0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0];
    let a = [0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 66];
    // The header alone, QR set, QDCOUNT 0, with this RCODE and these records after it.
    let questionless = |rcode: u8, answers: &[&[u8]], additional: &[&[u8]]| {
        let mut bare = as_response(&sent)[..12].to_vec();
        bare[3] = (bare[3] & 0xf0) | rcode;
        bare[4..12].copy_from_slice(&[
            0,
            0,
            0,
            answers.len() as u8,
            0,
            0,
            0,
            additional.len() as u8,
        ]);
        for record in answers.iter().chain(additional) {
            bare.extend_from_slice(record);
        }
        bare
    };
    for rcode in [1, 4, 5] {
        assert!(
            answers(&sent, &questionless(rcode, &[], &[])),
            "rcode {rcode}"
        );
        assert!(
            answers(&sent, &questionless(rcode, &[], &[&opt])),
            "rcode {rcode}, OPT"
        );
        assert!(
            !answers(&sent, &questionless(rcode, &[&a], &[])),
            "rcode {rcode}, an answer"
        );
        assert!(
            !answers(&sent, &questionless(rcode, &[], &[&a])),
            "rcode {rcode}, an A extra"
        );
        assert!(
            !answers(&sent, &questionless(rcode, &[], &[&opt, &opt])),
            "rcode {rcode}, 2 extra"
        );
    }
    for rcode in [0, 2, 3] {
        assert!(
            !answers(&sent, &questionless(rcode, &[], &[])),
            "rcode {rcode}"
        );
    }
    let mut other_id = questionless(5, &[], &[]);
    set_id(&mut other_id, 0x4321);
    assert!(!answers(&sent, &other_id));
}

#[test]
fn names_compare_ignoring_case() {
    let sent = query("WwW.ExAmPlE.", RecordType::A);
    assert!(answers(
        &sent,
        &as_response(&query("www.example.", RecordType::A))
    ));
    assert!(!same_question(&sent, &query("www.exampla.", RecordType::A)));
}

#[test]
fn compressed_question_name_matches_the_plain_one() {
    // Question name "www" + pointer to "example." placed at the end of the message.
    let mut compressed = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0];
    compressed.extend_from_slice(&[3, b'w', b'w', b'w', 0xc0, 22, 0, 1, 0, 1]);
    compressed.extend_from_slice(&[7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 0]);
    assert!(same_question(
        &query("www.example.", RecordType::A),
        &compressed
    ));
}

#[test]
fn pointer_loops_are_malformed_not_endless() {
    let mut looping = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0];
    looping.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
    assert!(!same_question(&looping, &looping));
}

#[test]
fn header_bits_are_read() {
    let sent = query("www.example.", RecordType::A);
    assert_eq!(id(&sent), Some(0x1234));
    assert!(!is_truncated(&sent) && !is_servfail(&sent));
    let mut flagged = sent.clone();
    flagged[2] |= 0x02;
    flagged[3] = (flagged[3] & 0xf0) | 2;
    assert!(is_truncated(&flagged) && is_servfail(&flagged));
    assert_eq!(id(&[1]), None);
}

#[test]
fn edns_udp_size_is_read_from_the_opt_record() {
    assert_eq!(edns_udp_size(&query("www.example.", RecordType::A)), None);
    let mut message = Message::query();
    message.add_query(Query::query(
        Name::from_ascii("www.example.").unwrap(),
        RecordType::A,
    ));
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    message.set_edns(edns);
    assert_eq!(edns_udp_size(&message.to_vec().unwrap()), Some(1232));
}

/// The seed of [`garbage_never_panics`]: `PWTEST_SEED` (`0x...` or decimal) replays a
/// run; else a fresh one. Printed when the test fails, while this lives.
struct Seed(u64);

impl Seed {
    fn new() -> Self {
        let seed = std::env::var("PWTEST_SEED").map_or_else(
            |_| rand::random(),
            |text| {
                let parsed = match text.trim().strip_prefix("0x") {
                    Some(hex) => u64::from_str_radix(hex, 16).ok(),
                    None => text.trim().parse().ok(),
                };
                parsed.unwrap_or_else(|| panic!("PWTEST_SEED={text:?} is not a number"))
            },
        );
        Self(seed)
    }
}

impl Drop for Seed {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "failed with seed {:#x}; replay it with PWTEST_SEED={:#x}",
                self.0, self.0
            );
        }
    }
}

#[test]
fn garbage_never_panics() {
    let seed = Seed::new();
    let mut rng = StdRng::seed_from_u64(seed.0);
    let sent = query("www.example.", RecordType::A);
    let response = as_response(&sent);
    for round in 0..20_000 {
        let mut bytes = if round % 2 == 0 {
            let mut bytes = vec![0; rng.random_range(0..64)];
            rng.fill(&mut bytes[..]);
            bytes
        } else {
            response.clone()
        };
        // Mangle a few bytes of the valid answer, or the random ones further.
        for _ in 0..3 {
            if !bytes.is_empty() {
                let at = rng.random_range(0..bytes.len());
                bytes[at] = rng.random();
            }
        }
        let _ = answers(&sent, &bytes);
        let _ = answers(&bytes, &bytes);
        let _ = edns_udp_size(&bytes);
        let _ = (is_truncated(&bytes), is_servfail(&bytes), id(&bytes));
    }
}

#[test]
fn case_is_randomized_per_letter_and_restored() {
    let sent = query("www-1.Example.", RecordType::A);
    let mut upper = sent.clone();
    randomize_case(&mut upper, u64::MAX);
    assert_eq!(&upper[12..27], b"\x05WWW-1\x07EXAMPLE\x00");
    let mut mixed = sent.clone();
    randomize_case(&mut mixed, 0b101);
    assert_eq!(
        &mixed[12..27],
        b"\x05WwW-1\x07example\x00",
        "digits and dashes keep no bit"
    );
    assert!(
        answers(&sent, &as_response(&mixed)),
        "0x20 is still the same question"
    );
    assert!(!same_question_case(&sent, &mixed));
    assert!(same_question_case(&mixed, &as_response(&mixed)));

    let mut answer = as_response(&mixed);
    copy_question_case(&sent, &mut answer);
    assert!(
        same_question_case(&sent, &answer),
        "the client's case is back"
    );
    let mut other = as_response(&query("www-2.example.", RecordType::A));
    let before = other.clone();
    copy_question_case(&sent, &mut other);
    assert_eq!(other, before, "another name is left alone");
}

#[test]
fn case_helpers_survive_garbage() {
    for len in 0..40 {
        let mut bytes: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
        randomize_case(&mut bytes, 0x5555);
        let mut copy = bytes.clone();
        copy_question_case(&bytes, &mut copy);
        let _ = same_question_case(&bytes, &copy);
    }
    let mut pointer = query("a.example.", RecordType::A);
    pointer[12] = 0xc0;
    let before = pointer.clone();
    randomize_case(&mut pointer, u64::MAX);
    assert_eq!(pointer, before, "a compressed first name is not touched");
}

#[test]
fn the_cookie_option_is_set_in_place_of_the_clients() {
    let mut message = Message::query();
    message.add_query(Query::query(
        Name::from_ascii("a.example.").unwrap(),
        RecordType::A,
    ));
    let mut edns = Edns::new();
    edns.set_max_payload(1400).set_dnssec_ok(true);
    edns.options_mut()
        .insert(hickory_proto::rr::rdata::opt::EdnsOption::Unknown(
            65001,
            vec![1, 2],
        ));
    edns.options_mut()
        .insert(hickory_proto::rr::rdata::opt::EdnsOption::Unknown(
            10,
            vec![9; 8],
        ));
    message.set_edns(edns);
    let sent = message.to_vec().unwrap();
    assert_eq!(cookie(&sent), Some(&[9u8; 8][..]));

    let ours = [7u8; 24];
    let with = with_cookie(&sent, &ours).expect("an OPT record");
    assert_eq!(cookie(&with), Some(&ours[..]));
    let parsed = Message::from_vec(&with).expect("still a DNS message");
    let edns = parsed.edns.expect("OPT");
    assert_eq!(edns.max_payload(), 1400);
    assert!(edns.flags().dnssec_ok);
    let codes: Vec<u16> = edns
        .options()
        .options
        .iter()
        .map(|(code, _)| u16::from(*code))
        .collect();
    assert_eq!(codes.iter().filter(|&&c| c == 10).count(), 1, "{codes:?}");
    assert!(codes.contains(&65001), "{codes:?}");

    let plain = query("a.example.", RecordType::A);
    assert!(with_cookie(&plain, &ours).is_none(), "no OPT is added");
    assert!(cookie(&plain).is_none());
    assert!(!is_badcookie(&with));
}

#[test]
fn badcookie_is_read_from_header_and_opt() {
    let mut message = Message::query();
    message.add_query(Query::query(
        Name::from_ascii("a.example.").unwrap(),
        RecordType::A,
    ));
    message.metadata.message_type = hickory_proto::op::MessageType::Response;
    message.metadata.response_code = hickory_proto::op::ResponseCode::BADCOOKIE;
    message.set_edns(Edns::new());
    let bytes = message.to_vec().unwrap();
    assert!(is_badcookie(&bytes), "{bytes:02x?}");
}

#[test]
fn cookie_helpers_survive_garbage() {
    let sent = with_edns_query();
    for cut in 0..sent.len() {
        let _ = with_cookie(&sent[..cut], &[1; 8]);
        let _ = cookie(&sent[..cut]);
        let _ = is_badcookie(&sent[..cut]);
    }
    let mut bad = sent.clone();
    let last = bad.len() - 1;
    bad[last - 2] = 0xff; // an option length past the end
    let _ = with_cookie(&bad, &[1; 8]);
}

fn with_edns_query() -> Vec<u8> {
    let mut message = Message::query();
    message.add_query(Query::query(
        Name::from_ascii("a.example.").unwrap(),
        RecordType::A,
    ));
    let mut edns = Edns::new();
    edns.options_mut()
        .insert(hickory_proto::rr::rdata::opt::EdnsOption::Unknown(
            10,
            vec![3; 8],
        ));
    message.set_edns(edns);
    message.to_vec().unwrap()
}
