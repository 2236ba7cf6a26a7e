//! A network namespace owned by one test, with its own `/etc/netns/<name>/` files; both are
//! removed on Drop, even when the test fails.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::Run;

/// A network namespace `<prefix>-<pid>-<n>` holding loopback (up) and a veth pair `pw0`/`pw1`
/// (both up, both inside the namespace, so nothing it does reaches the host's network).
/// IPv6 duplicate address detection is off inside it, so no address is ever tentative.
#[derive(Debug)]
pub struct NetNs {
    name: String,
    etc: PathBuf,
}

/// An address configured in the namespace, as `ip -json address` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NsAddress {
    /// The interface it is on.
    pub interface: String,
    /// The address.
    pub address: IpAddr,
    /// Its on-link prefix length.
    pub prefix_len: u8,
}

impl NetNs {
    /// Creates the namespace. Panics (after cleaning up) when `ip` fails.
    pub fn new(prefix: &str) -> Self {
        static SWEEP: Once = Once::new();
        SWEEP.call_once(|| sweep_dead(prefix));
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let name = format!("{prefix}-{}-{n}", std::process::id());
        let etc = Path::new("/etc/netns").join(&name);
        // The guard exists before the namespace does, so a failure below still removes it.
        let ns = Self { name, etc };
        Run::command(Command::new("ip").args(["netns", "add", &ns.name])).success();
        ns.exec(
            "sh",
            &["-c", "echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad"],
        );
        ns.ip(&["link", "set", "lo", "up"]);
        ns.ip(&["link", "add", "pw0", "type", "veth", "peer", "name", "pw1"]);
        ns.ip(&["link", "set", "pw0", "up"]);
        ns.ip(&["link", "set", "pw1", "up"]);
        ns
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip -n <name> ARGS...` and asserts it succeeded.
    pub fn ip(&self, args: &[&str]) -> Run {
        let run = Run::command(Command::new("ip").args(["-n", &self.name]).args(args));
        run.success();
        run
    }

    /// Runs `ip netns exec <name> PROGRAM ARGS...` and asserts it succeeded, and that every
    /// `/etc/netns/<name>/` file was bind-mounted over its `/etc` twin.
    pub fn exec(&self, program: &str, args: &[&str]) -> Run {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.name, program])
            .args(args);
        let run = Run::command(&mut command);
        run.success();
        run.check(
            !run.stderr().contains("Bind /etc/netns/"),
            "a /etc/netns bind mount failed",
        );
        run
    }

    /// `getent DATABASE NAME` inside (`ahosts`: AF_UNSPEC, A and AAAA asked together;
    /// `ahostsv6`: AF_INET6 with AI_V4MAPPED, AAAA asked alone), each address once, in glibc's
    /// order.
    pub fn getent(&self, database: &str, name: &str) -> Vec<IpAddr> {
        let run = self.exec("getent", &[database, name]);
        let mut addresses = Vec::new();
        for line in run.stdout().lines() {
            let word = line.split_whitespace().next().unwrap_or_default();
            let address: IpAddr = word
                .parse()
                .unwrap_or_else(|e| run.fail(format!("`{word}` is no address: {e}")));
            if !addresses.contains(&address) {
                addresses.push(address);
            }
        }
        addresses
    }

    /// Writes `/etc/netns/<name>/FILE`, which `ip netns exec` bind-mounts over `/etc/FILE`.
    /// The bind mount needs `/etc/FILE` to exist on the host.
    pub fn write_etc(&self, file: &str, contents: &str) {
        let target = Path::new("/etc").join(file);
        assert!(
            target.exists(),
            "{} does not exist on this host, so `ip netns exec` cannot bind-mount \
             /etc/netns/{}/{file} over it",
            target.display(),
            self.name
        );
        std::fs::create_dir_all(&self.etc).expect("create /etc/netns/<name>");
        let path = self.etc.join(file);
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Every address in the namespace, loopback and link-local included.
    pub fn addresses(&self) -> Vec<NsAddress> {
        let run = self.ip(&["-json", "address", "show"]);
        let links = run.json();
        let mut addresses = Vec::new();
        for link in links.as_array().into_iter().flatten() {
            let interface = link["ifname"].as_str().unwrap_or_default();
            for info in link["addr_info"].as_array().into_iter().flatten() {
                let parsed = info["local"].as_str().and_then(|a| a.parse().ok());
                let prefix_len = info["prefixlen"]
                    .as_u64()
                    .and_then(|p| u8::try_from(p).ok());
                let (Some(address), Some(prefix_len)) = (parsed, prefix_len) else {
                    run.fail(format!("unexpected addr_info entry {info}"));
                };
                let interface = interface.to_owned();
                addresses.push(NsAddress {
                    interface,
                    address,
                    prefix_len,
                });
            }
        }
        addresses
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        remove(&self.name, &self.etc);
    }
}

/// Deletes a namespace and its `/etc/netns` directory, reporting (never panicking: this runs
/// during unwinding) what could not be removed.
fn remove(name: &str, etc: &Path) {
    match Command::new("ip").args(["netns", "delete", name]).output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => eprintln!(
            "cleanup: ip netns delete {name}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => eprintln!("cleanup: ip netns delete {name}: {e}"),
    }
    if let Err(e) = std::fs::remove_dir_all(etc)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        eprintln!("cleanup: remove {}: {e}", etc.display());
    }
}

/// Removes namespaces `<prefix>-<pid>-<n>` left behind by test processes that were killed
/// before their guards could run (a SIGKILL, a timeout), identified by a pid no longer alive.
fn sweep_dead(prefix: &str) {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(prefix).and_then(|r| r.strip_prefix('-')) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            eprintln!("cleanup: removing namespace {name} left by a dead test process");
            remove(&name, &Path::new("/etc/netns").join(&name));
        }
    }
}
