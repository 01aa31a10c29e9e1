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
//! GET  /v1/health      (503 when a core's loop stalled or a worker did not answer)
//! ```
//! Every display answers JSON, or the reference text with `format=text`. The data
//! comes from the cores through their inboxes, a bounded chunk per loop iteration, so
//! a display never stops forwarding.
use crate::config::Management;
use crate::control::Control;
use crate::display::{self, Shown};
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

/// The query string as (key, value) pairs, percent-decoded; a bare key has an empty value.
fn query(url: &str) -> Vec<(String, String)> {
    let Some((_, q)) = url.split_once('?') else { return Vec::new() };
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
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
    /// A display whose content is also a failure (an unhealthy appliance).
    Failed(u16, Shown),
    Error(u16, String),
}

/// The API's resources, each answering one method.
#[derive(Clone, Copy)]
enum Resource {
    SessionTable,
    Reset,
    ServerMap,
    NatAddressGroup,
    NatStatistics,
    Interface,
    Statistics,
    Reload,
    Health,
}

fn resource(path: &str) -> Option<(Resource, Method)> {
    use Resource::*;
    Some(match path {
        "/v1/firewall/session-table" => (SessionTable, Method::Get),
        "/v1/firewall/session-table/reset" => (Reset, Method::Post),
        "/v1/firewall/server-map" => (ServerMap, Method::Get),
        "/v1/nat/address-group" => (NatAddressGroup, Method::Get),
        "/v1/nat/statistics" => (NatStatistics, Method::Get),
        "/v1/interface" => (Interface, Method::Get),
        "/v1/statistics" => (Statistics, Method::Get),
        "/v1/reload" => (Reload, Method::Post),
        "/v1/health" => (Health, Method::Get),
        _ => return None,
    })
}

fn route(c: &Control, method: &Method, path: &str, q: &[(String, String)]) -> Reply {
    let Some((res, allowed)) = resource(path) else {
        return Reply::Error(404, format!("no such resource: {path}"));
    };
    if *method != allowed {
        return Reply::Error(405, format!("{method} is not allowed on {path}"));
    }
    // Only the session table takes filters; one the operator got wrong is a bad request.
    let filter = match res {
        Resource::SessionTable | Resource::Reset => match filter_of(q) {
            Ok(f) => f,
            Err(e) => return Reply::Error(400, e),
        },
        _ => SessionFilter::default(),
    };
    let has = |k: &str| q.iter().any(|(key, _)| key == k);
    let a = c.appliance();
    let shown = match res {
        Resource::SessionTable => display::session_table(a, &filter, has("verbose")),
        Resource::Reset => display::reset(a, &filter),
        Resource::ServerMap => display::server_map(a),
        Resource::NatAddressGroup => display::nat_address_group(a, &c.rules()),
        Resource::NatStatistics => display::nat_statistics(a),
        Resource::Interface => Ok(display::interfaces(a)),
        Resource::Statistics => Ok(display::statistics(a, has("drop"))),
        Resource::Reload => return reload(c),
        Resource::Health => return health(c),
    };
    match shown {
        Ok(s) => Reply::Shown(s),
        // A core that did not answer in time, or whose inbox is full.
        Err(e) => Reply::Error(503, e.to_string()),
    }
}

fn reload(c: &Control) -> Reply {
    match c.reload() {
        Ok(m) => {
            tracing::info!("{m}");
            Reply::Shown(Shown { text: format!("{m}\n"), json: serde_json::json!({ "result": m }) })
        }
        Err(m) => {
            tracing::warn!("{m}");
            Reply::Error(409, m)
        }
    }
}

/// Long enough for every core to publish its counters several times over.
const HEALTH_WINDOW: std::time::Duration = std::time::Duration::from_millis(100);
const HEALTH_ANSWER: std::time::Duration = std::time::Duration::from_secs(1);

fn health(c: &Control) -> Reply {
    let h = crate::health::check(c.appliance(), HEALTH_WINDOW, HEALTH_ANSWER);
    let shown = Shown { text: crate::render::health(&h), json: serde_json::json!(h) };
    if h.healthy {
        Reply::Shown(shown)
    } else {
        tracing::warn!("health check failed:\n{}", shown.text);
        Reply::Failed(503, shown)
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
        Reply::Failed(code, s) if text => (code, s.text, "text/plain; charset=utf-8"),
        Reply::Failed(code, s) => (code, format!("{:#}\n", s.json), "application/json"),
        Reply::Error(code, m) if text => (code, format!("{m}\n"), "text/plain; charset=utf-8"),
        Reply::Error(code, m) => {
            (code, format!("{:#}\n", serde_json::json!({ "error": m })), "application/json")
        }
    };
    let header = Header::from_bytes("Content-Type", content_type).expect("static header is valid");
    let _ = req.respond(Response::from_string(body).with_status_code(status).with_header(header));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_percent_decoded() {
        let q = query("/v1/firewall/session-table?source=192.168.1.1&protocol=t%63p&verbose&x=a+b%2Fc");
        let want = [("source", "192.168.1.1"), ("protocol", "tcp"), ("verbose", ""), ("x", "a b/c")];
        assert_eq!(q, want.map(|(k, v)| (k.to_string(), v.to_string())));
        assert_eq!(filter_of(&q[..3]).map(|f| f.protocol.is_some()), Ok(true));
    }
}
