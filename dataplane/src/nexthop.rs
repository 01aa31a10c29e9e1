//! What sending a packet on to its next hop does to it: the TTL down by one (with an
//! RFC 1624 checksum update) and the Ethernet addresses set. Workers do it to what they
//! forward; the slow path to packets it held until their next hop answered.
use wire::{checksum, ethernet, EthernetFrame, Ipv4Packet, MacAddr};

/// Decrements the TTL with an RFC 1624 checksum update and sets the MAC addresses.
/// The caller has checked the frame (Ethernet + IPv4 header present, TTL > 1).
pub fn rewrite_for_next_hop(data: &mut [u8], src_mac: MacAddr, dst_mac: MacAddr) {
    let mut eth = EthernetFrame::new_unchecked(&mut *data);
    eth.set_dst_addr(dst_mac);
    eth.set_src_addr(src_mac);
    let mut ip = Ipv4Packet::new_unchecked(&mut data[ethernet::HEADER_LEN..]);
    let ttl = ip.ttl();
    let old_word = u16::from_be_bytes([ttl, u8::from(ip.next_header())]);
    let new_word = u16::from_be_bytes([ttl.saturating_sub(1), u8::from(ip.next_header())]);
    ip.set_ttl(ttl.saturating_sub(1));
    let csum = ip.checksum();
    ip.set_checksum(checksum::update16(csum, old_word, new_word));
}
