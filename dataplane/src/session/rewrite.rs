//! The translation a session applies to each packet of one direction, precomputed.
//!
//! At creation the session works out which fields change and the one's-complement
//! differences those changes make to the IPv4 header checksum and to the L4 checksum
//! (RFC 1624); a packet then only gets the new values written and two checksums
//! adjusted. Where the "port" lives depends on the protocol (see `flow::key`).
//!
//! A session keeps only the [`Deltas`] of each direction: the new values are the key
//! packets of that direction leave with, which is the other direction's key reversed,
//! and the session has that already.
use wire::ChecksumDelta;
use wire::FlowKey;

/// What changes in one direction: the new values, which of them apply (`changes`, a
/// bit per field) and the two checksum deltas.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rewrite {
    src_addr: u32,
    dst_addr: u32,
    sport: u16,
    dport: u16,
    ip_delta: ChecksumDelta,
    l4_delta: ChecksumDelta,
    changes: u8,
}

/// What a session stores of a [`Rewrite`]: which fields change and the two checksum
/// deltas, 6 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deltas {
    ip_delta: ChecksumDelta,
    l4_delta: ChecksumDelta,
    changes: u8,
}

const SRC_ADDR: u8 = 1;
const DST_ADDR: u8 = 2;
const SPORT: u8 = 4;
const DPORT: u8 = 8;

const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMP: u8 = 1;
const GRE: u8 = 47;

impl Rewrite {
    /// The rewrite that turns packets with key `from` into packets with key `to`.
    pub fn between(from: &FlowKey, to: &FlowKey) -> Rewrite {
        let mut r = Rewrite {
            src_addr: to.src,
            dst_addr: to.dst,
            sport: to.sport,
            dport: to.dport,
            ..Rewrite::default()
        };
        if from.src != to.src {
            r.changes |= SRC_ADDR;
            r.ip_delta.add32(from.src, to.src);
        }
        if from.dst != to.dst {
            r.changes |= DST_ADDR;
            r.ip_delta.add32(from.dst, to.dst);
        }
        if from.sport != to.sport {
            r.changes |= SPORT;
        }
        if from.dport != to.dport {
            r.changes |= DPORT;
        }
        r.l4_delta = match from.proto {
            // The pseudo-header carries the addresses: their change counts twice.
            TCP | UDP => {
                let mut d = r.ip_delta;
                d.add16(from.sport, to.sport);
                d.add16(from.dport, to.dport);
                d
            }
            // ICMP's checksum has no pseudo-header; the identifier stands in both port
            // fields of the key, so one of them counts.
            ICMP => {
                let mut d = ChecksumDelta::new();
                if from.sport != to.sport {
                    d.add16(from.sport, to.sport);
                } else {
                    d.add16(from.dport, to.dport);
                }
                d
            }
            _ => ChecksumDelta::new(),
        };
        r
    }

    /// What a session keeps of this rewrite.
    pub fn deltas(&self) -> Deltas {
        Deltas { ip_delta: self.ip_delta, l4_delta: self.l4_delta, changes: self.changes }
    }

    /// The rewrite of [`Rewrite::between`]`(from, to)` from what a session kept of it and
    /// the key `to`.
    #[inline]
    pub fn from_deltas(d: Deltas, to: &FlowKey) -> Rewrite {
        Rewrite {
            src_addr: to.src,
            dst_addr: to.dst,
            sport: to.sport,
            dport: to.dport,
            ip_delta: d.ip_delta,
            l4_delta: d.l4_delta,
            changes: d.changes,
        }
    }

    pub fn is_identity(&self) -> bool {
        self.changes == 0
    }

    #[inline]
    fn field<T: Copy>(&self, bit: u8, value: T) -> Option<T> {
        (self.changes & bit != 0).then_some(value)
    }

    /// The new source address, if it changes.
    #[inline]
    pub fn src_addr(&self) -> Option<u32> {
        self.field(SRC_ADDR, self.src_addr)
    }

    /// The new destination address, if it changes.
    #[inline]
    pub fn dst_addr(&self) -> Option<u32> {
        self.field(DST_ADDR, self.dst_addr)
    }

    /// The new source port (ICMP identifier), if it changes.
    #[inline]
    pub fn sport(&self) -> Option<u16> {
        self.field(SPORT, self.sport)
    }

