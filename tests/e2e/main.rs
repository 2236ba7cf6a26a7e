//! The one end-to-end test binary: a module per area, each driving the real
//! `pathwise` binary (see `tests/README.md`).

mod cli;
mod conventions;
mod deploy;
mod faults;
mod gai_conf;
mod hostile;
mod metrics;
mod outsiders;
mod paths;
mod prometheus;
mod serve;
mod spoofing;
