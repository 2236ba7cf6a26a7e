//! The order in which a query tries the servers (`upstream.strategy`), and the smoothed
//! response times that `fastest` orders by.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use crate::config::Strategy;

/// Weight of a new sample in the smoothed RTT: 1/8, as TCP's SRTT (RFC 6298 section 2).
const SAMPLE_SHIFT: u32 = 3;

/// Each query multiplies the smoothed RTT of the servers it did not try by 127/128, so a
/// server once penalised (a timeout counts as an RTT of `upstream.timeout`) is tried again
/// after a few hundred queries instead of never (BIND decays unselected servers likewise).
const DECAY: (u64, u64) = (127, 128);

/// Picks the order of servers per query and learns their response times.
pub(super) struct Selector {
    strategy: Strategy,
    /// The round-robin start of the next query.
    next: AtomicUsize,
    /// Smoothed RTT per server in microseconds; 0 means not measured yet, so that `fastest`
    /// tries every server once before trusting the numbers.
    srtt: Box<[AtomicU32]>,
}

impl Selector {
    /// A selector for `servers` servers.
    pub(super) fn new(strategy: Strategy, servers: usize) -> Self {
        Self {
            strategy,
            next: AtomicUsize::new(0),
            srtt: (0..servers).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    /// Server indices in the order this query tries them.
    pub(super) fn order(&self) -> Vec<usize> {
        let count = self.srtt.len();
        let mut order: Vec<usize> = (0..count).collect();
        match self.strategy {
            Strategy::Sequential => {}
            Strategy::RoundRobin if count > 0 => {
                let start = self.next.fetch_add(1, Ordering::Relaxed) % count;
                order.rotate_left(start);
            }
            Strategy::RoundRobin => {}
            // Stable: equal times keep the configured order.
            Strategy::Fastest => order.sort_by_key(|&server| self.srtt(server)),
        }
        order
    }

    /// The smoothed RTT of `server` (zero when never measured).
    pub(super) fn srtt(&self, server: usize) -> Duration {
        let micros = self
            .srtt
            .get(server)
            .map_or(0, |srtt| srtt.load(Ordering::Relaxed));
        Duration::from_micros(u64::from(micros))
    }

    /// Takes `server`'s smoothed RTT from server `from` of `old` (the same server under the
    /// config a reload replaced).
    pub(super) fn inherit(&self, server: usize, old: &Self, from: usize) {
        if let (Some(srtt), Some(old)) = (self.srtt.get(server), old.srtt.get(from)) {
            srtt.store(old.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }

    /// Folds one sample into `server`'s smoothed RTT.
    pub(super) fn record(&self, server: usize, sample: Duration) {
        let Some(srtt) = self.srtt.get(server) else {
            return;
        };
        let sample = u32::try_from(sample.as_micros()).unwrap_or(u32::MAX).max(1);
        let _ = srtt.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
            if old == 0 {
                return Some(sample);
            }
            let (old, new) = (i64::from(old), i64::from(sample));
            let smoothed = old + ((new - old) >> SAMPLE_SHIFT);
            Some(u32::try_from(smoothed.max(1)).unwrap_or(u32::MAX))
        });
    }

    /// Decays the smoothed RTT of every server this query did not try (see [`DECAY`]).
    pub(super) fn decay_untried(&self, tried: impl Fn(usize) -> bool) {
        if self.strategy != Strategy::Fastest {
            return;
        }
        for (server, srtt) in self.srtt.iter().enumerate() {
            if tried(server) {
                continue;
            }
            let _ = srtt.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                let decayed = u64::from(old) * DECAY.0 / DECAY.1;
                // Never back to 0, which would mean "never measured".
                Some(u32::try_from(decayed).unwrap_or(u32::MAX).max(old.min(1)))
            });
        }
    }
}
