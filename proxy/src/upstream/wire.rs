//! Just enough of the DNS wire format (RFC 1035 section 4.1) to forward a query as it is and to
//! match its answer, without decoding either message.
//!
//! Every function here reads bytes that came off the network: each bounds-checks every
//! access and returns `None` or `false` on anything malformed, never panics.

/// Length of the fixed DNS header.
pub(super) const HEADER_LEN: usize = 12;

/// Compression pointers followed per name before it is called malformed (a loop guard).
const MAX_POINTER_HOPS: u8 = 32;

/// RR type of the EDNS(0) pseudo-record (RFC 6891 section 6.1.2).
const TYPE_OPT: u16 = 41;

// RCODEs 1, 2, 4 and 5 (RFC 1035 section 4.1.1).
const RCODE_FORMERR: u8 = 1;
const RCODE_SERVFAIL: u8 = 2;
const RCODE_NOTIMP: u8 = 4;
const RCODE_REFUSED: u8 = 5;

/// The EDNS option code of DNS cookies (RFC 7873 section 4).
const OPTION_COOKIE: u16 = 10;

/// BADCOOKIE (23, RFC 7873 section 8): header RCODE 7 under extended RCODE 1 in the OPT record.
const BADCOOKIE: (u8, u8) = (7, 1);

/// Writes `id` into the header of `message` (which must hold a header).
pub(super) fn set_id(message: &mut [u8], id: u16) {
    if let Some(field) = message.get_mut(0..2) {
        field.copy_from_slice(&id.to_be_bytes());
    }
}

/// The ID of a message, if it has a header.
pub(super) fn id(message: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*message.first()?, *message.get(1)?]))
}

/// Whether the TC bit is set.
pub(super) fn is_truncated(message: &[u8]) -> bool {
    message.get(2).is_some_and(|flags| flags & 0x02 != 0)
}

/// Whether the RCODE is SERVFAIL.
pub(super) fn is_servfail(message: &[u8]) -> bool {
    rcode(message) == Some(RCODE_SERVFAIL)
}

/// Whether the RCODE is REFUSED.
pub(super) fn is_refused(message: &[u8]) -> bool {
    rcode(message) == Some(RCODE_REFUSED)
}

/// Whether the message has no question (QDCOUNT 0).
pub(super) fn is_questionless(message: &[u8]) -> bool {
    qdcount(message) == Some(0)
}

/// Whether `answer` is a refusal sent without the question: FORMERR, NOTIMP or REFUSED with
/// QDCOUNT 0 and no records but an OPT. Servers answer so a query they could not or would not
/// read (NSD and Knot, e.g., for a class or an opcode they do not serve); waiting on for an
/// answer with the question would only end in a timeout. It is never passed on: the next
/// server is asked.
fn is_questionless_refusal(answer: &[u8]) -> bool {
    let count = |at: usize| u16_at(answer, at);
    is_questionless(answer)
        && matches!(
            rcode(answer),
            Some(RCODE_FORMERR | RCODE_NOTIMP | RCODE_REFUSED)
        )
        && count(6) == Some(0)
        && count(8) == Some(0)
        && match count(10) {
            Some(0) => true,
            Some(1) => find_opt(answer).is_some(),
            _ => false,
        }
}

/// The header's 4-bit RCODE.
fn rcode(message: &[u8]) -> Option<u8> {
    message.get(3).map(|flags| flags & 0x0f)
}

/// Whether `answer` answers `query`: a response (QR set) with the query's ID and the same
/// question section, or a refusal without a question ([`is_questionless_refusal`]). Names
/// compare case-insensitively (RFC 4343), so a server that echoes a 0x20-mixed name in
/// another case still matches; types and classes compare exactly.
pub(super) fn answers(query: &[u8], answer: &[u8]) -> bool {
    let is_response = answer.get(2).is_some_and(|flags| flags & 0x80 != 0);
    is_response
        && id(answer).is_some()
        && id(answer) == id(query)
        && (same_question(query, answer) || is_questionless_refusal(answer))
}

/// Whether every question and record the header counts is there, whole, with nothing after:
/// a message cut short (or padded) is not an answer, whatever its ID and question say.
pub(super) fn is_complete(message: &[u8]) -> bool {
    let count = |at: usize| u16_at(message, at).map(usize::from);
    let (Some(questions), Some(answers), Some(authority), Some(additional)) =
        (count(4), count(6), count(8), count(10))
    else {
        return false;
    };
    let mut pos = HEADER_LEN;
    for _ in 0..questions {
        match name_end(message, pos) {
            Some(end) if end + 4 <= message.len() => pos = end + 4,
            _ => return false,
        }
    }
    for _ in 0..answers + authority + additional {
        match record_end(message, pos) {
            Some(end) => pos = end,
            None => return false,
        }
    }
    pos == message.len()
}

