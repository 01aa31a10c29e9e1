//! Which sessions a display or a reset covers, as the reference appliance's
//! `display firewall session-table [source IP] [destination IP] [protocol P]` says.
use super::{Kind, Session};
use std::net::Ipv4Addr;
use wire::FlowKey;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// The source before or after translation.
    pub source: Option<Ipv4Addr>,
    /// The destination before or after translation.
    pub destination: Option<Ipv4Addr>,
    /// A kind; `tcp` also covers `pptp` control sessions and `gre` covers `pptp-gre`,
    /// as they are TCP and GRE underneath.
    pub protocol: Option<Kind>,
}

impl SessionFilter {
    pub fn matches(&self, s: &Session) -> bool {
        // keys[1] is the translated original, reversed.
        self.matches_parts(&s.keys[0], &s.keys[1].reversed(), Kind::of(s))
    }

    /// The same test on a session's original key, translated key and kind (as a
    /// display row has them).
    pub fn matches_parts(&self, original: &FlowKey, translated: &FlowKey, kind: Kind) -> bool {
        let addr =
            |a: Option<Ipv4Addr>, x: u32, y: u32| a.is_none_or(|a| u32::from(a) == x || u32::from(a) == y);
        addr(self.source, original.src, translated.src)
            && addr(self.destination, original.dst, translated.dst)
            && self.protocol.is_none_or(|p| covers(p, kind))
    }
}

fn covers(wanted: Kind, kind: Kind) -> bool {
    wanted == kind || matches!((wanted, kind), (Kind::Tcp, Kind::Pptp) | (Kind::Gre, Kind::PptpGre))
}

impl std::str::FromStr for Kind {
    type Err = String;

    fn from_str(s: &str) -> Result<Kind, String> {
        Kind::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
            format!("unknown protocol {s:?} (one of {})", names.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Millis;
    use crate::session::{NewSession, SessionTable, TimeoutClass, Timeouts};

    #[test]
    fn matches_either_side_of_the_translation() {
        let mut t = SessionTable::new(4, Timeouts::default());
        let o = FlowKey::new([192, 168, 1, 1].into(), [1, 1, 1, 1].into(), 40000, 1723, 6);
        let x = FlowKey { src: u32::from(Ipv4Addr::new(1, 1, 1, 2)), sport: 2048, ..o };
        let new = NewSession {
            original: o,
            translated: x,
            tcp: None,
            class: TimeoutClass::TcpEstablished,
            app: crate::session::App::Pptp,
            nat: None,
            two_way: true,
            zones: [0, 1],
        };
        let id = t.create(new, Millis(0), |_| {}).unwrap();
        let s = t.get(id);
        let f =
            |source: Option<[u8; 4]>, destination: Option<[u8; 4]>, protocol: Option<&str>| SessionFilter {
                source: source.map(Ipv4Addr::from),
                destination: destination.map(Ipv4Addr::from),
                protocol: protocol.map(|p| p.parse().unwrap()),
            };
        assert!(f(None, None, None).matches(s));
        assert!(f(Some([192, 168, 1, 1]), None, None).matches(s));
        assert!(f(Some([1, 1, 1, 2]), Some([1, 1, 1, 1]), None).matches(s));
        assert!(!f(Some([1, 1, 1, 1]), None, None).matches(s));
        assert!(f(None, None, Some("pptp")).matches(s));
        assert!(f(None, None, Some("tcp")).matches(s));
        assert!(!f(None, None, Some("udp")).matches(s));
        assert!("tcpp".parse::<Kind>().is_err());
    }
}
