//! Response shaping (docs/behaviour.md): carries out an [`AaaaDecision`] on a response and orders
//! its address records, reporting what it did so the proxy can record metrics.
//!
//! Shaping runs on the copy sent to one client, never on what is cached. When there is
//! nothing to change it reads the message and allocates nothing.

use std::net::{IpAddr, Ipv6Addr};

use hickory_proto::op::Message;
use hickory_proto::rr::rdata::svcb::{SVCB, SvcParamKey, SvcParamValue};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::class::teredo_parts;
use crate::decision::AaaaDecision;
use crate::table::PolicyTable;

/// What shaping did to one response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShapeReport {
    /// AAAA records removed from the answer section.
    pub removed_answer: usize,
    /// AAAA records removed from the additional section.
    pub removed_additional: usize,
    /// `ipv6hint` parameters removed from HTTPS/SVCB records or emptied of some addresses.
    pub removed_ipv6hint: usize,
    /// RRSIGs removed because the AAAA RRset they covered was edited.
    pub removed_rrsig: usize,
    /// The answer of an AAAA query lost all its AAAA records: it is now NODATA. The TTLs of the
    /// SOA that gives its negative TTL, if upstream sent one, are capped at `filtered_ttl`
    /// (RFC 2308 section 5); without an SOA the NODATA is not cached downstream at all. NS records
    /// in the authority section are removed, so that the answer does not read as a referral.
    pub nodata: bool,
    /// At least one address RRset was put in table order.
    pub reordered: bool,
}

impl ShapeReport {
    /// Whether any record or parameter was removed: the data is then no longer what was signed.
    pub const fn removed_any(&self) -> bool {
        self.removed_answer + self.removed_additional + self.removed_ipv6hint > 0
    }
}

/// Applies `decision` to `message`, then orders its address records by `table`.
///
/// A removal clears the AD bit (RFC 4035 section 3.2.3: the data is no longer what was validated);
/// reordering does not, since RRset order is not covered by signatures (RFC 4034 section 6.3).
pub fn shape(
    message: &mut Message,
    decision: AaaaDecision,
    table: &PolicyTable,
    filtered_ttl: u32,
) -> ShapeReport {
    let mut report = ShapeReport::default();
    if let AaaaDecision::Remove { keep_teredo, .. } = decision {
        remove_ipv6_data(message, keep_teredo, filtered_ttl, &mut report);
        if report.removed_any() {
            message.metadata.authentic_data = false;
        }
    }
    report.reordered = order_addresses(&mut message.answers, table)
        | order_addresses(&mut message.additionals, table);
    report
}

/// Removes AAAA data as the filter says (docs/behaviour.md), for a client that did not ask for it
/// explicitly.
fn remove_ipv6_data(
    message: &mut Message,
    keep_teredo: bool,
    filtered_ttl: u32,
    report: &mut ShapeReport,
) {
    // `policy.keep_teredo_destinations`: a Teredo destination needs no relay (the seed).
    let removable = |address: Ipv6Addr| !(keep_teredo && teredo_parts(address).is_some());
    let aaaa_query = message
        .queries
        .first()
        .is_some_and(|q| q.query_type == RecordType::AAAA);

    // Answer: every AAAA record of an AAAA query, with its RRSIG; CNAME and DNAME records stay.
    if aaaa_query {
        let (aaaa, rrsig) = remove_aaaa(&mut message.answers, |_, _, address| removable(address));
        report.removed_answer = aaaa;
        report.removed_rrsig += rrsig;
        let left = message
            .answers
            .iter()
            .any(|r| r.record_type() == RecordType::AAAA);
        if aaaa > 0 && !left {
            report.nodata = true;
            cap_negative_ttl(&mut message.authorities, filtered_ttl);
            // An empty NOERROR answer with NS records and no SOA reads as a referral
            // (RFC 2308 section 2.2.1); BIND's filter-aaaa drops them for the same reason.
            message.authorities.retain(|r| {
                r.record_type() != RecordType::NS && rrsig_type_covered(r) != Some(RecordType::NS)
            });
        }
    }

    // Additional: AAAA records of owners that have an A record there too (as BIND does).
    let (aaaa, rrsig) = remove_aaaa(&mut message.additionals, |section, owner, address| {
        removable(address)
            && section
                .iter()
                .any(|r| r.record_type() == RecordType::A && r.name == *owner)
    });
    report.removed_additional = aaaa;
    report.removed_rrsig += rrsig;

    // HTTPS/SVCB: clients may connect to hints when no AAAA is available (RFC 9460 section 7.3).
    for record in message
        .answers
        .iter_mut()
        .chain(message.additionals.iter_mut())
    {
        let svcb = match &mut record.data {
            RData::HTTPS(https) => &mut https.0,
            RData::SVCB(svcb) => svcb,
            _ => continue,
        };
        report.removed_ipv6hint += usize::from(remove_ipv6hint(svcb, removable));
    }
}

