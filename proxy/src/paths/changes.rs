//! Wake-ups when the kernel changes an address, route or link (rtnetlink, Linux only), so the
//! watcher reacts at once rather than at its next poll. Only *that* something changed is used:
//! the watcher then reads the whole picture again, which is simpler than keeping a mirror of
//! the kernel's tables and cannot drift from it.

use std::io;

/// A subscription to the kernel's change notifications.
pub struct Changes {
    #[cfg(target_os = "linux")]
    socket: tokio::io::unix::AsyncFd<netlink_sys::Socket>,
    #[cfg(target_os = "linux")]
    buffer: Vec<u8>,
}

#[cfg(target_os = "linux")]
impl Changes {
    /// `RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR |
    /// RTMGRP_IPV6_ROUTE` (linux/rtnetlink.h).
    const GROUPS: u32 = 0x1 | 0x10 | 0x40 | 0x100 | 0x400;
    /// The kernel dropped notifications because we were slow: something changed all the same.
    const ENOBUFS: i32 = 105;

    /// Subscribes; must be called inside the runtime.
    pub fn subscribe() -> io::Result<Self> {
        use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind(&SocketAddr::new(0, Self::GROUPS))?;
        socket.set_non_blocking(true)?;
        // `AsyncFd::new` is deprecated for owners whose `as_raw_fd` could change or close
        // early; `netlink_sys::Socket` owns its one descriptor until it is dropped with the
        // `AsyncFd`, which is what `register`'s safety contract asks, without `unsafe` here.
        #[expect(
            deprecated,
            reason = "the Socket owns its fd for the AsyncFd's lifetime"
        )]
        let socket = tokio::io::unix::AsyncFd::new(socket)?;
        Ok(Self {
            socket,
            buffer: Vec::with_capacity(16 * 1024),
        })
    }

    /// Waits until at least one notification arrives, then takes every one queued, so a burst
    /// (an address, its route, its flags) is one wake-up.
    pub async fn next(&mut self) -> io::Result<()> {
        loop {
            let mut ready = self.socket.readable().await?;
            let mut changed = false;
            loop {
                self.buffer.clear();
                match ready.get_inner().recv(&mut self.buffer, 0) {
                    Ok(_) => changed = true,
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                        ready.clear_ready();
                        break;
                    }
                    Err(error) if error.raw_os_error() == Some(Self::ENOBUFS) => changed = true,
                    Err(error) => return Err(error),
                }
            }
            if changed {
                return Ok(());
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
impl Changes {
    /// Not available here: the watcher polls.
    pub fn subscribe() -> io::Result<Self> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "change notifications need Linux's rtnetlink",
        ))
    }

    /// Never resolves.
    pub async fn next(&mut self) -> io::Result<()> {
        std::future::pending().await
    }
}
