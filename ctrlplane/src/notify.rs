//! systemd's service notifications (sd_notify(3)): a datagram to `$NOTIFY_SOCKET` says
//! the appliance is ready (ports up, cores polling, API serving), reloading, stopping,
//! or still alive for the watchdog. Outside systemd, or with `Type=simple`, there is no
//! socket and every call does nothing.
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

pub struct Notifier {
    target: Option<(UnixDatagram, SocketAddr)>,
    watchdog: Option<Duration>,
}

impl Notifier {
    /// From the environment systemd gives the service's main process. The variables are
    /// removed, so nothing ferrowall starts could notify on its behalf.
    pub fn from_env() -> Notifier {
        let socket = std::env::var_os("NOTIFY_SOCKET");
        let usec = std::env::var("WATCHDOG_USEC").ok();
        let pid = std::env::var("WATCHDOG_PID").ok();
        for v in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            std::env::remove_var(v);
        }
        let target = socket.and_then(|s| match open(&s.to_string_lossy()) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!("NOTIFY_SOCKET {s:?}: {e}; systemd will not hear from ferrowall");
                None
            }
        });
        Notifier { target, watchdog: watchdog_interval(usec.as_deref(), pid.as_deref(), std::process::id()) }
    }

    /// How often the watchdog wants to hear that all is well, if it watches.
    pub fn watchdog_every(&self) -> Option<Duration> {
        self.watchdog
    }

    pub fn ready(&self, status: &str) {
        self.send(&format!("READY=1\nSTATUS={}", one_line(status)));
    }

    pub fn reloading(&self) {
        self.send("RELOADING=1\nSTATUS=reloading the config");
    }

    pub fn stopping(&self) {
        self.send("STOPPING=1\nSTATUS=stopping: draining queues");
    }

    pub fn status(&self, status: &str) {
        self.send(&format!("STATUS={}", one_line(status)));
    }

    pub fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }

    fn send(&self, message: &str) {
        if let Some((socket, addr)) = &self.target {
            if let Err(e) = socket.send_to_addr(message.as_bytes(), addr) {
                tracing::debug!("sd_notify {message:?}: {e}");
            }
        }
    }
}

/// A variable's value ends at a newline.
fn one_line(s: &str) -> String {
    s.replace('\n', " ")
}

/// A path, or `@name` for Linux's abstract namespace (what systemd passes).
fn open(socket: &str) -> std::io::Result<(UnixDatagram, SocketAddr)> {
    let addr = match socket.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(name.as_bytes())?
        }
        None if socket.starts_with('/') => SocketAddr::from_pathname(socket)?,
        None => return Err(std::io::Error::other("neither an absolute path nor @name")),
    };
    Ok((UnixDatagram::unbound()?, addr))
}

/// Half the watchdog's timeout (sd_watchdog_enabled(3)'s advice), if the watchdog is
/// meant for this process: `WATCHDOG_PID`, when set, must be ours.
fn watchdog_interval(usec: Option<&str>, pid: Option<&str>, me: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok().filter(|u| *u > 0)?;
    if let Some(pid) = pid {
        if pid.trim().parse::<u32>().ok()? != me {
            return None;
        }
    }
    Some(Duration::from_micros(usec / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_reach_a_path_socket() {
        let dir = std::env::temp_dir().join(format!("fw-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let listener = UnixDatagram::bind(&path).unwrap();
        let n = Notifier { target: Some(open(path.to_str().unwrap()).unwrap()), watchdog: None };
        n.ready("2 ports up");
        n.watchdog();
        let mut buf = [0u8; 256];
        let got = |buf: &mut [u8]| {
            let len = listener.recv(buf).unwrap();
            String::from_utf8_lossy(&buf[..len]).into_owned()
        };
        assert_eq!(got(&mut buf), "READY=1\nSTATUS=2 ports up");
        assert_eq!(got(&mut buf), "WATCHDOG=1");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn abstract_names_and_bad_values() {
        let name = format!("fw-notify-test-{}", std::process::id());
        let listener = {
            use std::os::linux::net::SocketAddrExt;
            UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap()).unwrap()
        };
        let n = Notifier { target: Some(open(&format!("@{name}")).unwrap()), watchdog: None };
        n.stopping();
        let mut buf = [0u8; 128];
        let len = listener.recv(&mut buf).unwrap();
        assert!(buf[..len].starts_with(b"STOPPING=1\n"));
        assert!(open("relative/path").is_err());
    }

    #[test]
    fn the_watchdog_is_ours_only_if_the_pid_matches() {
        let every = |u, p| watchdog_interval(u, p, 42);
        assert_eq!(every(Some("10000000"), None), Some(Duration::from_secs(5)));
        assert_eq!(every(Some("10000000"), Some("42")), Some(Duration::from_secs(5)));
        assert_eq!(every(Some("10000000"), Some("7")), None, "another process's watchdog");
        assert_eq!(every(Some("0"), None), None);
        assert_eq!(every(Some("soon"), None), None);
        assert_eq!(every(None, Some("42")), None);
    }
}
