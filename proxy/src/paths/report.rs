//! What `pathwise paths` prints and `/paths` serves: every local address with its
//! interface, class and whether it is usable (and why not), the path state, and whether the
//! AAAA filter is active.

use std::fmt::Write as _;

use pathwise_policy::{AddressClass, FilterMode, FilterReason, PathState};
use serde_json::{Value, json};

use super::inventory::{Inventory, Unusable};

/// One look at the host's paths.
#[derive(Clone, Debug)]
pub struct Report<'a> {
    /// The host's addresses, judged.
    pub inventory: &'a Inventory,
    /// The path state in force.
    pub state: PathState,
    /// Whether `paths.override` pins the state (the host's addresses do not decide it).
    pub pinned: bool,
    /// `policy.filter_aaaa`.
    pub mode: FilterMode,
}

impl Report<'_> {
    /// Why the filter is active under this state, if it is.
    pub fn filter(&self) -> Option<FilterReason> {
        self.mode.active(self.state)
    }

    /// `{"addresses": [{"interface", "address", "class", "usable", "reason"}], "paths": [...],
    /// "filter_active": bool, ...}`: the documented fields, then `reason` (why an address is not
    /// usable, else null), `flags`, `pinned`, `filter_aaaa` and `filter_reason`.
    pub fn to_json(&self) -> Value {
        let addresses: Vec<Value> = self
            .inventory
            .addresses
            .iter()
            .map(|address| {
                let mut flags = Vec::new();
                for (set, name) in [
                    (address.flags.tentative, "tentative"),
                    (address.flags.optimistic, "optimistic"),
                    (address.flags.dad_failed, "dadfailed"),
                    (address.flags.deprecated, "deprecated"),
                ] {
                    if set {
                        flags.push(name);
                    }
                }
                json!({
                    "interface": address.interface,
                    "address": address.address.to_string(),
                    "class": address.class.as_str(),
                    "usable": address.usable.is_ok(),
                    "reason": address.usable.err().map(|why| why.as_str()),
                    "flags": flags,
                })
            })
            .collect();
        let paths: Vec<&str> = self.state.iter().map(|path| path.as_str()).collect();
        json!({
            "addresses": addresses,
            "paths": paths,
            "filter_active": self.filter().is_some(),
            "pinned": self.pinned,
            "filter_aaaa": self.mode.as_str(),
            "filter_reason": self.filter().map(FilterReason::as_str),
        })
    }

    /// A table of the addresses, then the path state and the filter, for people.
    pub fn to_text(&self) -> String {
        let rows: Vec<[String; 4]> = self
            .inventory
            .addresses
            .iter()
            .map(|address| {
                let usable = match address.usable {
                    Ok(path) => format!("yes: {path}"),
                    Err(why) => format!("no: {}", explained(why, address.class)),
                };
                [
                    address.interface.clone(),
                    address.address.to_string(),
                    address.class.as_str().to_owned(),
                    usable,
                ]
            })
            .collect();
        let header = ["INTERFACE", "ADDRESS", "CLASS", "USABLE"].map(str::to_owned);
        let mut widths = [0; 4];
        for row in std::iter::once(&header).chain(&rows) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.len());
            }
        }
        let mut text = String::new();
        for row in std::iter::once(&header).chain(&rows) {
            let _ = writeln!(
                text,
                "{:w0$}  {:w1$}  {:w2$}  {}",
                row[0],
                row[1],
                row[2],
                row[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
            );
        }
        let pinned = if self.pinned {
            " (pinned by paths.override)"
        } else {
            ""
        };
        let _ = writeln!(text, "\npaths: {}{pinned}", self.state);
        let _ = match self.filter() {
            Some(reason) => writeln!(
                text,
                "AAAA filter: active (policy.filter_aaaa = {}, reason {})",
                self.mode.as_str(),
                reason.as_str()
            ),
            None => writeln!(
                text,
                "AAAA filter: inactive (policy.filter_aaaa = {})",
                self.mode.as_str()
            ),
        };
        text
    }
}

