//! The end-to-end harness: a fresh `pathwise` binary, captured runs of it and of
//! system tools, `pathwise serve` processes with a real upstream (NSD) and a real client
//! (dig), network namespaces that clean up after themselves, and the root check.

mod binary;
mod dig;
mod fake;
mod http;
mod netns;
mod process;
mod rng;
mod root;
mod run;
mod server;
mod sockets;
mod tempdir;
mod unchecked;
mod upstream;
pub mod wire;

pub use binary::pathwise;
pub use dig::{Dig, DigAnswer, Record};
pub use fake::{FakeTcpUpstream, FakeUpstream};
pub use http::{HttpResponse, http_get, http_raw};
pub use netns::{NetNs, NsAddress};
pub use process::Signal;
pub use rng::{Rng, SEED_VAR, Seed};
pub use root::{require_root, require_root_for};
pub use run::Run;
pub use server::Pathwise;
pub use sockets::{UdpSocketInfo, udp_sockets_of};
pub use tempdir::TempDir;
pub use unchecked::{UNCHECKED_VAR, cannot_check};
pub use upstream::{Upstream, Zone, free_port};
