//! A minimal HTTP/1.1 client for pathwise's metrics endpoint and a test Prometheus: one request
//! per connection, as both servers close after answering. Loopback only.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One HTTP response.
#[derive(Debug)]
pub struct HttpResponse {
    /// The status code; 0 if the status line did not parse.
    pub status: u16,
    /// The header lines, as sent.
    pub headers: Vec<String>,
    /// The body.
    pub body: String,
}

impl HttpResponse {
    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }
}

/// `GET path` from `server`.
pub fn http_get(server: SocketAddr, path: &str) -> HttpResponse {
    http_raw(
        server,
        format!("GET {path} HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// Sends `request` as it is and reads the whole response (until the server closes).
pub fn http_raw(server: SocketAddr, request: &[u8]) -> HttpResponse {
    let mut stream = TcpStream::connect_timeout(&server, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connect {server}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a timeout");
    stream
        .write_all(request)
        .unwrap_or_else(|e| panic!("send to {server}: {e}"));
    let mut bytes = Vec::new();
    stream
        .read_to_end(&mut bytes)
        .unwrap_or_else(|e| panic!("read from {server}: {e}"));
    parse(&String::from_utf8_lossy(&bytes))
}

fn parse(text: &str) -> HttpResponse {
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    HttpResponse {
        status,
        headers: lines.map(str::to_owned).collect(),
        body: body.to_owned(),
    }
}
