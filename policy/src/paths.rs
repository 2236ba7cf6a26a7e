//! The host's path state and when the AAAA filter is active (docs/behaviour.md).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::class::{AddressClass, classify};

/// A kind of path the host may have a usable source address for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Path {
    /// Native global IPv6.
    Native6,
    /// 6to4 (RFC 3056).
    SixToFour,
    /// IPv4.
    Ipv4,
    /// Teredo (RFC 4380), the last resort.
    Teredo,
}

impl Path {
    /// Every path, in the seed's order of preference.
    pub const ALL: [Path; 4] = [Self::Native6, Self::SixToFour, Self::Ipv4, Self::Teredo];

    /// The metric label (`pathwise_path_available{path=...}`) and of `paths.override`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Native6 => "native6",
            Self::SixToFour => "6to4",
            Self::Ipv4 => "ipv4",
            Self::Teredo => "teredo",
        }
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// Which local addresses count towards a path besides the global ones (docs/behaviour.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counting {
    /// `paths.count_ula`: unique local addresses count as `native6`.
    pub ula: bool,
    /// `paths.count_documentation`: documentation addresses count (as `native6` or `ipv4`).
    pub documentation: bool,
}

impl Path {
    /// The path a local address would give if it is usable, before its flags and routes are
    /// looked at; `None` for addresses that are never a path (loopback, link-local, multicast,
    /// NAT64, and ULA or documentation unless `counting` says so).
    pub fn of_local(address: IpAddr, counting: Counting) -> Option<Self> {
        match classify(address) {
            AddressClass::Native6 => Some(Self::Native6),
            AddressClass::SixToFour => Some(Self::SixToFour),
            AddressClass::Ipv4 => Some(Self::Ipv4),
            AddressClass::Teredo => Some(Self::Teredo),
            AddressClass::Ula if counting.ula => Some(Self::Native6),
            AddressClass::Documentation if counting.documentation => Some(if address.is_ipv4() {
                Self::Ipv4
            } else {
                Self::Native6
            }),
            _ => None,
        }
    }
}

impl FromStr for Path {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|path| path.as_str() == text)
            .ok_or_else(|| format!("{text:?} is not one of native6, 6to4, ipv4, teredo"))
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The set of paths the host has. A value: cheap to copy and compare.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PathState(u8);

impl PathState {
    /// No path at all.
    pub const EMPTY: PathState = PathState(0);

    /// Whether the host has `path`.
    pub const fn has(self, path: Path) -> bool {
        self.0 & path.bit() != 0
    }

    /// This state with `path` added.
    #[must_use]
    pub const fn with(self, path: Path) -> Self {
        Self(self.0 | path.bit())
    }

    /// This state with `path` removed.
    #[must_use]
    pub const fn without(self, path: Path) -> Self {
        Self(self.0 & !path.bit())
    }

    /// The paths present, in the seed's order of preference.
    pub fn iter(self) -> impl Iterator<Item = Path> {
        Path::ALL.into_iter().filter(move |&path| self.has(path))
    }

    /// The set as a bit field (one bit per [`Path::ALL`] entry): a compact stamp for caches
    /// of work that depends on the state.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether the host has an IPv6 path other than Teredo.
    pub const fn has_non_teredo_ipv6(self) -> bool {
        self.has(Path::Native6) || self.has(Path::SixToFour)
    }
}

impl FromIterator<Path> for PathState {
    fn from_iter<I: IntoIterator<Item = Path>>(paths: I) -> Self {
        paths.into_iter().fold(Self::EMPTY, Self::with)
    }
}

impl fmt::Debug for PathState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Path::as_str))
            .finish()
    }
}

impl fmt::Display for PathState {
    /// `native6+ipv4`, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Self::EMPTY {
            return f.write_str("none");
        }
        for (i, path) in self.iter().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            f.write_str(path.as_str())?;
        }
        Ok(())
    }
}

/// `policy.filter_aaaa`: when the AAAA filter is active.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FilterMode {
    /// Active when Teredo is the only IPv6 path (the seed's condition).
    #[default]
    TeredoOnly,
    /// Active when there is neither native IPv6 nor 6to4, Teredo or not.
    NoNative,
    /// Always active.
    Always,
    /// Never active.
    Never,
}

impl FilterMode {
    /// Every mode, in the order of the table in docs/behaviour.md.
    pub const ALL: [FilterMode; 4] = [Self::TeredoOnly, Self::NoNative, Self::Always, Self::Never];

    /// The value of `policy.filter_aaaa`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TeredoOnly => "teredo-only",
            Self::NoNative => "no-native",
            Self::Always => "always",
            Self::Never => "never",
        }
    }

    /// Why the filter is active under this mode and `state`; `None` when it is not.
    ///
    /// The seed: "Windows Vista will not issue AAAA queries when Teredo is the only IPv6
    /// capable interface available".
    pub const fn active(self, state: PathState) -> Option<FilterReason> {
        match self {
            Self::TeredoOnly if state.has(Path::Teredo) && !state.has_non_teredo_ipv6() => {
                Some(FilterReason::TeredoOnly)
            }
            Self::NoNative if !state.has_non_teredo_ipv6() => Some(FilterReason::NoNative),
            Self::Always => Some(FilterReason::Always),
            _ => None,
        }
    }
}

impl FromStr for FilterMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|mode| mode.as_str() == text)
            .ok_or_else(|| format!("{text:?} is not one of teredo-only, no-native, always, never"))
    }
}

/// Why AAAA data was removed: the mode under which the filter was active (docs/metrics.md
/// `pathwise_aaaa_filtered_total{reason}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FilterReason {
    /// `teredo-only` mode, Teredo the only IPv6 path.
    TeredoOnly,
    /// `no-native` mode, no native IPv6 or 6to4 path.
    NoNative,
    /// `always` mode.
    Always,
}

impl FilterReason {
    /// Every reason.
    pub const ALL: [FilterReason; 3] = [Self::TeredoOnly, Self::NoNative, Self::Always];

    /// The metric label (docs/metrics.md).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TeredoOnly => "teredo_only",
            Self::NoNative => "no_native",
            Self::Always => "always",
        }
    }
}
