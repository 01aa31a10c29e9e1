//! The slow-path core's logic, callable without EAL: ARP, traffic to the appliance's own
//! addresses, packets whose next hop is not resolved yet, and the ALGs.
//!
//! Workers hand these packets over as they are; the slow path classifies them again
//! rather than trusting a tag, so a packet can never be misfiled by a stale worker. Its
//! effects go through [`SlowOutput`]: frames to transmit, drops to count, neighbour
//! changes to send to every worker, and buffers for packets it builds.
mod alg;
mod arp;
pub mod lcore;
mod local;
mod resolve;

pub use resolve::{NeighbourLimits, NeighbourState, NeighbourView};

use crate::alg::meta::take_gre_error_mark;
use crate::alg::pptp::PptpAlg;
use crate::clock::Millis;
use crate::ifaces::Interfaces;
use crate::ifaces::PortId;
use crate::neigh::NeighbourUpdate;
use crate::route::RouteTable;
use crate::servermap::ServerMapChange;
use crate::stats::DropReason;
use resolve::NeighbourTable;
use std::net::Ipv4Addr;
use std::sync::Arc;
use wire::frame::Frame;
use wire::{EtherType, EthernetFrame, Ipv4Packet, MacAddr};

/// Our side of the link a neighbour is on: where requests and released packets go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Egress {
    pub port: PortId,
    pub mac: MacAddr,
    pub ip: Ipv4Addr,
}

/// Where the slow path's effects go: TX queues, counters, worker inboxes, the mbuf pool.
pub trait SlowOutput<F: Frame> {
    fn transmit(&mut self, port: PortId, frame: F);
    /// Counts the drop; the frame is freed by being dropped.
    fn discard(&mut self, frame: F, reason: DropReason);
    fn notify(&mut self, update: NeighbourUpdate);
    /// Sends a server-map change to the worker that owns the entry's flow.
    fn server_map(&mut self, worker: u16, change: ServerMapChange);
    /// An event for the operator's log, if there is one.
    fn event(&mut self, _event: crate::events::Event) {}
    /// An empty frame for a packet the slow path builds (ARP requests).
    fn alloc(&mut self) -> Option<F>;
    /// Counts a drop of a packet that had no buffer.
    fn count_drop(&mut self, reason: DropReason);
}

pub struct SlowPath<F: Frame> {
    ifaces: Arc<Interfaces>,
    routes: Arc<RouteTable>,
    neigh: NeighbourTable<F>,
    /// NAT pool addresses: answered in ARP on the subnet they belong to (proxy ARP), so
    /// a pool may sit on the outside link without a route from the upstream router.
    nat_addrs: Vec<Ipv4Addr>,
    pptp: Option<PptpAlg>,
}

impl<F: Frame> SlowPath<F> {
    pub fn new(
        ifaces: Arc<Interfaces>,
        routes: Arc<RouteTable>,
        statics: &[(Ipv4Addr, MacAddr)],
        limits: NeighbourLimits,
    ) -> SlowPath<F> {
        SlowPath {
            ifaces,
            routes,
            neigh: NeighbourTable::new(statics, limits),
            nat_addrs: Vec::new(),
            pptp: None,
        }
    }

    /// The NAT addresses to answer ARP for (set at start and on reload).
    pub fn set_nat_addrs(&mut self, addrs: Vec<Ipv4Addr>) {
        self.nat_addrs = addrs;
    }

    /// Static neighbours, for seeding the workers' caches at start.
    pub fn static_neighbours(&self) -> Vec<(Ipv4Addr, MacAddr)> {
        self.neigh.statics()
    }

    pub fn neighbours(&self, now: Millis) -> Vec<NeighbourView> {
        self.neigh.view(now)
    }

    /// Handles one frame a worker passed over.
    pub fn handle(&mut self, mut frame: F, in_port: PortId, now: Millis, out: &mut impl SlowOutput<F>) {
        if take_gre_error_mark(&mut frame) {
            return match self.quotes_gre(frame.data()) {
                Some(quoted) => self.gre_icmp_error(frame, quoted, now, out),
                None => out.discard(frame, DropReason::IcmpNoSession),
            };
        }
        let ethertype = match EthernetFrame::new_checked(frame.data()) {
            Ok(eth) => eth.ethertype(),
            Err(e) => return out.discard(frame, e.into()),
        };
        match ethertype {
            EtherType::Arp => arp::handle(self, frame, in_port, now, out),
            EtherType::Ipv4 => self.handle_ipv4(frame, in_port, now, out),
            _ => out.discard(frame, DropReason::UnsupportedEthertype),
        }
    }

    fn handle_ipv4(&mut self, frame: F, in_port: PortId, now: Millis, out: &mut impl SlowOutput<F>) {
        let dst = match Ipv4Packet::new_checked(&frame.data()[EthernetFrame::<&[u8]>::HEADER_LEN..]) {
            Ok(ip) => ip.dst_addr(),
            Err(e) => return out.discard(frame, e.into()),
        };
        if self.ifaces.owner_of(dst).is_some() {
            return local::handle(&self.ifaces, frame, in_port, out);
        }
        self.route_on(frame, dst, now, out);
    }

    /// A packet already translated for `dst`: its next hop resolved (or asked for), then
    /// sent.
    fn route_on(&mut self, frame: F, dst: Ipv4Addr, now: Millis, out: &mut impl SlowOutput<F>) {
        let Some(route) = self.routes.lookup(dst) else {
            return out.discard(frame, DropReason::NoRoute);
        };
        let Some(iface) = self.ifaces.get(route.port) else {
            return out.discard(frame, DropReason::NoRoute);
        };
        let egress = Egress { port: iface.port, mac: iface.mac, ip: iface.addr };
        self.neigh.resolve(frame, route.next_hop(dst), egress, now, out);
    }

    /// Timers: ARP retries, hold-queue expiry, neighbour aging, ALG aging. Call every
    /// few ms.
    pub fn tick(&mut self, now: Millis, out: &mut impl SlowOutput<F>) {
        self.neigh.tick(now, out);
        self.tick_alg(now, out);
    }
}

#[cfg(test)]
mod tests;