    /// The new destination port (ICMP identifier, GRE Call ID), if it changes.
    #[inline]
    pub fn dport(&self) -> Option<u16> {
        self.field(DPORT, self.dport)
    }

    /// Applies the rewrite to an IPv4 packet (`ip` starts at the IPv4 header, whose
    /// length is `ihl`), protocol `proto`. The packet was checked when its key was read.
    /// `also` is the checksum difference of a change the caller makes to the IPv4 header
    /// too (the TTL, as a packet is forwarded): the header checksum is updated once for
    /// both.
    #[inline]
    pub fn apply(&self, ip: &mut [u8], ihl: usize, proto: u8, also: ChecksumDelta) {
        let Some(h) = ip.get_mut(..20) else { return };
        if self.changes & SRC_ADDR != 0 {
            h[12..16].copy_from_slice(&self.src_addr.to_be_bytes());
        }
        if self.changes & DST_ADDR != 0 {
            h[16..20].copy_from_slice(&self.dst_addr.to_be_bytes());
        }
        let csum = u16::from_be_bytes([h[10], h[11]]);
        h[10..12].copy_from_slice(&self.ip_delta.apply_plus(also, csum).to_be_bytes());
        if self.changes & (SPORT | DPORT) == 0 && self.l4_delta == ChecksumDelta::new() {
            return;
        }
        let Some(l4) = ip.get_mut(ihl..) else { return };
        match proto {
            TCP => self.write_l4(l4, 16, ChecksumDelta::apply),
            UDP => self.write_l4(l4, 6, ChecksumDelta::apply_udp),
            ICMP => {
                if let Some(id) = self.sport().or(self.dport()) {
                    put16(l4, 4, id);
                }
                let c = get16(l4, 2);
                put16(l4, 2, self.l4_delta.apply(c));
            }
            GRE => {
                if let Some(call_id) = self.dport() {
                    write_gre_call_id(l4, call_id);
                }
            }
            _ => {}
        }
    }

    /// TCP and UDP: the ports in the first four bytes, the checksum at `csum_at`.
    #[inline]
    fn write_l4(&self, l4: &mut [u8], csum_at: usize, update: fn(ChecksumDelta, u16) -> u16) {
        let Some(h) = l4.get_mut(..csum_at + 2) else { return };
        if self.changes & SPORT != 0 {
            h[0..2].copy_from_slice(&self.sport.to_be_bytes());
        }
        if self.changes & DPORT != 0 {
            h[2..4].copy_from_slice(&self.dport.to_be_bytes());
        }
        let c = u16::from_be_bytes([h[csum_at], h[csum_at + 1]]);
        h[csum_at..csum_at + 2].copy_from_slice(&update(self.l4_delta, c).to_be_bytes());
    }
}

/// GRE v1 keeps the Call ID in the low half of the key, after the optional checksum
/// word (absent in v1, present in v0 when C is set).
fn write_gre_call_id(gre: &mut [u8], call_id: u16) {
    let flags = get16(gre, 0);
    let has_key = flags & 0x2000 != 0;
    if !has_key {
        return;
    }
    let key_at = if flags & 0x8000 != 0 { 8 } else { 4 };
    put16(gre, key_at + 2, call_id);
}

#[inline]
fn get16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2).map_or(0, |s| u16::from_be_bytes([s[0], s[1]]))
}

