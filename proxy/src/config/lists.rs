//! The kinds of list a key can hold: each item read on its own and named `key[i]` when bad;
//! `paths.override`, which is a list or `"auto"`; and the `[[policy.order_table]]` rows.

use std::fmt::Display;
use std::marker::PhantomData;
use std::net::SocketAddr;

use ipnet::IpNet;
use pathwise_policy::table::TableError;
use pathwise_policy::{Path, PathState, Prefix, TableRow};
use serde::Deserialize;

use super::kinds::quoted;
use super::raw::{RawList, Scalar};
use super::section::{Kind, Toml};
use super::value::{parse_cidr, parse_listen_address};
use super::{ConfigError, PathOverride, UpstreamSpec};

/// One kind of list item.
pub(crate) trait Item {
    /// The typed item; its `Display` is the form the parser reads.
    type Value: Display;
    /// What an item may be, for the documentation.
    const ACCEPTS: &'static str;
    /// The typed item, or what is wrong with `text`.
    fn parse(text: &str) -> Result<Self::Value, String>;
}

/// A list of `I`: a TOML array of strings, or in the environment one comma-separated string.
pub(crate) struct List<I>(PhantomData<I>);

impl<I: Item> Kind for List<I> {
    type Raw = RawList;
    type Value = Vec<I::Value>;
    fn accepts() -> String {
        format!("list of {}", I::ACCEPTS)
    }
    fn read(key: &str, raw: RawList) -> Result<Vec<I::Value>, ConfigError> {
        raw.items()
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                I::parse(item)
                    .map_err(|problem| ConfigError::invalid(format!("{key}[{i}]"), problem))
            })
            .collect()
    }
    fn show(value: &Vec<I::Value>) -> Option<String> {
        Some(strings(value))
    }
}

/// A TOML array of strings: `["a", "b"]`, or `[]`.
fn strings<T: Display>(items: impl IntoIterator<Item = T>) -> String {
    let items: Vec<String> = items.into_iter().map(quoted).collect();
    format!("[{}]", items.join(", "))
}

/// A CIDR prefix, or a bare address for that one address.
pub(crate) struct Cidr;

impl Item for Cidr {
    type Value = IpNet;
    const ACCEPTS: &'static str = "CIDR prefixes";
    fn parse(text: &str) -> Result<IpNet, String> {
        parse_cidr(text)
    }
}

/// An upstream server: `IP[:port]`, `tcp://IP[:port]` or `tls://IP[:port]#name`.
pub(crate) struct Upstream;

impl Item for Upstream {
    type Value = UpstreamSpec;
    const ACCEPTS: &'static str = "IP[:port], tcp://IP[:port] or tls://IP[:port]#name";
    fn parse(text: &str) -> Result<UpstreamSpec, String> {
        text.parse()
    }
}

/// An interface name or glob pattern.
pub(crate) struct Interface;

impl Item for Interface {
    type Value = String;
    const ACCEPTS: &'static str = "interface names or glob patterns";
    fn parse(text: &str) -> Result<String, String> {
        match text {
            "" => Err("\"\" is not an interface name or glob pattern".to_owned()),
            name => Ok(name.to_owned()),
        }
    }
}

/// An address to listen on, port 53 when left out.
pub(crate) struct ListenAddress;

impl Item for ListenAddress {
    type Value = SocketAddr;
    const ACCEPTS: &'static str = "IP[:port]";
    fn parse(text: &str) -> Result<SocketAddr, String> {
        parse_listen_address(text)
    }
}

/// `listen.addresses`: at least one, none twice (binding one address twice fails at
/// start-up; port 0 binds a fresh port each time, so it may repeat).
pub(crate) struct ListenAddresses;

impl Kind for ListenAddresses {
    type Raw = RawList;
    type Value = Vec<SocketAddr>;
    fn accepts() -> String {
        "list of IP[:port], at least one".to_owned()
    }
    fn read(key: &str, raw: RawList) -> Result<Vec<SocketAddr>, ConfigError> {
        let addresses = List::<ListenAddress>::read(key, raw)?;
        if addresses.is_empty() {
            return Err(ConfigError::invalid(
                key,
                "is empty (give at least one IP[:port], e.g. \"127.0.0.1:53\")",
            ));
        }
        for (i, address) in addresses.iter().enumerate() {
            if address.port() != 0 && addresses[..i].contains(address) {
                return Err(ConfigError::invalid(
                    format!("{key}[{i}]"),
                    format!("\"{address}\" is listed twice"),
                ));
            }
        }
        Ok(addresses)
    }
    fn show(value: &Vec<SocketAddr>) -> Option<String> {
        Some(strings(value))
    }
}

