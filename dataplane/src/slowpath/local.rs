//! Traffic addressed to the appliance itself: ICMP echo is answered, the rest dropped.
use super::SlowOutput;
use crate::ifaces::Interfaces;
use crate::ifaces::PortId;
use crate::stats::DropReason;
use wire::frame::Frame;
use wire::{checksum, EthernetFrame, Icmpv4Packet, IpProtocol, Ipv4Packet};

const ETH_LEN: usize = EthernetFrame::<&[u8]>::HEADER_LEN;
const ECHO_REQUEST: u8 = 8;
const ECHO_REPLY: u8 = 0;

pub(super) fn handle<F: Frame>(
    ifaces: &Interfaces,
    mut frame: F,
    in_port: PortId,
    out: &mut impl SlowOutput<F>,
) {
    let Some(iface) = ifaces.get(in_port) else {
        return out.discard(frame, DropReason::ToSelfUnhandled);
    };
    let our_mac = iface.mac;
    match echo_reply_in_place(frame.data_mut(), our_mac) {
        Ok(()) => out.transmit(in_port, frame),
        Err(reason) => out.discard(frame, reason),
    }
}

/// Rewrites an echo request into its reply: addresses swapped, type 0, checksums updated.
fn echo_reply_in_place(data: &mut [u8], our_mac: wire::MacAddr) -> Result<(), DropReason> {
    let (eth_hdr, rest) = data.split_at_mut(ETH_LEN.min(data.len()));
    let ip = Ipv4Packet::new_checked(&mut *rest)?;
    if ip.next_header() != IpProtocol::Icmp {
        return Err(DropReason::ToSelfUnhandled);
    }
    if ip.is_fragment() {
        return Err(DropReason::IcmpUnhandled);
    }
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    let hlen = ip.header_len() as usize;
    let total = ip.total_len() as usize;
    {
        let mut icmp = Icmpv4Packet::new_checked(&mut rest[hlen..total])?;
        if icmp.msg_type() != ECHO_REQUEST || icmp.code() != 0 {
            return Err(DropReason::IcmpUnhandled);
        }
        icmp.set_msg_type(ECHO_REPLY);
        let csum = icmp.checksum();
        icmp.set_checksum(checksum::update16(csum, u16::from(ECHO_REQUEST) << 8, u16::from(ECHO_REPLY) << 8));
    }
    let mut ip = Ipv4Packet::new_unchecked(&mut *rest);
    ip.set_src_addr(dst);
    ip.set_dst_addr(src);
    ip.set_ttl(64);
    ip.fill_checksum();
    let mut eth = EthernetFrame::new_unchecked(eth_hdr);
    let requester = eth.src_addr();
    eth.set_dst_addr(requester);
    eth.set_src_addr(our_mac);
    Ok(())
}