/// Sets the case of each ASCII letter of the first question's name from one bit of `bits`
/// (DNS 0x20, draft-vixie-dnsext-dns0x20): bit set, upper case. Names longer than 64 letters
/// reuse the bits. Does nothing to a message without a readable question.
pub(super) fn randomize_case(message: &mut [u8], bits: u64) {
    let Some(range) = question_name(message) else {
        return;
    };
    let mut letter = 0u32;
    let mut pos = range.start;
    while pos < range.end {
        let len = usize::from(message[pos]);
        for byte in &mut message[pos + 1..pos + 1 + len] {
            if byte.is_ascii_alphabetic() {
                let upper = bits.rotate_right(letter) & 1 == 1;
                *byte = if upper {
                    byte.to_ascii_uppercase()
                } else {
                    byte.to_ascii_lowercase()
                };
                letter += 1;
            }
        }
        pos += 1 + len;
    }
}

/// Whether the first question names of `a` and `b` are equal byte for byte (case included).
pub(super) fn same_question_case(a: &[u8], b: &[u8]) -> bool {
    match (question_name(a), question_name(b)) {
        (Some(range_a), Some(range_b)) => a[range_a] == b[range_b],
        _ => false,
    }
}

/// Writes the first question name of `from` over that of `to` when they are the same name in
/// any case (and so the same length): the answer then shows the case the client asked in,
/// also in its records that point at the question (RFC 1035 section 4.1.4 compression).
pub(super) fn copy_question_case(from: &[u8], to: &mut [u8]) {
    let (Some(range_from), Some(range_to)) = (question_name(from), question_name(to)) else {
        return;
    };
    let (name_from, name_to) = (&from[range_from], &mut to[range_to]);
    if name_from.eq_ignore_ascii_case(name_to) {
        name_to.copy_from_slice(name_from);
    }
}

/// The bytes of the first question's name, when it is written out (no compression pointer:
/// the first name of a message has nothing before it to point at).
fn question_name(message: &[u8]) -> Option<std::ops::Range<usize>> {
    if qdcount(message)? == 0 {
        return None;
    }
    let mut pos = HEADER_LEN;
    loop {
        let len = *message.get(pos)?;
        match len {
            0 => return Some(HEADER_LEN..pos + 1),
            1..=63 => {
                pos += 1 + usize::from(len);
                message.get(pos)?;
            }
            _ => return None,
        }
    }
}

/// Whether two messages carry the same question section.
pub(super) fn same_question(a: &[u8], b: &[u8]) -> bool {
    let (Some(count), Some(count_b)) = (qdcount(a), qdcount(b)) else {
        return false;
    };
    if count != count_b {
        return false;
    }
    let (mut pos_a, mut pos_b) = (HEADER_LEN, HEADER_LEN);
    for _ in 0..count {
        if !names_equal(a, pos_a, b, pos_b) {
            return false;
        }
        let (Some(end_a), Some(end_b)) = (name_end(a, pos_a), name_end(b, pos_b)) else {
            return false;
        };
        let (Some(tail_a), Some(tail_b)) = (a.get(end_a..end_a + 4), b.get(end_b..end_b + 4))
        else {
            return false;
        };
        if tail_a != tail_b {
            return false;
        }
        pos_a = end_a + 4;
        pos_b = end_b + 4;
    }
    true
}

/// The UDP payload size the query advertises in its OPT record (RFC 6891 section 6.1.2), if any.
pub(super) fn edns_udp_size(query: &[u8]) -> Option<u16> {
    let opt = find_opt(query)?;
    Some(u16::from_be_bytes([
        *query.get(opt.fixed + 2)?,
        *query.get(opt.fixed + 3)?,
    ]))
}

/// `message` with its OPT record's COOKIE option (RFC 7873 section 4) set to `cookie`, any other
/// COOKIE option removed, and every other option kept in order; `None` when the message has
/// no OPT record (one is not added: the query goes out as the client sent it) or is malformed.
pub(super) fn with_cookie(message: &[u8], cookie: &[u8]) -> Option<Vec<u8>> {
    let opt = find_opt(message)?;
    let rdata_start = opt.fixed + 10;
    let mut rdata = Vec::with_capacity(opt.end - rdata_start + 4 + cookie.len());
    for (code, data) in options(&message[rdata_start..opt.end])? {
        if code != OPTION_COOKIE {
            rdata.extend_from_slice(&code.to_be_bytes());
            rdata.extend_from_slice(&u16::try_from(data.len()).ok()?.to_be_bytes());
            rdata.extend_from_slice(data);
        }
    }
    rdata.extend_from_slice(&OPTION_COOKIE.to_be_bytes());
    rdata.extend_from_slice(&u16::try_from(cookie.len()).ok()?.to_be_bytes());
    rdata.extend_from_slice(cookie);
    let mut out = Vec::with_capacity(message.len() + rdata.len());
    out.extend_from_slice(&message[..opt.fixed + 8]);
    out.extend_from_slice(&u16::try_from(rdata.len()).ok()?.to_be_bytes());
    out.extend_from_slice(&rdata);
    out.extend_from_slice(&message[opt.end..]);
    u16::try_from(out.len()).ok()?;
    Some(out)
}

