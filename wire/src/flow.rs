//! The flow key: what a session is found by.
//!
//! A packet's key is `(src, dst, sport, dport, protocol)` with the port fields standing
//! for whatever names a flow within the protocol:
//!
//! | protocol        | sport            | dport                                     |
//! |-----------------|------------------|-------------------------------------------|
//! | TCP, UDP        | source port      | destination port                          |
//! | ICMP echo       | identifier       | identifier (replies carry the same)       |
//! | GRE v1 (PPTP)   | 0                | Call ID of the receiver, from the key     |
//! | GRE v0, others  | 0                | 0                                         |
//!
//! GRE-aware keying is what lets two PPTP tunnels between the same two hosts be two
//! flows (RFC 2637 4.1: the key field carries the peer's Call ID).
use crate::{GrePacket, IpProtocol, Ipv4Packet, ParseError, TcpPacket, UdpPacket};
use std::fmt;
use std::net::Ipv4Addr;

#[derive(Clone, Copy, Default)]
pub struct FlowKey {
    pub src: u32,
    pub dst: u32,
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
}

/// Two 64-bit words instead of five fields: every session lookup compares keys.
impl PartialEq for FlowKey {
    #[inline]
    fn eq(&self, other: &FlowKey) -> bool {
        self.words() == other.words()
    }
}

impl Eq for FlowKey {}

impl std::hash::Hash for FlowKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.words().hash(state);
    }
}

impl FlowKey {
    #[inline]
    pub fn new(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, proto: u8) -> FlowKey {
        FlowKey { src: src.into(), dst: dst.into(), sport, dport, proto }
    }

    /// The key as two words, each field in its own bits.
    #[inline]
    fn words(&self) -> (u64, u64) {
        let addrs = (u64::from(self.src) << 32) | u64::from(self.dst);
        let rest = (u64::from(self.sport) << 24) | (u64::from(self.dport) << 8) | u64::from(self.proto);
        (addrs, rest)
    }

    /// The key of a packet travelling the other way.
    #[inline]
    pub fn reversed(&self) -> FlowKey {
        FlowKey { src: self.dst, dst: self.src, sport: self.dport, dport: self.sport, proto: self.proto }
    }

    #[inline]
    pub fn src_addr(&self) -> Ipv4Addr {
        self.src.into()
    }

    #[inline]
    pub fn dst_addr(&self) -> Ipv4Addr {
        self.dst.into()
    }

    /// A well-mixed 32-bit hash (not 0) for the session table.
    #[inline]
    pub fn hash32(&self) -> u32 {
        self.hash32_keyed(0)
    }

    /// The same, keyed: with a key no one outside knows, no one can choose tuples that
    /// fall into one probe run of the session index (a hash-flooding attack).
    #[inline]
    pub fn hash32_keyed(&self, secret: u64) -> u32 {
        let a = ((u64::from(self.src) << 32) | u64::from(self.dst)) ^ secret;
        let b = (u64::from(self.sport) << 24) | (u64::from(self.dport) << 8) | u64::from(self.proto);
        let h = (a ^ b.rotate_left(32)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let h = (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        match (h >> 32) as u32 {
            0 => 1,
            h => h,
        }
    }
}

impl fmt::Debug for FlowKey {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} -> {}:{} proto {}",
            self.src_addr(),
            self.sport,
            self.dst_addr(),
            self.dport,
            self.proto
        )
    }
}

/// What the session logic needs from the L4 header, read once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4Info {
    Tcp {
        flags: u8,
        payload_len: u16,
        seq: u32,
        ack: u32,
        window: u16,
        /// The window scale option, read from SYNs only.
        wscale: Option<u8>,
    },
    Udp,
    IcmpEcho {
        request: bool,
    },
    /// An ICMP error; the session is that of the packet it quotes.
    IcmpError,
    /// ICMP neither echo nor error (timestamp, router advertisement, ...).
    IcmpOther,
    Gre {
        version: u8,
    },
    Other,
}

/// ICMP echo request and reply share one identifier; it stands in both port fields so
/// that the reply's key is the request's reversed.
const ICMP_ECHO_REQUEST: u8 = 8;
const ICMP_ECHO_REPLY: u8 = 0;

/// The key and L4 facts of a checked IPv4 packet. Non-first fragments carry no L4
/// header; the caller drops them before asking.
#[inline]
pub fn extract(ip: &Ipv4Packet<&[u8]>) -> Result<(FlowKey, L4Info), ParseError> {
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    let proto = u8::from(ip.next_header());
    let l4 = ip.payload();
    let (sport, dport, info) = match ip.next_header() {
        IpProtocol::Tcp => {
            let t = TcpPacket::new_checked(l4)?;
            let payload_len = (l4.len() - t.header_len() as usize) as u16;
            let flags = t.flags().bits();
            let info = L4Info::Tcp {
                flags,
                payload_len,
                seq: t.seq_number(),
                ack: t.ack_number(),
                window: t.window_len(),
                wscale: if flags & 0x02 != 0 { t.window_scale() } else { None },
            };
            (t.src_port(), t.dst_port(), info)
        }
        IpProtocol::Udp => {
            let u = UdpPacket::new_checked(l4)?;
            (u.src_port(), u.dst_port(), L4Info::Udp)
        }
        IpProtocol::Icmp => icmp_fields(l4)?,
        IpProtocol::Gre => {
            let g = GrePacket::new_checked(l4)?;
            let version = g.version();
            (0, g.call_id().unwrap_or(0), L4Info::Gre { version })
        }
        IpProtocol::Unknown(_) => (0, 0, L4Info::Other),
    };
    Ok((FlowKey::new(src, dst, sport, dport, proto), info))
}

