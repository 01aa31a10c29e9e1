//! The last steps of a forwarded packet: TTL, route, neighbour, MAC and TTL rewrite.
use super::classify::Packet;
use super::ETH_LEN;
use super::{Pipeline, Verdict};
use crate::clock::Millis;
use crate::ifaces::PortId;
use crate::nexthop::{hop_down, rewrite_for_next_hop};
use crate::session::Rewrite;
use crate::stats::DropReason;
use std::net::Ipv4Addr;
use wire::frame::Frame;
use wire::{ChecksumDelta, MacAddr};

/// Where a packet goes next: the port, and the MACs it leaves with.
pub(super) struct Hop {
    port: PortId,
    src: MacAddr,
    dst: MacAddr,
}

impl Pipeline {
    /// Routes a packet already translated (its destination is now `dst`).
    pub(super) fn forward<F: Frame>(&mut self, frame: &mut F, dst: Ipv4Addr) -> Verdict {
        match self.next_hop(dst) {
            Ok(hop) => {
                rewrite_for_next_hop(frame.data_mut(), hop.src, hop.dst);
                Verdict::Forward(hop.port)
            }
            Err(verdict) => verdict,
        }
    }

    /// Translates a packet of a session and routes it, with one update of the IPv4
    /// header checksum for the translation and the TTL. A packet that is not sent on
    /// at once (its next hop unresolved) leaves translated, its TTL as it came.
    pub(super) fn translate_and_forward<F: Frame>(
        &mut self,
        frame: &mut F,
        rewrite: &Rewrite,
        pkt: &Packet,
    ) -> Verdict {
        let dst = rewrite.dst_addr().map_or(pkt.key.dst_addr(), Ipv4Addr::from);
        // A later fragment has no transport header: only the addresses change.
        let proto = if pkt.l4 { pkt.key.proto } else { 0 };
        let hop = self.next_hop(dst);
        let data = frame.data_mut();
        let ttl = match &hop {
            Ok(hop) => hop_down(data, hop.src, hop.dst),
            Err(_) => ChecksumDelta::new(),
        };
        if let Some(ip) = data.get_mut(ETH_LEN..) {
            rewrite.apply(ip, usize::from(pkt.ihl), proto, ttl);
        }
        match hop {
            Ok(hop) => Verdict::Forward(hop.port),
            Err(verdict) => verdict,
        }
    }

    /// The next hop to `dst`, or what becomes of a packet that has none yet.
    #[inline]
    fn next_hop(&mut self, dst: Ipv4Addr) -> Result<Hop, Verdict> {
        let Some(route) = self.shared.routes.lookup(dst) else {
            return Err(Verdict::Drop(DropReason::NoRoute));
        };
        let Some(src) = self.port_mac(route.port) else {
            return Err(Verdict::Drop(DropReason::NoRoute));
        };
        let Some(dst) = self.neighbour(route.next_hop(dst)) else {
            return Err(Verdict::SlowPath);
        };
        Ok(Hop { port: route.port, src, dst })
    }

    #[inline]
    fn neighbour(&mut self, ip: Ipv4Addr) -> Option<MacAddr> {
        match self.last_hop {
            Some((hop, mac)) if hop == ip => Some(mac),
            _ => {
                let mac = *self.neigh.get(&ip)?;
                self.last_hop = Some((ip, mac));
                Some(mac)
            }
        }
    }

    /// TTL 1 or 0 expires here: time exceeded to the sender (rate-limited), built from
    /// the packet as received.
    pub(super) fn time_exceeded<F: Frame>(&mut self, frame: &mut F, in_port: PortId, now: Millis) -> Verdict {
        let Some(iface) = self.shared.ifaces.get(in_port) else {
            return Verdict::Drop(DropReason::TtlExceeded);
        };
        if !super::time_exceeded::may_answer(frame.data()) || !self.icmp_errors.take(now) {
            return Verdict::Drop(DropReason::TtlExceeded);
        }
        if super::build_time_exceeded(frame, iface) {
            Verdict::Reply(in_port)
        } else {
            Verdict::Drop(DropReason::TtlExceeded)
        }
    }
}
