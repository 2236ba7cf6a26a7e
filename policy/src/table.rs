//! Policy tables (docs/behaviour.md, RFC 6724 section 2.1): precedence and label by longest-prefix
//! match.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

/// An IPv6 prefix; IPv4 prefixes are written in their mapped form `::ffff:a.b.c.d/(96+n)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Prefix {
    bits: u128,
    len: u8,
}

/// Why a prefix, precedence or label did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// The prefix is not `ADDRESS/LENGTH`.
    #[error("{0:?} is not a prefix (expected ADDRESS/LENGTH, e.g. 2001::/32 or 10.0.0.0/8)")]
    BadPrefix(String),
    /// A custom table has no rows.
    #[error("the custom table is empty (add [[policy.order_table]] rows)")]
    Empty,
}

impl Prefix {
    /// A prefix from an address and a length; host bits are cleared. Lengths over 128 are capped.
    pub fn new(address: Ipv6Addr, len: u8) -> Self {
        let len = len.min(128);
        Self {
            bits: u128::from(address) & mask(len),
            len,
        }
    }

    /// The prefix length in bits.
    pub const fn length(&self) -> u8 {
        self.len
    }

    /// The network address.
    pub fn network(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.bits)
    }

    /// Whether `address` lies inside this prefix.
    pub fn contains(&self, address: Ipv6Addr) -> bool {
        u128::from(address) & mask(self.len) == self.bits
    }
}

const fn mask(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - len as u32)
    }
}

impl FromStr for Prefix {
    type Err = TableError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || TableError::BadPrefix(text.to_owned());
        let (address, len) = text.split_once('/').ok_or_else(bad)?;
        let len: u8 = len.parse().map_err(|_| bad())?;
        // IPv4 prefixes may be written plainly; they live at ::ffff:0:0/96 (RFC 6724 section 2.1).
        let (address, len) = match address.parse::<IpAddr>().map_err(|_| bad())? {
            IpAddr::V4(v4) if len <= 32 => (v4.to_ipv6_mapped(), len + 96),
            IpAddr::V6(v6) if len <= 128 => (v6, len),
            _ => return Err(bad()),
        };
        Ok(Self::new(address, len))
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.len)
    }
}

/// One row of a policy table, as in RFC 6724 section 2.1 and gai.conf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableRow {
    /// The prefix the row applies to.
    pub prefix: Prefix,
    /// Higher is preferred (RFC 6724 rule 6).
    pub precedence: u8,
    /// Source and destination with equal labels are preferred together (rule 5).
    pub label: u8,
}

/// Which built-in table, or the operator's own (`policy.order`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TableKind {
    /// RFC 3484's table plus the Teredo row: native IPv6 > 6to4 > IPv4 > Teredo (the seed).
    Seed,
    /// RFC 6724 section 2.1's default table.
    Rfc6724,
    /// `[[policy.order_table]]` rows.
    Custom,
}

impl TableKind {
    /// Every kind, in the order of the table in docs/behaviour.md.
    pub const ALL: [TableKind; 3] = [Self::Seed, Self::Rfc6724, Self::Custom];

    /// The value of `policy.order` and `--table`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Seed => "seed",
            Self::Rfc6724 => "rfc6724",
            Self::Custom => "custom",
        }
    }
}

impl FromStr for TableKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| format!("{text:?} is not one of seed, rfc6724, custom"))
    }
}

/// A policy table, rows kept longest prefix first so the first match is the longest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyTable {
    rows: Vec<TableRow>,
}

/// The seed's table: RFC 3484 section 2.1 plus Teredo at precedence 5, label 5 (docs/behaviour.md).
const SEED_ROWS: [(u128, u8, u8, u8); 6] = [
    (1, 128, 50, 0),
    (0, 0, 40, 1),
    (0x2002 << 112, 16, 30, 2),
    (0, 96, 20, 3),
    (0xffff << 32, 96, 10, 4),
    (0x2001 << 112, 32, 5, 5),
];

/// RFC 6724 section 2.1's default policy table.
const RFC6724_ROWS: [(u128, u8, u8, u8); 9] = [
    (1, 128, 50, 0),
    (0, 0, 40, 1),
    (0xffff << 32, 96, 35, 4),
    (0x2002 << 112, 16, 30, 2),
    (0x2001 << 112, 32, 5, 5),
    (0xfc << 120, 7, 3, 13),
    (0, 96, 1, 3),
    (0xfec0 << 112, 10, 1, 11),
    (0x3ffe << 112, 16, 1, 12),
];

impl PolicyTable {
    /// The seed's table (`policy.order = "seed"`, the default).
    pub fn seed() -> Self {
        Self::from_const(&SEED_ROWS)
    }

    /// RFC 6724's default table (`policy.order = "rfc6724"`).
    pub fn rfc6724() -> Self {
        Self::from_const(&RFC6724_ROWS)
    }

    /// A built-in table; `None` for [`TableKind::Custom`], whose rows come from the config.
    pub fn builtin(kind: TableKind) -> Option<Self> {
        match kind {
            TableKind::Seed => Some(Self::seed()),
            TableKind::Rfc6724 => Some(Self::rfc6724()),
            TableKind::Custom => None,
        }
    }

    /// An operator's table. Of rows for the same prefix the last one wins. Addresses no row
    /// covers get precedence 0 and no label, so add a `::/0` row to cover everything.
    pub fn custom(rows: impl IntoIterator<Item = TableRow>) -> Result<Self, TableError> {
        let mut deduplicated: Vec<TableRow> = Vec::new();
        for row in rows {
            deduplicated.retain(|kept| kept.prefix != row.prefix);
            deduplicated.push(row);
        }
        if deduplicated.is_empty() {
            return Err(TableError::Empty);
        }
        Ok(Self::sorted(deduplicated))
    }

    fn from_const(rows: &[(u128, u8, u8, u8)]) -> Self {
        Self::sorted(
            rows.iter()
                .map(|&(bits, len, precedence, label)| TableRow {
                    prefix: Prefix::new(Ipv6Addr::from(bits), len),
                    precedence,
                    label,
                })
                .collect(),
        )
    }

    fn sorted(mut rows: Vec<TableRow>) -> Self {
        rows.sort_by_key(|row| std::cmp::Reverse(row.prefix.length()));
        Self { rows }
    }

    /// The rows, longest prefix first.
    pub fn rows(&self) -> &[TableRow] {
        &self.rows
    }

    /// The row that matches `address` (IPv4 looked up as `::ffff:a.b.c.d`), if any.
    pub fn lookup(&self, address: IpAddr) -> Option<&TableRow> {
        let v6 = as_v6(address);
        self.rows.iter().find(|row| row.prefix.contains(v6))
    }

    /// Precedence of `address`; 0 when no row matches.
    pub fn precedence(&self, address: IpAddr) -> u8 {
        self.lookup(address).map_or(0, |row| row.precedence)
    }

    /// Label of `address`; `None` when no row matches (RFC 6724 section 2.1 treats no match as
    /// unlabelled).
    pub fn label(&self, address: IpAddr) -> Option<u8> {
        self.lookup(address).map(|row| row.label)
    }
}

/// An address in the IPv6 space of policy tables: IPv4 becomes `::ffff:a.b.c.d` (RFC 6724 section
/// 2.1).
pub fn as_v6(address: IpAddr) -> Ipv6Addr {
    match address {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}