/// Removes from `section` the AAAA records `removable(section, owner, address)` picks, and the
/// RRSIGs covering AAAA RRsets that lose a record. Returns (AAAA removed, RRSIGs removed).
fn remove_aaaa(
    section: &mut Vec<Record>,
    removable: impl Fn(&[Record], &Name, Ipv6Addr) -> bool,
) -> (usize, usize) {
    let picks = |section: &[Record], record: &Record| match &record.data {
        RData::AAAA(aaaa) => removable(section, &record.name, aaaa.0),
        _ => false,
    };
    // Signatures first, while every AAAA record is still there to be looked at.
    let mut rrsig = 0;
    for i in (0..section.len()).rev() {
        let record = &section[i];
        let edited_rrset = rrsig_type_covered(record) == Some(RecordType::AAAA)
            && section
                .iter()
                .any(|r| r.name == record.name && picks(section, r));
        if edited_rrset {
            section.remove(i);
            rrsig += 1;
        }
    }
    let mut aaaa = 0;
    for i in (0..section.len()).rev() {
        if picks(section, &section[i]) {
            section.remove(i);
            aaaa += 1;
        }
    }
    (aaaa, rrsig)
}

/// The type an RRSIG covers: the first field of its RDATA (RFC 4034 section 3.1).
fn rrsig_type_covered(record: &Record) -> Option<RecordType> {
    if record.record_type() != RecordType::RRSIG {
        return None;
    }
    let bytes = match &record.data {
        // Without hickory's DNSSEC features, RRSIGs are kept as raw RDATA; read it in place.
        RData::Unknown { rdata, .. } => return covered(&rdata.anything),
        // With them, the record is typed; its wire form starts with the same field.
        data => hickory_proto::serialize::binary::BinEncodable::to_bytes(data).ok()?,
    };
    covered(&bytes)
}

fn covered(rdata: &[u8]) -> Option<RecordType> {
    let code = u16::from_be_bytes([*rdata.first()?, *rdata.get(1)?]);
    Some(RecordType::from(code))
}

/// Caps the TTL and MINIMUM of the SOA that gives a NODATA answer its negative TTL
/// (RFC 2308 section 5: the negative TTL is the lesser of the two).
fn cap_negative_ttl(authorities: &mut [Record], cap: u32) {
    for record in authorities {
        if let RData::SOA(soa) = &mut record.data {
            record.ttl = record.ttl.min(cap);
            soa.minimum = soa.minimum.min(cap);
        }
    }
}

