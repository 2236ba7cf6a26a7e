//! A cached response already shaped and encoded for one kind of answer, so that a cache hit is
//! a copy and a few byte patches instead of cloning, shaping and encoding a `Message`.
//!
//! The entry keeps upstream's message; a [`Rendered`] is derived from it for one
//! [`Variant`] (the AAAA decision and the client's EDNS) under one stamp (the settings
//! generation and the path state), with every TTL as served at age 0. Serving it at an age
//! patches the ID, the client's RD and CD bits, the client's question as written, and counts
//! each TTL down by the whole seconds of the age, as [`Entry::response_at`] does.
//!
//! [`Entry::response_at`]: super::Entry::response_at

use hickory_proto::op::ResponseCode;
use pathwise_policy::{AaaaDecision, ShapeReport};

/// What a rendering depends on besides the entry and the stamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variant {
    /// The AAAA decision it was shaped with.
    pub decision: AaaaDecision,
    /// `None`: the client sent no OPT record, so the answer has none; `Some(do)`: an OPT
    /// record with pathwise's payload size and the client's DO bit.
    pub edns: Option<bool>,
}

/// An encoded answer with its TTL positions.
#[derive(Debug)]
pub struct Rendered {
    /// Settings generation and path state it was rendered under.
    pub stamp: u64,
    /// What it was rendered for.
    pub variant: Variant,
    /// The answer: ID 0, RD and CD clear, every TTL as served at age 0.
    wire: Vec<u8>,
    /// Where each TTL is that counts down with age (OPT excluded).
    ttl_offsets: Vec<u16>,
    /// The TTLs that shaping capped (the SOA of a filtered NODATA): where each is, and its
    /// value at age 0 before the cap. Served at an age, such a TTL is the smaller of its own
    /// count-down and the cap, as the slow path's shaping of the aged answer makes it.
    capped: Vec<(u16, u32)>,
    /// The cap of `capped`.
    cap: u32,
    /// What shaping did, for the metrics.
    pub report: ShapeReport,
    /// The response code it carries.
    pub rcode: ResponseCode,
}

/// TTLs capped by shaping: the SOA records of a filtered NODATA answer.
#[derive(Clone, Debug, Default)]
pub struct Capped {
    /// The cap (`policy.filtered_ttl`).
    pub cap: u32,
    /// The SOA TTLs in the authority section at age 0 before the cap, in order.
    pub soa_ttls: Vec<u32>,
}

// Header bits patched per client, and the fixed sizes and types the walker needs.
const RD: u8 = 0x01;
const CD: u8 = 0x10;
const HEADER: usize = 12;
const OPT: u16 = 41;
const SOA: u16 = 6;

impl Rendered {
    /// Wraps an encoded answer; `None` if its records cannot be walked (then it is not used).
    pub fn new(
        stamp: u64,
        variant: Variant,
        wire: Vec<u8>,
        report: ShapeReport,
        rcode: ResponseCode,
        capped: Option<Capped>,
    ) -> Option<Self> {
        let (mut ttl_offsets, soa_offsets) = ttl_offsets(&wire)?;
        let Capped { cap, soa_ttls } = capped.unwrap_or_default();
        if !soa_ttls.is_empty() && soa_ttls.len() != soa_offsets.len() {
            return None;
        }
        let capped: Vec<(u16, u32)> = soa_offsets.into_iter().zip(soa_ttls).collect();
        ttl_offsets.retain(|offset| !capped.iter().any(|(at, _)| at == offset));
        Some(Self {
            stamp,
            variant,
            wire,
            ttl_offsets,
            capped,
            cap,
            report,
            rcode,
        })
    }

    /// The answer to the query `packet` at `age_secs`, if it fits in `limit` bytes and the
    /// query's question is the rendered one; `None` sends the caller down the slow path.
    pub fn answer_to(&self, packet: &[u8], age_secs: u32, limit: usize) -> Option<Vec<u8>> {
        if self.wire.len() > limit {
            return None;
        }
        let mut wire = self.wire.clone();
        if !address_to(&mut wire, packet) {
            return None;
        }
        if age_secs > 0 {
            for &offset in &self.ttl_offsets {
                let at = usize::from(offset);
                let ttl = u32::from_be_bytes([wire[at], wire[at + 1], wire[at + 2], wire[at + 3]]);
                wire[at..at + 4].copy_from_slice(&ttl.saturating_sub(age_secs).to_be_bytes());
            }
            for &(offset, uncapped) in &self.capped {
                let at = usize::from(offset);
                let ttl = uncapped.saturating_sub(age_secs).min(self.cap);
                wire[at..at + 4].copy_from_slice(&ttl.to_be_bytes());
            }
        }
        Some(wire)
    }

    /// Bytes held, for the memory accounting of the cache.
    pub fn size(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.wire.capacity()
            + self.ttl_offsets.capacity() * 2
            + self.capped.capacity() * std::mem::size_of::<(u16, u32)>()
    }
}

/// Makes the encoded answer `wire` the answer to the query `packet`: the query's ID, its RD and
/// CD bits (ORed into the answer's), and its question as the client wrote it, case included,
/// over the answer's own. Names in the answer compressed against the question then read in
/// the client's case too. False, with `wire` untouched, when the query's question is not the
/// answer's (case aside) or either cannot be read in place (a compressed question name).
pub(crate) fn address_to(wire: &mut [u8], packet: &[u8]) -> bool {
    if packet.len() < HEADER || wire.len() < HEADER {
        return false;
    }
    let Some(question_end) = question_end(packet, HEADER) else {
        return false;
    };
    let type_at = question_end - 4;
    if question_end > wire.len()
        || !wire[HEADER..type_at].eq_ignore_ascii_case(&packet[HEADER..type_at])
        || wire[type_at..question_end] != packet[type_at..question_end]
    {
        return false;
    }
    wire[..2].copy_from_slice(&packet[..2]);
    wire[2] |= packet[2] & RD;
    wire[3] |= packet[3] & CD;
    wire[HEADER..question_end].copy_from_slice(&packet[HEADER..question_end]);
    true
}

