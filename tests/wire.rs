//! Just enough of the DNS wire format (RFC 1035 section 4, RFC 6891 section 6) for tests that dig
//! cannot drive: queries sent back-to-back from one socket as glibc does, and a fake upstream that
//! looks at what pathwise forwarded. Written here, not taken from hickory, so the tests do not
//! share a parser with the code under test.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Record types the tests use.
pub mod rtype {
    /// A
    pub const A: u16 = 1;
    /// AAAA
    pub const AAAA: u16 = 28;
    /// OPT (EDNS0)
    pub const OPT: u16 = 41;
}

/// A query to build: one question, class IN, RD set, and an OPT record when `edns` is set.
#[derive(Clone, Debug)]
pub struct Query {
    /// Message ID.
    pub id: u16,
    /// Absolute or relative name; a trailing dot is optional.
    pub name: String,
    /// Question type.
    pub qtype: u16,
    /// EDNS: UDP payload size and the DO bit; `None` for no OPT record.
    pub edns: Option<(u16, bool)>,
}

impl Query {
    /// A query for `name`/`qtype` with EDNS (1232 bytes, no DO).
    pub fn new(id: u16, name: &str, qtype: u16) -> Self {
        Self {
            id,
            name: name.to_owned(),
            qtype,
            edns: Some((1232, false)),
        }
    }

    /// The wire form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&[0x01, 0x00]); // RD
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&u16::from(self.edns.is_some()).to_be_bytes());
        encode_name(&self.name, &mut out);
        out.extend_from_slice(&self.qtype.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        if let Some((size, dnssec_ok)) = self.edns {
            out.push(0); // root
            out.extend_from_slice(&rtype::OPT.to_be_bytes());
            out.extend_from_slice(&size.to_be_bytes());
            out.extend_from_slice(&[0, 0, if dnssec_ok { 0x80 } else { 0 }, 0]);
            out.extend_from_slice(&0u16.to_be_bytes());
        }
        out
    }
}

fn encode_name(name: &str, out: &mut Vec<u8>) {
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        let len = u8::try_from(label.len()).expect("a label of at most 63 bytes");
        out.push(len);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

/// One resource record, its owner name decoded, its data raw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireRecord {
    /// Owner, lower-case, with a trailing dot.
    pub name: String,
    /// Type.
    pub rtype: u16,
    /// Class (for OPT: the UDP payload size).
    pub class: u16,
    /// TTL (for OPT: extended rcode, version, DO and Z).
    pub ttl: u32,
    /// RDATA as sent.
    pub data: Vec<u8>,
}

/// A parsed message.
#[derive(Clone, Debug)]
pub struct Message {
    /// Message ID.
    pub id: u16,
    /// The 16 flag bits of the header (QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode).
    pub flags: u16,
    /// Question name, lower-case, with a trailing dot.
    pub qname: String,
    /// Question type.
    pub qtype: u16,
    /// Answer section.
    pub answers: Vec<WireRecord>,
    /// Authority section.
    pub authorities: Vec<WireRecord>,
    /// Additional section, OPT included.
    pub additionals: Vec<WireRecord>,
}

impl Message {
    /// Parses a message with exactly one question; `Err` says what was wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let mut reader = Reader { bytes, at: 0 };
        let id = reader.u16()?;
        let flags = reader.u16()?;
        let counts = [reader.u16()?, reader.u16()?, reader.u16()?, reader.u16()?];
        if counts[0] != 1 {
            return Err(format!("{} questions", counts[0]));
        }
        let qname = reader.name()?;
        let qtype = reader.u16()?;
        let _qclass = reader.u16()?;
        let mut sections = [Vec::new(), Vec::new(), Vec::new()];
        for (section, &count) in sections.iter_mut().zip(&counts[1..]) {
            for _ in 0..count {
                section.push(reader.record()?);
            }
        }
        let [answers, authorities, additionals] = sections;
        Ok(Self {
            id,
            flags,
            qname,
            qtype,
            answers,
            authorities,
            additionals,
        })
    }

    /// The rcode (low 4 bits; no extended rcode).
    pub fn rcode(&self) -> u8 {
        (self.flags & 0x000f) as u8
    }

    /// The addresses of the A answer records, in order.
    pub fn a(&self) -> Vec<Ipv4Addr> {
        self.answers
            .iter()
            .filter(|r| r.rtype == rtype::A)
            .filter_map(|r| {
                <[u8; 4]>::try_from(r.data.as_slice())
                    .ok()
                    .map(Ipv4Addr::from)
            })
            .collect()
    }

    /// The addresses of the AAAA answer records, in order.
    pub fn aaaa(&self) -> Vec<Ipv6Addr> {
        self.answers
            .iter()
            .filter(|r| r.rtype == rtype::AAAA)
            .filter_map(|r| {
                <[u8; 16]>::try_from(r.data.as_slice())
                    .ok()
                    .map(Ipv6Addr::from)
            })
            .collect()
    }

    /// The OPT record, when there is one.
    pub fn opt(&self) -> Option<&WireRecord> {
        self.additionals.iter().find(|r| r.rtype == rtype::OPT)
    }

    /// The EDNS options of the OPT record, as (code, data), in order.
    pub fn edns_options(&self) -> Vec<(u16, Vec<u8>)> {
        let mut options = Vec::new();
        let Some(opt) = self.opt() else {
            return options;
        };
        let mut rest = opt.data.as_slice();
        while rest.len() >= 4 {
            let code = u16::from_be_bytes([rest[0], rest[1]]);
            let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
            let end = (4 + len).min(rest.len());
            options.push((code, rest[4..end].to_vec()));
            rest = &rest[end..];
        }
        options
    }
}

