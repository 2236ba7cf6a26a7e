//! Knowing the host's paths (docs/behaviour.md): which of native IPv6, 6to4, IPv4 and Teredo it has
//! a usable source address for, followed as addresses and routes change.
//!
//! - [`inventory`]: every local address with the path it gives, or why none;
//! - [`proc`]: Linux's address flags and routes from `/proc/net`;
//! - [`pattern`]: the interface globs of `paths.ignore_interfaces`;
//! - [`stabilize`]: new paths wait `paths.stabilize`, lost ones go at once;
//! - [`changes`]: rtnetlink wake-ups on Linux;
//! - [`watcher`]: the loop that publishes the path state to the server;
//! - [`report`]: what `pathwise paths` prints and `/paths` serves.

pub mod changes;
pub mod inventory;
pub mod pattern;
pub mod proc;
pub mod report;
pub mod stabilize;
pub mod watcher;

pub use inventory::{Inventory, LocalAddress, Unusable};
pub use report::Report;
pub use watcher::Watcher;
