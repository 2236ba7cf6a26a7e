//! `pathwise serve`: binds the listeners, runs the pipeline, reloads on SIGHUP and drains on
//! SIGTERM/SIGINT.

mod admit;
mod bind;
pub mod context;
mod decide;
mod guard;
mod http;
pub mod limits;
pub mod pipeline;
mod ready;
mod resolving;
mod respond;
pub mod state;
mod tcp;
mod udp;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

pub use bind::{BindError, Listeners, bind};
use pipeline::Pipeline;
use state::{Settings, Shared};

use crate::config::Config;
use crate::metrics::Metrics;

/// How to read the config again on SIGHUP: the same file, environment and flags.
pub type Reloader = Box<dyn Fn() -> Result<Config, String> + Send + Sync>;

/// Told of each config that a reload put in force (the path watcher follows `[paths]`).
pub type Reloaded = Box<dyn Fn(&Config) + Send + Sync>;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// No upstream server could be had.
    #[error(transparent)]
    Upstream(#[from] crate::upstream::UpstreamError),
    /// A listener could not be bound.
    #[error(transparent)]
    Bind(#[from] BindError),
    /// Signal handlers could not be installed.
    #[error("installing signal handlers: {0}")]
    Signals(std::io::Error),
    /// `metrics.listen` could not be bound.
    #[error(
        "metrics.listen: binding {address}: {error} (set metrics.listen to a free address, or \"off\")"
    )]
    Metrics {
        /// The address.
        address: std::net::SocketAddr,
        /// Why.
        error: std::io::Error,
    },
}

/// Binds the HTTP endpoint and logs `listening on http ADDR`.
async fn bind_http(address: std::net::SocketAddr) -> Result<tokio::net::TcpListener, StartError> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|error| StartError::Metrics { address, error })?;
    let local = listener.local_addr().unwrap_or(address);
    tracing::info!("listening on http {local} (/metrics, /healthz, /readyz, /paths)");
    Ok(listener)
}

/// Runs the server until SIGTERM or SIGINT, then drains the queries being resolved and returns.
pub async fn run(
    config: Config,
    paths: watch::Receiver<pathwise_policy::PathState>,
    reload: Reloader,
    reloaded: Reloaded,
    metrics: Arc<Metrics>,
) -> Result<(), StartError> {
    // Handlers first: a supervisor may signal as soon as it sees `listening on`.
    let mut terminate = signal(SignalKind::terminate()).map_err(StartError::Signals)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(StartError::Signals)?;
    let mut hangup = signal(SignalKind::hangup()).map_err(StartError::Signals)?;
    let settings = Settings::new(config)?;
    log_settings(&settings, Some(*paths.borrow()));
    let listeners = bind(&settings.config.listen.addresses).await?;
    let http = match settings.config.metrics.listen {
        Some(address) => Some(bind_http(address).await?),
        None => None,
    };
    metrics.know_upstreams(settings.upstreams.labels());

    let tcp_shared = tcp::TcpShared::default();
    let drain_limit = drain_limit(&settings.config);
    let shared = Arc::new(Shared::new(settings, paths, metrics));
    let pipeline = Pipeline::new(Arc::clone(&shared));
    let (stop, stopped) = watch::channel(false);
    let mut loops = Vec::new();
    // Each listener loop runs watched: one that ends while not stopping fails /healthz.
    let watch = |name: String, serve: Pin<Box<dyn Future<Output = ()> + Send>>| {
        let liveness = Arc::clone(&shared.liveness);
        tokio::spawn(liveness.watch(name, serve, stopped.clone()))
    };
    for socket in listeners.udp {
        let name = listener_name("udp", socket.local_addr());
        let task = udp::serve(socket, pipeline.clone(), stopped.clone());
        loops.push(watch(name, Box::pin(task)));
    }
    for listener in listeners.tcp {
        let name = listener_name("tcp", listener.local_addr());
        let task = tcp::serve(
            listener,
            pipeline.clone(),
            tcp_shared.clone(),
            stopped.clone(),
        );
        loops.push(watch(name, Box::pin(task)));
    }
    // After the listeners: serving /readyz means they are bound.
    if let Some(listener) = http {
        let task = http::serve(listener, Arc::clone(&shared), stopped.clone());
        loops.push(tokio::spawn(task));
        let probe = ready::probe_until_ready(Arc::clone(&shared), stopped.clone());
        loops.push(tokio::spawn(probe));
    }

    loop {
        tokio::select! {
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
            _ = hangup.recv() => reload_settings(&shared, &reload, &reloaded),
        }
    }
    tracing::info!(
        resolving = shared.resolving.count(),
        "stopping: draining the queries being resolved"
    );
    let _ = stop.send(true);
    for task in loops {
        let _ = task.await;
    }
    let left = shared.resolving.drained(drain_limit).await;
    if left > 0 {
        tracing::warn!(
            left,
            "stopped with queries still being resolved after {drain_limit:?}"
        );
    }
    tracing::info!("stopped");
    Ok(())
}

