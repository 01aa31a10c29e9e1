//! `fwctl`, the operator's CLI: the reference appliance's verbs, sent to the management
//! API over its Unix socket (or a loopback TCP address).
//!
//! ```text
//! display firewall session-table [verbose] [source IP] [destination IP] [protocol P]
//! display firewall server-map [aspf]
//! display nat address-group | display nat statistics
//! display interface | display statistics [drop]
//! reset firewall session-table [source IP] [destination IP] [protocol P]
//! reload
//! health
//! ```
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::path::Path;
use std::time::Duration;
use tokio::net::{TcpStream, UnixStream};

/// An API request a command line becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
}

const USAGE: &str = "commands:
  display firewall session-table [verbose] [source IP] [destination IP] [protocol P]
  display firewall server-map [aspf]
  display nat address-group
  display nat statistics
  display interface
  display statistics [drop]
  reset firewall session-table [source IP] [destination IP] [protocol P]
  reload
  health      (exit 0 healthy, 1 a core stalled or did not answer, 3 no answer at all)";

pub fn usage() -> &'static str {
    USAGE
}

/// Turns the words of a command into a request; `json` asks for JSON instead of text.
pub fn parse(words: &[String], json: bool) -> Result<Request, String> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let format = if json { "format=json" } else { "format=text" };
    let (method, base, rest): (&'static str, &str, &[&str]) = match w.as_slice() {
        ["display", "firewall", "session-table", rest @ ..] => ("GET", "/v1/firewall/session-table", rest),
        ["display", "firewall", "server-map"] | ["display", "firewall", "server-map", "aspf"] => {
            ("GET", "/v1/firewall/server-map", &[])
        }
        ["display", "nat", "address-group"] => ("GET", "/v1/nat/address-group", &[]),
        ["display", "nat", "statistics"] => ("GET", "/v1/nat/statistics", &[]),
        ["display", "interface"] => ("GET", "/v1/interface", &[]),
        ["display", "statistics"] => ("GET", "/v1/statistics", &[]),
        ["display", "statistics", "drop"] => ("GET", "/v1/statistics", &["drop"]),
        ["reset", "firewall", "session-table", rest @ ..] => {
            ("POST", "/v1/firewall/session-table/reset", rest)
        }
        ["reload"] => ("POST", "/v1/reload", &[]),
        ["health"] => ("GET", "/v1/health", &[]),
        [] => return Err(format!("no command given\n{USAGE}")),
        _ => return Err(format!("unknown command: {}\n{USAGE}", w.join(" "))),
    };
    let mut params = vec![format.to_owned()];
    let mut it = rest.iter();
    while let Some(word) = it.next() {
        match *word {
            "verbose" if method == "GET" => params.push("verbose".into()),
            "drop" => params.push("drop".into()),
            "source" | "destination" | "protocol" => {
                let value = it.next().ok_or_else(|| format!("{word} needs a value"))?;
                if *word != "protocol" && value.parse::<std::net::Ipv4Addr>().is_err() {
                    return Err(format!("{word} {value:?} is not an IPv4 address"));
                }
                params.push(format!("{word}={value}"));
            }
            other => return Err(format!("unexpected word {other:?}\n{USAGE}")),
        }
    }
    Ok(Request { method, path: format!("{base}?{}", params.join("&")) })
}

/// Where the API is.
pub enum Endpoint<'a> {
    Socket(&'a Path),
    Tcp(&'a str),
}

/// Sends the request; returns the status code and the body.
pub fn send(endpoint: &Endpoint<'_>, req: &Request) -> Result<(u16, String), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("starting the client: {e}"))?;
    runtime.block_on(async {
        let answer = async {
            match endpoint {
                Endpoint::Socket(path) => {
                    let at = path.display().to_string();
                    let s = UnixStream::connect(path).await.map_err(|e| unreachable(&at, &e))?;
                    exchange(s, req).await
                }
                Endpoint::Tcp(addr) => {
                    let s = TcpStream::connect(addr).await.map_err(|e| unreachable(addr, &e))?;
                    exchange(s, req).await
                }
            }
        };
        tokio::time::timeout(TIMEOUT, answer)
            .await
            .map_err(|_| format!("ferrowall did not answer within {TIMEOUT:?}"))?
    })
}

fn unreachable(at: &str, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
            format!("cannot reach ferrowall at {at}: {e} (is ferrowall running?)")
        }
        std::io::ErrorKind::PermissionDenied => {
            format!("cannot reach ferrowall at {at}: {e} (the API socket is root-only)")
        }
        _ => format!("cannot reach ferrowall at {at}: {e}"),
    }
}