/// The data of the COOKIE option of the message's OPT record, if it has one.
pub(super) fn cookie(message: &[u8]) -> Option<&[u8]> {
    let opt = find_opt(message)?;
    options(&message[opt.fixed + 10..opt.end])?
        .into_iter()
        .find_map(|(code, data)| (code == OPTION_COOKIE).then_some(data))
}

/// Whether the extended RCODE is BADCOOKIE: the server wants its fresh server cookie back.
pub(super) fn is_badcookie(message: &[u8]) -> bool {
    let Some(opt) = find_opt(message) else {
        return false;
    };
    let low = message.get(3).map(|flags| flags & 0x0f);
    let high = message.get(opt.fixed + 4).copied();
    (low, high) == (Some(BADCOOKIE.0), Some(BADCOOKIE.1))
}

/// Where the OPT record of a message sits: `fixed` is the offset of its TYPE field (its
/// name, the root, is one byte before), `end` the offset just past its RDATA.
struct Opt {
    fixed: usize,
    end: usize,
}

/// The first OPT record of the additional section.
fn find_opt(message: &[u8]) -> Option<Opt> {
    let mut pos = HEADER_LEN;
    for _ in 0..qdcount(message)? {
        pos = name_end(message, pos)? + 4;
    }
    let count = |at: usize| u16_at(message, at);
    let (answers, authorities, additionals) = (count(6)?, count(8)?, count(10)?);
    for _ in 0..u32::from(answers) + u32::from(authorities) {
        pos = record_end(message, pos)?;
    }
    for _ in 0..additionals {
        let fixed = name_end(message, pos)?;
        let end = record_end(message, pos)?;
        if count(fixed)? == TYPE_OPT {
            return Some(Opt { fixed, end });
        }
        pos = end;
    }
    None
}

/// The (code, data) options of an OPT record's RDATA (RFC 6891 section 6.1.2); `None` if one runs
/// past the end.
fn options(mut rdata: &[u8]) -> Option<Vec<(u16, &[u8])>> {
    let mut options = Vec::new();
    while !rdata.is_empty() {
        let code = u16::from_be_bytes([*rdata.first()?, *rdata.get(1)?]);
        let len = usize::from(u16::from_be_bytes([*rdata.get(2)?, *rdata.get(3)?]));
        options.push((code, rdata.get(4..4 + len)?));
        rdata = &rdata[4 + len..];
    }
    Some(options)
}

/// The big-endian 16-bit number at `at` (a header count, a record's type), if it is there.
fn u16_at(message: &[u8], at: usize) -> Option<u16> {
    let bytes = message.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([bytes[0], bytes[1]]))
}

/// QDCOUNT, if the message has a header.
fn qdcount(message: &[u8]) -> Option<u16> {
    if message.len() < HEADER_LEN {
        return None;
    }
    Some(u16::from_be_bytes([message[4], message[5]]))
}

/// The offset just past the resource record that starts at `pos`.
fn record_end(message: &[u8], pos: usize) -> Option<usize> {
    let fixed = name_end(message, pos)?;
    let rdlength = u16::from_be_bytes([*message.get(fixed + 8)?, *message.get(fixed + 9)?]);
    let end = fixed + 10 + usize::from(rdlength);
    (end <= message.len()).then_some(end)
}

/// The offset just past the name that starts at `pos`, as it sits in the message (a
/// compression pointer ends it).
fn name_end(message: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *message.get(pos)?;
        match len & 0xc0 {
            0x00 if len == 0 => return Some(pos + 1),
            0x00 => pos += 1 + usize::from(len),
            0xc0 => return message.get(pos + 1).map(|_| pos + 2),
            _ => return None, // 0x40 and 0x80 are reserved label types
        }
    }
}

/// The next label of a name (empty for the root), following compression pointers.
fn next_label<'a>(message: &'a [u8], pos: &mut usize, hops: &mut u8) -> Option<&'a [u8]> {
    loop {
        let len = *message.get(*pos)?;
        match len & 0xc0 {
            0x00 => {
                let start = *pos + 1;
                let label = message.get(start..start + usize::from(len))?;
                *pos = start + usize::from(len);
                return Some(label);
            }
            0xc0 => {
                *hops += 1;
                if *hops > MAX_POINTER_HOPS {
                    return None;
                }
                let low = *message.get(*pos + 1)?;
                *pos = (usize::from(len & 0x3f) << 8) | usize::from(low);
            }
            _ => return None,
        }
    }
}

/// Whether the names at `pos_a` in `a` and `pos_b` in `b` are equal, ignoring ASCII case.
fn names_equal(a: &[u8], mut pos_a: usize, b: &[u8], mut pos_b: usize) -> bool {
    let (mut hops_a, mut hops_b) = (0, 0);
    loop {
        let (Some(label_a), Some(label_b)) = (
            next_label(a, &mut pos_a, &mut hops_a),
            next_label(b, &mut pos_b, &mut hops_b),
        ) else {
            return false;
        };
        if !label_a.eq_ignore_ascii_case(label_b) {
            return false;
        }
        if label_a.is_empty() {
            return true;
        }
    }
}
