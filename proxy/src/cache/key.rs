//! The cache key: what makes two queries ask the same question (docs/behaviour.md).

use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{DNSClass, LowerName, Name, RecordType};

/// (name case-folded, type, class, DO, CD): the identity of a cached answer.
///
/// DO and CD are part of the key because upstream answers them differently: DO adds RRSIGs,
/// CD lets through data that failed validation. Serving a CD answer to a validating client
/// would hand it bogus data, so they never share an entry.
///
/// The name is a hickory [`LowerName`]: built from the parsed query by one ASCII lower-casing
/// copy that stays inline (no allocation) for names up to 32 bytes of label data, and it
/// hashes and compares by label without re-encoding to wire form.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey {
    name: LowerName,
    qtype: u16,
    qclass: u16,
    dnssec_ok: bool,
    checking_disabled: bool,
}

impl CacheKey {
    /// A key from its parts; `name` is case-folded here.
    pub fn new(
        name: &Name,
        qtype: RecordType,
        qclass: DNSClass,
        dnssec_ok: bool,
        checking_disabled: bool,
    ) -> Self {
        Self {
            name: LowerName::new(name),
            qtype: qtype.into(),
            qclass: qclass.into(),
            dnssec_ok,
            checking_disabled,
        }
    }

    /// The key of a client's query: its one question, the DO bit of its OPT record and its CD
    /// flag. `None` unless the query has exactly one question: RFC 9619 says QDCOUNT is 1 in
    /// practice, and a multi-question query has no single answer to cache.
    pub fn from_query(query: &Message) -> Option<Self> {
        let [question] = query.queries.as_slice() else {
            return None;
        };
        let dnssec_ok = query
            .edns
            .as_ref()
            .is_some_and(|edns| edns.flags().dnssec_ok);
        Some(Self::new(
            question.name(),
            question.query_type(),
            question.query_class(),
            dnssec_ok,
            query.metadata.checking_disabled,
        ))
    }

    /// The same question for another type, same DO and CD: e.g. the A lookup that
    /// `policy.require_a` makes for an AAAA query.
    pub fn with_qtype(&self, qtype: RecordType) -> Self {
        Self {
            qtype: qtype.into(),
            ..self.clone()
        }
    }

    /// The case-folded query name.
    pub fn name(&self) -> &LowerName {
        &self.name
    }

    /// The query type.
    pub fn qtype(&self) -> RecordType {
        RecordType::from(self.qtype)
    }

    /// The query class.
    pub fn qclass(&self) -> DNSClass {
        DNSClass::from(self.qclass)
    }

    /// Whether the query set the EDNS DO bit.
    pub fn dnssec_ok(&self) -> bool {
        self.dnssec_ok
    }

    /// Whether the query set the CD flag.
    pub fn checking_disabled(&self) -> bool {
        self.checking_disabled
    }

    /// Whether `question` asks this key's name (case-insensitively), type and class: a
    /// response is cached under a key only when its question is the key's.
    pub fn matches(&self, question: &Query) -> bool {
        u16::from(question.query_type()) == self.qtype
            && u16::from(question.query_class()) == self.qclass
            && *self.name == *question.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Edns;

    fn query(name: &str, qtype: RecordType, dnssec_ok: bool, cd: bool) -> Message {
        let mut message = Message::query();
        message.add_query(Query::query(Name::from_ascii(name).expect("a name"), qtype));
        if dnssec_ok {
            let mut edns = Edns::new();
            edns.set_dnssec_ok(true);
            message.set_edns(edns);
        }
        message.metadata.checking_disabled = cd;
        message
    }

    #[test]
    fn key_folds_case() {
        let upper = CacheKey::from_query(&query("WWW.Example.", RecordType::A, false, false));
        let lower = CacheKey::from_query(&query("www.example.", RecordType::A, false, false));
        assert_eq!(upper, lower);
        assert_eq!(
            upper.expect("one question").name().to_string(),
            "www.example."
        );
    }

    #[test]
    fn key_separates_do_cd_and_type() {
        let plain = CacheKey::from_query(&query("a.example.", RecordType::A, false, false));
        let dnssec = CacheKey::from_query(&query("a.example.", RecordType::A, true, false));
        let cd = CacheKey::from_query(&query("a.example.", RecordType::A, false, true));
        let aaaa = CacheKey::from_query(&query("a.example.", RecordType::AAAA, false, false));
        assert_ne!(plain, dnssec);
        assert_ne!(plain, cd);
        assert_ne!(dnssec, cd);
        assert_ne!(plain, aaaa);
        assert_eq!(
            aaaa.expect("one question").with_qtype(RecordType::A),
            plain.expect("one")
        );
    }

    #[test]
    fn key_needs_exactly_one_question() {
        let mut none = query("a.example.", RecordType::A, false, false);
        none.queries.clear();
        assert_eq!(CacheKey::from_query(&none), None);
        let mut two = query("a.example.", RecordType::A, false, false);
        two.add_query(Query::query(
            Name::from_ascii("b.example.").expect("name"),
            RecordType::A,
        ));
        assert_eq!(CacheKey::from_query(&two), None);
    }

    #[test]
    fn key_matches_question_case_insensitively() {
        let key = CacheKey::from_query(&query("www.example.", RecordType::A, false, false))
            .expect("one question");
        let name = Name::from_ascii("WWW.EXAMPLE.").expect("a name");
        assert!(key.matches(&Query::query(name.clone(), RecordType::A)));
        assert!(!key.matches(&Query::query(name, RecordType::AAAA)));
        let other = Name::from_ascii("www.example.org.").expect("a name");
        assert!(!key.matches(&Query::query(other, RecordType::A)));
    }
}
