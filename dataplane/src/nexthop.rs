//! What sending a packet on to its next hop does to it: the TTL down by one (with an
//! RFC 1624 checksum update) and the Ethernet addresses set. Workers do it to what they
//! forward; the slow path to packets it held until their next hop answered.
use wire::{ethernet, ChecksumDelta, MacAddr};

/// Decrements the TTL with an RFC 1624 checksum update and sets the MAC addresses.
/// The caller has checked the frame (Ethernet + IPv4 header present, TTL > 1).
pub fn rewrite_for_next_hop(data: &mut [u8], src_mac: MacAddr, dst_mac: MacAddr) {
    let delta = hop_down(data, src_mac, dst_mac);
    if let Some(c) = data.get_mut(ethernet::HEADER_LEN + 10..ethernet::HEADER_LEN + 12) {
        let csum = u16::from_be_bytes([c[0], c[1]]);
        c.copy_from_slice(&delta.apply(csum).to_be_bytes());
    }
}

/// Sets the MAC addresses and decrements the TTL, leaving the IPv4 checksum to the
/// caller: the change the TTL makes to it is returned, to be applied together with
/// any other (a session's translation) in one update.
#[inline]
pub fn hop_down(data: &mut [u8], src_mac: MacAddr, dst_mac: MacAddr) -> ChecksumDelta {
    let mut delta = ChecksumDelta::new();
    let Some(h) = data.get_mut(..ethernet::HEADER_LEN + 20) else { return delta };
    h[..6].copy_from_slice(&dst_mac.0);
    h[6..12].copy_from_slice(&src_mac.0);
    // Callers forward only TTLs above 1; a 0 would stay 0 and change no checksum.
    if h[22] > 0 {
        h[22] -= 1;
        delta = ChecksumDelta::TTL_DOWN;
    }
    delta
}
