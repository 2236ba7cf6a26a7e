//! The rate a client may query at: a token bucket per client address and transport
//! (`listen.client_rate`), counted in `pathwise_limited_total` when hit. (The other bound on
//! what clients can make pathwise hold, `upstream.max_outstanding`, is kept by
//! [`super::resolving`].)
//!
//! Fixed in size whatever the clients send: the buckets are a table hashed by client (clients
//! that collide share one, as in BIND's and Knot's response rate limiting).

use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use tokio::time::Instant;

use super::context::Transport;

/// Buckets per transport. 16384 × 16 bytes × 2 = 512 KiB, allocated only when a rate is set.
const BUCKETS: usize = 16_384;

/// Locks over the bucket table, so that listener threads rarely meet on one.
const LOCKS: usize = 64;

/// The per-client token buckets of both transports.
pub(crate) struct ClientRate {
    /// Tokens added per second.
    rate: f64,
    /// The most tokens a bucket holds.
    burst: f64,
    hasher: foldhash::fast::RandomState,
    /// `LOCKS` stripes, each holding `BUCKETS * 2 / LOCKS` buckets.
    stripes: Box<[Mutex<Box<[Bucket]>>]>,
    epoch: Instant,
}

#[derive(Clone, Copy, Default)]
struct Bucket {
    tokens: f64,
    /// Seconds since the epoch of the last refill; 0 is never used.
    last: f64,
}

impl ClientRate {
    /// Buckets for `rate` queries a second with bursts of `burst` (0: `rate`); `None` when
    /// `rate` is 0 (no limit).
    pub(crate) fn new(rate: u32, burst: u32) -> Option<Self> {
        if rate == 0 {
            return None;
        }
        let burst = if burst == 0 { rate } else { burst };
        let per_stripe = BUCKETS * 2 / LOCKS;
        Some(Self {
            rate: f64::from(rate),
            burst: f64::from(burst),
            hasher: foldhash::fast::RandomState::default(),
            stripes: (0..LOCKS)
                .map(|_| Mutex::new(vec![Bucket::default(); per_stripe].into_boxed_slice()))
                .collect(),
            epoch: Instant::now(),
        })
    }

    /// Takes a token for one query from `client` over `transport` at `now`; false when its
    /// bucket is empty (over the limit).
    pub(crate) fn admit(&self, client: IpAddr, transport: Transport, now: Instant) -> bool {
        let slot =
            (self.hasher.hash_one((client_key(client), transport as u8)) as usize) % (BUCKETS * 2);
        let per_stripe = BUCKETS * 2 / LOCKS;
        let mut stripe = self.stripes[slot / per_stripe]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let bucket = &mut stripe[slot % per_stripe];
        let seconds = now.duration_since(self.epoch).as_secs_f64() + 1.0;
        if bucket.last == 0.0 {
            bucket.tokens = self.burst;
        } else {
            let refill = (seconds - bucket.last).max(0.0) * self.rate;
            bucket.tokens = (bucket.tokens + refill).min(self.burst);
        }
        bucket.last = seconds;
        // Within rounding of a whole token (a second's refill is `rate` tokens, not one less).
        if bucket.tokens >= 1.0 - 1e-6 {
            bucket.tokens = (bucket.tokens - 1.0).max(0.0);
            true
        } else {
            false
        }
    }
}

/// What a client is counted as: its IPv4 address, or the /64 of its IPv6 address (one host
/// or link usually holds a whole /64, and can pick any address in it).
fn client_key(client: IpAddr) -> u128 {
    match client.to_canonical() {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => (u128::from(v6) >> 64) | (1 << 127),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn secs(seconds: f64) -> Duration {
        Duration::from_secs_f64(seconds)
    }

    fn admitted(rate: &ClientRate, client: &str, transport: Transport, at: Instant, n: u32) -> u32 {
        let client: IpAddr = client.parse().unwrap();
        (0..n).filter(|_| rate.admit(client, transport, at)).count() as u32
    }

    #[test]
    fn zero_rate_is_no_limit() {
        assert!(ClientRate::new(0, 100).is_none());
    }

    #[test]
    fn a_burst_then_the_rate() {
        let rate = ClientRate::new(10, 20).unwrap();
        let start = Instant::now();
        assert_eq!(admitted(&rate, "192.0.2.1", Transport::Udp, start, 50), 20);
        assert_eq!(
            admitted(&rate, "192.0.2.1", Transport::Udp, start + secs(1.0), 50),
            10,
            "one second refills `rate` tokens"
        );
        assert_eq!(
            admitted(&rate, "192.0.2.1", Transport::Tcp, start, 50),
            20,
            "TCP has its own bucket, so a client sent TC can retry over TCP"
        );
        assert_eq!(
            admitted(&rate, "192.0.2.2", Transport::Udp, start, 50),
            20,
            "another client (unless it collides, 1 in 32768)"
        );
        assert_eq!(
            admitted(&rate, "192.0.2.1", Transport::Udp, start + secs(100.0), 50),
            20,
            "a bucket holds at most the burst"
        );
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let rate = ClientRate::new(5, 0).unwrap();
        let start = Instant::now();
        assert_eq!(
            admitted(&rate, "2001:db8:1:2::1", Transport::Udp, start, 3),
            3
        );
        assert_eq!(
            admitted(&rate, "2001:db8:1:2::ffff", Transport::Udp, start, 10),
            2
        );
        let mapped = admitted(&rate, "::ffff:192.0.2.9", Transport::Udp, start, 10);
        assert_eq!(mapped, 5, "an IPv4-mapped client is its IPv4 address");
        assert_eq!(admitted(&rate, "192.0.2.9", Transport::Udp, start, 10), 0);
    }
}
