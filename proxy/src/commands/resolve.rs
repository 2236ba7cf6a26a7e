//! `pathwise resolve NAME`: A and AAAA through a server, in the order an application here
//! should try them (docs/behaviour.md).

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use hickory_proto::op::{Edns, Message, Query, ResponseCode};
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::{Name, RData, RecordType};
use pathwise_policy::{PolicyTable, classify, sort_destinations};
use serde_json::json;

use crate::{client, host};

/// `pathwise resolve`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when the server gave at least one address; \
1 when it gave none (NXDOMAIN, or no A or AAAA record), answered with an error (SERVFAIL, \
REFUSED...) or did not answer in time, each said on stderr; 2 for a bad argument."
)]
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
/// The explicit-ask option pathwise honours by default (`policy.explicit.edns_option`).
fn explicit_option() -> u16 {
    crate::config::ExplicitConfig::default().edns_option
}

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
    let a = a.with_context(|| format!("asking {} for A", args.server))?;
    let aaaa = aaaa.with_context(|| format!("asking {} for AAAA", args.server))?;
    let aaaa_filtered =
        explicit.is_ok_and(|explicit| explicit.addresses.len() > aaaa.addresses.len());
    let nxdomain = a.rcode == ResponseCode::NXDomain;
    let mut addresses = a.addresses;
    addresses.extend(aaaa.addresses);
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
                "# the server withheld AAAA records (ask with EDNS option {} to get them)",
                explicit_option()
            )?;
        }
    }
    if nxdomain {
        anyhow::bail!(
            "{} does not exist (NXDOMAIN from {})",
            args.name,
            args.server
        );
    }
    if ordered.is_empty() {
        anyhow::bail!(
            "{} has no A or AAAA record (asked {})",
            args.name,
            args.server
        );
    }
    Ok(())
}

/// What one query got: the rcode (NOERROR or NXDOMAIN; any other is an error) and the
/// addresses of the answer section.
struct Answer {
    rcode: ResponseCode,
    addresses: Vec<IpAddr>,
}

/// The addresses of one answer; an error for an rcode other than NOERROR and NXDOMAIN.
async fn ask(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    explicit: bool,
) -> anyhow::Result<Answer> {
    let mut query = Message::query();
    query.metadata.id = rand::random();
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(name.clone(), rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    if explicit {
        edns.options_mut()
            .insert(EdnsOption::Unknown(explicit_option(), Vec::new()));
    }
    query.edns = Some(edns);
    let answer = client::exchange(server, &query, TIMEOUT).await?;
    let rcode = answer.metadata.response_code;
    if !matches!(rcode, ResponseCode::NoError | ResponseCode::NXDomain) {
        anyhow::bail!("the server answered {}", rcode_name(rcode));
    }
    let addresses = answer
        .answers
        .iter()
        .filter_map(|record| match &record.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
            _ => None,
        })
        .collect();
    Ok(Answer { rcode, addresses })
}

/// The rcode's mnemonic (RFC 1035, RFC 6895), as dig prints it: `SERVFAIL`, `REFUSED`...
fn rcode_name(rcode: ResponseCode) -> String {
    match rcode {
        ResponseCode::ServFail => "SERVFAIL".to_owned(),
        ResponseCode::Refused => "REFUSED".to_owned(),
        ResponseCode::FormErr => "FORMERR".to_owned(),
        ResponseCode::NotImp => "NOTIMP".to_owned(),
        other => format!("rcode {}", u16::from(other)),
    }
}
