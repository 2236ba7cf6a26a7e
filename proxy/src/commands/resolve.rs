//! `pathwise resolve NAME`: A and AAAA through a server, in the order an application here
//! should try them (docs/behaviour.md).

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use hickory_proto::op::{Edns, Message, Query};
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::{Name, RData, RecordType};
use pathwise_policy::{PolicyTable, classify, sort_destinations};
use serde_json::json;

use crate::{client, host};

/// `pathwise resolve`.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// The name to resolve.
    pub name: String,
    /// The DNS server to ask (default: pathwise's default listen address).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:53", value_parser = parse_server)]
    pub server: SocketAddr,
    /// Print {"name", "addresses": [{"address", "class"}], "aaaa_filtered"}.
    #[arg(long)]
    pub json: bool,
}

/// `IP` or `IP:port` (port 53).
fn parse_server(text: &str) -> Result<SocketAddr, String> {
    text.parse::<SocketAddr>()
        .or_else(|_| text.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
        .map_err(|_| format!("{text:?} is not an address (IP or IP:port)"))
}

/// How long each query may take.
const TIMEOUT: Duration = Duration::from_secs(3);
/// The explicit-ask option pathwise honours by default (docs/behaviour.md).
const EXPLICIT_OPTION: u16 = 65432;

/// Asks A then AAAA as getaddrinfo does, and AAAA once more with the explicit-ask option to
/// learn whether the server withheld AAAA records; prints the addresses in connect order.
pub fn run(args: &ResolveArgs) -> anyhow::Result<()> {
    let name = Name::from_ascii(&args.name)
        .map_err(|e| anyhow::anyhow!("{:?} is not a name: {e}", args.name))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // A first, then AAAA, as getaddrinfo(AF_UNSPEC) does: a pathwise server pairs the two and
    // filters as it would for an application here. The explicit ask goes beside the AAAA.
    let (a, aaaa, explicit) = runtime.block_on(async {
        let a = ask(args.server, &name, RecordType::A, false).await;
        let (aaaa, explicit) = tokio::join!(
            ask(args.server, &name, RecordType::AAAA, false),
            ask(args.server, &name, RecordType::AAAA, true),
        );
        (a, aaaa, explicit)
    });
    let mut addresses = a.with_context(|| format!("asking {} for A", args.server))?;
    let aaaa = aaaa.with_context(|| format!("asking {} for AAAA", args.server))?;
    let aaaa_filtered = explicit.is_ok_and(|explicit| explicit.len() > aaaa.len());
    addresses.extend(aaaa);
    let sources = host::source_addresses().context("listing the host's addresses")?;
    let ordered = sort_destinations(&PolicyTable::seed(), &sources, &addresses);

    let mut out = std::io::stdout().lock();
    if args.json {
        let entries: Vec<_> = ordered
            .iter()
            .map(|r| json!({"address": r.destination.to_string(), "class": classify(r.destination).as_str()}))
            .collect();
        let value =
            json!({"name": args.name, "addresses": entries, "aaaa_filtered": aaaa_filtered});
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        for entry in &ordered {
            writeln!(out, "{} {}", entry.destination, classify(entry.destination))?;
        }
        if aaaa_filtered {
            writeln!(
                out,
                "# the server withheld AAAA records (ask with EDNS option {EXPLICIT_OPTION} to get them)"
            )?;
        }
    }
    Ok(())
}

/// The addresses of one answer.
async fn ask(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    explicit: bool,
) -> anyhow::Result<Vec<IpAddr>> {
    let mut query = Message::query();
    query.metadata.id = rand::random();
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(name.clone(), rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    if explicit {
        edns.options_mut()
            .insert(EdnsOption::Unknown(EXPLICIT_OPTION, Vec::new()));
    }
    query.edns = Some(edns);
    let answer = client::exchange(server, &query, TIMEOUT).await?;
    Ok(answer
        .answers
        .iter()
        .filter_map(|record| match &record.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
            _ => None,
        })
        .collect())
}
