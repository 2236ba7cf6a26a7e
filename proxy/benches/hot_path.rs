//! The hot path of a cache hit, in process: decoding a query, a cache lookup, and the whole
//! synchronous `Pipeline::receive` (ladder, cache, explicit-ask tracking, decision, the entry's
//! rendering patched for the client, metrics) for an A query and for the AAAA query that
//! follows it on a Teredo-only host (filtered). No sockets: the load harness (`tests/load/`)
//! measures those; this shows regressions of the code between them.
//!
//! `cargo bench -p pathwise`

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use hickory_proto::op::{Message, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use pathwise::cache::{CacheKey, Lookup};
use pathwise::config::{Config, PathOverride, UpstreamSpec};
use pathwise::metrics::Metrics;
use pathwise::server::context::Transport;
use pathwise::server::pipeline::{Pipeline, Step};
use pathwise::server::state::{Settings, Shared};
use pathwise_policy::{Path, PathState};
use tokio::sync::watch;
use tokio::time::Instant;

const NAME: &str = "www.example.com.";

fn query(id: u16, qtype: RecordType) -> Message {
    let mut query = Message::query();
    query.metadata.id = id;
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(Name::from_ascii(NAME).unwrap(), qtype));
    query
}

/// What upstream said: two A records, or a Teredo, a 6to4 and a native AAAA in that order.
fn response(qtype: RecordType) -> Message {
    let owner = Name::from_ascii(NAME).unwrap();
    let mut message = Message::response(0, OpCode::Query);
    message.metadata.response_code = ResponseCode::NoError;
    message.metadata.recursion_desired = true;
    message.metadata.recursion_available = true;
    message.add_query(Query::query(owner.clone(), qtype));
    let data: Vec<RData> = if qtype == RecordType::A {
        vec![
            RData::A(A::new(192, 0, 2, 1)),
            RData::A(A::new(198, 51, 100, 1)),
        ]
    } else {
        [
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2002:c000:22d::1",
            "2a00:1450:4001:81c::200e",
        ]
        .iter()
        .map(|a| RData::AAAA(AAAA(a.parse().unwrap())))
        .collect()
    };
    for rdata in data {
        message.add_answer(Record::from_rdata(owner.clone(), 300, rdata));
    }
    message
}

/// A pipeline on a Teredo-only host whose cache holds A and AAAA of [`NAME`]. Its upstream is
/// never asked: every query here is a hit.
fn pipeline() -> (Pipeline, Arc<Shared>, watch::Sender<PathState>) {
    let mut config = Config::default();
    config.upstream.servers = vec![UpstreamSpec::Udp("127.0.0.1:9".parse().unwrap())];
    config.paths.path_override = PathOverride::Auto;
    let settings = Settings::new(config).unwrap();
    let teredo: PathState = [Path::Teredo, Path::Ipv4].into_iter().collect();
    let (paths, paths_rx) = watch::channel(teredo);
    let shared = Arc::new(Shared::new(settings, paths_rx, Arc::new(Metrics::new())));
    for qtype in [RecordType::A, RecordType::AAAA] {
        let key = CacheKey::from_query(&query(0, qtype)).unwrap();
        shared.cache.insert(key, &response(qtype), Instant::now());
    }
    (Pipeline::new(Arc::clone(&shared)), shared, paths)
}

fn benches(c: &mut Criterion) {
    let (pipeline, shared, _paths) = pipeline();
    let client: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let a = query(0x1234, RecordType::A).to_vec().unwrap();
    let aaaa = query(0x1235, RecordType::AAAA).to_vec().unwrap();

    c.bench_function("decode_query", |b| {
        b.iter(|| Message::from_vec(black_box(&a)).unwrap())
    });
    let key = CacheKey::from_query(&query(0, RecordType::A)).unwrap();
    c.bench_function("cache_get_hit", |b| {
        b.iter(|| match shared.cache.get(black_box(&key), Instant::now()) {
            Lookup::Hit { .. } => {}
            _ => panic!("a hit"),
        })
    });
    c.bench_function("receive_hit_a", |b| {
        b.iter(
            || match pipeline.receive(black_box(&a), client, Transport::Udp) {
                Step::Answer(wire) => wire,
                _ => panic!("answered from cache"),
            },
        )
    });
    c.bench_function("receive_hit_aaaa_filtered", |b| {
        b.iter(|| {
            // getaddrinfo's pair: the A, then the AAAA, whose AAAA records are removed.
            let _ = pipeline.receive(&a, client, Transport::Udp);
            match pipeline.receive(black_box(&aaaa), client, Transport::Udp) {
                Step::Answer(wire) => wire,
                _ => panic!("answered from cache"),
            }
        })
    });
}

criterion_group!(hot_path, benches);
criterion_main!(hot_path);
