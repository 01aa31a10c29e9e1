//! The worker's per-packet logic, callable without EAL.
//!
//! ```text
//!  frame ──► ethernet ──► ARP ─────────────────────────────► slow path
//!               │
//!               └─► IPv4 checks ──► to one of our addresses ► slow path
//!                        │
//!                        └─► route ──► TTL ──► neighbour ──► rewrite ──► TX port
//!                              │        │         └─ miss ─► slow path (ARP, hold)
//!                           no_route   └─ expired ─► ICMP time exceeded (rate-limited)
//! ```
//!
//! [`Pipeline::process`] takes a [`Frame`] and returns a [`Verdict`]; it never allocates,
//! locks, logs or panics, so workers, scenario tests and fuzzers all run exactly this code.
mod icmp_error;

use crate::clock::{Millis, TokenBucket};
use crate::dpdk::PortId;
use crate::frame::Frame;
use crate::ifaces::{DstKind, Interfaces};
use crate::neigh::NeighbourCache;
use crate::packet::{checksum, EtherType, EthernetFrame, IpProtocol, Ipv4Packet, MacAddr};
use crate::route::RouteTable;
use crate::stats::DropReason;
use std::net::Ipv4Addr;
use std::sync::Arc;

pub use icmp_error::build_time_exceeded;

const ETH_LEN: usize = EthernetFrame::<&[u8]>::HEADER_LEN;

/// What to do with a frame after [`Pipeline::process`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Rewritten for forwarding; transmit on this port.
    Forward(PortId),
    /// Replaced by a reply the appliance generated; transmit on this port.
    Reply(PortId),
    /// Hand to the slow-path core (ARP, traffic to the appliance, unresolved next hop).
    SlowPath,
    Drop(DropReason),
}

/// Limits for what packets can make the appliance send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineLimits {
    pub icmp_errors_per_sec: u64,
    pub icmp_errors_burst: u64,
}

impl Default for PipelineLimits {
    fn default() -> Self {
        PipelineLimits { icmp_errors_per_sec: 100, icmp_errors_burst: 20 }
    }
}

/// One worker's forwarding state: shared immutable topology plus what the worker owns.
pub struct Pipeline {
    ifaces: Arc<Interfaces>,
    routes: Arc<RouteTable>,
    neigh: NeighbourCache,
    /// The last next hop resolved: most transit goes to one gateway, so this spares the
    /// hash lookup. Cleared whenever the neighbour cache changes.
    last_hop: Option<(Ipv4Addr, MacAddr)>,
    icmp_errors: TokenBucket,
}

impl Pipeline {
    pub fn new(
        ifaces: Arc<Interfaces>,
        routes: Arc<RouteTable>,
        neigh: NeighbourCache,
        limits: PipelineLimits,
    ) -> Pipeline {
        Pipeline {
            ifaces,
            routes,
            neigh,
            last_hop: None,
            icmp_errors: TokenBucket::new(limits.icmp_errors_per_sec, limits.icmp_errors_burst),
        }
    }

    /// The neighbour cache, for applying updates; forgets the last next hop.
    pub fn neighbours_mut(&mut self) -> &mut NeighbourCache {
        self.last_hop = None;
        &mut self.neigh
    }

    #[inline]
    fn neighbour(&mut self, ip: Ipv4Addr) -> Option<MacAddr> {
        match self.last_hop {
            Some((hop, mac)) if hop == ip => Some(mac),
            _ => {
                let mac = self.neigh.get(ip)?;
                self.last_hop = Some((ip, mac));
                Some(mac)
            }
        }
    }

    pub fn interfaces(&self) -> &Interfaces {
        &self.ifaces
    }

    /// Decides the fate of one received frame, rewriting it in place when it is forwarded
    /// or answered.
    pub fn process<F: Frame>(&mut self, frame: &mut F, in_port: PortId, now: Millis) -> Verdict {
        match self.classify(frame.data(), in_port) {
            Ok(Class::Transit { dst }) => self.forward(frame, in_port, dst, now),
            Ok(Class::SlowPath) => Verdict::SlowPath,
            Err(reason) => Verdict::Drop(reason),
        }
    }

