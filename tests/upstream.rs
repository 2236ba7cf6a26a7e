//! A real upstream: NLnet Labs' NSD (Debian's `nsd` package), authoritative for zones the test
//! writes, run in the foreground from a scratch directory as the current user, stopped on Drop.

use std::fmt;
use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::terminate;
use crate::{Dig, NetNs, Run, TempDir};

/// How long NSD may take to answer its first SOA query.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Port attempts: a free port found by binding and releasing it can be taken again by another
/// test process before NSD binds it.
const START_ATTEMPTS: usize = 5;

/// One zone NSD serves.
#[derive(Clone, Debug)]
pub struct Zone {
    origin: String,
    text: String,
    signed: bool,
}

impl Zone {
    /// A zone `origin` (absolute, e.g. `pathwise.test.`) with this master-file text.
    pub fn new(origin: &str, text: &str) -> Self {
        Self {
            origin: origin.to_owned(),
            text: text.to_owned(),
            signed: false,
        }
    }

    /// The same, DNSSEC-signed at start-up with fresh ECDSA P-256 keys (`ldns-keygen`,
    /// `ldns-signzone` from Debian's `ldnsutils`), so answers carry RRSIGs.
    pub fn signed(origin: &str, text: &str) -> Self {
        Self {
            signed: true,
            ..Self::new(origin, text)
        }
    }

    fn file_name(&self) -> String {
        format!("{}zone", self.origin)
    }
}

/// A running NSD.
#[derive(Debug)]
pub struct Upstream {
    child: Option<Child>,
    address: SocketAddr,
    command_line: String,
    dir: TempDir,
    netns: Option<String>,
}

impl Upstream {
    /// NSD on `127.0.0.1` and a free port, serving `zones`; returns once it answers.
    pub fn start(zones: &[Zone]) -> Self {
        let ip = Ipv4Addr::LOCALHOST;
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(None, SocketAddr::from((ip, free_port(ip))), zones) {
                Ok(upstream) => return upstream,
                Err(error) => last_error = error,
            }
        }
        panic!("nsd did not start in {START_ATTEMPTS} attempts; the last:\n{last_error}");
    }

    /// NSD on a fixed address, e.g. `127.0.0.153:53` (below 1024: root only).
    pub fn start_at(address: SocketAddr, zones: &[Zone]) -> Self {
        Self::try_start(None, address, zones).unwrap_or_else(|error| panic!("{error}"))
    }

    /// NSD inside a network namespace, on `address` there (a fresh namespace has every port
    /// free).
    pub fn start_in_netns(netns: &NetNs, address: SocketAddr, zones: &[Zone]) -> Self {
        Self::try_start(Some(netns.name()), address, zones)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    fn try_start(netns: Option<&str>, address: SocketAddr, zones: &[Zone]) -> Result<Self, String> {
        let dir = TempDir::new("nsd");
        for zone in zones {
            write_zone(&dir, zone);
        }
        let config = dir.write("nsd.conf", &nsd_conf(dir.path(), address, zones));
        let stderr = File::create(dir.path().join("nsd.stderr")).expect("create nsd.stderr");
        let mut command = match netns {
            Some(name) => {
                let mut command = Command::new("ip");
                command.args(["netns", "exec", name]).arg(nsd_binary());
                command
            }
            None => Command::new(nsd_binary()),
        };
        command
            .arg("-d")
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        let command_line = format!("{command:?}");
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {command_line}: {e} (is nsd installed?)"));
        let mut upstream = Self {
            child: Some(child),
            address,
            command_line,
            dir,
            netns: netns.map(str::to_owned),
        };
        let probe = zones.first().map_or(".", |z| z.origin.as_str());
        match upstream.wait_until_answering(probe) {
            Ok(()) => Ok(upstream),
            Err(why) => {
                upstream.stop();
                Err(format!("{why}\n{upstream}"))
            }
        }
    }

    fn wait_until_answering(&mut self, origin: &str) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!("nsd exited at start-up: {status}"));
            }
            let mut probe = Dig::new(self.address, origin, "SOA").timeout(1);
            if let Some(name) = &self.netns {
                probe = probe.in_netns(name);
            }
            let mut probe = probe.command();
            let run = Run::command(&mut probe);
            if run.stdout().contains("status: NOERROR") {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "nsd did not answer SOA {origin} in {START_TIMEOUT:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Where NSD listens (UDP and TCP).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The address as an `upstream.servers` entry: `"127.0.0.1:NNNN"`.
    pub fn spec(&self) -> String {
        self.address.to_string()
    }

    /// Stops NSD (SIGTERM, then SIGKILL); queries to it fail from then on.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child, Duration::from_secs(3));
        }
    }

    /// The scratch directory: zone files, `nsd.conf`, `nsd.log`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!("{self}");
        }
    }
}

