//! A throwaway certificate authority and server certificate for the DNS-over-TLS tests.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate authority and a server configuration whose certificate it signed for `name`.
pub(crate) struct TestTls {
    /// The CA certificate, PEM, for `upstream.tls_ca_file`.
    pub(crate) ca_pem: String,
    /// For [`FakeUpstream::start_tls`](super::fake_upstream::FakeUpstream::start_tls).
    pub(crate) server: Arc<ServerConfig>,
}

/// A fresh CA and server certificate for `name` (rcgen, ring).
pub(crate) fn test_tls(name: &str) -> TestTls {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "pathwise test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().expect("server key");
    let params = CertificateParams::new(vec![name.to_owned()]).expect("server params");
    let certificate = params.signed_by(&key, &issuer).expect("server certificate");
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let server = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![certificate.der().clone()], private)
        .expect("server configuration");
    TestTls {
        ca_pem: ca.pem(),
        server: Arc::new(server),
    }
}
