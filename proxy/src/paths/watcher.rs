//! The path watcher (docs/behaviour.md): reads the host's addresses at start-up, again on every
//! kernel change notification and every `paths.poll_interval`, holds new paths back for
//! `paths.stabilize`, and publishes the path state that the very next response is shaped by.

use std::fmt::Write as _;
use std::io;

use pathwise_policy::{Path, PathState};
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

use super::changes::Changes;
use super::inventory::Inventory;
use super::stabilize::Stabilizer;
use crate::config::{PathOverride, PathsConfig};

/// Reads the host's addresses under a `[paths]` config; the real one is [`Inventory::read`].
pub type Reader = Box<dyn FnMut(&PathsConfig) -> io::Result<Inventory> + Send>;

/// Told of each new path state (the metrics count them).
pub type OnChange = Box<dyn Fn(PathState) + Send>;

/// The watcher, between its first read and its loop.
pub struct Watcher {
    read: Reader,
    on_change: OnChange,
    changes: Option<Changes>,
    config: PathsConfig,
    inventory: Inventory,
    stabilizer: Stabilizer,
    out: watch::Sender<PathState>,
}

impl Watcher {
    /// Subscribes to change notifications, reads the host once, and returns the watcher with
    /// the receiver of its path state, which holds the start-up state already. Must be called
    /// inside the runtime.
    pub fn start(config: &PathsConfig, on_change: OnChange) -> (Self, watch::Receiver<PathState>) {
        // Subscribe before the first read: a change between the two is not missed.
        let changes = match Changes::subscribe() {
            Ok(changes) => Some(changes),
            Err(error) => {
                tracing::info!(
                    "path watcher: no change notifications ({error}); polling every {:?}",
                    config.poll_interval
                );
                None
            }
        };
        Self::with_reader(config, Box::new(Inventory::read), changes, on_change)
    }

    /// A watcher reading through `read`, woken by `changes` if any (tests give their own).
    pub fn with_reader(
        config: &PathsConfig,
        mut read: Reader,
        changes: Option<Changes>,
        on_change: OnChange,
    ) -> (Self, watch::Receiver<PathState>) {
        let inventory = read(config).unwrap_or_else(|error| {
            tracing::warn!("path watcher: reading the host's addresses: {error}");
            Inventory::default()
        });
        let stabilizer = Stabilizer::new(inventory.paths(), Instant::now());
        let state = published(config, &stabilizer);
        match config.path_override {
            PathOverride::Fixed(_) => tracing::info!("paths pinned by paths.override: {state}"),
            PathOverride::Auto => tracing::info!(
                "paths from the host's addresses: {state}{}",
                describe_paths(&inventory, state)
            ),
        }
        let (out, receiver) = watch::channel(state);
        let watcher = Self {
            read,
            on_change,
            changes,
            config: config.clone(),
            inventory,
            stabilizer,
            out,
        };
        (watcher, receiver)
    }

    /// Follows the host until every receiver of the path state is gone. `configs` brings the
    /// `[paths]` section of each reloaded config.
    pub async fn run(mut self, mut configs: watch::Receiver<PathsConfig>) {
        loop {
            let due = self.next_read();
            tokio::select! {
                () = sleep_until(due.unwrap_or_else(far_future)), if due.is_some() => {}
                changed = next_change(self.changes.as_mut()) => {
                    if let Err(error) = changed {
                        tracing::warn!("path watcher: change notifications failed ({error}); polling");
                        self.changes = None;
                    }
                }
                changed = configs.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let was_pinned = matches!(self.config.path_override, PathOverride::Fixed(_));
                    self.config = configs.borrow_and_update().clone();
                    if was_pinned && matches!(self.config.path_override, PathOverride::Auto) {
                        self.unpin(Instant::now());
                    }
                }
                () = self.out.closed() => return,
            }
            self.refresh(Instant::now());
        }
    }

    /// When to read the host next without a notification: at the poll interval, or sooner when
    /// a waiting path is due to stabilise; never while the state is pinned.
    fn next_read(&self) -> Option<Instant> {
        if matches!(self.config.path_override, PathOverride::Fixed(_)) {
            return None;
        }
        let poll = Instant::now() + self.config.poll_interval;
        Some(match self.stabilizer.next_due(self.config.stabilize) {
            Some(due) => due.min(poll),
            None => poll,
        })
    }

    /// Back from `paths.override` to the host: nothing was watched while pinned, so the host's
    /// usable paths count at once, as at start-up.
    fn unpin(&mut self, now: Instant) {
        if let Ok(inventory) = (self.read)(&self.config) {
            self.inventory = inventory;
        }
        self.stabilizer = Stabilizer::new(self.inventory.paths(), now);
    }

    /// Reads the host, updates the stabiliser and publishes the state if it changed.
    fn refresh(&mut self, now: Instant) {
        let previous = self.out.borrow().to_owned();
        if matches!(self.config.path_override, PathOverride::Auto) {
            match (self.read)(&self.config) {
                Ok(inventory) => {
                    if inventory != self.inventory {
                        tracing::debug!(usable = %inventory.paths(), "path watcher: addresses changed");
                    }
                    let before = std::mem::replace(&mut self.inventory, inventory);
                    self.stabilizer
                        .update(self.inventory.paths(), now, self.config.stabilize);
                    let state = published(&self.config, &self.stabilizer);
                    if state != previous {
                        tracing::info!(
                            "path state changed: {previous} -> {state}{}",
                            describe_change(&before, &self.inventory, previous, state)
                        );
                    }
                }
                Err(error) => {
                    tracing::warn!("path watcher: reading the host's addresses: {error}");
                }
            }
        }
        let state = published(&self.config, &self.stabilizer);
        if state != previous {
            if matches!(self.config.path_override, PathOverride::Fixed(_)) {
                tracing::info!("path state changed: {previous} -> {state} (paths.override)");
            }
            self.out.send_replace(state);
            (self.on_change)(state);
        }
    }
}

