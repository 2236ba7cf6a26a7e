//! What the pipeline shares across queries: the settings a reload swaps, and the state that
//! outlives a reload (cache, the upstream fetches and the queries being resolved, the A-query tracker, the path
//! state, the rate buckets, the upstream servers' state).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use pathwise_policy::{PathState, PolicyConfig, PolicyTable};
use tokio::sync::watch;

use super::guard::Liveness;
use super::limits::ClientRate;
use super::resolving::Resolving;
use crate::cache::{Cache, CacheKey};
use crate::config::Config;
use crate::explicit::PairTracker;
use crate::metrics::{Limit, Metrics};
use crate::singleflight::Singleflight;
use crate::upstream::{DropReason, Forwarded, UpstreamError, Upstreams};

/// Everything derived from one validated config; replaced whole on SIGHUP.
pub struct Settings {
    /// The config itself.
    pub config: Config,
    /// `[policy]` as the policy crate takes it.
    pub policy: PolicyConfig,
    /// The ordering table.
    pub table: PolicyTable,
    /// The upstream servers.
    pub upstreams: Arc<Upstreams>,
    /// `listen.client_rate`'s buckets; `None` when there is no limit.
    pub(crate) client_rate: Option<Arc<ClientRate>>,
    /// Different for every `Settings` ever built: answers rendered under other settings are
    /// not reused (see [`crate::cache::render`]).
    pub generation: u64,
}

impl Settings {
    /// Builds the settings of `config`; fails if no upstream can be had.
    pub fn new(config: Config) -> Result<Self, UpstreamError> {
        Self::build(config, None)
    }

    /// Builds the settings of `config` to replace `old` (SIGHUP): the upstream servers that
    /// stay keep what was learned of them (health, response time, 0x20, cookies), and the
    /// per-client rate buckets stay while `listen.client_rate` and `listen.client_burst` do.
    pub fn succeeding(config: Config, old: &Settings) -> Result<Self, UpstreamError> {
        Self::build(config, Some(old))
    }

    fn build(config: Config, old: Option<&Settings>) -> Result<Self, UpstreamError> {
        let upstreams = Arc::new(Upstreams::new(&config.upstream, &config.listen.addresses)?);
        if let Some(old) = old {
            upstreams.inherit(&old.upstreams);
        }
        upstreams.start_prober();
        let (rate, burst) = (config.listen.client_rate, config.listen.client_burst);
        let client_rate = match old {
            Some(old)
                if (
                    old.config.listen.client_rate,
                    old.config.listen.client_burst,
                ) == (rate, burst) =>
            {
                old.client_rate.clone()
            }
            _ => ClientRate::new(rate, burst).map(Arc::new),
        };
        static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Ok(Self {
            client_rate,
            policy: config.policy.policy_config(),
            table: config.policy.table(),
            upstreams,
            generation: GENERATION.fetch_add(1, Ordering::Relaxed),
            config,
        })
    }
}

/// The pipeline's shared state.
pub struct Shared {
    settings: RwLock<Arc<Settings>>,
    /// The cache of upstream answers.
    pub cache: Cache,
    /// Upstream fetches in progress, keyed by question, so that identical misses share one.
    pub fetches: Singleflight<CacheKey, Option<Arc<hickory_proto::op::Message>>>,
    /// Recent A queries per client and name (the lone-AAAA signal).
    pub pairs: PairTracker,
    paths: watch::Receiver<PathState>,
    /// The metric handles.
    pub metrics: Arc<Metrics>,
    /// The queries being resolved in tasks (bounded by `upstream.max_outstanding`).
    pub(crate) resolving: Resolving,
    /// Some upstream has answered since start-up (half of `/readyz`).
    upstream_answered: AtomicBool,
    /// The listeners that ended while serving (`/healthz`).
    pub(crate) liveness: Arc<Liveness>,
}

impl Shared {
    /// Shared state for `settings`, reading the path state from `paths`, recording in
    /// `metrics`.
    pub fn new(
        settings: Settings,
        paths: watch::Receiver<PathState>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let cache = Cache::new(&settings.config.cache);
        let pairs = PairTracker::new(
            settings.config.policy.explicit.pair_window,
            settings.config.policy.explicit.max_pairs,
        );
        Self {
            settings: RwLock::new(Arc::new(settings)),
            cache,
            fetches: Singleflight::new(),
            pairs,
            paths,
            metrics,
            resolving: Resolving::default(),
            upstream_answered: AtomicBool::new(false),
            liveness: Arc::default(),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> Arc<Settings> {
        Arc::clone(
            &self
                .settings
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// Puts new settings in force for the queries that arrive from now on.
    pub fn replace_settings(&self, settings: Settings) {
        *self
            .settings
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(settings);
    }

    /// A receiver of the path state, to wait for its next change.
    pub fn paths_receiver(&self) -> watch::Receiver<PathState> {
        self.paths.clone()
    }

    /// The host's path state now.
    pub fn paths(&self) -> PathState {
        *self.paths.borrow()
    }

    /// Notes that an upstream answered.
    pub fn upstream_answered(&self) {
        if !self.upstream_answered.load(Ordering::Relaxed) {
            self.upstream_answered.store(true, Ordering::Relaxed);
        }
    }

    /// Whether any upstream has answered since start-up.
    pub fn has_upstream_answered(&self) -> bool {
        self.upstream_answered.load(Ordering::Relaxed)
    }

    /// `/readyz`: ready once an upstream has answered since start-up, while not every one is
    /// marked down; else why not.
    pub fn readiness(&self) -> Result<(), &'static str> {
        if !self.has_upstream_answered() {
            return Err("no upstream has answered yet");
        }
        if !self.settings().upstreams.any_up() {
            return Err("every upstream is marked down");
        }
        Ok(())
    }

    /// Records each attempt of one forwarded query and the answers dropped on the way in the
    /// metrics, and notes an answer for readiness.
    pub fn record_forwarded(&self, upstreams: &Upstreams, forwarded: &Forwarded) {
        for reason in DropReason::ALL {
            self.metrics
                .record_dropped(reason, forwarded.dropped.of(reason));
        }
        for attempt in &forwarded.attempts {
            let upstream = upstreams.label(attempt.server);
            self.metrics
                .record_upstream(upstream, attempt.outcome, attempt.elapsed);
            if attempt.reached {
                self.upstream_answered();
            }
        }
    }

    /// Sets the gauges that describe the present, just before a scrape.
    pub fn refresh_gauges(&self) {
        let paths = self.paths();
        let filter_active = self.settings().policy.filter_aaaa.active(paths).is_some();
        self.metrics
            .set_state(paths, filter_active, self.cache.len());
        let upstreams = Arc::clone(&self.settings().upstreams);
        self.metrics.set_upstreams_up(
            (0..upstreams.servers().len())
                .map(|server| (upstreams.label(server), upstreams.is_up(server))),
        );
        self.metrics
            .sync_limit(Limit::Cache, self.cache.evictions());
        self.metrics
            .sync_limit(Limit::PairTable, self.pairs.evictions());
    }
}
