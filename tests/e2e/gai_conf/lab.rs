//! A host in a network namespace whose glibc is configured by `pathwise gai-conf`: its
//! getaddrinfo order for a name in its hosts file, and `pathwise order` over its own addresses.

use std::net::IpAddr;

use pathwise_tests::{NetNs, Run};

/// A host: the addresses on its one interface (`pw0`), besides loopback and link-local.
#[derive(Debug)]
pub(super) struct Host {
    pub(super) name: &'static str,
    pub(super) addresses: &'static [&'static str],
}

/// A namespace set up as `host`, with `/etc/gai.conf` from `pathwise gai-conf --table T`, and
/// name lookups confined to its own hosts file: `hosts: files` only, `multi on` so a name on
/// several lines gets all its addresses, and a resolver on loopback that is never asked.
pub(super) struct Lab {
    ns: NetNs,
    table: &'static str,
    gai_conf: String,
}

impl Lab {
    pub(super) fn new(host: &Host, table: &'static str) -> Self {
        let ns = NetNs::new("pwgai");
        for address in host.addresses {
            let mut args = vec!["address", "add", address, "dev", "pw0"];
            if address.contains(':') {
                args.push("nodad");
            }
            ns.ip(&args);
        }
        // Every destination needs a route, or glibc finds no source for it (rule 1).
        ns.ip(&["-4", "route", "add", "default", "dev", "pw0"]);
        ns.ip(&["-6", "route", "add", "default", "dev", "pw0"]);

        let gai_conf = Run::pathwise(["gai-conf", "--table", table])
            .success()
            .stdout()
            .to_owned();
        ns.write_etc("gai.conf", &gai_conf);
        ns.write_etc("nsswitch.conf", "hosts: files\n");
        ns.write_etc("host.conf", "multi on\n");
        ns.write_etc("resolv.conf", "nameserver 127.0.0.1\n");
        let lab = Self {
            ns,
            table,
            gai_conf,
        };
        let installed = lab.ns.exec("cat", &["/etc/gai.conf"]);
        installed.check(
            installed.stdout() == lab.gai_conf,
            "pathwise's gai.conf is not installed",
        );
        lab
    }

    /// Writes the hosts file: each name on one line per address, in the order given.
    pub(super) fn hosts(&self, entries: &[(&str, &[&str])]) {
        let mut hosts = String::new();
        for (name, addresses) in entries {
            for address in *addresses {
                hosts.push_str(&format!("{address} {name}\n"));
            }
        }
        self.ns.write_etc("hosts", &hosts);
    }

    /// glibc's order for `name`: `getent ahosts` inside the namespace (getaddrinfo with
    /// AF_UNSPEC), each address once (getent prints it per socket type: STREAM, DGRAM, RAW).
    pub(super) fn glibc(&self, name: &str) -> (Vec<IpAddr>, Run) {
        let run = self.ns.exec("getent", &["ahosts", name]);
        let mut order: Vec<IpAddr> = Vec::new();
        for line in run.stdout().lines() {
            let word = line.split_whitespace().next().unwrap_or_default();
            let address = word
                .parse()
                .unwrap_or_else(|_| run.fail(format!("bad line {line:?}")));
            if !order.contains(&address) {
                order.push(address);
            }
        }
        (order, run)
    }

    /// pathwise's order for `destinations`, with the namespace's addresses as sources.
    pub(super) fn pathwise(&self, destinations: &[&str]) -> (Vec<IpAddr>, Run) {
        let mut args = vec!["order".to_owned(), "--json".into(), "--table".into()];
        args.push(self.table.into());
        for source in self.ns.addresses() {
            args.push("--source".into());
            args.push(format!("{}/{}", source.address, source.prefix_len));
        }
        args.extend(destinations.iter().map(|d| d.to_string()));
        let run = Run::pathwise(&args);
        let json = run.success().json();
        let order = json
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| a.as_str().and_then(|a| a.parse().ok()))
            .collect::<Option<Vec<IpAddr>>>()
            .unwrap_or_else(|| run.fail("expected a JSON array of addresses"));
        (order, run)
    }

    /// The gai.conf installed in the namespace.
    pub(super) fn gai_conf(&self) -> &str {
        &self.gai_conf
    }
}