/// Removes the addresses `removable` picks from the `ipv6hint` of one record, dropping the
/// parameter (and its entry in `mandatory`) when none is left. Returns whether it edited.
fn remove_ipv6hint(svcb: &mut SVCB, removable: impl Fn(Ipv6Addr) -> bool) -> bool {
    let mut edited = false;
    let mut dropped = false;
    svcb.svc_params.retain_mut(|(_, value)| {
        let SvcParamValue::Ipv6Hint(hint) = value else {
            return true;
        };
        let before = hint.0.len();
        hint.0.retain(|aaaa| !removable(aaaa.0));
        edited |= hint.0.len() != before;
        dropped = hint.0.is_empty();
        !dropped
    });
    if dropped {
        // RFC 9460 section 8: a key listed in `mandatory` must be present, or the record is
        // malformed.
        svcb.svc_params.retain_mut(|(_, value)| {
            let SvcParamValue::Mandatory(mandatory) = value else {
                return true;
            };
            mandatory.0.retain(|key| *key != SvcParamKey::Ipv6Hint);
            !mandatory.0.is_empty()
        });
    }
    edited
}

/// Orders the records of every A and AAAA RRset in `section` by the table's precedence, highest
/// first, stably (docs/behaviour.md); the positions the RRset occupies stay the same. Returns
/// whether any record moved. Allocates only when something has to move.
pub fn order_addresses(section: &mut [Record], table: &PolicyTable) -> bool {
    if section_in_order(section, table) {
        return false;
    }
    let mut grouped = vec![false; section.len()];
    let mut rrset: Vec<(usize, u8)> = Vec::new();
    let mut moved = false;
    for first in 0..section.len() {
        if grouped[first] || address_of(&section[first]).is_none() {
            continue;
        }
        rrset.clear();
        for i in first..section.len() {
            if !grouped[i] && same_rrset(&section[first], &section[i]) {
                grouped[i] = true;
                let precedence = address_of(&section[i]).map_or(0, |a| table.precedence(a));
                rrset.push((i, precedence));
            }
        }
        moved |= reorder_rrset(section, &rrset);
    }
    moved
}

/// The cheap check that makes the common case free: if, for A and for AAAA separately, the
/// precedences never rise along the section, every RRset in it is in order already.
fn section_in_order(section: &[Record], table: &PolicyTable) -> bool {
    let (mut last_a, mut last_aaaa) = (u8::MAX, u8::MAX);
    for record in section {
        let (last, address) = match &record.data {
            RData::A(a) => (&mut last_a, IpAddr::V4(a.0)),
            RData::AAAA(aaaa) => (&mut last_aaaa, IpAddr::V6(aaaa.0)),
            _ => continue,
        };
        let precedence = table.precedence(address);
        if precedence > *last {
            return false;
        }
        *last = precedence;
    }
    true
}

/// Puts one RRset, given as (position, precedence) pairs in section order, into stable
/// descending precedence order within its own positions. Returns whether anything moved.
fn reorder_rrset(section: &mut [Record], rrset: &[(usize, u8)]) -> bool {
    // sources[j]: which member goes to the j-th position of the RRset.
    let mut sources: Vec<usize> = (0..rrset.len()).collect();
    sources.sort_by_key(|&member| std::cmp::Reverse(rrset[member].1));
    if sources.iter().enumerate().all(|(j, &member)| j == member) {
        return false;
    }
    // Follow each cycle of the permutation with swaps: every record moves once.
    let mut placed = vec![false; rrset.len()];
    for start in 0..rrset.len() {
        let mut current = start;
        while !placed[current] {
            placed[current] = true;
            let next = sources[current];
            if next == start {
                break;
            }
            section.swap(rrset[current].0, rrset[next].0);
            current = next;
        }
    }
    true
}

fn address_of(record: &Record) -> Option<IpAddr> {
    match &record.data {
        RData::A(a) => Some(IpAddr::V4(a.0)),
        RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
        _ => None,
    }
}

/// Same owner (case-insensitively), type and class (RFC 2181 section 5).
fn same_rrset(a: &Record, b: &Record) -> bool {
    a.record_type() == b.record_type() && a.dns_class == b.dns_class && a.name == b.name
}