/// One request on a fresh HTTP/1.1 connection (hyper's client), the whole body read.
async fn exchange<S>(stream: S, req: &Request) -> Result<(u16, String), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let io = |e: hyper::Error| format!("talking to ferrowall: {e}");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(io)?;
    tokio::spawn(connection);
    let request = hyper::Request::builder()
        .method(req.method)
        .uri(&req.path)
        .header(hyper::header::HOST, "ferrowall")
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("bad request {}: {e}", req.path))?;
    let response = sender.send_request(request).await.map_err(io)?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.map_err(io)?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// How long fwctl waits for an answer (a core that does not answer fails the display
/// after 5 s on the appliance's side).
pub const TIMEOUT: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str, json: bool) -> Result<Request, String> {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>(), json)
    }

    #[test]
    fn verbs_become_requests() {
        assert_eq!(
            p("display firewall session-table verbose source 192.168.1.1 protocol pptp-gre", false).unwrap(),
            Request {
                method: "GET",
                path: "/v1/firewall/session-table?format=text&verbose&source=192.168.1.1&protocol=pptp-gre"
                    .into()
            }
        );
        assert_eq!(
            p("display firewall server-map aspf", true).unwrap().path,
            "/v1/firewall/server-map?format=json"
        );
        assert_eq!(p("display statistics drop", false).unwrap().path, "/v1/statistics?format=text&drop");
        assert_eq!(p("reset firewall session-table destination 1.1.1.1", false).unwrap().method, "POST");
        assert_eq!(p("reload", false).unwrap().path, "/v1/reload?format=text");
        assert_eq!(
            p("health", true).unwrap(),
            Request { method: "GET", path: "/v1/health?format=json".into() }
        );
        assert!(p("display firewall session-table source nowhere", false)
            .unwrap_err()
            .contains("not an IPv4"));
        assert!(p("display nat", false).unwrap_err().contains("unknown command"));
        assert!(p("display firewall session-table protocol", false).unwrap_err().contains("needs a value"));
    }

    /// Against the API's own server library on a Unix socket: a chunked answer is joined,
    /// an error status comes back with its body, a missing socket says so.
    #[test]
    fn talks_http_over_a_unix_socket() {
        let dir = std::env::temp_dir().join(format!("fwctl-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("api.sock");
        let server = tiny_http::Server::http_unix(&path).unwrap();
        let serve = std::thread::spawn(move || {
            for (i, req) in server.incoming_requests().take(2).enumerate() {
                let body = format!("{} {}\n", req.method(), req.url());
                // Unknown length: tiny_http sends it chunked.
                let reader = std::io::Cursor::new(body.into_bytes());
                let response =
                    tiny_http::Response::new((200 + 204 * i as u16).into(), vec![], reader, None, None);
                let _ = req.respond(response);
            }
        });
        let endpoint = Endpoint::Socket(&path);
        let get = Request { method: "GET", path: "/v1/statistics?format=text".into() };
        assert_eq!(send(&endpoint, &get), Ok((200, "GET /v1/statistics?format=text\n".into())));
        let post = Request { method: "POST", path: "/v1/reload".into() };
        assert_eq!(send(&endpoint, &post), Ok((404, "POST /v1/reload\n".into())));
        serve.join().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let gone = send(&Endpoint::Socket(&path), &get).unwrap_err();
        assert!(gone.contains("is ferrowall running?"), "{gone}");
    }
}