#[inline]
fn put16(b: &mut [u8], at: usize, v: u16) {
    if let Some(s) = b.get_mut(at..at + 2) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;
    use wire::craft::{self, L2, L3};
    use wire::flow::extract;
    use wire::{Icmpv4Packet, Ipv4Packet, MacAddr, TcpPacket, UdpPacket};

    const L2X: L2 = L2 { src: MacAddr::ZERO, dst: MacAddr::ZERO };

    /// Rewrites a frame to `to` and checks every checksum against a full recompute.
    fn rewrite_and_verify(frame: &mut [u8], to: FlowKey) -> FlowKey {
        let ip_view = Ipv4Packet::new_checked(&frame[14..]).unwrap();
        let ihl = ip_view.header_len() as usize;
        let (from, _) = extract(&ip_view).unwrap();
        Rewrite::between(&from, &to).apply(&mut frame[14..], ihl, from.proto, ChecksumDelta::new());
        let ip = Ipv4Packet::new_checked(&frame[14..]).unwrap();
        assert!(ip.verify_checksum(), "IPv4 header checksum");
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        match from.proto {
            TCP => assert!(TcpPacket::new_checked(ip.payload()).unwrap().verify_checksum(src, dst)),
            UDP => assert!(UdpPacket::new_checked(ip.payload()).unwrap().verify_checksum(src, dst)),
            ICMP => assert!(Icmpv4Packet::new_checked(ip.payload()).unwrap().verify_checksum()),
            _ => {}
        }
        extract(&ip).unwrap().0
    }

    fn l3(s: u32, d: u32) -> L3 {
        L3 { src: Ipv4Addr::from(s), dst: Ipv4Addr::from(d), ttl: 64 }
    }

    proptest! {
        #[test]
        fn tcp_and_udp_checksums_stay_right(
            s in any::<u32>(), d in any::<u32>(), sp in any::<u16>(), dp in any::<u16>(),
            ns in any::<u32>(), nd in any::<u32>(), nsp in any::<u16>(), ndp in any::<u16>(),
            payload in proptest::collection::vec(any::<u8>(), 0..64), tcp in any::<bool>(),
        ) {
            let mut f = if tcp {
                craft::tcp(L2X, l3(s, d), sp, dp, 1, 2, craft::tcp_flags::ACK, &payload)
            } else {
                craft::udp(L2X, l3(s, d), sp, dp, &payload)
            };
            let to = FlowKey { src: ns, dst: nd, sport: nsp, dport: ndp, proto: if tcp { TCP } else { UDP } };
            prop_assert_eq!(rewrite_and_verify(&mut f, to), to);
        }

        #[test]
        fn icmp_identifier_rewrite_keeps_the_checksum(s in any::<u32>(), d in any::<u32>(), id in any::<u16>(), nid in any::<u16>(), ns in any::<u32>()) {
            let mut f = craft::icmp_echo(L2X, l3(s, d), true, id, 9, b"data");
            let to = FlowKey { src: ns, dst: d, sport: nid, dport: nid, proto: ICMP };
            prop_assert_eq!(rewrite_and_verify(&mut f, to), to);
        }

        /// NAT round trip: a packet translated in2out and its reply translated out2in
        /// restore the original tuple.
        #[test]
        fn nat_round_trip_restores_the_tuple(
            inside in any::<u32>(), server in any::<u32>(), public in any::<u32>(),
            sp in any::<u16>(), dp in any::<u16>(), pp in any::<u16>(),
        ) {
            let original = FlowKey { src: inside, dst: server, sport: sp, dport: dp, proto: UDP };
            let translated = FlowKey { src: public, sport: pp, ..original };
            let mut out = craft::udp(L2X, l3(inside, server), sp, dp, b"request");
            prop_assert_eq!(rewrite_and_verify(&mut out, translated), translated);
            let mut reply = craft::udp(L2X, l3(server, public), dp, pp, b"response");
            prop_assert_eq!(rewrite_and_verify(&mut reply, original.reversed()), original.reversed());
        }
    }

    proptest! {
        #[test]
        fn the_deltas_and_the_key_make_the_rewrite(
            s in any::<u32>(), d in any::<u32>(), sp in any::<u16>(), dp in any::<u16>(),
            ns in any::<u32>(), nsp in any::<u16>(), proto in prop_oneof![Just(TCP), Just(UDP), Just(ICMP), Just(GRE)],
        ) {
            let from = FlowKey { src: s, dst: d, sport: sp, dport: dp, proto };
            let to = FlowKey { src: ns, sport: nsp, ..from };
            let r = Rewrite::between(&from, &to);
            prop_assert_eq!(Rewrite::from_deltas(r.deltas(), &to), r);
        }
    }

    #[test]
    fn gre_call_id_is_rewritten_in_the_key() {
        #[rustfmt::skip]
        let mut gre = [
            0x30, 0x81, 0x88, 0x0b, // K, S, version 1, PPP
            0x00, 0x04, 0x12, 0x34, // payload length 4, call id 0x1234
            0, 0, 0, 1,             // sequence
        ];
        write_gre_call_id(&mut gre, 0xbeef);
        assert_eq!(&gre[4..8], &[0x00, 0x04, 0xbe, 0xef]);
    }
}
