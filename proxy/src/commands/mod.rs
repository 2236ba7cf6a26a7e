//! One module per subcommand; each takes its parsed arguments and prints to stdout.

pub mod check_config;
pub mod classify;
pub mod gai_conf;
pub mod order;
pub mod paths;
pub mod resolve;
pub mod serve;
