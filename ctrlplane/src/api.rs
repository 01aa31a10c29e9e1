//! The management API: HTTP with JSON bodies on a Unix socket (mode 0600, root only)
//! and, if the config asks, a loopback TCP address. `fwctl` is its client; `curl
//! --unix-socket /run/ferrowall/api.sock http://x/v1/statistics` works too.
//!
//! ```text
//! GET  /v1/firewall/session-table[?verbose&source=IP&destination=IP&protocol=P]
//! POST /v1/firewall/session-table/reset[?source=IP&destination=IP&protocol=P]
//! GET  /v1/firewall/server-map
//! GET  /v1/nat/address-group
//! GET  /v1/nat/statistics
//! GET  /v1/interface
//! GET  /v1/statistics[?drop]
//! POST /v1/reload
//! ```
//! Every display answers JSON, or the reference text with `format=text`. The data
//! comes from the cores through their inboxes, a bounded chunk per loop iteration, so
//! a display never stops forwarding.
use crate::config::Management;
use crate::control::Control;
use crate::views::{self, Shown};
use anyhow::Context;
use dataplane::session::SessionFilter;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use tiny_http::{Header, Method, Request, Response, Server};

pub struct ApiServer {
    servers: Vec<Arc<Server>>,
    threads: Vec<JoinHandle<()>>,
    socket: Option<PathBuf>,
}

impl ApiServer {
    pub fn start(control: Arc<Control>, m: &Management) -> anyhow::Result<ApiServer> {
        let mut servers = Vec::new();
        if let Some(path) = &m.socket {
            servers.push(Arc::new(bind_socket(path)?));
            tracing::info!(socket = %path.display(), "management API listening");
        }
        if let Some(addr) = m.listen {
            let server = Server::http(addr).map_err(|e| anyhow::anyhow!("management API on {addr}: {e}"))?;
            servers.push(Arc::new(server));
            tracing::info!(%addr, "management API listening");
        }
        let threads = servers
            .iter()
            .map(|s| {
                let (s, c) = (s.clone(), control.clone());
                std::thread::Builder::new()
                    .name("fw-api".into())
                    .spawn(move || {
                        for req in s.incoming_requests() {
                            handle(&c, req);
                        }
                    })
                    .context("starting the API thread")
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(ApiServer { servers, threads, socket: m.socket.clone() })
    }

    /// Stops serving and removes the socket.
    pub fn stop(self) {
        for s in &self.servers {
            s.unblock();
        }
        for t in self.threads {
            let _ = t.join();
        }
        if let Some(p) = self.socket {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn bind_socket(path: &Path) -> anyhow::Result<Server> {
    if let Some(dir) = path.parent() {
        if !dir.exists() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            anyhow::bail!("{} is in use: is another ferrowall running?", path.display());
        }
        std::fs::remove_file(path)
            .with_context(|| format!("removing the stale socket {}", path.display()))?;
    }
    let server =
        Server::http_unix(path).map_err(|e| anyhow::anyhow!("management socket {}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("making {} root-only", path.display()))?;
    Ok(server)
}

/// The query string as (key, value) pairs; a bare key has an empty value.
fn query(url: &str) -> Vec<(String, String)> {
    let Some((_, q)) = url.split_once('?') else { return Vec::new() };
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (p.to_owned(), String::new()),
        })
        .collect()
}

fn filter_of(q: &[(String, String)]) -> Result<SessionFilter, String> {
    let mut f = SessionFilter::default();
    for (k, v) in q {
        match k.as_str() {
            "source" => {
                f.source = Some(v.parse().map_err(|_| format!("source {v:?} is not an IPv4 address"))?)
            }
            "destination" => {
                f.destination =
                    Some(v.parse().map_err(|_| format!("destination {v:?} is not an IPv4 address"))?)
            }
            "protocol" => f.protocol = Some(v.parse()?),
            "verbose" | "format" | "drop" => {}
            other => return Err(format!("unknown parameter {other:?}")),
        }
    }
    Ok(f)
}

enum Reply {
    Shown(Shown),
    Error(u16, String),
}

fn route(c: &Control, method: &Method, path: &str, q: &[(String, String)]) -> Reply {
    let has = |k: &str| q.iter().any(|(key, _)| key == k);
    let a = c.appliance();
    let get = *method == Method::Get;
    let post = *method == Method::Post;
    let shown = match (path, get, post) {
        ("/v1/firewall/session-table", true, _) => {
            filter_of(q).and_then(|f| views::session_table(a, &f, has("verbose")))
        }
        ("/v1/firewall/session-table/reset", _, true) => filter_of(q).and_then(|f| views::reset(a, &f)),
        ("/v1/firewall/server-map", true, _) => views::server_map(a),
        ("/v1/nat/address-group", true, _) => views::nat_address_group(a, &c.rules()),
        ("/v1/nat/statistics", true, _) => views::nat_statistics(a),
        ("/v1/interface", true, _) => Ok(views::interfaces(a)),
        ("/v1/statistics", true, _) => Ok(views::statistics(a, has("drop"))),
        ("/v1/reload", _, true) => {
            let r = c.reload();
            match &r {
                Ok(m) => tracing::info!("{m}"),
                Err(m) => tracing::warn!("{m}"),
            }
            return match r {
                Ok(m) => {
                    Reply::Shown(Shown { text: format!("{m}\n"), json: serde_json::json!({ "result": m }) })
                }
                Err(m) => Reply::Error(409, m),
            };
        }
        (
            "/v1/firewall/session-table"
            | "/v1/firewall/session-table/reset"
            | "/v1/firewall/server-map"
            | "/v1/nat/address-group"
            | "/v1/nat/statistics"
            | "/v1/interface"
            | "/v1/statistics"
            | "/v1/reload",
            _,
            _,
        ) => return Reply::Error(405, format!("{method} is not allowed on {path}")),
        _ => return Reply::Error(404, format!("no such resource: {path}")),
    };
    match shown {
        Ok(s) => Reply::Shown(s),
        // A filter the operator got wrong, or a core that did not answer in time.
        Err(e) if e.contains("did not answer") || e.contains("inbox is full") => Reply::Error(503, e),
        Err(e) => Reply::Error(400, e),
    }
}

fn handle(c: &Control, req: Request) {
    let url = req.url().to_owned();
    let q = query(&url);
    let path = url.split('?').next().unwrap_or("");
    let text = q.iter().any(|(k, v)| k == "format" && v == "text");
    let reply = route(c, req.method(), path, &q);
    let (status, body, content_type) = match reply {
        Reply::Shown(s) if text => (200, s.text, "text/plain; charset=utf-8"),
        Reply::Shown(s) => (200, format!("{:#}\n", s.json), "application/json"),
        Reply::Error(code, m) if text => (code, format!("{m}\n"), "text/plain; charset=utf-8"),
        Reply::Error(code, m) => {
            (code, format!("{:#}\n", serde_json::json!({ "error": m })), "application/json")
        }
    };
    let header = Header::from_bytes("Content-Type", content_type).expect("static header is valid");
    let _ = req.respond(Response::from_string(body).with_status_code(status).with_header(header));
}