/// The state to publish: the override if pinned, else the stabilised host state.
fn published(config: &PathsConfig, stabilizer: &Stabilizer) -> PathState {
    match config.path_override {
        PathOverride::Fixed(state) => state,
        PathOverride::Auto => stabilizer.counted(),
    }
}

async fn next_change(changes: Option<&mut Changes>) -> io::Result<()> {
    match changes {
        Some(changes) => changes.next().await,
        None => std::future::pending().await,
    }
}

fn far_future() -> Instant {
    Instant::now() + std::time::Duration::from_secs(86_400 * 365)
}

/// `; native6 from 2a00::2 on eth0; ...` for each counted path.
fn describe_paths(inventory: &Inventory, state: PathState) -> String {
    let mut text = String::new();
    for path in state.iter() {
        let _ = write!(text, "; {path} from {}", addresses_giving(inventory, path));
    }
    text
}

/// `; gained native6 from 2a00::2 on eth0; lost teredo (2001:0:... on teredo: no route)`.
fn describe_change(
    before: &Inventory,
    after: &Inventory,
    previous: PathState,
    state: PathState,
) -> String {
    let mut text = String::new();
    for path in Path::ALL {
        if state.has(path) && !previous.has(path) {
            let _ = write!(
                text,
                "; gained {path} from {}",
                addresses_giving(after, path)
            );
        } else if previous.has(path) && !state.has(path) {
            let gone: Vec<String> = before
                .giving(path)
                .map(|old| {
                    let now = after
                        .addresses
                        .iter()
                        .find(|new| new.address == old.address && new.interface == old.interface);
                    match now.map(|new| new.usable) {
                        None => format!("{} on {}: removed", old.address, old.interface),
                        Some(Err(why)) => format!("{} on {}: {why}", old.address, old.interface),
                        Some(Ok(_)) => format!("{} on {}", old.address, old.interface),
                    }
                })
                .collect();
            let _ = write!(text, "; lost {path} ({})", gone.join(", "));
        }
    }
    text
}

