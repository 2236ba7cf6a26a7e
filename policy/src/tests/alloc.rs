//! The hot path allocates nothing when there is nothing to change.

use hickory_proto::rr::RecordType;

use super::messages::{address, cname, response};
use crate::decision::{ARecord, PolicyConfig, QueryFacts, ResponseFacts, decide};
use crate::paths::{Path, PathState};
use crate::shape::shape;
use crate::table::PolicyTable;

#[test]
fn deciding_and_shaping_an_ordered_answer_allocates_nothing() {
    let mut message = response("www.example.", RecordType::AAAA);
    message.add_answer(cname("www.example.", "web.example."));
    for a in [
        "2a00::1",
        "2a00::2",
        "2002:c000:22d::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    ] {
        message.add_answer(address("web.example.", a));
    }
    let table = PolicyTable::seed();
    let config = PolicyConfig::default();
    let query = QueryFacts {
        a_record: ARecord::Present,
        ..QueryFacts::default()
    };
    let dual_stack = PathState::EMPTY.with(Path::Native6).with(Path::Ipv4);
    let counted = allocation_counter::measure(|| {
        let facts = ResponseFacts::of(&message);
        let decision = decide(&config, dual_stack, &query, &facts);
        let report = shape(&mut message, decision, &table, config.filtered_ttl);
        assert!(!report.reordered && !report.removed_any());
    });
    assert_eq!(counted.count_total, 0, "{counted:?}");
}
