//! Shaping a typical response: a CNAME, 8 AAAA of mixed classes and 8 A, with the filter
//! active (Teredo-only host) and inactive (dual-stack host). Each iteration reads the facts,
//! decides and shapes a fresh copy; the copy is made outside the timed part.
//!
//! `cargo bench -p pathwise-policy`

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use hickory_proto::op::{Message, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use pathwise_policy::{
    ARecord, Path, PathState, PolicyConfig, PolicyTable, QueryFacts, ResponseFacts, decide, shape,
};

/// 8 AAAA in an order the seed table changes: Teredo and 6to4 before native.
const AAAA_RECORDS: [&str; 8] = [
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "2002:c000:22d::1",
    "2a00:1450:4001:81c::200e",
    "2001:0:5ef5:79fd:0:59d:a0e5:ba1",
    "2a00:1450:4001:81c::200f",
    "2002:cb00:7101::1",
    "2606:4700::6810:84e5",
    "2606:4700::6810:85e5",
];

fn typical_response(qtype: RecordType, aaaa: &[&str]) -> Message {
    let owner = Name::from_ascii("www.example.com.").unwrap();
    let target = Name::from_ascii("www.example.com.cdn.example.net.").unwrap();
    let mut message = Message::response(0x4242, OpCode::Query);
    message.metadata.response_code = ResponseCode::NoError;
    message.add_query(Query::query(owner.clone(), qtype));
    message.add_answer(Record::from_rdata(
        owner,
        300,
        RData::CNAME(CNAME(target.clone())),
    ));
    for address in aaaa {
        let data = RData::AAAA(AAAA(address.parse().unwrap()));
        message.add_answer(Record::from_rdata(target.clone(), 60, data));
    }
    for i in 1..=8u8 {
        let data = RData::A(A([192, 0, 2, i].into()));
        message.add_additional(Record::from_rdata(target.clone(), 60, data));
    }
    message
}

fn bench_case(c: &mut Criterion, name: &str, message: &Message, state: PathState) {
    let table = PolicyTable::seed();
    let config = PolicyConfig::default();
    let query = QueryFacts {
        a_record: ARecord::Present,
        ..QueryFacts::default()
    };
    c.bench_function(name, |b| {
        b.iter_batched_ref(
            || message.clone(),
            |message| {
                let facts = ResponseFacts::of(message);
                let decision = decide(&config, black_box(state), &query, &facts);
                black_box(shape(message, decision, &table, config.filtered_ttl))
            },
            BatchSize::SmallInput,
        )
    });
}

fn shaping(c: &mut Criterion) {
    let teredo_only = PathState::EMPTY.with(Path::Ipv4).with(Path::Teredo);
    let dual_stack = PathState::EMPTY.with(Path::Ipv4).with(Path::Native6);
    let mixed = typical_response(RecordType::AAAA, &AAAA_RECORDS);
    let mut ordered_aaaa = AAAA_RECORDS;
    let table = PolicyTable::seed();
    ordered_aaaa.sort_by_key(|a| std::cmp::Reverse(table.precedence(a.parse().unwrap())));
    let ordered = typical_response(RecordType::AAAA, &ordered_aaaa);

    bench_case(c, "shape/filter_active", &mixed, teredo_only);
    bench_case(c, "shape/filter_inactive_reorder", &mixed, dual_stack);
    bench_case(c, "shape/filter_inactive_in_order", &ordered, dual_stack);
}

criterion_group!(benches, shaping);
criterion_main!(benches);