fn addresses_giving(inventory: &Inventory, path: Path) -> String {
    let addresses: Vec<String> = inventory
        .giving(path)
        .map(|address| format!("{} on {}", address.address, address.interface))
        .collect();
    addresses.join(", ")
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use pathwise_policy::AddressClass;

    use super::*;
    use crate::paths::inventory::LocalAddress;

    const STABILIZE: Duration = Duration::from_secs(2);
    const POLL: Duration = Duration::from_secs(1);

    fn config() -> PathsConfig {
        PathsConfig {
            stabilize: STABILIZE,
            poll_interval: POLL,
            require_route: true,
            ignore_interfaces: Vec::new(),
            count_ula: false,
            count_documentation: false,
            path_override: PathOverride::Auto,
        }
    }

    fn state(paths: &[Path]) -> PathState {
        paths.iter().copied().collect()
    }

    /// A host whose usable paths the test sets; each path is one made-up address.
    fn host(initial: PathState) -> (Arc<Mutex<PathState>>, Reader) {
        let usable = Arc::new(Mutex::new(initial));
        let shared = Arc::clone(&usable);
        let read: Reader = Box::new(move |_config: &PathsConfig| {
            let paths = *shared.lock().expect("not poisoned");
            let addresses = paths
                .iter()
                .map(|path| LocalAddress {
                    interface: format!("if-{path}"),
                    address: match path {
                        Path::Native6 => "2a00::2".parse().expect("an address"),
                        Path::SixToFour => "2002:c000:204::1".parse().expect("an address"),
                        Path::Ipv4 => "10.0.0.2".parse().expect("an address"),
                        Path::Teredo => "2001:0:4136:e378:8000:63bf:3fff:fdd2"
                            .parse()
                            .expect("an address"),
                    },
                    class: AddressClass::Other,
                    flags: Default::default(),
                    usable: Ok(path),
                })
                .collect();
            Ok(Inventory { addresses })
        });
        (usable, read)
    }

    const TEREDO_HOST: [Path; 2] = [Path::Teredo, Path::Ipv4];
    const NATIVE_HOST: [Path; 3] = [Path::Native6, Path::Teredo, Path::Ipv4];

    /// Sleeps in paused time: the clock jumps, and the watcher's timers fire on the way.
    async fn after(duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_native_path_counts_after_stabilize_and_goes_at_once() {
        let (usable, read) = host(state(&TEREDO_HOST));
        let (watcher, paths) = Watcher::with_reader(&config(), read, None, Box::new(|_| {}));
        let (_configs_tx, configs) = watch::channel(config());
        tokio::spawn(watcher.run(configs));
        assert_eq!(
            *paths.borrow(),
            state(&TEREDO_HOST),
            "start-up counts at once"
        );

        *usable.lock().expect("not poisoned") = state(&NATIVE_HOST);
        after(POLL + Duration::from_millis(10)).await;
        assert_eq!(*paths.borrow(), state(&TEREDO_HOST), "seen, not yet stable");
        // Seen at the first poll (1s), stable 2s later: counted by 3s, not by 2.9s.
        after(Duration::from_millis(1880)).await;
        assert_eq!(*paths.borrow(), state(&TEREDO_HOST));
        after(Duration::from_millis(120)).await;
        assert_eq!(
            *paths.borrow(),
            state(&NATIVE_HOST),
            "within stabilize + poll"
        );

        *usable.lock().expect("not poisoned") = state(&TEREDO_HOST);
        after(POLL + Duration::from_millis(10)).await;
        assert_eq!(*paths.borrow(), state(&TEREDO_HOST), "lost within one poll");
    }

    #[tokio::test(start_paused = true)]
    async fn a_path_that_flaps_faster_than_stabilize_never_counts() {
        let (usable, read) = host(state(&TEREDO_HOST));
        let (watcher, paths) = Watcher::with_reader(&config(), read, None, Box::new(|_| {}));
        let (_configs_tx, configs) = watch::channel(config());
        tokio::spawn(watcher.run(configs));

        for round in 0..6 {
            let now = if round % 2 == 0 {
                &NATIVE_HOST[..]
            } else {
                &TEREDO_HOST[..]
            };
            *usable.lock().expect("not poisoned") = state(now);
            after(STABILIZE - Duration::from_millis(500)).await;
            assert_eq!(*paths.borrow(), state(&TEREDO_HOST), "round {round}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_override_pins_the_state_and_auto_follows_the_host_again() {
        let (_usable, read) = host(state(&NATIVE_HOST));
        let changes = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&changes);
        let on_change: OnChange =
            Box::new(move |state| seen.lock().expect("not poisoned").push(state));
        let (watcher, mut paths) = Watcher::with_reader(&config(), read, None, on_change);
        let (configs_tx, configs) = watch::channel(config());
        tokio::spawn(watcher.run(configs));
        assert_eq!(*paths.borrow_and_update(), state(&NATIVE_HOST));

        let pinned = PathsConfig {
            path_override: PathOverride::Fixed(state(&TEREDO_HOST)),
            ..config()
        };
        configs_tx.send_replace(pinned);
        paths.changed().await.expect("the watcher runs");
        assert_eq!(
            *paths.borrow_and_update(),
            state(&TEREDO_HOST),
            "pinned at once"
        );

        configs_tx.send_replace(config());
        paths.changed().await.expect("the watcher runs");
        assert_eq!(
            *paths.borrow(),
            state(&NATIVE_HOST),
            "back to the host, whose paths never went away"
        );
        assert_eq!(
            *changes.lock().expect("not poisoned"),
            [state(&TEREDO_HOST), state(&NATIVE_HOST)],
            "each change reported once"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_watcher_stops_when_nobody_reads_its_state() {
        let (_usable, read) = host(state(&TEREDO_HOST));
        let (watcher, paths) = Watcher::with_reader(&config(), read, None, Box::new(|_| {}));
        let (_configs_tx, configs) = watch::channel(config());
        let task = tokio::spawn(watcher.run(configs));
        drop(paths);
        tokio::time::timeout(POLL * 3, task)
            .await
            .expect("stopped")
            .expect("no panic");
    }
}