/// `why` for people: for an address that is not counted, also why not and the key that
/// counts it (the JSON keeps the bare reason).
fn explained(why: Unusable, class: AddressClass) -> String {
    match (why, class) {
        (Unusable::NotCounted, AddressClass::Ula) => format!(
            "{why} (a ULA, fc00::/7, reaches only its own site; \
             paths.count_ula = true counts it)"
        ),
        (Unusable::NotCounted, AddressClass::Documentation) => format!(
            "{why} (a documentation address, RFC 3849 and RFC 5737, is no real path; \
             paths.count_documentation = true counts it)"
        ),
        _ => why.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use pathwise_policy::{AddressClass, Path};

    use super::*;
    use crate::paths::inventory::{LocalAddress, Unusable};
    use crate::paths::proc::AddressFlags;

    fn inventory() -> Inventory {
        Inventory {
            addresses: vec![
                LocalAddress {
                    interface: "eth0".to_owned(),
                    address: "10.0.0.2".parse().expect("an address"),
                    class: AddressClass::Ipv4,
                    flags: AddressFlags::default(),
                    usable: Ok(Path::Ipv4),
                },
                LocalAddress {
                    interface: "teredo".to_owned(),
                    address: "2001:0:4136:e378:8000:63bf:3fff:fdd2"
                        .parse()
                        .expect("an address"),
                    class: AddressClass::Teredo,
                    flags: AddressFlags::default(),
                    usable: Ok(Path::Teredo),
                },
                LocalAddress {
                    interface: "eth0".to_owned(),
                    address: "2a00::2".parse().expect("an address"),
                    class: AddressClass::Native6,
                    flags: AddressFlags {
                        tentative: true,
                        ..AddressFlags::default()
                    },
                    usable: Err(Unusable::Tentative),
                },
            ],
        }
    }

    #[test]
    fn json_has_the_documented_fields_and_says_why_not() {
        let inventory = inventory();
        let report = Report {
            inventory: &inventory,
            state: inventory.paths(),
            pinned: false,
            mode: FilterMode::TeredoOnly,
        };
        let value = report.to_json();
        assert_eq!(value["paths"], json!(["ipv4", "teredo"]));
        assert_eq!(value["filter_active"], json!(true));
        assert_eq!(value["filter_reason"], json!("teredo_only"));
        assert_eq!(
            value["addresses"][2],
            json!({"interface": "eth0", "address": "2a00::2", "class": "native6",
                   "usable": false, "reason": "tentative", "flags": ["tentative"]})
        );
        assert_eq!(value["addresses"][0]["reason"], Value::Null);
    }

    #[test]
    fn text_lines_up_and_states_the_filter() {
        let inventory = inventory();
        let report = Report {
            inventory: &inventory,
            state: PathState::EMPTY.with(Path::Native6),
            pinned: true,
            mode: FilterMode::TeredoOnly,
        };
        let text = report.to_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0].find("ADDRESS"), lines[1].find("10.0.0.2"));
        assert!(lines[3].ends_with("no: tentative"), "{text}");
        assert!(
            text.contains("paths: native6 (pinned by paths.override)"),
            "{text}"
        );
        assert!(text.contains("AAAA filter: inactive"), "{text}");
    }

    /// `pathwise paths` said only "not counted" for a ULA or documentation address.
    #[test]
    fn a_not_counted_address_says_why_and_which_key_counts_it() {
        let address = |text: &str, class| LocalAddress {
            interface: "eth0".to_owned(),
            address: text.parse().expect("an address"),
            class,
            flags: AddressFlags::default(),
            usable: Err(Unusable::NotCounted),
        };
        let inventory = Inventory {
            addresses: vec![
                address("fd00::2", AddressClass::Ula),
                address("2001:db8::2", AddressClass::Documentation),
                address("192.0.2.7", AddressClass::Documentation),
            ],
        };
        let report = Report {
            inventory: &inventory,
            state: PathState::EMPTY,
            pinned: false,
            mode: FilterMode::TeredoOnly,
        };
        let text = report.to_text();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[1].ends_with(
                "no: not counted (a ULA, fc00::/7, reaches only its own site; \
                 paths.count_ula = true counts it)"
            ),
            "{text}"
        );
        for line in &lines[2..4] {
            assert!(
                line.ends_with(
                    "no: not counted (a documentation address, RFC 3849 and RFC 5737, is no \
                     real path; paths.count_documentation = true counts it)"
                ),
                "{text}"
            );
        }
        assert_eq!(report.to_json()["addresses"][0]["reason"], "not counted");
    }
}
