//! The last steps of a forwarded packet: TTL, route, neighbour, MAC and TTL rewrite.
use super::{Pipeline, Verdict};
use crate::clock::Millis;
use crate::ifaces::PortId;
use crate::nexthop::rewrite_for_next_hop;
use crate::stats::DropReason;
use std::net::Ipv4Addr;
use wire::frame::Frame;
use wire::MacAddr;

impl Pipeline {
    /// Routes a packet already translated (its destination is now `dst`).
    pub(super) fn forward<F: Frame>(&mut self, frame: &mut F, dst: Ipv4Addr) -> Verdict {
        let Some(route) = self.shared.routes.lookup(dst) else {
            return Verdict::Drop(DropReason::NoRoute);
        };
        let Some(out_mac) = self.shared.ifaces.get(route.port).map(|i| i.mac) else {
            return Verdict::Drop(DropReason::NoRoute);
        };
        let Some(next_mac) = self.neighbour(route.next_hop(dst)) else {
            return Verdict::SlowPath;
        };
        rewrite_for_next_hop(frame.data_mut(), out_mac, next_mac);
        Verdict::Forward(route.port)
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