/// A response to `query`: same ID and question, QR, RD and RA set, NOERROR, and one A record
/// per address with this TTL. No OPT record.
pub fn a_response(query: &[u8], addresses: &[Ipv4Addr], ttl: u32) -> Vec<u8> {
    let records: Vec<(u16, Vec<u8>)> = addresses
        .iter()
        .map(|a| (rtype::A, a.octets().to_vec()))
        .collect();
    response(query, 0, &records, ttl)
}

/// A response to `query`: same ID and question, QR, RD and RA set plus `extra_flags` (e.g.
/// [`AD`]), and these (type, RDATA) records in the answer section, owned by the question's
/// name, with this TTL. No OPT record. The question is copied as sent, letter case included,
/// as real servers do (a forwarder that mixes the case, DNS 0x20, checks it on the answer).
pub fn response(query: &[u8], extra_flags: u16, records: &[(u16, Vec<u8>)], ttl: u32) -> Vec<u8> {
    let parsed = Message::parse(query).expect("a query to answer");
    let mut out = Vec::new();
    out.extend_from_slice(&parsed.id.to_be_bytes());
    out.extend_from_slice(&(0x8180 | extra_flags).to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    let count = u16::try_from(records.len()).expect("few records");
    out.extend_from_slice(&count.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(question_section(query).expect("a query to answer"));
    for (rtype, data) in records {
        out.extend_from_slice(&[0xc0, 12]); // the question's name
        out.extend_from_slice(&rtype.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&ttl.to_be_bytes());
        let len = u16::try_from(data.len()).expect("short RDATA");
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(data);
    }
    out
}

/// The question section of a message with one question, as sent (name, type, class).
pub fn question_section(message: &[u8]) -> Result<&[u8], String> {
    let mut reader = Reader {
        bytes: message,
        at: 12,
    };
    reader.name()?;
    reader.take(4)?;
    Ok(&message[12..reader.at])
}

/// `message` as one TCP frame: its length in two bytes, then itself (RFC 1035 section 4.2.2).
pub fn frame(message: &[u8]) -> Vec<u8> {
    let length = u16::try_from(message.len()).expect("a message of at most 65535 bytes");
    [&length.to_be_bytes()[..], message].concat()
}

/// The AD (authentic data) header flag.
pub const AD: u16 = 0x0020;
/// The CD (checking disabled) header flag.
pub const CD: u16 = 0x0010;
/// The RD (recursion desired) header flag.
pub const RD: u16 = 0x0100;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.at + n;
        let slice = self.bytes.get(self.at..end).ok_or_else(|| {
            format!(
                "message ends at {} reading {n} bytes at {}",
                self.bytes.len(),
                self.at
            )
        })?;
        self.at = end;
        Ok(slice)
    }

    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A name at the cursor, following compression pointers (at most 64 jumps).
    fn name(&mut self) -> Result<String, String> {
        let mut name = String::new();
        let mut at = self.at;
        let mut jumped = false;
        for _ in 0..64 {
            let len = *self.bytes.get(at).ok_or("name runs off the end")?;
            match len {
                0 => {
                    if !jumped {
                        self.at = at + 1;
                    }
                    if name.is_empty() {
                        name.push('.');
                    }
                    return Ok(name);
                }
                l if l & 0xc0 == 0xc0 => {
                    let low = *self.bytes.get(at + 1).ok_or("pointer runs off the end")?;
                    if !jumped {
                        self.at = at + 2;
                    }
                    jumped = true;
                    at = usize::from(u16::from_be_bytes([l & 0x3f, low]));
                }
                l => {
                    let start = at + 1;
                    let label = self
                        .bytes
                        .get(start..start + usize::from(l))
                        .ok_or("label runs off the end")?;
                    name.push_str(&String::from_utf8_lossy(label).to_ascii_lowercase());
                    name.push('.');
                    at = start + usize::from(l);
                }
            }
        }
        Err("a name with more than 64 labels or pointers".to_owned())
    }

    fn record(&mut self) -> Result<WireRecord, String> {
        let name = self.name()?;
        let rtype = self.u16()?;
        let class = self.u16()?;
        let ttl = self.u32()?;
        let len = usize::from(self.u16()?);
        let data = self.take(len)?.to_vec();
        Ok(WireRecord {
            name,
            rtype,
            class,
            ttl,
            data,
        })
    }
}
