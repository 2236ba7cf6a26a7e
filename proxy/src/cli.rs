//! The command line: argument definitions, one-line errors, exit codes.

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Args, Parser, Subcommand, ValueEnum};
use pathwise_policy::{SourceAddress, TableKind};

use crate::commands;
use crate::commands::check_config::CheckConfigArgs;
use crate::commands::paths::PathsArgs;
use crate::commands::resolve::ResolveArgs;
use crate::commands::serve::ServeArgs;

/// Exit code of a bad argument.
pub const EXIT_USAGE: u8 = 2;
/// Exit code of a failure while running (an unreadable file, a bad config).
pub const EXIT_FAILURE: u8 = 1;

/// A DNS stub resolver and forwarding proxy that knows the host's IPv6 paths.
///
/// pathwise drops AAAA answers when Teredo is the host's only IPv6 path, and orders answers
/// native IPv6 > 6to4 > IPv4 > Teredo.
#[derive(Debug, Parser)]
#[command(name = "pathwise", version)]
pub struct Cli {
    /// What to do; without a subcommand, `serve` with its defaults.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the DNS proxy (the default): listen, forward, cache, shape answers.
    Serve(ServeArgs),
    /// Validate a config file and print the effective configuration; exit 1 naming the bad key.
    CheckConfig(CheckConfigArgs),
    /// Print the host's addresses by class and usability, the path state, and whether the
    /// AAAA filter is active.
    Paths(PathsArgs),
    /// Resolve A and AAAA through a DNS server and print them in connect order.
    Resolve(ResolveArgs),
    /// Print the class of each address, decoding Teredo and 6to4 addresses.
    Classify(ClassifyArgs),
    /// Print destinations in RFC 6724 preference order, given local source addresses.
    Order(OrderArgs),
    /// Print a /etc/gai.conf that makes glibc's getaddrinfo sort as pathwise does.
    GaiConf(GaiConfArgs),
}

/// `pathwise classify`.
#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Print a JSON array of {"address", "class"} objects.
    #[arg(long)]
    pub json: bool,
    /// The addresses, IPv4 or IPv6.
    #[arg(required = true, value_name = "ADDR")]
    pub addresses: Vec<IpAddr>,
}

/// `pathwise order`.
#[derive(Debug, Args)]
#[command(
    after_help = "The order is RFC 6724 section 6's, rule by rule: usable (a source \
of the family), matching scope, not deprecated, home, matching label (rule 5), precedence \
(rule 6), smaller scope, longest matching prefix, then the order given. Rule 5 comes before \
precedence: a destination whose label its source shares goes before one whose label no \
source here has. So on a host without a 6to4 address, IPv4 (label 4, as the host's IPv4 \
address) goes before 6to4 (label 2) although the seed table gives 6to4 the higher \
precedence; likewise native IPv6 on a host whose only IPv6 source is Teredo. The text output \
says so in a '#' line under the list where that happens."
)]
pub struct OrderArgs {
    /// The policy table [default: the config's policy.order, else seed]; custom needs --config.
    #[arg(long, value_enum, requires_if("custom", "config"))]
    pub table: Option<TableArg>,
    /// A config file: its policy.order and [[policy.order_table]] rows (for --table custom).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A local source address, repeatable; prefix length default 64 for IPv6, 32 for IPv4.
    /// Suffixes ",deprecated" and ",home" mark RFC 6724 rule 3 and 4 addresses.
    /// Default: the host's own addresses.
    #[arg(long = "source", value_name = "ADDR[/PLEN]", value_parser = parse_source)]
    pub sources: Vec<SourceAddress>,
    /// Print a JSON array of address strings, most preferred first.
    #[arg(long)]
    pub json: bool,
    /// The destinations, in the order they were received.
    #[arg(required = true, value_name = "ADDR")]
    pub destinations: Vec<IpAddr>,
}

/// `pathwise gai-conf`.
#[derive(Debug, Args)]
pub struct GaiConfArgs {
    /// The built-in table to render.
    #[arg(long, value_enum, default_value_t = BuiltinTableArg::Seed)]
    pub table: BuiltinTableArg,
}

/// `--table` of `pathwise order`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TableArg {
    /// RFC 3484 plus Teredo: native IPv6 > 6to4 > IPv4 > Teredo.
    Seed,
    /// RFC 6724 section 2.1's default table.
    Rfc6724,
    /// [[policy.order_table]] rows from --config.
    Custom,
}

impl From<TableArg> for TableKind {
    fn from(arg: TableArg) -> Self {
        match arg {
            TableArg::Seed => TableKind::Seed,
            TableArg::Rfc6724 => TableKind::Rfc6724,
            TableArg::Custom => TableKind::Custom,
        }
    }
}

