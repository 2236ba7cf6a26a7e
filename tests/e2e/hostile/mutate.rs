//! The hostile datagrams: real queries mutated as a fuzzer would (bit flips, truncation,
//! extension, header fields, random types and classes, wrong label lengths, compression
//! pointer loops, several at once), real queries as they are, and purely random bytes.

use pathwise_tests::Rng;
use pathwise_tests::wire::{Query, rtype};

/// How a datagram was made; the storm counts each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Valid,
    Random,
    BitFlips,
    Truncated,
    Extended,
    Header,
    TypeClass,
    LabelLength,
    PointerLoop,
    Several,
}

impl Kind {
    /// Every kind, in the order the figures are printed.
    pub(super) const ALL: [Kind; 10] = [
        Kind::Valid,
        Kind::Random,
        Kind::BitFlips,
        Kind::Truncated,
        Kind::Extended,
        Kind::Header,
        Kind::TypeClass,
        Kind::LabelLength,
        Kind::PointerLoop,
        Kind::Several,
    ];

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Kind::Valid => "valid",
            Kind::Random => "random bytes",
            Kind::BitFlips => "bit flips",
            Kind::Truncated => "truncated",
            Kind::Extended => "extended",
            Kind::Header => "header field",
            Kind::TypeClass => "type/class",
            Kind::LabelLength => "label length",
            Kind::PointerLoop => "pointer loop",
            Kind::Several => "several at once",
        }
    }

    /// Index into [`ALL`](Self::ALL).
    pub(super) fn index(self) -> usize {
        Self::ALL.iter().position(|k| *k == self).expect("listed")
    }
}

/// One real query to mutate: its bytes, and where its name's labels start and end.
struct Base {
    bytes: Vec<u8>,
    /// The offset of each label's length byte.
    labels: Vec<usize>,
    /// The offset just past the name (at its type).
    name_end: usize,
}

/// Makes the datagrams from a seed: the same seed, the same datagrams.
pub(super) struct Mutator {
    bases: Vec<Base>,
    rng: Rng,
}

impl Mutator {
    pub(super) fn new(seed: u64) -> Self {
        let names = [
            "dual.pathwise.test.",
            "v4only.pathwise.test.",
            "many.pathwise.test.",
            "svc.pathwise.test.",
            "missing.pathwise.test.",
            "pathwise.test.",
            "outside.example.",
        ];
        let types = [rtype::A, rtype::AAAA, 15, 16, 65, 255];
        let mut bases = Vec::new();
        for (i, name) in names.iter().enumerate() {
            for (j, &qtype) in types.iter().enumerate() {
                let mut query = Query::new(0, name, qtype);
                query.edns = match (i + j) % 3 {
                    0 => None,
                    1 => Some((1232, false)),
                    _ => Some((4096, true)),
                };
                bases.push(base(query.to_bytes()));
            }
        }
        Self {
            bases,
            rng: Rng::new(seed),
        }
    }

    /// The next datagram, and how it was made.
    pub(super) fn next(&mut self) -> (Kind, Vec<u8>) {
        let kind = match self.rng.below(20) {
            0 => Kind::Valid,
            1..=3 => Kind::Random,
            4 | 5 => Kind::BitFlips,
            6 | 7 => Kind::Truncated,
            8 | 9 => Kind::Extended,
            10 | 11 => Kind::Header,
            12 | 13 => Kind::TypeClass,
            14 | 15 => Kind::LabelLength,
            16 | 17 => Kind::PointerLoop,
            _ => Kind::Several,
        };
        let at = self.rng.below(self.bases.len());
        let mut packet = self.bases[at].bytes.clone();
        packet[..2].copy_from_slice(&self.rng.u16().to_be_bytes());
        match kind {
            Kind::Valid => {}
            Kind::Random => {
                let len = self.rng.below(600);
                packet = self.rng.bytes(len);
            }
            Kind::Several => {
                for _ in 0..2 + self.rng.below(3) {
                    let one = Kind::ALL[2 + self.rng.below(7)];
                    self.mutate(one, at, &mut packet);
                }
            }
            one => self.mutate(one, at, &mut packet),
        }
        (kind, packet)
    }

    /// Applies one mutation to `packet`, made from base `at` (and perhaps mutated already:
    /// every offset is checked against its length).
    fn mutate(&mut self, kind: Kind, at: usize, packet: &mut Vec<u8>) {
        let base = &self.bases[at];
        let rng = &mut self.rng;
        match kind {
            Kind::BitFlips => {
                for _ in 0..1 + rng.below(8) {
                    if !packet.is_empty() {
                        let bit = rng.below(packet.len() * 8);
                        packet[bit / 8] ^= 1 << (bit % 8);
                    }
                }
            }
            Kind::Truncated => packet.truncate(rng.below(packet.len().max(1))),
            Kind::Extended => {
                // Now and then a large one, up to several kilobytes.
                let len = if rng.below(100) == 0 {
                    1200 + rng.below(8000)
                } else {
                    1 + rng.below(200)
                };
                packet.extend(rng.bytes(len));
            }
            Kind::Header => {
                // ID, flags (QR, opcode, rcode...) or one of the four counts.
                let field = 2 * (1 + rng.below(5));
                if let Some(bytes) = packet.get_mut(field..field + 2) {
                    bytes.copy_from_slice(&rng.u16().to_be_bytes());
                }
            }
            Kind::TypeClass => {
                let end = base.name_end;
                if let Some(bytes) = packet.get_mut(end..end + 4) {
                    let random = rng.next_u64().to_be_bytes();
                    bytes.copy_from_slice(&random[..4]);
                }
            }
            Kind::LabelLength => {
                let label = base.labels[rng.below(base.labels.len())];
                if let Some(byte) = packet.get_mut(label) {
                    *byte = rng.byte();
                }
            }
            Kind::PointerLoop => pointer_loop(rng, base, packet),
            Kind::Valid | Kind::Random | Kind::Several => {}
        }
    }
}

/// Replaces the question's name with one that never ends: a pointer to itself, two pointers
/// to each other, or a label and a pointer back to it; or adds an answer record whose owner
/// points to itself.
fn pointer_loop(rng: &mut Rng, base: &Base, packet: &mut Vec<u8>) {
    let tail = base.bytes[base.name_end..].to_vec();
    let looped: &[u8] = match rng.below(4) {
        0 => &[0xc0, 12],
        1 => &[0xc0, 14, 0xc0, 12],
        2 => &[3, b'w', b'w', b'w', 0xc0, 12],
        _ => {
            // The question as it is, then one answer record (ANCOUNT 1, no OPT).
            if packet.len() < base.name_end + 4 {
                return; // cut by an earlier mutation: no question to keep
            }
            packet.truncate(base.name_end + 4);
            packet[6..12].copy_from_slice(&[0, 1, 0, 0, 0, 0]);
            let own = u16::try_from(packet.len()).expect("a short packet") | 0xc000;
            packet.extend(own.to_be_bytes());
            packet.extend([0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 66]);
            return;
        }
    };
    packet.truncate(12);
    packet.extend_from_slice(looped);
    packet.extend(tail);
}

/// The label offsets and name end of a query we built (uncompressed, one question).
fn base(bytes: Vec<u8>) -> Base {
    let mut labels = Vec::new();
    let mut at = 12;
    while bytes[at] != 0 {
        labels.push(at);
        at += 1 + usize::from(bytes[at]);
    }
    labels.push(at); // the root label's zero
    Base {
        bytes,
        labels,
        name_end: at + 1,
    }
}
