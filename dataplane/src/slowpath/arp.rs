//! ARP (RFC 826): answer requests for our addresses, learn neighbours.
//!
//! Learning follows the RFC's merge rule: a sender already in the table is refreshed by
//! any ARP it sends; a new sender is added only when it asks for one of our addresses.
//! A reply adds nothing we did not ask for, chatter between other hosts fills nothing,
//! and an ARP claiming one of our own addresses is neither answered nor learned.
use super::{Egress, SlowOutput, SlowPath};
use crate::clock::Millis;
use crate::ifaces::PortId;
use crate::stats::DropReason;
use std::net::Ipv4Addr;
use wire::frame::Frame;
use wire::{ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame, MacAddr};

const ETH_LEN: usize = EthernetFrame::<&[u8]>::HEADER_LEN;

pub(super) fn handle<F: Frame>(
    sp: &mut SlowPath<F>,
    mut frame: F,
    in_port: PortId,
    now: Millis,
    out: &mut impl SlowOutput<F>,
) {
    let repr = match parse(frame.data()) {
        Ok(r) => r,
        Err(reason) => return out.discard(frame, reason),
    };
    let Some(iface) = sp.ifaces.get(in_port) else {
        return out.discard(frame, DropReason::ArpNotForUs);
    };
    let (our_mac, our_ip) = (iface.mac, iface.addr);
    // Another host claiming one of our addresses (a conflict, or someone taking them
    // over): never answered, never learned; the operator is warned of the count.
    let ours = |ip: Ipv4Addr| sp.ifaces.owner_of(ip).is_some() || sp.nat_addrs.contains(&ip);
    if ours(repr.sender_ip) && repr.sender_hw_addr != our_mac {
        return out.discard(frame, DropReason::ArpAddressConflict);
    }
    let proxied = iface.on_link(repr.target_ip) && sp.nat_addrs.contains(&repr.target_ip);
    let for_us = repr.target_ip == our_ip || proxied;
    let valid_sender = iface.on_link(repr.sender_ip) && !repr.sender_hw_addr.is_multicast();
    let learned = valid_sender && {
        let egress = Egress { port: in_port, mac: our_mac, ip: our_ip };
        // Only a request creates an entry: a reply we did not ask for teaches nothing.
        let asks_us = for_us && repr.operation == ArpOperation::Request;
        sp.neigh.learn(repr.sender_ip, repr.sender_hw_addr, egress, asks_us, now, out)
    };
    match repr.operation {
        ArpOperation::Request if for_us => {
            reply_in_place(frame.data_mut(), &repr, our_mac, repr.target_ip);
            out.transmit(in_port, frame);
        }
        ArpOperation::Request => out.discard(frame, DropReason::ArpNotForUs),
        // A reply is consumed by learning above, if it taught us anything.
        ArpOperation::Reply if for_us && learned => out.discard(frame, DropReason::ArpReplyConsumed),
        ArpOperation::Reply if for_us => out.discard(frame, DropReason::ArpUnsolicited),
        ArpOperation::Reply => out.discard(frame, DropReason::ArpNotForUs),
        ArpOperation::Unknown(_) => out.discard(frame, DropReason::ArpUnhandled),
    }
}

fn parse(data: &[u8]) -> Result<ArpRepr, DropReason> {
    let eth = EthernetFrame::new_checked(data)?;
    let arp = ArpPacket::new_checked(eth.payload())?;
    Ok(ArpRepr::parse(&arp)?)
}

fn reply_in_place(data: &mut [u8], req: &ArpRepr, our_mac: MacAddr, our_ip: Ipv4Addr) {
    let reply = ArpRepr {
        operation: ArpOperation::Reply,
        sender_hw_addr: our_mac,
        sender_ip: our_ip,
        target_hw_addr: req.sender_hw_addr,
        target_ip: req.sender_ip,
    };
    write_frame(data, &reply, req.sender_hw_addr);
}

/// Writes an Ethernet + ARP frame; `data` is at least `FRAME_LEN` bytes.
fn write_frame(data: &mut [u8], repr: &ArpRepr, eth_dst: MacAddr) {
    let mut eth = EthernetFrame::new_unchecked(&mut *data);
    eth.set_dst_addr(eth_dst);
    eth.set_src_addr(repr.sender_hw_addr);
    eth.set_ethertype(EtherType::Arp);
    repr.emit(&mut ArpPacket::new_unchecked(&mut data[ETH_LEN..]));
}

/// Minimum Ethernet frame without FCS; ARP is padded to it.
pub(super) const FRAME_LEN: usize = 60;

/// Builds a broadcast who-has request for `target` into an empty frame.
pub(super) fn build_request<F: Frame>(
    frame: &mut F,
    our_mac: MacAddr,
    our_ip: Ipv4Addr,
    target: Ipv4Addr,
) -> bool {
    if !frame.append(FRAME_LEN as u16) {
        return false;
    }
    let data = frame.data_mut();
    data.fill(0);
    let req = ArpRepr {
        operation: ArpOperation::Request,
        sender_hw_addr: our_mac,
        sender_ip: our_ip,
        target_hw_addr: MacAddr::ZERO,
        target_ip: target,
    };
    write_frame(data, &req, MacAddr::BROADCAST);
    true
}
