//! Builders of well-formed frames for tests, benchmarks, fuzz seeds and the lab tools,
//! each assembled from the `Repr`s. Behind the `craft` feature: they allocate, and
//! nothing on the packet path uses them.
use crate::arp::{ArpOperation, ArpPacket, ArpRepr};
use crate::ethernet::{EtherType, EthernetFrame, EthernetRepr, MacAddr};
use crate::gre::{GrePacket, GreRepr};
use crate::icmp::{Icmpv4Packet, Icmpv4Repr};
use crate::ipv4::{Ipv4Packet, Ipv4Repr};
use crate::pptp::{ControlRepr, MsgType};
use crate::tcp::{TcpFlags, TcpPacket, TcpRepr};
use crate::udp::{UdpPacket, UdpRepr};
use std::net::Ipv4Addr;

/// Ethernet addresses of a frame.
#[derive(Debug, Clone, Copy)]
pub struct L2 {
    pub src: MacAddr,
    pub dst: MacAddr,
}

/// IPv4 header fields that tests vary.
#[derive(Debug, Clone, Copy)]
pub struct L3 {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
}

/// The shortest frame a NIC sends, without its FCS: shorter ones are padded.
const MIN_FRAME: usize = 60;

fn ethernet(l2: L2, ethertype: EtherType, payload: &[u8]) -> Vec<u8> {
    let repr = EthernetRepr { src_addr: l2.src, dst_addr: l2.dst, ethertype };
    let mut f = vec![0u8; (repr.buffer_len() + payload.len()).max(MIN_FRAME)];
    let mut frame = EthernetFrame::new_unchecked(&mut f[..]);
    repr.emit(&mut frame);
    frame.payload_mut()[..payload.len()].copy_from_slice(payload);
    f
}

/// A 20-byte IPv4 header (DF set) plus `l4`, checksummed.
pub fn ipv4(l3: L3, protocol: u8, l4: &[u8]) -> Vec<u8> {
    let repr = Ipv4Repr {
        src_addr: l3.src,
        dst_addr: l3.dst,
        next_header: protocol.into(),
        payload_len: l4.len(),
        ttl: l3.ttl,
    };
    let mut h = vec![0u8; Ipv4Packet::<&[u8]>::HEADER_LEN + l4.len()];
    let mut packet = Ipv4Packet::new_unchecked(&mut h[..]);
    repr.emit(&mut packet);
    packet.payload_mut().copy_from_slice(l4);
    h
}

/// Ethernet + IPv4 around any L4 bytes (GRE, hand-made ICMP errors).
pub fn ethernet_ipv4(l2: L2, l3: L3, protocol: u8, l4: &[u8]) -> Vec<u8> {
    ethernet(l2, EtherType::Ipv4, &ipv4(l3, protocol, l4))
}

pub fn udp(l2: L2, l3: L3, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let repr = UdpRepr { src_port: sport, dst_port: dport };
    let mut seg = vec![0u8; repr.buffer_len(payload.len())];
    repr.emit(&mut UdpPacket::new_unchecked(&mut seg[..]), l3.src, l3.dst, payload);
    ethernet_ipv4(l2, l3, 17, &seg)
}

/// TCP flag bits for [`tcp`].
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

/// A TCP segment without options, window 65,535.
#[allow(clippy::too_many_arguments)]
pub fn tcp(l2: L2, l3: L3, sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let repr = TcpRepr {
        src_port: sport,
        dst_port: dport,
        seq_number: seq,
        ack_number: ack,
        flags: TcpFlags(flags),
        window_len: u16::MAX,
    };
    let mut seg = vec![0u8; repr.buffer_len(payload.len())];
    repr.emit(&mut TcpPacket::new_unchecked(&mut seg[..]), l3.src, l3.dst, payload);
    ethernet_ipv4(l2, l3, 6, &seg)
}

/// Enhanced GRE (version 1, PPP) as PPTP sends it: key present with `call_id`, the
/// payload length, and a sequence number.
pub fn gre_v1(l2: L2, l3: L3, call_id: u16, seq: u32, ppp: &[u8]) -> Vec<u8> {
    let len = u16::try_from(ppp.len()).expect("a PPP frame under 64 KiB");
    let repr = GreRepr::pptp(call_id, len, Some(seq), None);
    let mut g = vec![0u8; repr.buffer_len(ppp.len())];
    repr.emit(&mut GrePacket::new_unchecked(&mut g[..]), ppp);
    ethernet_ipv4(l2, l3, 47, &g)
}

/// A PPTP control message of `kind`, at its RFC 2637 length: `id12` and `id14` in the
/// Call ID fields at offsets 12 and 14, and `result` where the type has a result code
/// (OCRP and ICRP at 16, CDN and SCCRP at 14, Stop-CCRP at 12; the ID there is
/// ignored). SCCRQ and SCCRP carry protocol version 1.0 at 12.
pub fn pptp(kind: MsgType, id12: u16, id14: u16, result: u8) -> Vec<u8> {
    let id12 = if matches!(kind, MsgType::Sccrq | MsgType::Sccrp) { 0x0100 } else { id12 };
    let repr = ControlRepr { kind, id12, id14, result };
    let mut m = vec![0u8; repr.buffer_len()];
    repr.emit(&mut m);
    m
}

/// ICMP echo request (`request`) or reply.
pub fn icmp_echo(l2: L2, l3: L3, request: bool, ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let repr = Icmpv4Repr::echo(request, ident, seq);
    let mut m = vec![0u8; repr.buffer_len(data.len())];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut m[..]), data);
    ethernet_ipv4(l2, l3, 1, &m)
}

/// ARP request (`request`) or reply between the given addresses.
pub fn arp(request: bool, sender: (MacAddr, Ipv4Addr), target: (MacAddr, Ipv4Addr)) -> Vec<u8> {
    let repr = ArpRepr {
        operation: if request { ArpOperation::Request } else { ArpOperation::Reply },
        sender_hw_addr: sender.0,
        sender_ip: sender.1,
        target_hw_addr: target.0,
        target_ip: target.1,
    };
    let mut a = vec![0u8; crate::arp::PACKET_LEN];
    repr.emit(&mut ArpPacket::new_unchecked(&mut a[..]));
    let dst = if request { MacAddr::BROADCAST } else { target.0 };
    ethernet(L2 { src: sender.0, dst }, EtherType::Arp, &a)
}

/// `frame` (Ethernet + IPv4 without options) cut into fragments of `size` payload bytes
/// (a multiple of 8), each with its own header and checksum.
pub fn fragments(frame: &[u8], size: usize) -> Vec<Vec<u8>> {
    let (eth, ip) = frame.split_at(EthernetFrame::<&[u8]>::HEADER_LEN);
    let whole = Ipv4Packet::new_unchecked(ip);
    let payload = whole.payload();
    let header = &ip[..Ipv4Packet::<&[u8]>::HEADER_LEN];
    payload
        .chunks(size)
        .enumerate()
        .map(|(i, chunk)| {
            let mut h = [header, chunk].concat();
            let mut packet = Ipv4Packet::new_unchecked(&mut h[..]);
            packet.set_total_len((header.len() + chunk.len()) as u16);
            packet.set_dont_frag(false);
            packet.set_more_frags((i + 1) * size < payload.len());
            packet.set_frag_offset((i * size) as u16);
            packet.fill_checksum();
            [eth, &h].concat()
        })
        .collect()
}
