//! Builders of well-formed frames for tests, benchmarks, fuzz seeds and the lab tools.
//! Not used on the packet path (they allocate).
use crate::packet::{checksum, MacAddr};
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

fn ethernet(l2: L2, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&l2.dst.0);
    f.extend_from_slice(&l2.src.0);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    // Pad to the 60-byte minimum as a NIC would.
    if f.len() < 60 {
        f.resize(60, 0);
    }
    f
}

/// A 20-byte IPv4 header plus `l4`, checksummed.
pub fn ipv4(l3: L3, protocol: u8, l4: &[u8]) -> Vec<u8> {
    let total = (20 + l4.len()) as u16;
    let mut h = vec![0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, l3.ttl, protocol, 0, 0];
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&l3.src.octets());
    h.extend_from_slice(&l3.dst.octets());
    let c = checksum::checksum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(l4);
    h
}

fn l4_checksum(l3: L3, protocol: u8, seg: &mut [u8], at: usize) {
    let sum = checksum::pseudo_header_sum(l3.src, l3.dst, protocol, seg.len() as u16) + checksum::sum(seg);
    let mut c = !checksum::fold(sum);
    if protocol == 17 && c == 0 {
        c = 0xffff;
    }
    seg[at..at + 2].copy_from_slice(&c.to_be_bytes());
}

/// Ethernet + IPv4 around any L4 bytes (GRE, hand-made ICMP errors).
pub fn ethernet_ipv4(l2: L2, l3: L3, protocol: u8, l4: &[u8]) -> Vec<u8> {
    ethernet(l2, 0x0800, &ipv4(l3, protocol, l4))
}

pub fn udp(l2: L2, l3: L3, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut seg = Vec::with_capacity(8 + payload.len());
    seg.extend_from_slice(&sport.to_be_bytes());
    seg.extend_from_slice(&dport.to_be_bytes());
    seg.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    seg.extend_from_slice(&[0, 0]);
    seg.extend_from_slice(payload);
    l4_checksum(l3, 17, &mut seg, 6);
    ethernet(l2, 0x0800, &ipv4(l3, 17, &seg))
}

/// TCP flag bits for [`tcp`].
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

#[allow(clippy::too_many_arguments)]
pub fn tcp(l2: L2, l3: L3, sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut seg = Vec::with_capacity(20 + payload.len());
    seg.extend_from_slice(&sport.to_be_bytes());
    seg.extend_from_slice(&dport.to_be_bytes());
    seg.extend_from_slice(&seq.to_be_bytes());
    seg.extend_from_slice(&ack.to_be_bytes());
    seg.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    seg.extend_from_slice(payload);
    l4_checksum(l3, 6, &mut seg, 16);
    ethernet(l2, 0x0800, &ipv4(l3, 6, &seg))
}

/// Enhanced GRE (version 1, PPP) as PPTP sends it: key present with `call_id`, the
/// payload length, and a sequence number.
pub fn gre_v1(l2: L2, l3: L3, call_id: u16, seq: u32, ppp: &[u8]) -> Vec<u8> {
    // Flags: K and S set, version 1; protocol 0x880B (PPP).
    let mut g = vec![0x30, 0x01, 0x88, 0x0b];
    g.extend_from_slice(&(ppp.len() as u16).to_be_bytes());
    g.extend_from_slice(&call_id.to_be_bytes());
    g.extend_from_slice(&seq.to_be_bytes());
    g.extend_from_slice(ppp);
    ethernet_ipv4(l2, l3, 47, &g)
}

/// A PPTP control message of `kind`, at its RFC 2637 length: `id12` and `id14` in the
/// Call ID fields at offsets 12 and 14, and `result` where the type has a result code
/// (OCRP and ICRP at 16, CDN at 14 after its one Call ID; `id14` is then ignored).
pub fn pptp(kind: crate::alg::pptp::MsgType, id12: u16, id14: u16, result: u8) -> Vec<u8> {
    use crate::alg::pptp::MsgType;
    let len = kind.length();
    let mut m = vec![0u8; len];
    m[0..2].copy_from_slice(&(len as u16).to_be_bytes());
    m[2..4].copy_from_slice(&1u16.to_be_bytes());
    m[4..8].copy_from_slice(&0x1a2b_3c4du32.to_be_bytes());
    m[8..10].copy_from_slice(&(kind as u16).to_be_bytes());
    m[12..14].copy_from_slice(&id12.to_be_bytes());
    if len >= 16 {
        m[14..16].copy_from_slice(&id14.to_be_bytes());
    }
    match kind {
        MsgType::Ocrp | MsgType::Icrp => m[16] = result,
        MsgType::Cdn => m[14..16].copy_from_slice(&[result, 0]),
        MsgType::Sccrp | MsgType::StopCcrp => m[12..16].copy_from_slice(&[1, 0, result, 0]),
        _ => {}
    }
    m
}

/// ICMP echo request (`request`) or reply.
pub fn icmp_echo(l2: L2, l3: L3, request: bool, ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let mut m = vec![if request { 8 } else { 0 }, 0, 0, 0];
    m.extend_from_slice(&ident.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(data);
    let c = checksum::checksum(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    ethernet(l2, 0x0800, &ipv4(l3, 1, &m))
}

/// ARP request (`request`) or reply between the given addresses.
pub fn arp(request: bool, sender: (MacAddr, Ipv4Addr), target: (MacAddr, Ipv4Addr)) -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4, 0, if request { 1 } else { 2 }];
    a.extend_from_slice(&sender.0 .0);
    a.extend_from_slice(&sender.1.octets());
    a.extend_from_slice(&target.0 .0);
    a.extend_from_slice(&target.1.octets());
    let dst = if request { MacAddr::BROADCAST } else { target.0 };
    ethernet(L2 { src: sender.0, dst }, 0x0806, &a)
}

/// `frame` (Ethernet + IPv4 without options) cut into fragments of `size` payload bytes
/// (a multiple of 8), each with its own header and checksum.
pub fn fragments(frame: &[u8], size: usize) -> Vec<Vec<u8>> {
    let (eth, ip) = frame.split_at(14);
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let payload = &ip[20..total];
    payload
        .chunks(size)
        .enumerate()
        .map(|(i, chunk)| {
            let mut h = ip[..20].to_vec();
            h[2..4].copy_from_slice(&((20 + chunk.len()) as u16).to_be_bytes());
            let more = (i + 1) * size < payload.len();
            let field = ((i * size / 8) as u16) | if more { 0x2000 } else { 0 };
            h[6..8].copy_from_slice(&field.to_be_bytes());
            h[10..12].copy_from_slice(&[0, 0]);
            let c = crate::packet::checksum::checksum(&h);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            [eth, &h, chunk].concat()
        })
        .collect()
}
