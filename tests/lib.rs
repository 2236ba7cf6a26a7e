//! The end-to-end harness (STYLE 15): a fresh `pathwise` binary, captured runs of it and of
//! system tools, network namespaces that clean up after themselves, and the root check.

mod binary;
mod netns;
mod root;
mod run;

pub use binary::pathwise;
pub use netns::{NetNs, NsAddress};
pub use root::require_root;
pub use run::Run;