/// `paths.override`: `"auto"`, or a list of path names (in the environment, comma-separated).
pub(crate) struct Override;

impl Kind for Override {
    type Raw = RawList;
    type Value = PathOverride;
    fn accepts() -> String {
        "\"auto\", or a list of native6, 6to4, ipv4, teredo".to_owned()
    }
    fn read(key: &str, raw: RawList) -> Result<PathOverride, ConfigError> {
        let items = raw.items();
        if let RawList::Joined(text) = &raw {
            // A string is "auto" or a comma-separated list; an empty one is neither, so that
            // an empty variable does not silently pin "no path at all" (write `[]` for that).
            if text.trim() == "auto" {
                return Ok(PathOverride::Auto);
            }
            if items.len() <= 1
                && items
                    .first()
                    .is_none_or(|item| item.parse::<Path>().is_err())
            {
                return Err(ConfigError::invalid(
                    key,
                    format!("{text:?} is not \"auto\" or a list of native6, 6to4, ipv4, teredo"),
                ));
            }
        }
        let mut state = PathState::EMPTY;
        for (i, item) in items.into_iter().enumerate() {
            let path: Path = item
                .parse()
                .map_err(|problem| ConfigError::invalid(format!("{key}[{i}]"), problem))?;
            state = state.with(path);
        }
        Ok(PathOverride::Fixed(state))
    }
    fn show(value: &PathOverride) -> Option<String> {
        Some(match value {
            PathOverride::Auto => quoted("auto"),
            PathOverride::Fixed(state) => strings(state.iter()),
        })
    }
}

/// One `[[policy.order_table]]` row as written. The fields are optional here only so that a
/// missing one is reported by its dotted key.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOrderRow {
    prefix: Option<String>,
    precedence: Option<Scalar>,
    label: Option<Scalar>,
}

/// `[[policy.order_table]]`: rows of prefix, precedence and label, as in gai.conf.
pub(crate) struct OrderRows;

impl OrderRows {
    /// A precedence or label: 0 to 255.
    fn byte(key: &str, value: &Scalar) -> Result<u8, ConfigError> {
        value
            .integer()
            .and_then(|number| u8::try_from(number).ok())
            .ok_or_else(|| {
                ConfigError::invalid(key, format!("{value} is not a whole number from 0 to 255"))
            })
    }
}

impl Kind for OrderRows {
    type Raw = Vec<RawOrderRow>;
    type Value = Vec<TableRow>;
    const ROWS: Option<&'static [&'static str]> = Some(&["prefix", "precedence", "label"]);
    fn accepts() -> String {
        "rows of prefix (ADDRESS/LENGTH), precedence (0 to 255), label (0 to 255)".to_owned()
    }
    fn read(key: &str, raw: Vec<RawOrderRow>) -> Result<Vec<TableRow>, ConfigError> {
        let mut table = Vec::with_capacity(raw.len());
        for (i, row) in raw.into_iter().enumerate() {
            let field = |name: &str| format!("{key}[{i}].{name}");
            let missing = |name: &str| {
                ConfigError::invalid(
                    field(name),
                    "is missing (each row has prefix, precedence, label)",
                )
            };
            let prefix = row.prefix.ok_or_else(|| missing("prefix"))?;
            let prefix: Prefix = prefix
                .parse()
                .map_err(|e: TableError| ConfigError::invalid(field("prefix"), e.to_string()))?;
            let precedence = row.precedence.ok_or_else(|| missing("precedence"))?;
            let label = row.label.ok_or_else(|| missing("label"))?;
            table.push(TableRow {
                prefix,
                precedence: Self::byte(&field("precedence"), &precedence)?,
                label: Self::byte(&field("label"), &label)?,
            });
        }
        Ok(table)
    }
    fn show(_value: &Vec<TableRow>) -> Option<String> {
        // Rows are tables, not a value: `write` writes them.
        None
    }
    fn write(out: &mut Toml, _key: &str, dotted: &str, value: &Vec<TableRow>) {
        for row in value {
            out.rows(dotted);
            out.key("prefix", &quoted(row.prefix));
            out.key("precedence", &row.precedence.to_string());
            out.key("label", &row.label.to_string());
        }
    }
}