    fn classify(&self, data: &[u8], in_port: PortId) -> Result<Class, DropReason> {
        let eth = EthernetFrame::new_checked(data)?;
        let Some(iface) = self.ifaces.get(in_port) else {
            return Err(DropReason::NotOurMac);
        };
        let dst_mac = eth.dst_addr();
        match eth.ethertype() {
            EtherType::Arp => return Ok(Class::SlowPath),
            EtherType::Ipv4 if dst_mac == iface.mac => {}
            EtherType::Ipv4 if dst_mac.is_broadcast() || dst_mac.is_multicast() => {
                return Err(DropReason::MartianAddress)
            }
            EtherType::Ipv4 => return Err(DropReason::NotOurMac),
            _ => return Err(DropReason::UnsupportedEthertype),
        }
        let ip = Ipv4Packet::new_checked(eth.payload())?;
        if !ip.verify_checksum() {
            return Err(DropReason::Ipv4BadChecksum);
        }
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        if is_martian_src(src) || is_martian_dst(dst) {
            return Err(DropReason::MartianAddress);
        }
        match self.ifaces.dst_kind(dst) {
            DstKind::Local => Ok(Class::SlowPath),
            DstKind::Broadcast => Err(DropReason::MartianAddress),
            DstKind::Other => Ok(Class::Transit { dst }),
        }
    }

    fn forward<F: Frame>(&mut self, frame: &mut F, in_port: PortId, dst: Ipv4Addr, now: Millis) -> Verdict {
        let Some(route) = self.routes.lookup(dst) else {
            return Verdict::Drop(DropReason::NoRoute);
        };
        let ttl = frame.data().get(ETH_LEN + 8).copied().unwrap_or(0);
        if ttl <= 1 {
            return self.time_exceeded(frame, in_port, now);
        }
        let Some(out_mac) = self.ifaces.get(route.port).map(|i| i.mac) else {
            return Verdict::Drop(DropReason::NoRoute);
        };
        let Some(next_mac) = self.neighbour(route.next_hop(dst)) else {
            return Verdict::SlowPath;
        };
        rewrite_for_next_hop(frame.data_mut(), out_mac, next_mac);
        Verdict::Forward(route.port)
    }

    fn time_exceeded<F: Frame>(&mut self, frame: &mut F, in_port: PortId, now: Millis) -> Verdict {
        let Some(iface) = self.ifaces.get(in_port) else {
            return Verdict::Drop(DropReason::TtlExceeded);
        };
        if !icmp_error::may_answer(frame.data()) || !self.icmp_errors.take(now) {
            return Verdict::Drop(DropReason::TtlExceeded);
        }
        if build_time_exceeded(frame, iface) {
            Verdict::Reply(in_port)
        } else {
            Verdict::Drop(DropReason::TtlExceeded)
        }
    }
}

enum Class {
    Transit { dst: Ipv4Addr },
    SlowPath,
}

/// Decrements the TTL with an RFC 1624 checksum update and sets the MAC addresses.
/// The caller has checked the frame (Ethernet + IPv4 header present, TTL > 1).
pub(crate) fn rewrite_for_next_hop(data: &mut [u8], src_mac: MacAddr, dst_mac: MacAddr) {
    let mut eth = EthernetFrame::new_unchecked(&mut *data);
    eth.set_dst_addr(dst_mac);
    eth.set_src_addr(src_mac);
    let mut ip = Ipv4Packet::new_unchecked(&mut data[ETH_LEN..]);
    let ttl = ip.ttl();
    let old_word = u16::from_be_bytes([ttl, u8::from(ip.next_header())]);
    let new_word = u16::from_be_bytes([ttl - 1, u8::from(ip.next_header())]);
    ip.set_ttl(ttl - 1);
    let csum = ip.checksum();
    ip.set_checksum(checksum::update16(csum, old_word, new_word));
}

fn is_martian_src(ip: Ipv4Addr) -> bool {
    ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() || ip.is_broadcast()
}

fn is_martian_dst(ip: Ipv4Addr) -> bool {
    ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() || ip.is_broadcast()
}

/// Whether an IPv4 packet's first fragment carries an ICMP error (never answered with
/// another error, RFC 1812 4.3.2.7).
fn carries_icmp_error(ip: &Ipv4Packet<&[u8]>) -> bool {
    ip.next_header() == IpProtocol::Icmp
        && ip.frag_offset() == 0
        && ip.payload().first().is_some_and(|t| !matches!(t, 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18))
}

#[cfg(test)]
mod tests;