impl fmt::Display for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let read =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        writeln!(
            f,
            "--- upstream nsd on {}: {}",
            self.address, self.command_line
        )?;
        writeln!(f, "--- nsd.conf:\n{}", read("nsd.conf"))?;
        writeln!(f, "--- nsd.log:\n{}", read("nsd.log"))?;
        write!(f, "--- nsd stderr:\n{}", read("nsd.stderr"))
    }
}

/// `/usr/sbin/nsd` (not on a non-root PATH), else whatever `nsd` the PATH has.
fn nsd_binary() -> PathBuf {
    let sbin = Path::new("/usr/sbin/nsd");
    if sbin.is_file() {
        sbin.to_path_buf()
    } else {
        PathBuf::from("nsd")
    }
}

/// A port free on `ip` for both UDP and TCP at the time of asking.
pub fn free_port(ip: Ipv4Addr) -> u16 {
    loop {
        let udp = UdpSocket::bind((ip, 0)).expect("bind a UDP socket on loopback");
        let port = udp.local_addr().expect("a bound socket's address").port();
        if TcpListener::bind((ip, port)).is_ok() {
            return port;
        }
    }
}

/// Everything in the scratch directory; no chroot, no privilege drop, no control socket, no
/// database file, no rate limiting (the tests send bursts from one address), one server process.
fn nsd_conf(dir: &Path, address: SocketAddr, zones: &[Zone]) -> String {
    let dir = dir.display();
    let ip: IpAddr = address.ip();
    let port = address.port();
    let mut conf = format!(
        "server:
    ip-address: {ip}@{port}
    port: {port}
    do-ip6: no
    username: \"\"
    chroot: \"\"
    zonesdir: \"{dir}\"
    database: \"\"
    zonelistfile: \"{dir}/zone.list\"
    xfrdfile: \"{dir}/xfrd.state\"
    xfrdir: \"{dir}\"
    pidfile: \"{dir}/nsd.pid\"
    logfile: \"{dir}/nsd.log\"
    verbosity: 1
    server-count: 1
    rrl-ratelimit: 0
    hide-version: yes
remote-control:
    control-enable: no
"
    );
    for zone in zones {
        let file = if zone.signed {
            format!("{}.signed", zone.file_name())
        } else {
            zone.file_name()
        };
        conf.push_str(&format!(
            "zone:\n    name: \"{}\"\n    zonefile: \"{file}\"\n",
            zone.origin
        ));
    }
    conf
}

/// Writes the zone file, and signs it when asked.
fn write_zone(dir: &TempDir, zone: &Zone) {
    dir.write(&zone.file_name(), &zone.text);
    if !zone.signed {
        return;
    }
    let keygen = |extra: &[&str]| {
        let mut command = Command::new("ldns-keygen");
        command
            .current_dir(dir.path())
            .args(["-a", "ECDSAP256SHA256"])
            .args(extra)
            .arg(&zone.origin);
        let run = Run::command(&mut command);
        run.success();
        run.stdout().trim().to_owned()
    };
    let ksk = keygen(&["-k"]);
    let zsk = keygen(&[]);
    let mut sign = Command::new("ldns-signzone");
    sign.current_dir(dir.path())
        .args(["-o", &zone.origin, "-f"])
        .arg(format!("{}.signed", zone.file_name()))
        .arg(zone.file_name())
        .args([&ksk, &zsk]);
    Run::command(&mut sign).success();
}
