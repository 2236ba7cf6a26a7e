//! Policy tables: the rows of docs/behaviour.md, longest-prefix lookup, IPv4 via `::ffff:0:0/96`.

use std::net::IpAddr;

use crate::table::{PolicyTable, Prefix, TableError, TableKind, TableRow};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn seed_orders_native_6to4_ipv4_teredo() {
    let table = PolicyTable::seed();
    let precedences: Vec<u8> = [
        "2a00::1",
        "2002:c000:22d::1",
        "192.0.2.1",
        "2001:0:4136:e378::1",
    ]
    .iter()
    .map(|a| table.precedence(ip(a)))
    .collect();
    assert_eq!(precedences, [40, 30, 10, 5]);
}

#[test]
fn rfc6724_puts_ipv4_above_6to4() {
    let table = PolicyTable::rfc6724();
    assert_eq!(table.precedence(ip("10.0.0.1")), 35);
    assert_eq!(table.precedence(ip("2002::1")), 30);
    assert_eq!(table.precedence(ip("fd00::1")), 3);
    assert_eq!(table.label(ip("fd00::1")), Some(13));
    assert_eq!(table.precedence(ip("2001::1")), 5);
    assert_eq!(table.precedence(ip("::1")), 50);
    assert_eq!(table.precedence(ip("::1.2.3.4")), 1);
}

#[test]
fn longest_prefix_wins() {
    let table = PolicyTable::seed();
    // ::1 is inside ::/96 and ::/0 as well; its own row is the longest.
    assert_eq!(table.lookup(ip("::1")).unwrap().precedence, 50);
    assert_eq!(table.label(ip("::2")), Some(3));
}

#[test]
fn prefixes_parse_in_both_notations() {
    let v4: Prefix = "10.0.0.0/8".parse().unwrap();
    let mapped: Prefix = "::ffff:10.0.0.0/104".parse().unwrap();
    assert_eq!(v4, mapped);
    assert_eq!(v4.to_string(), "::ffff:10.0.0.0/104");
    assert!("10.0.0.0/33".parse::<Prefix>().is_err());
    assert!("2001::/129".parse::<Prefix>().is_err());
    assert_eq!(
        "nonsense".parse::<Prefix>(),
        Err(TableError::BadPrefix("nonsense".to_owned()))
    );
}

#[test]
fn custom_table_last_row_for_a_prefix_wins() {
    let row = |prefix: &str, precedence| TableRow {
        prefix: prefix.parse().unwrap(),
        precedence,
        label: 1,
    };
    let table =
        PolicyTable::custom([row("::/0", 40), row("10.0.0.0/8", 60), row("::/0", 20)]).unwrap();
    assert_eq!(table.precedence(ip("10.1.1.1")), 60);
    assert_eq!(table.precedence(ip("2a00::1")), 20);
    assert_eq!(table.rows().len(), 2);
    assert_eq!(PolicyTable::custom([]), Err(TableError::Empty));
}

#[test]
fn custom_table_without_default_row_leaves_addresses_unlabelled() {
    let row = TableRow {
        prefix: "2001:db8::/32".parse().unwrap(),
        precedence: 60,
        label: 7,
    };
    let table = PolicyTable::custom([row]).unwrap();
    assert_eq!(table.precedence(ip("2a00::1")), 0);
    assert_eq!(table.label(ip("2a00::1")), None);
}

#[test]
fn table_kinds_parse_and_name_themselves() {
    for kind in TableKind::ALL {
        assert_eq!(kind.as_str().parse::<TableKind>(), Ok(kind));
    }
    assert_eq!(
        "sometimes".parse::<TableKind>(),
        Err("\"sometimes\" is not one of seed, rfc6724, custom".to_owned())
    );
}