/// A listener as `/healthz` and the log name it: `udp 127.0.0.1:53`.
fn listener_name(transport: &str, address: std::io::Result<std::net::SocketAddr>) -> String {
    match address {
        Ok(address) => format!("{transport} {address}"),
        Err(_) => transport.to_owned(),
    }
}

/// How long a reload's summary waits for the path watcher to apply a new `[paths]` (an
/// override applies at once; a newly usable path still waits for `paths.stabilize`).
const PATHS_SETTLE: Duration = Duration::from_millis(250);

/// SIGHUP: validate the new config completely before anything changes; a bad one is refused
/// and the old one keeps serving.
fn reload_settings(shared: &Arc<Shared>, reload: &Reloader, reloaded: &Reloaded) {
    let mut config = match reload() {
        Ok(config) => config,
        Err(error) => {
            tracing::error!("config reload refused, the old config keeps serving: {error}");
            return;
        }
    };
    let old = shared.settings();
    let kept = old.config.keep_restart_only(&mut config);
    // The file was checked as written; what is put in force mixes it with the old
    // restart-only values (e.g. an upstream on an address pathwise still listens on).
    if let Err(error) = config.check_rules() {
        tracing::error!(
            "config reload refused, the old config keeps serving: {error} (with the restart-only \
             keys as they are until the next restart)"
        );
        return;
    }
    for key in kept {
        tracing::warn!("config reload: {key} changes take effect at the next restart");
    }
    match Settings::succeeding(config, &old) {
        Ok(settings) => {
            // The path state line waits for the path watcher to take the new `[paths]`.
            log_settings(&settings, None);
            shared.metrics.know_upstreams(settings.upstreams.labels());
            let mut paths = shared.paths_receiver();
            paths.mark_unchanged();
            reloaded(&settings.config);
            shared.replace_settings(settings);
            tracing::info!("config reloaded");
            let shared = Arc::clone(shared);
            tokio::spawn(async move {
                let _ = tokio::time::timeout(PATHS_SETTLE, paths.changed()).await;
                log_filter(&shared.settings(), shared.paths());
            });
        }
        Err(error) => {
            tracing::error!("config reload refused, the old config keeps serving: {error}");
        }
    }
}

/// How long a shutdown waits for the queries being resolved: long enough for one to fail over through
/// every upstream, at most 10s.
fn drain_limit(config: &Config) -> Duration {
    let servers = u32::try_from(config.upstream.servers.len().max(1)).unwrap_or(u32::MAX);
    (config.upstream.timeout.saturating_mul(servers) + Duration::from_secs(1))
        .min(Duration::from_secs(10))
}

/// One line per start-up fact.
fn log_settings(settings: &Settings, paths: Option<pathwise_policy::PathState>) {
    let config = &settings.config;
    for server in settings.upstreams.servers() {
        tracing::info!("upstream {server}");
    }
    tracing::info!(
        "upstream strategy {}, timeout {}",
        config.upstream.strategy.as_str(),
        crate::config::format_duration(config.upstream.timeout)
    );
    if let Some(paths) = paths {
        log_filter(settings, paths);
    }
    tracing::info!("order table {}", config.policy.order.as_str());
}

/// The path state and whether the filter is active under it.
fn log_filter(settings: &Settings, paths: pathwise_policy::PathState) {
    let active = settings.policy.filter_aaaa.active(paths);
    tracing::info!(
        "paths {paths}; filter_aaaa {} is {}",
        settings.policy.filter_aaaa.as_str(),
        if active.is_some() {
            "active"
        } else {
            "inactive"
        }
    );
}

#[cfg(test)]
mod tests;
