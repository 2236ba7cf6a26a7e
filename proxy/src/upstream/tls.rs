//! DNS over TLS (RFC 7858): the client's trust roots, and per server a small pool of idle
//! connections so that a query need not pay a handshake.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto};
use tracing::debug;

use super::Dropped;
use super::UpstreamError;
use super::transport::{self, Failure};

/// Idle connections kept per server; more concurrent queries open more, closed after use.
const POOL_SIZE: usize = 4;

/// An idle connection older than this is closed rather than reused: servers close idle
/// connections themselves after some seconds (RFC 7766 section 6.2.3), and a reused dead one
/// costs a round trip before the retry.
const IDLE_MAX: Duration = Duration::from_secs(10);

/// The TLS client configuration: the system's roots (Mozilla's when the system has none),
/// plus the PEM certificates of `upstream.tls_ca_file`.
pub(super) fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, UpstreamError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        // A partly unreadable system store still yields the roots that could be read.
        debug!(%error, "reading the system's root certificates");
    }
    let (added, _unparsable) = roots.add_parsable_certificates(native.certs);
    if added == 0 {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if let Some(path) = ca_file {
        add_ca_file(&mut roots, path)?;
    }
    let provider = Arc::new(crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| UpstreamError::Tls(error.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Adds every certificate of a PEM file to `roots`; a file without one is an error.
fn add_ca_file(roots: &mut RootCertStore, path: &Path) -> Result<(), UpstreamError> {
    let bad = |reason: String| UpstreamError::TlsCaFile {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read(path).map_err(|error| bad(error.to_string()))?;
    let mut count = 0;
    for certificate in CertificateDer::pem_slice_iter(&text) {
        let certificate = certificate.map_err(|error| bad(error.to_string()))?;
        roots
            .add(certificate)
            .map_err(|error| bad(error.to_string()))?;
        count += 1;
    }
    if count == 0 {
        return Err(bad("holds no PEM certificate".to_owned()));
    }
    Ok(())
}

/// One `tls://` server and its idle connections.
pub(super) struct Endpoint {
    address: SocketAddr,
    name: ServerName<'static>,
    connector: TlsConnector,
    idle: Mutex<Vec<Idle>>,
}

/// A connection waiting for its next query.
struct Idle {
    stream: TlsStream<TcpStream>,
    since: Instant,
}

impl Endpoint {
    /// An endpoint for `address` whose certificate must name `name`.
    pub(super) fn new(
        address: SocketAddr,
        name: &str,
        config: Arc<ClientConfig>,
    ) -> Result<Self, UpstreamError> {
        let name = ServerName::try_from(name.to_owned())
            .map_err(|_| UpstreamError::TlsName(name.to_owned()))?;
        Ok(Self {
            address,
            name,
            connector: TlsConnector::from(config),
            idle: Mutex::new(Vec::new()),
        })
    }

    /// One exchange (`frame` is length-prefixed), on an idle connection if there is one.
    /// A pooled connection that fails (the server closed it while idle) is retried once on a
    /// fresh one; a connection goes back to the pool only after a complete exchange, so a
    /// late answer can never be read as the next query's.
    pub(super) async fn query(
        &self,
        frame: &[u8],
        dropped: &mut Dropped,
    ) -> Result<Vec<u8>, Failure> {
        if let Some(mut stream) = self.take_idle() {
            match transport::exchange(&mut stream, frame, dropped).await {
                Ok(answer) => {
                    self.put_idle(stream);
                    return Ok(answer);
                }
                Err(failure) => {
                    debug!(
                        server = %self.address,
                        ?failure,
                        "pooled DNS-over-TLS connection failed, retrying on a fresh one"
                    );
                }
            }
        }
        let tcp = TcpStream::connect(self.address).await?;
        tcp.set_nodelay(true)?;
        let mut stream = self.connector.connect(self.name.clone(), tcp).await?;
        let answer = transport::exchange(&mut stream, frame, dropped).await?;
        self.put_idle(stream);
        Ok(answer)
    }

    /// The most recently used idle connection, unless it has idled too long (then all
    /// older ones have too, and are dropped with it).
    fn take_idle(&self) -> Option<TlsStream<TcpStream>> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let newest = idle.pop()?;
        if newest.since.elapsed() < IDLE_MAX {
            return Some(newest.stream);
        }
        let stale = std::mem::take(&mut *idle);
        drop(idle);
        drop((newest, stale));
        None
    }

    /// Keeps `stream` for the next query, unless the pool is full.
    fn put_idle(&self, stream: TlsStream<TcpStream>) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < POOL_SIZE {
            idle.push(Idle {
                stream,
                since: Instant::now(),
            });
        }
    }
}