/// The offset just past the question that starts at `at` (one question: name, type, class);
/// `None` if the name is compressed or runs past the end.
fn question_end(packet: &[u8], at: usize) -> Option<usize> {
    let name_end = name_end(packet, at, false)?;
    let end = name_end + 4;
    (end <= packet.len()).then_some(end)
}

/// The offset just past the name at `at`; compression pointers end a name (2 bytes) when
/// `pointers` is true and make it unreadable otherwise.
fn name_end(wire: &[u8], mut at: usize, pointers: bool) -> Option<usize> {
    loop {
        let length = *wire.get(at)?;
        match length {
            0 => return Some(at + 1),
            1..=63 => at += 1 + usize::from(length),
            0xc0..=0xff if pointers => return (at + 2 <= wire.len()).then_some(at + 2),
            _ => return None,
        }
    }
}

/// The offset of every TTL in `wire` (answer, authority and additional records; not OPT's),
/// and of those of the SOA records in the authority section.
fn ttl_offsets(wire: &[u8]) -> Option<(Vec<u16>, Vec<u16>)> {
    if wire.len() < HEADER {
        return None;
    }
    let count = |at: usize| usize::from(u16::from_be_bytes([wire[at], wire[at + 1]]));
    let questions = count(4);
    let answers = count(6);
    let records = answers + count(8) + count(10);
    let authority = answers..answers + count(8);
    let mut at = HEADER;
    for _ in 0..questions {
        at = name_end(wire, at, true)? + 4;
    }
    let mut offsets = Vec::with_capacity(records);
    let mut soa = Vec::new();
    for index in 0..records {
        at = name_end(wire, at, true)?;
        let fixed = wire.get(at..at + 10)?;
        let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
        let rdlength = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
        if rtype != OPT {
            offsets.push(u16::try_from(at + 4).ok()?);
        }
        if rtype == SOA && authority.contains(&index) {
            soa.push(u16::try_from(at + 4).ok()?);
        }
        at += 10 + rdlength;
        if at > wire.len() {
            return None;
        }
    }
    (at == wire.len()).then_some((offsets, soa))
}

#[cfg(test)]
mod tests {
    use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
    use hickory_proto::rr::{Name, RData, Record, RecordType, rdata};

    use super::*;

    fn answer() -> Vec<u8> {
        let name = Name::from_ascii("www.example.").expect("a name");
        let mut message = Message::new(0, MessageType::Response, OpCode::Query);
        message.metadata.recursion_available = true;
        message.add_query(Query::query(name.clone(), RecordType::A));
        message.add_answer(Record::from_rdata(
            name.clone(),
            300,
            RData::A(rdata::A::new(192, 0, 2, 1)),
        ));
        message.add_answer(Record::from_rdata(
            name,
            60,
            RData::A(rdata::A::new(192, 0, 2, 2)),
        ));
        message.edns = Some(Edns::new());
        message.to_vec().expect("encodes")
    }

    fn query(id: u16, name: &str, rd: bool) -> Vec<u8> {
        let mut query = Message::query();
        query.metadata.id = id;
        query.metadata.recursion_desired = rd;
        query.add_query(Query::query(
            Name::from_ascii(name).expect("a name"),
            RecordType::A,
        ));
        query.to_vec().expect("encodes")
    }

    fn rendered() -> Rendered {
        let variant = Variant {
            decision: AaaaDecision::Pass,
            edns: Some(false),
        };
        Rendered::new(
            7,
            variant,
            answer(),
            ShapeReport::default(),
            ResponseCode::NoError,
            None,
        )
        .expect("walkable")
    }

    #[test]
    fn ttls_are_found_and_opt_is_skipped() {
        assert_eq!(rendered().ttl_offsets.len(), 2);
    }

    #[test]
    fn an_answer_takes_the_clients_id_flags_question_and_age() {
        let rendered = rendered();
        let packet = query(0xbeef, "WwW.Example.", true);

        let wire = rendered.answer_to(&packet, 100, 512).expect("served");

        let message = Message::from_vec(&wire).expect("parses");
        assert_eq!(message.metadata.id, 0xbeef);
        assert!(message.metadata.recursion_desired);
        assert!(!message.metadata.checking_disabled);
        assert_eq!(message.queries[0].name().to_ascii(), "WwW.Example.");
        let ttls: Vec<u32> = message.answers.iter().map(|record| record.ttl).collect();
        assert_eq!(ttls, [200, 0], "counted down, never below zero");
        assert!(message.edns.is_some(), "OPT kept");
    }

    #[test]
    fn another_question_or_a_small_limit_goes_the_slow_way() {
        let rendered = rendered();
        assert!(
            rendered
                .answer_to(&query(1, "other.example.", false), 0, 512)
                .is_none()
        );
        assert!(
            rendered
                .answer_to(&query(1, "www.example.", false), 0, 20)
                .is_none()
        );
        assert!(rendered.answer_to(&[0; 5], 0, 512).is_none());
    }

    #[test]
    fn malformed_wire_is_not_rendered() {
        let mut wire = answer();
        wire.truncate(wire.len() - 3);
        assert!(ttl_offsets(&wire).is_none());
        let variant = rendered().variant;
        assert!(
            Rendered::new(
                0,
                variant,
                wire,
                ShapeReport::default(),
                ResponseCode::NoError,
                None
            )
            .is_none()
        );
    }
}
