//! `pathwise classify ADDR...`: the class of each address, Teredo and 6to4 decoded.

use std::io::Write;

use pathwise_policy::{Classified, describe};
use serde_json::{Value, json};

use crate::cli::ClassifyArgs;

/// Prints one line per address, or a JSON array with `--json`.
pub fn run(args: &ClassifyArgs) -> anyhow::Result<()> {
    let described: Vec<Classified> = args.addresses.iter().map(|&a| describe(a)).collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        let values: Vec<Value> = described.iter().map(to_json).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&values)?)?;
    } else {
        for entry in &described {
            writeln!(out, "{}", to_text(entry))?;
        }
    }
    Ok(())
}

/// `2001:0:4136:e378:8000:63bf:3fff:fdd2 teredo server=65.54.227.120 client=192.0.2.45 port=40000 cone`
pub fn to_text(entry: &Classified) -> String {
    let mut line = format!("{} {}", entry.address, entry.class);
    if let Some(teredo) = entry.teredo {
        line.push_str(&format!(
            " server={} client={} port={}{}",
            teredo.server,
            teredo.client,
            teredo.port,
            if teredo.cone() { " cone" } else { "" }
        ));
    }
    if let Some(ipv4) = entry.embedded_ipv4 {
        line.push_str(&format!(" ipv4={ipv4}"));
    }
    line
}

/// `{"address", "class"}`, plus `"teredo": {"server", "client", "port"}` or `"ipv4"`.
pub fn to_json(entry: &Classified) -> Value {
    let mut value = json!({
        "address": entry.address.to_string(),
        "class": entry.class.as_str(),
    });
    if let Some(teredo) = entry.teredo {
        value["teredo"] = json!({
            "server": teredo.server.to_string(),
            "client": teredo.client.to_string(),
            "port": teredo.port,
        });
    }
    if let Some(ipv4) = entry.embedded_ipv4 {
        value["ipv4"] = json!(ipv4.to_string());
    }
    value
}
