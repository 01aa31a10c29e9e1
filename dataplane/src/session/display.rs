//! Sessions as operators read them: `display firewall session-table`.
//!
//! The text form is the reference appliance's, which operators' scripts parse:
//!
//! ```text
//! tcp VPN:public --> public 192.168.1.1:40001[1.1.1.2:2048] --> 1.1.1.1:80
//! ```
//!
//! the original source, its translation in brackets when NAT changed it, then the
//! destination (with its translation in brackets when that changed). ICMP echo shows the
//! identifier as the source port and 2048 (type 8, code 0) as the destination port.
use super::{Kind, Session, SessionId, SessionTable};
use crate::clock::Millis;
use std::fmt::Write;
use std::net::Ipv4Addr;
use wire::FlowKey;

/// A snapshot of one session, for display and the management API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    pub id: SessionId,
    pub worker: u16,
    pub kind: Kind,
    pub original: FlowKey,
    /// The original direction as it leaves the appliance.
    pub translated: FlowKey,
    pub state: &'static str,
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    pub age_secs: u64,
    pub remaining_secs: u64,
}

impl SessionView {
    pub fn new(table: &SessionTable, id: SessionId, s: &Session, worker: u16, now: Millis) -> SessionView {
        SessionView {
            id,
            worker,
            kind: Kind::of(s),
            original: s.keys[0],
            translated: s.keys[1].reversed(),
            state: s.tcp.map_or("active", |t| t.state.name()),
            packets: s.packets,
            bytes: s.bytes,
            age_secs: now.saturating_sub(s.created) / 1000,
            remaining_secs: table.remaining_ms(s, now).div_ceil(1000),
        }
    }

    /// The reference line.
    pub fn line(&self) -> String {
        let (o, t) = (&self.original, &self.translated);
        let icmp = o.proto == 1;
        let (dport, tdport) = if icmp { (2048, 2048) } else { (o.dport, t.dport) };
        let mut s = format!("{} VPN:public --> public {}:{}", self.kind.name(), o.src_addr(), o.sport);
        if t.src != o.src || t.sport != o.sport {
            let _ = write!(s, "[{}:{}]", Ipv4Addr::from(t.src), t.sport);
        }
        // The reference appliance marks a connection an ALG inspects with "+->".
        let arrow = if self.kind == Kind::Pptp { "+->" } else { "-->" };
        let _ = write!(s, " {arrow} {}:{}", o.dst_addr(), dport);
        if t.dst != o.dst || tdport != dport {
            let _ = write!(s, "[{}:{}]", Ipv4Addr::from(t.dst), tdport);
        }
        s
    }

    /// The line plus what `verbose` adds: state, counters per direction, times, owner.
    pub fn verbose(&self) -> String {
        format!(
            "{}\n  State: {}  Owner: worker {}  Age: {}  Left-Time: {}\n  Packets: {} -> {} <-  Bytes: {} -> {} <-",
            self.line(),
            self.state,
            self.worker,
            hms(self.age_secs),
            hms(self.remaining_secs),
            self.packets[0],
            self.packets[1],
            self.bytes[0],
            self.bytes[1]
        )
    }
}

/// `HH:MM:SS`, as the reference appliance prints times.
pub fn hms(secs: u64) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, (secs / 60) % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(proto: u8, original: FlowKey, translated: FlowKey) -> SessionView {
        SessionView {
            id: 0,
            worker: 0,
            kind: match proto {
                6 => Kind::Tcp,
                1 => Kind::Icmp,
                _ => Kind::Udp,
            },
            original,
            translated,
            state: "established",
            packets: [3, 2],
            bytes: [180, 120],
            age_secs: 75,
            remaining_secs: 1189,
        }
    }

    #[test]
    fn reference_format() {
        let o = FlowKey::new([192, 168, 1, 1].into(), [1, 1, 1, 1].into(), 40001, 80, 6);
        let t = FlowKey { src: u32::from(Ipv4Addr::new(1, 1, 1, 2)), sport: 2048, ..o };
        let v = view(6, o, t);
        assert_eq!(v.line(), "tcp VPN:public --> public 192.168.1.1:40001[1.1.1.2:2048] --> 1.1.1.1:80");
        assert_eq!(
            v.verbose(),
            "tcp VPN:public --> public 192.168.1.1:40001[1.1.1.2:2048] --> 1.1.1.1:80\n  State: established  Owner: worker 0  Age: 00:01:15  Left-Time: 00:19:49\n  Packets: 3 -> 2 <-  Bytes: 180 -> 120 <-"
        );
        assert_eq!(view(17, o, o).line(), "udp VPN:public --> public 192.168.1.1:40001 --> 1.1.1.1:80");
        let control = FlowKey { dport: 1723, ..o };
        let mut v = view(6, control, FlowKey { dport: 1723, ..t });
        v.kind = Kind::Pptp;
        assert_eq!(v.line(), "pptp VPN:public --> public 192.168.1.1:40001[1.1.1.2:2048] +-> 1.1.1.1:1723");
        let ping = FlowKey::new([192, 168, 1, 1].into(), [1, 1, 1, 1].into(), 7, 7, 1);
        let ping_t = FlowKey { src: u32::from(Ipv4Addr::new(1, 1, 1, 2)), sport: 3000, dport: 3000, ..ping };
        assert_eq!(
            view(1, ping, ping_t).line(),
            "icmp VPN:public --> public 192.168.1.1:7[1.1.1.2:3000] --> 1.1.1.1:2048"
        );
    }
}
