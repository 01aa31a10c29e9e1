//! The two binaries as an operator runs them: ferrowall's options that stop before the
//! EAL starts, and fwctl's exit codes, socket and TCP endpoints against a stand-in API
//! server (the live lab talks to a real ferrowall).
use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ferrowall(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrowall")).args(args).output().expect("ferrowall runs")
}

fn fwctl(args: &[&str], socket_env: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fwctl"));
    cmd.args(args).env_remove("FERROWALL_SOCKET");
    if let Some(s) = socket_env {
        cmd.env("FERROWALL_SOCKET", s);
    }
    cmd.output().expect("fwctl runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ferrowall-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_printed_default_config_is_the_built_in_one_and_valid() {
    let out = ferrowall(&["--print-default-config"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), ctrlplane::config::DEFAULT_CONFIG);
    let dir = scratch("default");
    let path = dir.join("default.toml");
    std::fs::write(&path, &out.stdout).unwrap();
    let check = ferrowall(&["--check-config", "--config", path.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    assert!(text(&check.stdout).starts_with("config OK: 2 port(s)"), "{}", text(&check.stdout));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn check_config_exits_2_naming_file_line_and_field() {
    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/config/bad/address_not_ipv4.toml");
    let out = ferrowall(&["--check-config", "--config", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("address_not_ipv4.toml:8:11: port[0].address: \"192.168.1.300\" is not an IPv4 address"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing claims the config is OK");
}

/// A stand-in for ferrowall's API: answers one request with `status` and `body`, and
/// hands back the request line it read.
fn answer_once(mut stream: impl Read + Write, status: u16, body: &str) -> String {
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "the request ended early");
        req.extend_from_slice(&buf[..n]);
    }
    let reply =
        format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    stream.write_all(reply.as_bytes()).unwrap();
    text(&req).lines().next().unwrap_or_default().to_owned()
}

#[test]
fn fwctl_exit_codes_socket_from_the_environment_and_tcp() {
    let dir = scratch("fwctl");
    let sock = dir.join("api.sock");

    // 3: nothing listens; the path it tried is the one FERROWALL_SOCKET named.
    let out = fwctl(&["display", "statistics"], Some(&sock));
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains(&sock.display().to_string()), "{}", text(&out.stderr));

    // 2: a command line fwctl cannot read, before any connection.
    let out = fwctl(&["display", "no-such-thing"], Some(&sock));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    // 0 and 1 through the socket FERROWALL_SOCKET names: the answer's status decides.
    let listener = UnixListener::bind(&sock).unwrap();
    for (status, code) in [(200u16, 0), (409, 1)] {
        let server = {
            let listener = listener.try_clone().unwrap();
            std::thread::spawn(move || answer_once(listener.accept().unwrap().0, status, "answer\n"))
        };
        let out = fwctl(&["reload"], Some(&sock));
        let request = server.join().unwrap();
        assert_eq!(request, "POST /v1/reload?format=text HTTP/1.1");
        assert_eq!(out.status.code(), Some(code), "status {status}");
        let shown = if code == 0 { text(&out.stdout) } else { text(&out.stderr) };
        assert!(shown.contains("answer"), "status {status}: {shown}");
    }

    // --json after the command words as well as before them.
    let server = {
        let listener = listener.try_clone().unwrap();
        std::thread::spawn(move || answer_once(listener.accept().unwrap().0, 200, "{}\n"))
    };
    let out = fwctl(&["display", "firewall", "server-map", "--json"], Some(&sock));
    assert_eq!(server.join().unwrap(), "GET /v1/firewall/server-map?format=json HTTP/1.1");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // --tcp instead of the socket.
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = tcp.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || answer_once(tcp.accept().unwrap().0, 200, "{}\n"));
    let out = fwctl(&["--tcp", &addr, "--json", "display", "statistics"], Some(&sock));
    assert!(server.join().unwrap().starts_with("GET /v1/statistics"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(dir);
}
