//! The fault matrix (issue 8, first part): a scripted upstream on loopback misbehaves in one
//! way per case, and the client (dig, through the real binary) gets a proper DNS answer —
//! never a forged record, never a hang: at worst SERVFAIL within about `upstream.timeout`.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use pathwise_tests::wire::{a_response, response};
use pathwise_tests::{FakeUpstream, Pathwise};

/// `upstream.timeout` of these cases.
const TIMEOUT: Duration = Duration::from_millis(500);
/// The bound on any answer: the timeout, plus slack for a busy machine.
const BOUND: Duration = Duration::from_millis(2500);
/// The honest answer.
const REAL: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 99);
/// What a forged answer says; it must never reach the client.
const FORGED: Ipv4Addr = Ipv4Addr::new(6, 6, 6, 6);

/// The header's RCODE set to `rcode` (and the answer count cleared) on an answer to `query`.
fn rcode_answer(query: &[u8], rcode: u8) -> Vec<u8> {
    let mut answer = response(query, 0, &[], 60);
    answer[3] = (answer[3] & 0xf0) | rcode;
    answer
}

/// What the upstream sends back for one query.
type Script = Box<dyn Fn(&[u8]) -> Vec<Vec<u8>> + Send + Sync>;

/// One case: its name, what the upstream sends for a query, the rcode the client must get,
/// and whether it must get the real address.
struct Case {
    name: &'static str,
    script: Script,
    rcode: &'static str,
    real_answer: bool,
}

fn cases() -> Vec<Case> {
    let other_port = Arc::new(UdpSocket::bind("127.0.0.1:0").expect("a second socket"));
    vec![
        Case {
            name: "silence",
            script: Box::new(|_| vec![]),
            rcode: "SERVFAIL",
            real_answer: false,
        },
        Case {
            name: "slow but within the timeout",
            script: Box::new(|query| {
                std::thread::sleep(Duration::from_millis(200));
                vec![a_response(query, &[REAL], 60)]
            }),
            rcode: "NOERROR",
            real_answer: true,
        },
        Case {
            name: "wrong ID",
            script: Box::new(|query| {
                let mut forged = a_response(query, &[FORGED], 60);
                forged[1] ^= 0x5a;
                vec![forged]
            }),
            rcode: "SERVFAIL",
            real_answer: false,
        },
        Case {
            name: "wrong question",
            script: Box::new(|query| {
                let mut forged = a_response(query, &[FORGED], 60);
                forged[13] ^= 0x01; // the first letter of the name
                vec![forged]
            }),
            rcode: "SERVFAIL",
            real_answer: false,
        },
        Case {
            name: "from another port",
            script: Box::new(move |query| {
                // The right ID and question, but not from the server's own port.
                let _ = other_port.send_to(&a_response(query, &[FORGED], 60), sender(query));
                vec![]
            }),
            rcode: "SERVFAIL",
            real_answer: false,
        },
        Case {
            name: "garbage",
            script: Box::new(|query| vec![query[..2].iter().copied().chain([0xff; 40]).collect()]),
            rcode: "SERVFAIL",
            real_answer: false,
        },
        Case {
            name: "truncated packet",
            script: Box::new(|query| {
                let mut cut = a_response(query, &[FORGED], 60);
                cut.truncate(cut.len() - 3);
                vec![cut]
            }),
            rcode: "SERVFAIL",
            real_answer: false,
        },
        Case {
            name: "cut short, then the real answer",
            script: Box::new(|query| {
                let mut cut = a_response(query, &[FORGED], 60);
                cut.truncate(cut.len() - 3);
                vec![cut, a_response(query, &[REAL], 60)]
            }),
            rcode: "NOERROR",
            real_answer: true,
        },
        Case {
            name: "garbage, then the real answer",
            script: Box::new(|query| {
                let mut wrong = a_response(query, &[FORGED], 60);
                wrong[0] ^= 0xff;
                vec![vec![0; 5], wrong, a_response(query, &[REAL], 60)]
            }),
            rcode: "NOERROR",
            real_answer: true,
        },
        Case {
            name: "SERVFAIL",
            script: Box::new(|query| vec![rcode_answer(query, 2)]),
            rcode: "SERVFAIL",
            real_answer: false,
        },
        Case {
            name: "TC, and no TCP listener",
            script: Box::new(|query| {
                let mut truncated = response(query, 0x0200, &[], 60);
                truncated[3] &= 0xf0;
                vec![truncated]
            }),
            rcode: "SERVFAIL",
            real_answer: false,
        },
    ]
}

/// Where the query came from is not in the query: the fake knows it only as the peer it
/// answers. The "another port" case therefore answers the address the upstream socket of
/// pathwise uses, recorded by [`FROM`].
fn sender(_query: &[u8]) -> SocketAddr {
    *FROM
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .expect("a query was received")
}

static FROM: std::sync::Mutex<Option<SocketAddr>> = std::sync::Mutex::new(None);

#[test]
fn every_fault_gets_a_proper_answer_in_time_and_no_forged_record() {
    let mut failures = Vec::new();
    for case in cases() {
        let script = case.script;
        let fake = FakeUpstream::start_with_peer(move |query, peer| {
            *FROM.lock().unwrap_or_else(|e| e.into_inner()) = Some(peer);
            script(query)
        });
        let config = format!(
            "[upstream]\nservers = [\"{}\"]\ntimeout = \"{}ms\"\n",
            fake.address(),
            TIMEOUT.as_millis()
        );
        let pathwise = Pathwise::start(&config, &[]);
        let answer = pathwise.dig("fault.pathwise.test.", "A").timeout(8).run();
        let addresses = answer.answers("A");
        let mut wrong = Vec::new();
        if answer.rcode != case.rcode {
            wrong.push(format!("rcode {} (expected {})", answer.rcode, case.rcode));
        }
        if addresses.iter().any(|a| *a == FORGED.to_string()) {
            wrong.push(format!("a forged record reached the client: {addresses:?}"));
        }
        if case.real_answer && addresses != [REAL.to_string().as_str()] {
            wrong.push(format!("expected the real answer, got {addresses:?}"));
        }
        if answer.elapsed > BOUND {
            wrong.push(format!("took {:?}", answer.elapsed));
        }
        eprintln!(
            "{:<32} -> {} in {:?}",
            case.name, answer.rcode, answer.elapsed
        );
        if !wrong.is_empty() {
            failures.push(format!("{}: {}\n{answer}", case.name, wrong.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
