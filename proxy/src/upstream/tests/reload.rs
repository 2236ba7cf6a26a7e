//! A reload keeps what pathwise learned of the servers that stay: health, response time,
//! 0x20 knowledge and cookies; a server new to the config starts afresh.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use super::udp_upstreams;
use crate::upstream::health::DOWN_AFTER;
use crate::upstream::{CASE_FOLDED, CASE_UNKNOWN};

#[test]
fn servers_that_stay_keep_their_state_and_new_ones_start_afresh() {
    let (kept, gone, new) = (
        SocketAddr::from(([127, 0, 0, 1], 5301)),
        SocketAddr::from(([127, 0, 0, 1], 5302)),
        SocketAddr::from(([127, 0, 0, 1], 5303)),
    );
    let old = udp_upstreams(&[gone, kept]);
    for _ in 0..DOWN_AFTER {
        old.health.failed(1, Instant::now());
    }
    old.selector.record(1, Duration::from_millis(40));
    old.case[1].store(CASE_FOLDED, Ordering::Relaxed);
    old.cookie_state[1].lock().unwrap().server = vec![7; 8];
    let old_client_cookie = old.cookie_state[1].lock().unwrap().client;

    let reloaded = udp_upstreams(&[kept, new]);
    reloaded.inherit(&old);

    assert!(!reloaded.is_up(0), "still marked down");
    assert_eq!(reloaded.selector.srtt(0), Duration::from_millis(40));
    assert_eq!(reloaded.case[0].load(Ordering::Relaxed), CASE_FOLDED);
    let cookies = reloaded.cookie_state[0].lock().unwrap();
    assert_eq!(
        (cookies.client, cookies.server.as_slice()),
        (old_client_cookie, &[7; 8][..])
    );

    assert!(reloaded.is_up(1), "a new server starts up");
    assert_eq!(reloaded.selector.srtt(1), Duration::ZERO);
    assert_eq!(reloaded.case[1].load(Ordering::Relaxed), CASE_UNKNOWN);
    assert!(reloaded.cookie_state[1].lock().unwrap().server.is_empty());
}
