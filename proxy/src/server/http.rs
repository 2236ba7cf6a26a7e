//! The HTTP endpoint on `metrics.listen`: `/metrics`, `/healthz`, `/readyz`, `/paths`.
//!
//! A few lines of HTTP/1.1 rather than a web framework: four fixed GET routes, one request per
//! connection (`Connection: close`), a bounded request head read under a timeout, and a bound
//! on concurrent connections. Anything else gets 400, 404, 405 or 408, and nothing a client
//! sends can stop the endpoint or the DNS server.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use super::state::Shared;
use crate::config::PathOverride;
use crate::paths::{Inventory, Report};

/// The longest request head read; longer ones get 431.
const MAX_HEAD: usize = 8 * 1024;
/// How long a client may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long writing the response may take.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Concurrent connections; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 32;

/// A response: status, content type, body.
struct Response {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    /// Send `Allow: GET, HEAD` (with 405).
    allow: bool,
    /// A HEAD request: the headers a GET would get, no body.
    head_only: bool,
}

impl Response {
    fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.as_bytes().to_vec(),
            allow: false,
            head_only: false,
        }
    }
}

/// Serves `listener` until `shutdown` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => permit.expect("the semaphore is never closed"),
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::debug!(%error, "http accept error");
                    continue;
                }
            },
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            handle(stream, &shared).await;
            drop(permit);
        });
    }
}

/// Reads one request, answers it, closes.
async fn handle(mut stream: TcpStream, shared: &Arc<Shared>) {
    let response = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Err(_) => Response::text(408, "request timeout\n"),
        Ok(Err(status)) => Response::text(status, "bad request\n"),
        Ok(Ok(head)) => route(&head, shared).await,
    };
    let _ = tokio::time::timeout(WRITE_TIMEOUT, write(&mut stream, &response)).await;
}

/// The request head, up to the blank line; 400 for a connection closed early, 431 if too long.
async fn read_head(stream: &mut TcpStream) -> Result<Vec<u8>, u16> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream.read(&mut chunk).await.map_err(|_| 400_u16)?;
        if read == 0 {
            return Err(400);
        }
        head.extend_from_slice(&chunk[..read]);
        if head.windows(4).any(|window| window == b"\r\n\r\n")
            || head.windows(2).any(|window| window == b"\n\n")
        {
            return Ok(head);
        }
        if head.len() > MAX_HEAD {
            return Err(431);
        }
    }
}

/// The response to a request head.
async fn route(head: &[u8], shared: &Arc<Shared>) -> Response {
    let line = head
        .split(|&byte| byte == b'\n')
        .next()
        .map(|line| String::from_utf8_lossy(line).trim_end().to_owned())
        .unwrap_or_default();
    let mut words = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return Response::text(400, "bad request line\n");
    };
    if !version.starts_with("HTTP/1.") {
        return Response::text(400, "HTTP/1.x only\n");
    }
    let path = target.split('?').next().unwrap_or_default();
    let known = matches!(path, "/metrics" | "/healthz" | "/readyz" | "/paths");
    if !known {
        return Response::text(404, "not found: /metrics, /healthz, /readyz, /paths\n");
    }
    let head_only = method == "HEAD";
    if method != "GET" && !head_only {
        let mut response = Response::text(405, "method not allowed: GET or HEAD\n");
        response.allow = true;
        return response;
    }
    let mut response = match path {
        "/metrics" => {
            shared.refresh_gauges();
            Response {
                status: 200,
                content_type: "text/plain; version=0.0.4; charset=utf-8",
                body: shared.metrics.encode(),
                allow: false,
                head_only: false,
            }
        }
        "/healthz" => healthz(shared),
        "/readyz" => match shared.readiness() {
            Ok(()) => Response::text(200, "ready\n"),
            Err(why) => Response::text(503, &format!("not ready: {why}\n")),
        },
        _ => paths(shared).await,
    };
    response.head_only = head_only;
    response
}

/// `/healthz`: ok while every listener serves; 503 naming those that ended.
fn healthz(shared: &Shared) -> Response {
    let ended = shared.liveness.ended();
    if ended.is_empty() {
        Response::text(200, "ok\n")
    } else {
        Response::text(503, &format!("listener ended: {}\n", ended.join(", ")))
    }
}

/// `/paths`: as `pathwise paths --json`, with the server's own (stabilised) path state.
async fn paths(shared: &Arc<Shared>) -> Response {
    let settings = shared.settings();
    let config = settings.config.paths.clone();
    let read = tokio::task::spawn_blocking(move || Inventory::read(&config)).await;
    let inventory = match read {
        Ok(Ok(inventory)) => inventory,
        Ok(Err(error)) => return Response::text(500, &format!("reading the host: {error}\n")),
        Err(_) => return Response::text(500, "reading the host failed\n"),
    };
    let report = Report {
        inventory: &inventory,
        state: shared.paths(),
        pinned: matches!(settings.config.paths.path_override, PathOverride::Fixed(_)),
        mode: settings.policy.filter_aaaa,
    };
    let mut body = serde_json::to_vec_pretty(&report.to_json()).unwrap_or_default();
    body.push(b'\n');
    Response {
        status: 200,
        content_type: "application/json",
        body,
        allow: false,
        head_only: false,
    }
}

async fn write(stream: &mut TcpStream, response: &Response) -> std::io::Result<()> {
    let reason = match response.status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
    let allow = if response.allow {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{allow}\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        response.status,
        response.content_type,
        response.body.len(),
    );
    stream.write_all(head.as_bytes()).await?;
    if !response.head_only {
        stream.write_all(&response.body).await?;
    }
    stream.shutdown().await
}
