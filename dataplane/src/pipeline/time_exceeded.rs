//! ICMP time exceeded (RFC 792, RFC 1812 4.3.2), built in place in the offending frame.
//!
//! ```text
//!  before: | eth | IPv4 (ihl) | payload ...                    |
//!  after:  | eth | IPv4 (20) | ICMP 11/0 (8) | IPv4 (ihl) | 8 bytes of payload |
//! ```
use super::classify::{carries_icmp_error, is_martian};
use super::ETH_LEN;
use crate::ifaces::Interface;
use wire::frame::Frame;
use wire::{checksum, EtherType, EthernetFrame, IpProtocol, Ipv4Packet, Ipv4Repr};

const IP_LEN: usize = 20;
const ICMP_LEN: usize = 8;
const TIME_EXCEEDED: u8 = 11;

/// RFC 1812 4.3.2.7: no error about an error, a non-first fragment, or a martian source.
pub(super) fn may_answer(data: &[u8]) -> bool {
    let Some(ip) = data.get(ETH_LEN..).and_then(|d| Ipv4Packet::new_checked(d).ok()) else {
        return false;
    };
    ip.frag_offset() == 0 && !is_martian(ip.src_addr()) && !carries_icmp_error(&ip)
}

/// Turns a checked Ethernet/IPv4 frame into the time-exceeded message for its sender,
/// sent back out of `iface`. False if the frame has not the room (it is then unusable).
pub fn build_time_exceeded<F: Frame>(frame: &mut F, iface: &Interface) -> bool {
    let data = frame.data();
    let Ok(eth) = EthernetFrame::new_checked(data) else {
        return false;
    };
    let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else {
        return false;
    };
    let sender_mac = eth.src_addr();
    let sender_ip = ip.src_addr();
    let quote_len = (ip.header_len() as usize + 8).min(ip.total_len() as usize);
    let prefix = (ETH_LEN + IP_LEN + ICMP_LEN) as u16;
    if !(frame.adj(ETH_LEN as u16) && frame.truncate(quote_len) && frame.prepend(prefix)) {
        return false;
    }
    let out = frame.data_mut();
    let mut eth = EthernetFrame::new_unchecked(&mut out[..ETH_LEN]);
    eth.set_dst_addr(sender_mac);
    eth.set_src_addr(iface.mac);
    eth.set_ethertype(EtherType::Ipv4);
    let repr = Ipv4Repr {
        src_addr: iface.addr,
        dst_addr: sender_ip,
        next_header: IpProtocol::Icmp,
        payload_len: ICMP_LEN + quote_len,
        ttl: 64,
    };
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut out[ETH_LEN..ETH_LEN + IP_LEN]));
    let icmp = &mut out[ETH_LEN + IP_LEN..];
    icmp[..ICMP_LEN].copy_from_slice(&[TIME_EXCEEDED, 0, 0, 0, 0, 0, 0, 0]);
    let csum = checksum::checksum(icmp);
    icmp[2..4].copy_from_slice(&csum.to_be_bytes());
    true
}