/// The key of a datagram from its first fragment, whose transport header is whole but
/// whose length fields name the whole datagram: `None` if the header is cut short (a
/// tiny first fragment, which would hide ports or flags).
#[inline]
pub fn extract_first_fragment(ip: &Ipv4Packet<&[u8]>) -> Option<(FlowKey, L4Info)> {
    let l4 = ip.payload();
    let be16 = |at: usize| l4.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    match ip.next_header() {
        // TCP's checks need only its header; UDP's length field covers the whole
        // datagram, so its ports are read as they are.
        IpProtocol::Udp if l4.len() >= 8 => {
            let key = FlowKey::new(ip.src_addr(), ip.dst_addr(), be16(0)?, be16(2)?, 17);
            Some((key, L4Info::Udp))
        }
        IpProtocol::Udp => None,
        IpProtocol::Tcp | IpProtocol::Icmp | IpProtocol::Gre | IpProtocol::Unknown(_) => extract(ip).ok(),
    }
}

#[inline]
fn icmp_fields(l4: &[u8]) -> Result<(u16, u16, L4Info), ParseError> {
    let icmp = crate::Icmpv4Packet::new_checked(l4)?;
    Ok(match icmp.msg_type() {
        ICMP_ECHO_REQUEST | ICMP_ECHO_REPLY => {
            let id = icmp.echo_ident();
            (id, id, L4Info::IcmpEcho { request: icmp.msg_type() == ICMP_ECHO_REQUEST })
        }
        _ if icmp.is_error() => (0, 0, L4Info::IcmpError),
        _ => (0, 0, L4Info::IcmpOther),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::craft::{self, L2, L3};
    use crate::MacAddr;

    fn ip_of(frame: &[u8]) -> Ipv4Packet<&[u8]> {
        Ipv4Packet::new_checked(&frame[14..]).unwrap()
    }

    const L2X: L2 = L2 { src: MacAddr::ZERO, dst: MacAddr::ZERO };
    const L3X: L3 = L3 { src: Ipv4Addr::new(192, 168, 1, 1), dst: Ipv4Addr::new(203, 0, 113, 1), ttl: 64 };

    #[test]
    fn ports_and_identifiers_become_the_key() {
        let f = craft::udp(L2X, L3X, 40000, 53, b"x");
        let (k, info) = extract(&ip_of(&f)).unwrap();
        assert_eq!((k.sport, k.dport, k.proto, info), (40000, 53, 17, L4Info::Udp));
        let f = craft::icmp_echo(L2X, L3X, true, 0x1234, 1, b"");
        let (k, info) = extract(&ip_of(&f)).unwrap();
        assert_eq!((k.sport, k.dport, info), (0x1234, 0x1234, L4Info::IcmpEcho { request: true }));
        let f = craft::tcp(L2X, L3X, 1000, 80, 1, 0, craft::tcp_flags::SYN, b"");
        let (k, info) = extract(&ip_of(&f)).unwrap();
        assert_eq!((k.sport, k.dport), (1000, 80));
        let syn = craft::tcp_flags::SYN;
        let want = L4Info::Tcp { flags: syn, payload_len: 0, seq: 1, ack: 0, window: 0xffff, wscale: None };
        assert_eq!(info, want);
    }

    #[test]
    fn echo_reply_key_is_the_request_key_reversed() {
        let req = craft::icmp_echo(L2X, L3X, true, 7, 1, b"");
        let rep = craft::icmp_echo(L2X, L3 { src: L3X.dst, dst: L3X.src, ttl: 64 }, false, 7, 1, b"");
        assert_eq!(extract(&ip_of(&req)).unwrap().0.reversed(), extract(&ip_of(&rep)).unwrap().0);
    }

    #[test]
    fn truncated_l4_is_a_parse_error() {
        let mut f = craft::tcp(L2X, L3X, 1, 2, 0, 0, 0, b"");
        f.truncate(14 + 20 + 10);
        f[14 + 3] = 30; // total length 30: the TCP header is cut
        f[14 + 10] = 0;
        f[14 + 11] = 0;
        let csum = crate::checksum::checksum(&f[14..34]);
        f[14 + 10..14 + 12].copy_from_slice(&csum.to_be_bytes());
        assert_eq!(extract(&ip_of(&f)).unwrap_err(), ParseError::TcpTruncated);
    }

    #[test]
    fn hash_is_never_zero_and_spreads() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..10_000u32 {
            let h = FlowKey { src: i, dst: 1, sport: 2, dport: 3, proto: 6 }.hash32();
            assert_ne!(h, 0);
            seen.insert(h & 0xfff);
        }
        assert!(seen.len() > 3500, "low bits spread: {}", seen.len());
    }
}
