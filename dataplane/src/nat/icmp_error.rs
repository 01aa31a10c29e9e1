//! ICMP errors about translated packets (RFC 5508 4, RFC 3022 4.3).
//!
//! An error quotes the IPv4 header and first 8 bytes of the packet that caused it. The
//! quoted packet belongs to a session, so the error does too: its outer header is
//! translated like the session's packets in the error's direction, and the quoted
//! packet is put back the way it was before translation, so the inside host recognises
//! its own packet.
//!
//! ```text
//!  | IPv4 (outer) | ICMP type code csum unused | IPv4 (quoted) | 8 bytes: ports, ... |
//! ```
use wire::FlowKey;
use wire::{checksum, Ipv4Packet};

const ICMP_HEADER: usize = 8;

/// The quoted packet's key as it was on the wire (ports at fixed offsets: only 8 bytes
/// of its L4 header are there), and whether its protocol is portless in the sense of
/// `flow::owner`. `icmp` is the outer ICMP message.
pub fn quoted_key(icmp: &[u8]) -> Option<(FlowKey, bool)> {
    let quoted = icmp.get(ICMP_HEADER..)?;
    let ihl = quoted_ihl(quoted)?;
    let l4 = &quoted[ihl..ihl + 8];
    let proto = quoted[9];
    let (sport, dport, portless) = match proto {
        6 | 17 => (be16(l4, 0), be16(l4, 2), false),
        1 if l4[0] == 8 || l4[0] == 0 => (be16(l4, 4), be16(l4, 4), false),
        47 if be16(l4, 0) & 0x2007 == 0x2001 => (0, be16(l4, 6), false),
        _ => (0, 0, true),
    };
    let key = FlowKey { src: be32(quoted, 12), dst: be32(quoted, 16), sport, dport, proto };
    Some((key, portless))
}

/// Rewrites an ICMP error in place: outer addresses to `outer` (source, destination),
/// the quoted packet to `quoted` (as it was before translation), all checksums
/// recomputed or adjusted. `ip` starts at the outer IPv4 header.
pub fn translate(ip: &mut [u8], outer: (u32, u32), quoted: &FlowKey) -> bool {
    let Ok(outer_ip) = Ipv4Packet::new_checked(&*ip) else { return false };
    let (ihl, total) = (outer_ip.header_len() as usize, outer_ip.total_len() as usize);
    let Some(icmp) = ip.get_mut(ihl..total) else { return false };
    if !rewrite_quoted(icmp, quoted) {
        return false;
    }
    icmp[2..4].copy_from_slice(&[0, 0]);
    let c = checksum::checksum(icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut outer_ip = Ipv4Packet::new_unchecked(&mut *ip);
    outer_ip.set_src_addr(outer.0.into());
    outer_ip.set_dst_addr(outer.1.into());
    outer_ip.fill_checksum();
    true
}

fn rewrite_quoted(icmp: &mut [u8], to: &FlowKey) -> bool {
    let Some(quoted) = icmp.get_mut(ICMP_HEADER..) else { return false };
    let Some(ihl) = quoted_ihl(quoted) else { return false };
    let (old_src, old_dst) = (be32(quoted, 12), be32(quoted, 16));
    put32(quoted, 12, to.src);
    put32(quoted, 16, to.dst);
    let mut qip = Ipv4Packet::new_unchecked(&mut quoted[..ihl]);
    qip.fill_checksum();
    let l4 = &mut quoted[ihl..];
    match to.proto {
        6 | 17 => {
            let (old_sp, old_dp) = (be16(l4, 0), be16(l4, 2));
            put16(l4, 0, to.sport);
            put16(l4, 2, to.dport);
            // UDP's checksum is within the 8 quoted bytes; keep it right for the host.
            if to.proto == 17 && be16(l4, 6) != 0 {
                let mut c = be16(l4, 6);
                c = checksum::update32(c, old_src, to.src);
                c = checksum::update32(c, old_dst, to.dst);
                c = checksum::update16(c, old_sp, to.sport);
                c = checksum::update16(c, old_dp, to.dport);
                put16(l4, 6, c);
            }
        }
        1 => {
            let old = be16(l4, 4);
            put16(l4, 4, to.sport);
            let c = checksum::update16(be16(l4, 2), old, to.sport);
            put16(l4, 2, c);
        }
        47 if be16(l4, 0) & 0x2000 != 0 => put16(l4, 6, to.dport),
        _ => {}
    }
    true
}

/// The quoted header's length, if it is IPv4 and followed by the 8 bytes RFC 792
/// promises. Its total length field describes the original, not this truncated copy,
/// so the ordinary view's checks do not apply.
fn quoted_ihl(quoted: &[u8]) -> Option<usize> {
    let first = *quoted.first()?;
    let ihl = usize::from(first & 0x0f) * 4;
    (first >> 4 == 4 && ihl >= 20 && quoted.len() >= ihl + 8).then_some(ihl)
}

fn be16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2).map_or(0, |s| u16::from_be_bytes([s[0], s[1]]))
}

fn be32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4).map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    if let Some(s) = b.get_mut(at..at + 2) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    if let Some(s) = b.get_mut(at..at + 4) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}
