//! `pathwise gai-conf`: a `/etc/gai.conf` that makes glibc sort destinations as pathwise does.

use std::io::Write;

use pathwise_policy::{PolicyTable, TableKind, gai_conf};

use crate::cli::GaiConfArgs;

/// Prints the gai.conf for the chosen built-in table.
pub fn run(args: &GaiConfArgs) -> anyhow::Result<()> {
    let kind = TableKind::from(args.table);
    let table = PolicyTable::builtin(kind).expect("gai-conf offers only built-in tables");
    let title = format!("pathwise policy table {:?}", kind.as_str());
    std::io::stdout()
        .lock()
        .write_all(gai_conf::render(&table, &title).as_bytes())?;
    Ok(())
}
