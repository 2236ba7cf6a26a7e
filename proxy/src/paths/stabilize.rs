//! `paths.stabilize` (docs/behaviour.md): a path that appears counts only once it has stayed usable
//! that long (the seed's "once the IPv6 address has stabilized"); a path that goes is dropped at
//! once.

use std::time::Duration;

use pathwise_policy::{Path, PathState};
use tokio::time::Instant;

/// The paths that count, given the usable paths seen over time.
#[derive(Clone, Debug)]
pub struct Stabilizer {
    /// Since when each path (by [`Path::ALL`] index) has been usable without a break.
    usable_since: [Option<Instant>; 4],
    /// The paths that count now.
    counted: PathState,
}

impl Stabilizer {
    /// Starts from the paths usable at start-up, which count at once: how long they have been
    /// there is unknown, and an address still settling is held back by its tentative flag.
    pub fn new(initial: PathState, now: Instant) -> Self {
        let mut usable_since = [None; 4];
        for (index, path) in Path::ALL.into_iter().enumerate() {
            if initial.has(path) {
                usable_since[index] = Some(now);
            }
        }
        Self {
            usable_since,
            counted: initial,
        }
    }

    /// Takes the paths usable at `now` and returns the paths that count.
    pub fn update(&mut self, usable: PathState, now: Instant, stabilize: Duration) -> PathState {
        for (index, path) in Path::ALL.into_iter().enumerate() {
            if !usable.has(path) {
                self.usable_since[index] = None;
                self.counted = self.counted.without(path);
                continue;
            }
            let since = *self.usable_since[index].get_or_insert(now);
            if now.saturating_duration_since(since) >= stabilize {
                self.counted = self.counted.with(path);
            }
        }
        self.counted
    }

    /// The paths that count now.
    pub fn counted(&self) -> PathState {
        self.counted
    }

    /// When the next usable path will have stabilised, if one is waiting.
    pub fn next_due(&self, stabilize: Duration) -> Option<Instant> {
        Path::ALL
            .into_iter()
            .zip(self.usable_since)
            .filter(|(path, _)| !self.counted.has(*path))
            .filter_map(|(_, since)| since.map(|since| since + stabilize))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STABILIZE: Duration = Duration::from_secs(2);

    fn state(paths: &[Path]) -> PathState {
        paths.iter().copied().collect()
    }

    #[test]
    fn start_up_paths_count_at_once() {
        let start = Instant::now();
        let stabilizer = Stabilizer::new(state(&[Path::Teredo, Path::Ipv4]), start);
        assert_eq!(stabilizer.counted(), state(&[Path::Teredo, Path::Ipv4]));
        assert_eq!(stabilizer.next_due(STABILIZE), None);
    }

    #[test]
    fn a_new_path_counts_after_stabilize_and_a_lost_one_goes_at_once() {
        let start = Instant::now();
        let teredo = state(&[Path::Teredo, Path::Ipv4]);
        let native = teredo.with(Path::Native6);
        let mut stabilizer = Stabilizer::new(teredo, start);

        assert_eq!(stabilizer.update(native, start, STABILIZE), teredo);
        assert_eq!(stabilizer.next_due(STABILIZE), Some(start + STABILIZE));
        let almost = start + STABILIZE - Duration::from_millis(1);
        assert_eq!(stabilizer.update(native, almost, STABILIZE), teredo);
        assert_eq!(
            stabilizer.update(native, start + STABILIZE, STABILIZE),
            native
        );
        assert_eq!(stabilizer.next_due(STABILIZE), None);

        let later = start + STABILIZE * 5;
        assert_eq!(
            stabilizer.update(teredo, later, STABILIZE),
            teredo,
            "lost at once"
        );
    }

    #[test]
    fn a_flapping_path_starts_over_each_time_it_comes_back() {
        let start = Instant::now();
        let ipv4 = state(&[Path::Ipv4]);
        let both = ipv4.with(Path::Native6);
        let mut stabilizer = Stabilizer::new(ipv4, start);
        let second = Duration::from_secs(1);

        stabilizer.update(both, start, STABILIZE);
        stabilizer.update(ipv4, start + second, STABILIZE);
        stabilizer.update(both, start + second * 2, STABILIZE);
        assert_eq!(
            stabilizer.update(both, start + second * 3, STABILIZE),
            ipv4,
            "usable 3s in all, but only 1s without a break"
        );
        assert_eq!(stabilizer.next_due(STABILIZE), Some(start + second * 4));
        assert_eq!(stabilizer.update(both, start + second * 4, STABILIZE), both);
    }

    #[test]
    fn zero_stabilize_counts_at_once() {
        let start = Instant::now();
        let mut stabilizer = Stabilizer::new(PathState::EMPTY, start);
        let ipv4 = state(&[Path::Ipv4]);
        assert_eq!(stabilizer.update(ipv4, start, Duration::ZERO), ipv4);
    }
}
