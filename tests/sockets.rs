//! A process's IPv4 UDP sockets as the kernel lists them (`/proc/net/udp`, matched to the
//! process by the socket inodes of `/proc/PID/fd`): where each is bound and connected, what
//! waits in its receive queue, and how many datagrams the kernel dropped for it.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddrV4};

/// One line of `/proc/net/udp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpSocketInfo {
    /// Where it is bound.
    pub local: SocketAddrV4,
    /// Where it is connected (`0.0.0.0:0` when it is not).
    pub remote: SocketAddrV4,
    /// Bytes waiting in its receive queue (datagrams the process has not read yet).
    pub rx_queue: u64,
    /// Datagrams dropped for it: receive buffer full, or a checksum or filter failure.
    pub drops: u64,
}

/// The IPv4 UDP sockets process `pid` holds (in the caller's network namespace).
pub fn udp_sockets_of(pid: u32) -> Vec<UdpSocketInfo> {
    let inodes = socket_inodes(pid);
    let table = std::fs::read_to_string("/proc/net/udp").expect("read /proc/net/udp");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let inode: u64 = fields.get(9)?.parse().ok()?;
            inodes.contains(&inode).then_some(())?;
            Some(UdpSocketInfo {
                local: address(fields.get(1)?)?,
                remote: address(fields.get(2)?)?,
                rx_queue: u64::from_str_radix(fields.get(4)?.split_once(':')?.1, 16).ok()?,
                drops: fields.get(12)?.parse().ok()?,
            })
        })
        .collect()
}

/// The inodes of the sockets among the open files of `pid` (links `socket:[INODE]`).
fn socket_inodes(pid: u32) -> HashSet<u64> {
    let dir = format!("/proc/{pid}/fd");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("read {dir}: {e}"));
    entries
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_str()?;
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect()
}

/// `0100007F:0035`: the address as the kernel holds it (network order) printed as a
/// native-endian number, then the port in host order.
fn address(field: &str) -> Option<SocketAddrV4> {
    let (ip, port) = field.split_once(':')?;
    let ip = u32::from_str_radix(ip, 16).ok()?;
    let port = u16::from_str_radix(port, 16).ok()?;
    Some(SocketAddrV4::new(Ipv4Addr::from(ip.to_ne_bytes()), port))
}
