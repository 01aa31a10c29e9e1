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
//! ```
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

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
  reload";

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
    let text = format!(
        "{} {} HTTP/1.1\r\nHost: ferrowall\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        req.method, req.path
    );
    let mut raw = Vec::new();
    match endpoint {
        Endpoint::Socket(path) => {
            let mut s =
                UnixStream::connect(path).map_err(|e| unreachable(&path.display().to_string(), &e))?;
            exchange(&mut s, &text, &mut raw)?;
        }
        Endpoint::Tcp(addr) => {
            let mut s = TcpStream::connect(addr).map_err(|e| unreachable(addr, &e))?;
            let _ = s.set_read_timeout(Some(TIMEOUT));
            exchange(&mut s, &text, &mut raw)?;
        }
    }
    parse_response(&raw)
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

fn exchange(s: &mut (impl Read + Write), text: &str, raw: &mut Vec<u8>) -> Result<(), String> {
    let io = |e: std::io::Error| format!("talking to ferrowall: {e}");
    s.write_all(text.as_bytes()).map_err(io)?;
    s.read_to_end(raw).map_err(io)?;
    Ok(())
}

fn parse_response(raw: &[u8]) -> Result<(u16, String), String> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("ferrowall sent an incomplete answer")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("ferrowall sent an answer without a status")?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked { dechunk(body)? } else { body.to_owned() };
    Ok((status, body))
}

fn dechunk(mut body: &str) -> Result<String, String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").ok_or("bad chunked answer")?;
        let n = usize::from_str_radix(size.trim(), 16).map_err(|_| "bad chunk size")?;
        if n == 0 {
            return Ok(out);
        }
        out.push_str(rest.get(..n).ok_or("short chunk")?);
        body = rest.get(n + 2..).ok_or("short chunk")?;
    }
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
        assert!(p("display firewall session-table source nowhere", false)
            .unwrap_err()
            .contains("not an IPv4"));
        assert!(p("display nat", false).unwrap_err().contains("unknown command"));
        assert!(p("display firewall session-table protocol", false).unwrap_err().contains("needs a value"));
    }

    #[test]
    fn chunked_answers_are_joined() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n";
        assert_eq!(parse_response(raw).unwrap(), (200, "hello!".into()));
        let raw = b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno\n";
        assert_eq!(parse_response(raw).unwrap(), (404, "no\n".into()));
    }
}
