//! What a received frame is: the Ethernet and IPv4 checks every packet passes, its flow
//! key and facts read once, or a fragment, or ARP for the slow path.
use super::Pipeline;
use super::ETH_LEN;
use crate::fragment::{DatagramId, Piece};
use crate::ifaces::PortId;
use crate::stats::DropReason;
use std::net::Ipv4Addr;
use wire::flow;
use wire::frame::Frame;
use wire::EtherType;
use wire::EthernetFrame;
use wire::FlowKey;
use wire::IpProtocol;
use wire::Ipv4Packet;
use wire::L4Info;

/// A checked IPv4 packet's facts, read once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Packet {
    pub(super) key: FlowKey,
    pub(super) info: L4Info,
    /// Header lengths in their wire widths: a worker keeps one of these per packet of a
    /// burst, read ahead.
    pub(super) ihl: u8,
    pub(super) ttl: u8,
    pub(super) total_len: u16,
    /// Whether the transport header is in this packet (not in a later fragment).
    pub(super) l4: bool,
    /// Part of a fragmented datagram.
    pub(super) fragment: bool,
}

pub(super) enum Class {
    Ip(Packet),
    Fragment(Fragment),
    SlowPath,
}

impl Pipeline {
    /// `nic_checksum`: the NIC's verdict on the IPv4 header checksum, if it gave one.
    pub(super) fn classify(
        &self,
        data: &[u8],
        in_port: PortId,
        nic_checksum: Option<bool>,
    ) -> Result<Class, DropReason> {
        let eth = EthernetFrame::new_checked(data)?;
        let Some(iface) = self.shared.ifaces.get(in_port) else {
            return Err(DropReason::NotOurMac);
        };
        let dst_mac = eth.dst_addr();
        match eth.ethertype() {
            EtherType::Arp => return Ok(Class::SlowPath),
            EtherType::Ipv4 if dst_mac == iface.mac => {}
            EtherType::Ipv4 if dst_mac.is_broadcast() || dst_mac.is_multicast() => {
                return Err(DropReason::MartianAddress)
            }
            EtherType::Ipv4 => return Err(DropReason::NotOurMac),
            _ => return Err(DropReason::UnsupportedEthertype),
        }
        let ip = Ipv4Packet::new_checked(eth.payload())?;
        if !nic_checksum.unwrap_or_else(|| ip.verify_checksum()) {
            return Err(DropReason::Ipv4BadChecksum);
        }
        if is_martian(ip.src_addr()) || is_martian(ip.dst_addr()) {
            return Err(DropReason::MartianAddress);
        }
        if ip.header_len() as usize > Ipv4Packet::<&[u8]>::HEADER_LEN
            && ip.source_routed()?
            && !self.shared.rules.guards.of(iface.zone_id).source_route
        {
            return Err(DropReason::SourceRoute);
        }
        if ip.is_fragment() {
            return Fragment::read(&ip).map(Class::Fragment);
        }
        let (key, info) = wire::flow::extract(&ip)?;
        Ok(Class::Ip(Packet {
            key,
            info,
            ihl: ip.header_len(),
            ttl: ip.ttl(),
            total_len: ip.total_len(),
            l4: true,
            fragment: false,
        }))
    }
}

/// Bytes after the IPv4 total length are not the packet's: they never leave.
#[inline]
pub(super) fn trim<F: Frame>(frame: &mut F, total_len: usize) {
    let end = ETH_LEN + total_len;
    if frame.data().len() > end {
        frame.truncate(end);
    }
}

