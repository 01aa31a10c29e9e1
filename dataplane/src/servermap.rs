//! The server map: expected flows an ALG announced, keyed like their first packet.
//!
//! A packet that misses the session table but matches an entry opens a session with the
//! entry's translation and application, without asking the security policy (the
//! control connection that negotiated it was permitted). The slow path keeps the
//! authoritative list with ages (for display and expiry) and installs each entry in the
//! worker that owns its flow; a worker's copy is a bounded map it alone reads.
use crate::bounded::BoundedMap;
use crate::session::display::hms;
use crate::session::App;
use std::net::Ipv4Addr;
use wire::FlowKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerMapEntry {
    /// The key of the expected flow's packets as they arrive.
    pub key: FlowKey,
    /// What those packets become.
    pub translated: FlowKey,
    pub app: App,
}

impl ServerMapEntry {
    /// The reference line, e.g.
    /// `Type: ASPF, 1.1.1.1:0 -> 1.1.1.2:4096[192.168.1.1:7], Zone: --- Protocol: tcp(Appro: pptp-gre), Left-Time: 00:03:09 VPN: public -> public`.
    /// A changed source shows its new address in brackets (the port stays), a changed
    /// destination its new address and port.
    pub fn line(&self, left_secs: u64) -> String {
        let (k, t) = (&self.key, &self.translated);
        let mut src = format!("{}:{}", k.src_addr(), k.sport);
        if t.src != k.src {
            src.push_str(&format!("[{}]", Ipv4Addr::from(t.src)));
        }
        let mut dst = format!("{}:{}", k.dst_addr(), k.dport);
        if t.dst != k.dst || t.dport != k.dport {
            dst.push_str(&format!("[{}:{}]", Ipv4Addr::from(t.dst), t.dport));
        }
        format!(
            "Type: ASPF, {src} -> {dst}, Zone: --- Protocol: tcp(Appro: {}), Left-Time: {} VPN: public -> public",
            self.app.name(),
            hms(left_secs)
        )
    }
}

/// What the slow path tells the worker that owns an entry's flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerMapChange {
    Install(ServerMapEntry),
    /// Removes the entry and ends the session opened through it.
    Remove(FlowKey),
}

/// A worker's entries, keyed like the expected flow's first packet.
pub type ServerMap = BoundedMap<FlowKey, ServerMapEntry>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_lines() {
        let server: Ipv4Addr = [1, 1, 1, 1].into();
        let public: Ipv4Addr = [1, 1, 1, 2].into();
        let client: Ipv4Addr = [192, 168, 1, 1].into();
        let to_client = ServerMapEntry {
            key: FlowKey::new(server, public, 0, 0xbbbb, 47),
            translated: FlowKey::new(server, client, 0, 0xaaaa, 47),
            app: App::PptpGre,
        };
        assert_eq!(
            to_client.line(189),
            "Type: ASPF, 1.1.1.1:0 -> 1.1.1.2:48059[192.168.1.1:43690], Zone: --- Protocol: tcp(Appro: pptp-gre), Left-Time: 00:03:09 VPN: public -> public"
        );
        let to_server = ServerMapEntry {
            key: FlowKey::new(client, server, 0, 0xcccc, 47),
            translated: FlowKey::new(public, server, 0, 0xcccc, 47),
            app: App::PptpGre,
        };
        assert_eq!(
            to_server.line(189),
            "Type: ASPF, 192.168.1.1:0[1.1.1.2] -> 1.1.1.1:52428, Zone: --- Protocol: tcp(Appro: pptp-gre), Left-Time: 00:03:09 VPN: public -> public"
        );
    }
}
