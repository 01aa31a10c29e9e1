//! The authoritative neighbour table: resolution by ARP, hold queues, aging.
//!
//! States: `Static` (from config, never aged), `Incomplete` (request sent, packets held
//! up to `hold_packets`; retried every second, given up after `retries`), `Reachable`
//! (probed again when three quarters of `timeout` have passed without news, removed at
//! `timeout`). Every change reaches the workers as a [`NeighbourUpdate`].
use super::{arp, Egress, SlowOutput};
use crate::clock::Millis;
use crate::ifaces::PortId;
use crate::neigh::NeighbourUpdate;
use crate::nexthop::rewrite_for_next_hop;
use crate::stats::DropReason;
use rustc_hash::FxHashMap;
use std::net::Ipv4Addr;
use wire::frame::Frame;
use wire::MacAddr;

const RETRY_MS: u64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighbourLimits {
    pub capacity: usize,
    pub hold_packets: usize,
    pub retries: u8,
    pub timeout_secs: u64,
}

impl Default for NeighbourLimits {
    fn default() -> Self {
        NeighbourLimits { capacity: 4096, hold_packets: 8, retries: 3, timeout_secs: 300 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeighbourState {
    Static,
    Incomplete,
    Reachable,
}

/// One row of `display arp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighbourView {
    pub ip: Ipv4Addr,
    pub mac: Option<MacAddr>,
    pub port: Option<PortId>,
    pub state: NeighbourState,
    pub age_secs: u64,
}

enum State {
    Static(MacAddr),
    Incomplete { tries: u8, last_request: Millis },
    Reachable { mac: MacAddr, confirmed: Millis, last_probe: Option<Millis> },
}

struct Entry<F> {
    state: State,
    egress: Option<Egress>,
    since: Millis,
    held: Vec<F>,
}

pub(super) struct NeighbourTable<F> {
    map: FxHashMap<Ipv4Addr, Entry<F>>,
    limits: NeighbourLimits,
}

impl<F: Frame> NeighbourTable<F> {
    pub(super) fn new(statics: &[(Ipv4Addr, MacAddr)], limits: NeighbourLimits) -> Self {
        let mut map = FxHashMap::default();
        map.reserve(limits.capacity + statics.len());
        for &(ip, mac) in statics {
            map.insert(
                ip,
                Entry { state: State::Static(mac), egress: None, since: Millis(0), held: Vec::new() },
            );
        }
        NeighbourTable { map, limits }
    }

    pub(super) fn statics(&self) -> Vec<(Ipv4Addr, MacAddr)> {
        self.map
            .iter()
            .filter_map(|(ip, e)| match e.state {
                State::Static(mac) => Some((*ip, mac)),
                _ => None,
            })
            .collect()
    }

    /// Records that `ip` is at `mac`; `solicited` when a new entry may be created (a host
    /// asking for one of our addresses will talk to us). Releases packets held for it.
    /// Says whether the table took it in.
    pub(super) fn learn(
        &mut self,
        ip: Ipv4Addr,
        mac: MacAddr,
        egress: Egress,
        solicited: bool,
        now: Millis,
        out: &mut impl SlowOutput<F>,
    ) -> bool {
        if !self.map.contains_key(&ip) {
            if !solicited || self.map.len() >= self.limits.capacity {
                return false;
            }
            self.map.insert(
                ip,
                Entry {
                    state: State::Incomplete { tries: 0, last_request: now },
                    egress: Some(egress),
                    since: now,
                    held: Vec::new(),
                },
            );
        }
        let Some(entry) = self.map.get_mut(&ip) else { return false };
        let changed = match entry.state {
            State::Static(_) => return false,
            State::Reachable { mac: old, .. } => old != mac,
            State::Incomplete { .. } => true,
        };
        entry.state = State::Reachable { mac, confirmed: now, last_probe: None };
        entry.egress = Some(egress);
        if changed {
            entry.since = now;
            out.notify(NeighbourUpdate::Set { ip, mac });
        }
        release(entry, mac, out);
        true
    }

    /// A packet whose next hop a worker could not resolve: send it now if we know the
    /// neighbour (and remind the workers), else hold it and ask.
    pub(super) fn resolve(
        &mut self,
        mut frame: F,
        next_hop: Ipv4Addr,
        egress: Egress,
        now: Millis,
        out: &mut impl SlowOutput<F>,
    ) {
        let known = self.map.get(&next_hop).and_then(|e| match e.state {
            State::Static(mac) | State::Reachable { mac, .. } => Some(mac),
            State::Incomplete { .. } => None,
        });
        if let Some(mac) = known {
            // The worker's cache missed it: its inbox must have overflowed. Send again.
            out.notify(NeighbourUpdate::Set { ip: next_hop, mac });
            rewrite_for_next_hop(frame.data_mut(), egress.mac, mac);
            return out.transmit(egress.port, frame);
        }
        if !self.map.contains_key(&next_hop) {
            if self.map.len() >= self.limits.capacity {
                return out.discard(frame, DropReason::NeighbourUnresolved);
            }
            let mut held = Vec::new();
            held.reserve_exact(self.limits.hold_packets);
            self.map.insert(
                next_hop,
                Entry {
                    state: State::Incomplete { tries: 1, last_request: now },
                    egress: Some(egress),
                    since: now,
                    held,
                },
            );
            send_request(egress, next_hop, out);
        }
        let Some(entry) = self.map.get_mut(&next_hop) else { return };
        if entry.held.len() >= self.limits.hold_packets {
            return out.discard(frame, DropReason::NeighbourUnresolved);
        }
        entry.held.push(frame);
    }

    pub(super) fn tick(&mut self, now: Millis, out: &mut impl SlowOutput<F>) {
        let timeout_ms = self.limits.timeout_secs * 1000;
        let retries = self.limits.retries;
        self.map.retain(|ip, e| {
            let Some(egress) = e.egress else {
                return matches!(e.state, State::Static(_));
            };
            match &mut e.state {
                State::Static(_) => true,
                State::Incomplete { tries, last_request } => {
                    if now.saturating_sub(*last_request) < RETRY_MS {
                        return true;
                    }
                    if *tries >= retries {
                        for f in e.held.drain(..) {
                            out.discard(f, DropReason::NeighbourUnresolved);
                        }
                        return false;
                    }
                    *tries += 1;
                    *last_request = now;
                    send_request(egress, *ip, out);
                    true
                }
                State::Reachable { confirmed, last_probe, .. } => {
                    let age = now.saturating_sub(*confirmed);
                    if age >= timeout_ms {
                        out.notify(NeighbourUpdate::Remove { ip: *ip });
                        return false;
                    }
                    let probe_due = last_probe.is_none_or(|t| now.saturating_sub(t) >= RETRY_MS);
                    if age >= timeout_ms / 4 * 3 && probe_due {
                        *last_probe = Some(now);
                        send_request(egress, *ip, out);
                    }
                    true
                }
            }
        });
    }

    pub(super) fn view(&self, now: Millis) -> Vec<NeighbourView> {
        let mut v: Vec<_> = self
            .map
            .iter()
            .map(|(ip, e)| {
                let (mac, state) = match e.state {
                    State::Static(mac) => (Some(mac), NeighbourState::Static),
                    State::Incomplete { .. } => (None, NeighbourState::Incomplete),
                    State::Reachable { mac, .. } => (Some(mac), NeighbourState::Reachable),
                };
                NeighbourView {
                    ip: *ip,
                    mac,
                    port: e.egress.map(|g| g.port),
                    state,
                    age_secs: now.saturating_sub(e.since) / 1000,
                }
            })
            .collect();
        v.sort_by_key(|n| u32::from(n.ip));
        v
    }
}

fn release<F: Frame>(entry: &mut Entry<F>, mac: MacAddr, out: &mut impl SlowOutput<F>) {
    let Some(egress) = entry.egress else { return };
    for mut f in entry.held.drain(..) {
        rewrite_for_next_hop(f.data_mut(), egress.mac, mac);
        out.transmit(egress.port, f);
    }
}

fn send_request<F: Frame>(egress: Egress, target: Ipv4Addr, out: &mut impl SlowOutput<F>) {
    let Some(mut frame) = out.alloc() else {
        return out.count_drop(DropReason::NoBuffer);
    };
    if arp::build_request(&mut frame, egress.mac, egress.ip, target) {
        out.transmit(egress.port, frame);
    } else {
        out.discard(frame, DropReason::NoBuffer);
    }
}