/// What [`Pipeline::classify`] concludes of a frame of the common shape, read at fixed
/// offsets: IPv4 to the port's MAC, no options, not a fragment, addresses fit to forward,
/// and UDP, TCP without SYN (whose options the full parse reads) or enhanced GRE (PPTP's
/// data). `None` for anything else, which `classify` then decides, drops included. The IPv4
/// header checksum is left to the caller: the NIC may have checked it already.
#[inline]
pub(super) fn common_shape(d: &[u8], port_mac: &[u8; 6]) -> Option<Packet> {
    // Fixed-size views: every read below is at a constant offset, with no bounds check.
    let h: &[u8; ETH_LEN + 20] = d.get(..ETH_LEN + 20)?.try_into().ok()?;
    if h[..6] != port_mac[..] || h[12..14] != [0x08, 0x00] || h[14] != 0x45 {
        return None;
    }
    let total_len = usize::from(u16::from_be_bytes([h[16], h[17]]));
    // Fragment bits (MF and the offset) all clear.
    if total_len < 20 || d.len() < ETH_LEN + total_len || u16::from_be_bytes([h[20], h[21]]) & 0x3fff != 0 {
        return None;
    }
    let src = u32::from_be_bytes([h[26], h[27], h[28], h[29]]);
    let dst = u32::from_be_bytes([h[30], h[31], h[32], h[33]]);
    if is_martian_u32(src) | is_martian_u32(dst) {
        return None;
    }
    let proto = h[23];
    let l4_len = total_len - 20;
    let (ports, info) = match proto {
        17 => {
            let u: &[u8; 8] = d.get(ETH_LEN + 20..ETH_LEN + 28)?.try_into().ok()?;
            let udp_len = usize::from(u16::from_be_bytes([u[4], u[5]]));
            if udp_len < 8 || udp_len > l4_len {
                return None;
            }
            ([u[0], u[1], u[2], u[3]], L4Info::Udp)
        }
        6 => {
            let t: &[u8; 20] = d.get(ETH_LEN + 20..ETH_LEN + 40)?.try_into().ok()?;
            let (doff, flags) = (usize::from(t[12] >> 4) * 4, t[13]);
            if doff < 20 || doff > l4_len || flags & 0x02 != 0 {
                return None;
            }
            let info = L4Info::Tcp {
                flags,
                payload_len: (l4_len - doff) as u16,
                seq: u32::from_be_bytes([t[4], t[5], t[6], t[7]]),
                ack: u32::from_be_bytes([t[8], t[9], t[10], t[11]]),
                window: u16::from_be_bytes([t[14], t[15]]),
                wscale: None,
            };
            ([t[0], t[1], t[2], t[3]], info)
        }
        47 => {
            let g: &[u8; 8] = d.get(ETH_LEN + 20..ETH_LEN + 28)?.try_into().ok()?;
            let call_id = wire::gre::enhanced_call_id(g, l4_len)?.to_be_bytes();
            ([0, 0, call_id[0], call_id[1]], L4Info::Gre { version: 1 })
        }
        _ => return None,
    };
    let sport = u16::from_be_bytes([ports[0], ports[1]]);
    let dport = u16::from_be_bytes([ports[2], ports[3]]);
    let key = FlowKey { src, dst, sport, dport, proto };
    Some(Packet { key, info, ihl: 20, ttl: h[22], total_len: total_len as u16, l4: true, fragment: false })
}

/// The IPv4 header checksum of a frame of the common shape (20 bytes of header).
#[inline]
pub(super) fn header_checksum_ok(d: &[u8]) -> bool {
    d.get(ETH_LEN..ETH_LEN + 20).is_some_and(|h| wire::checksum::checksum(h) == 0)
}

/// Protocols whose packets carry nothing port-like (see `flow::owner`).
pub(super) fn is_portless(info: L4Info) -> bool {
    matches!(info, L4Info::Other | L4Info::IcmpOther | L4Info::Gre { version: 0 })
}

pub(super) fn is_martian(ip: Ipv4Addr) -> bool {
    is_martian_u32(u32::from(ip))
}

/// 0.0.0.0, 127/8, 224/4 (multicast) or 255.255.255.255, on the address as a number.
#[inline]
fn is_martian_u32(a: u32) -> bool {
    // 0 and u32::MAX are the two whose successor is at most 1; no branches.
    (a.wrapping_add(1) <= 1) | (a >> 24 == 127) | (a >> 28 == 0xe)
}

/// Whether an IPv4 packet's first fragment carries an ICMP error (never answered with
/// another error, RFC 1812 4.3.2.7).
pub(super) fn carries_icmp_error(ip: &Ipv4Packet<&[u8]>) -> bool {
    ip.next_header() == IpProtocol::Icmp
        && ip.frag_offset() == 0
        && ip.payload().first().is_some_and(|t| !matches!(t, 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18))
}

/// A fragment's facts, read once.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fragment {
    pub(super) piece: Piece,
    /// The flow's key and transport facts, for a first fragment.
    pub(super) first: Option<(FlowKey, L4Info)>,
    pub(super) ihl: usize,
    pub(super) ttl: u8,
    pub(super) total_len: usize,
}

impl Fragment {
    pub(super) fn read(ip: &Ipv4Packet<&[u8]>) -> Result<Fragment, DropReason> {
        let ihl = usize::from(ip.header_len());
        let total_len = usize::from(ip.total_len());
        let piece = Piece {
            id: DatagramId {
                src: ip.src_addr().into(),
                dst: ip.dst_addr().into(),
                proto: ip.next_header().into(),
                ident: ip.ident(),
            },
            offset: u32::from(ip.frag_offset()),
            len: (total_len - ihl) as u32,
        };
        let first = if piece.offset == 0 {
            let (key, info) = flow::extract_first_fragment(ip).ok_or(DropReason::Ipv4TinyFragment)?;
            if info == L4Info::IcmpError {
                return Err(DropReason::IcmpErrorFragmented);
            }
            Some((key, info))
        } else {
            None
        };
        Ok(Fragment { piece, first, ihl, ttl: ip.ttl(), total_len })
    }
}