/// `--table` of `pathwise gai-conf`: only the built-in tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BuiltinTableArg {
    /// RFC 3484 plus Teredo: native IPv6 > 6to4 > IPv4 > Teredo.
    Seed,
    /// RFC 6724 section 2.1's default table.
    Rfc6724,
}

impl From<BuiltinTableArg> for TableKind {
    fn from(arg: BuiltinTableArg) -> Self {
        match arg {
            BuiltinTableArg::Seed => TableKind::Seed,
            BuiltinTableArg::Rfc6724 => TableKind::Rfc6724,
        }
    }
}

/// Parses `ADDR[/PLEN][,deprecated][,home]`.
pub fn parse_source(text: &str) -> Result<SourceAddress, String> {
    let mut parts = text.split(',');
    let address_part = parts.next().unwrap_or_default();
    let (address, prefix_len) = match address_part.split_once('/') {
        Some((address, len)) => (address, Some(len)),
        None => (address_part, None),
    };
    let address: IpAddr = address
        .parse()
        .map_err(|_| format!("{address:?} is not an IP address"))?;
    let mut source = SourceAddress::new(address);
    if let Some(len) = prefix_len {
        let max = if address.is_ipv4() { 32 } else { 128 };
        source.prefix_len = len
            .parse()
            .ok()
            .filter(|len| *len <= max)
            .ok_or_else(|| format!("{len:?} is not a prefix length from 0 to {max}"))?;
    }
    for flag in parts {
        match flag {
            "deprecated" => source.deprecated = true,
            "home" => source.home = true,
            other => return Err(format!("{other:?} is not one of deprecated, home")),
        }
    }
    Ok(source)
}

/// Parses `args` and runs the subcommand; returns the process's exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    let outcome = match cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeArgs::default()))
    {
        Command::Serve(args) => commands::serve::run(args),
        Command::CheckConfig(args) => commands::check_config::run(&args),
        Command::Paths(args) => commands::paths::run(&args),
        Command::Resolve(args) => commands::resolve::run(&args),
        Command::Classify(args) => commands::classify::run(&args),
        Command::Order(args) => commands::order::run(&args),
        Command::GaiConf(args) => commands::gai_conf::run(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("pathwise: {error:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Help and version go out as clap prints them; any other error becomes one line naming the
/// bad argument, and exit code 2.
fn usage_error(error: &clap::Error) -> ExitCode {
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            return ExitCode::from(EXIT_USAGE);
        }
        _ => {}
    }
    eprintln!("pathwise: {}", one_line(error));
    ExitCode::from(EXIT_USAGE)
}

/// The error's first paragraph (the message and any indented details such as the possible
/// values or the missing argument) joined into one line.
fn one_line(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let paragraph: Vec<&str> = rendered
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .map(str::trim)
        .collect();
    let line = paragraph.join(" ");
    line.strip_prefix("error: ").unwrap_or(&line).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_take_prefix_length_and_flags() {
        let source = parse_source("2001:db8::1/48,deprecated,home").unwrap();
        assert_eq!(source.address, "2001:db8::1".parse::<IpAddr>().unwrap());
        assert_eq!(
            (source.prefix_len, source.deprecated, source.home),
            (48, true, true)
        );
        assert_eq!(parse_source("192.0.2.1").unwrap().prefix_len, 32);
        assert_eq!(parse_source("2001:db8::1").unwrap().prefix_len, 64);
    }

    #[test]
    fn bad_sources_are_named() {
        assert_eq!(
            parse_source("nope/8"),
            Err("\"nope\" is not an IP address".to_owned())
        );
        assert_eq!(
            parse_source("192.0.2.1/33"),
            Err("\"33\" is not a prefix length from 0 to 32".to_owned())
        );
        assert_eq!(
            parse_source("::1,sticky"),
            Err("\"sticky\" is not one of deprecated, home".to_owned())
        );
    }

    #[test]
    fn custom_table_requires_a_config() {
        let error =
            Cli::try_parse_from(["pathwise", "order", "--table", "custom", "::1"]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::MissingRequiredArgument);
        assert!(
            one_line(&error).contains("--config <FILE>"),
            "{}",
            one_line(&error)
        );
    }

    #[test]
    fn clap_errors_fold_to_one_line() {
        let error = Cli::try_parse_from(["pathwise", "gai-conf", "--table", "custom"]).unwrap_err();
        assert_eq!(
            one_line(&error),
            "invalid value 'custom' for '--table <TABLE>' [possible values: seed, rfc6724]"
        );
    }
}
