//! Which servers are up. A server that fails [`DOWN_AFTER`] times in a row (timeouts and
//! network errors; an answer of any rcode is a sign of life) is marked down: queries skip it,
//! and a background prober asks it `. NS` after a back-off that starts at [`FIRST_BACKOFF`] and
//! doubles to [`MAX_BACKOFF`]. Its first answer, to a probe or to a query, marks it up again.
//!
//! With every server down a query tries only the first in strategy order, once: it waits one
//! `upstream.timeout` at most instead of one per server, before stale data or SERVFAIL.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// Failures in a row that mark a server down: one lost datagram is not an outage.
pub(super) const DOWN_AFTER: u32 = 3;

/// The first back-off of a server marked down.
pub(super) const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// The longest back-off between probes of a server that stays down.
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The health of every server, by index.
pub(super) struct Health {
    servers: Box<[ServerHealth]>,
}

struct ServerHealth {
    /// Read per query without the lock.
    down: AtomicBool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    failures: u32,
    backoff: Duration,
    next_probe: Option<Instant>,
}

/// What a report changed, for the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Change {
    /// Nothing.
    None,
    /// The server was just marked down.
    Down,
    /// The server was down and answered.
    Up,
}

impl Health {
    /// Every one of `servers` servers up.
    pub(super) fn new(servers: usize) -> Self {
        Self {
            servers: (0..servers)
                .map(|_| ServerHealth {
                    down: AtomicBool::new(false),
                    state: Mutex::new(State::default()),
                })
                .collect(),
        }
    }

    /// Whether `server` is up (not marked down).
    pub(super) fn is_up(&self, server: usize) -> bool {
        self.servers
            .get(server)
            .is_some_and(|health| !health.down.load(Ordering::Relaxed))
    }

    /// Whether any server is up.
    pub(super) fn any_up(&self) -> bool {
        (0..self.servers.len()).any(|server| self.is_up(server))
    }

    /// Takes `server`'s health from server `from` of `old` (the same server under the config
    /// a reload replaced): down or up, failures in a row, back-off and next probe.
    pub(super) fn inherit(&self, server: usize, old: &Self, from: usize) {
        let (Some(health), Some(old)) = (self.servers.get(server), old.servers.get(from)) else {
            return;
        };
        let state = lock(&old.state);
        *lock(&health.state) = State {
            failures: state.failures,
            backoff: state.backoff,
            next_probe: state.next_probe,
        };
        health
            .down
            .store(old.down.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// Notes an answer from `server`.
    pub(super) fn answered(&self, server: usize) -> Change {
        let Some(health) = self.servers.get(server) else {
            return Change::None;
        };
        let was_down = health.down.swap(false, Ordering::Relaxed);
        let mut state = lock(&health.state);
        *state = State::default();
        if was_down { Change::Up } else { Change::None }
    }

    /// Notes a failure of `server` at `now`.
    pub(super) fn failed(&self, server: usize, now: Instant) -> Change {
        let Some(health) = self.servers.get(server) else {
            return Change::None;
        };
        let mut state = lock(&health.state);
        state.failures = state.failures.saturating_add(1);
        if health.down.load(Ordering::Relaxed) || state.failures < DOWN_AFTER {
            return Change::None;
        }
        state.backoff = FIRST_BACKOFF;
        state.next_probe = Some(now + FIRST_BACKOFF);
        health.down.store(true, Ordering::Relaxed);
        Change::Down
    }

    /// The servers that are down and due for a probe at `now`; each is scheduled for its
    /// next probe (a doubled back-off) as it is handed out.
    pub(super) fn due_for_probe(&self, now: Instant) -> Vec<usize> {
        let mut due = Vec::new();
        for (server, health) in self.servers.iter().enumerate() {
            if !health.down.load(Ordering::Relaxed) {
                continue;
            }
            let mut state = lock(&health.state);
            if state.next_probe.is_some_and(|at| at <= now) {
                due.push(server);
                state.next_probe = Some(now + state.backoff);
                state.backoff = (state.backoff * 2).min(MAX_BACKOFF);
            }
        }
        due
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_after_failures_in_a_row_and_up_at_the_first_answer() {
        let health = Health::new(2);
        let now = Instant::now();
        assert_eq!(health.failed(0, now), Change::None);
        assert_eq!(health.failed(0, now), Change::None);
        assert_eq!(
            health.answered(0),
            Change::None,
            "an answer resets the count"
        );
        for _ in 1..DOWN_AFTER {
            assert_eq!(health.failed(0, now), Change::None);
        }
        assert!(health.is_up(0));
        assert_eq!(health.failed(0, now), Change::Down);
        assert_eq!(health.failed(0, now), Change::None, "marked down once");
        assert!(!health.is_up(0));
        assert!(health.is_up(1) && health.any_up());
        assert_eq!(health.answered(0), Change::Up);
        assert!(health.is_up(0));
    }

    #[test]
    fn probes_back_off_from_one_second_to_thirty() {
        let health = Health::new(1);
        let start = Instant::now();
        for _ in 0..DOWN_AFTER {
            health.failed(0, start);
        }
        assert!(!health.any_up());
        assert!(
            health.due_for_probe(start).is_empty(),
            "not before the back-off"
        );
        let mut at = start + FIRST_BACKOFF;
        let mut gaps = Vec::new();
        for _ in 0..8 {
            assert_eq!(health.due_for_probe(at), vec![0]);
            assert!(health.due_for_probe(at).is_empty(), "one probe per turn");
            let state = lock(&health.servers[0].state);
            let next = state.next_probe.unwrap();
            gaps.push((next - at).as_secs());
            at = next;
        }
        assert_eq!(gaps, [1, 2, 4, 8, 16, 30, 30, 30]);
    }
}
