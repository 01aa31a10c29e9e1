//! The worker's per-packet logic, callable without EAL.
//!
//! ```text
//!  frame ─► ethernet ─► ARP ────────────────────────────────────────────► slow path
//!              └─► IPv4 checks ─► flow key ─► owner? ── other worker ───► hand-off
//!                                    │
//!                     session hit ◄──┴──► miss ─► to us? ─────────────────► slow path
//!                          │                 └─► SYN? ─► route ─► policy ─► NAT ─► new session
//!                          ▼                                                        │
//!                 apply rewrite ◄───────────────────────────────────────────────────┘
//!                          └─► TTL ─► route ─► neighbour ─► MACs ─► TX port
//!                                                       └─► PPTP control payload ─► ALG
//! ```
//!
//! A miss first consults the server map: a flow an ALG announced (PPTP GRE) opens its
//! session there, without the policy.
//!
//! [`Pipeline::process`] takes a [`Frame`] and returns a [`Verdict`]; it never allocates,
//! locks, logs or panics, so workers, scenario tests and fuzzers all run exactly this code.
//!
//! One file per step of the path: `classify` (the checks every frame passes, its key),
//! then by the session lookup `established` or `first_packet` (policy, NAT, a new
//! session; the server map's expected flows in `alg_handover`), `icmp_error` for errors
//! about a session, `fragment` for fragments, `forward` and `time_exceeded` for the way
//! out; `alg_handover` also passes control segments to the ALG. `commands` is the worker's
//! inbox: neighbour and server-map changes, resets. A packet owned by another worker is
//! handed off in `process` itself, right after its key is known.
mod alg_handover;
mod classify;
mod commands;
mod established;
mod first_packet;
mod forward;
mod fragment;
mod icmp_error;
mod time_exceeded;

pub use alg_handover::PPTP_PORT;
pub use time_exceeded::build_time_exceeded;

use crate::clock::{Millis, TokenBucket};
use crate::command::SlowInbox;
use crate::events::EventLog;
use crate::fragment::FragmentTable;
use crate::ifaces::PortId;
use crate::ifaces::{Interface, Interfaces, MAX_PORTS};
use crate::nat::{PortAllocator, NAT_SPACES};
use crate::neigh::NeighbourCache;
use crate::owner::{Owner, OwnerMap};
use crate::route::RouteTable;
use crate::ruleset::Ruleset;
use crate::servermap::ServerMap;
use crate::session::{Session, SessionTable};
use crate::stats::DropReason;
use classify::{common_shape, header_checksum_ok, is_portless, trim, Class, Packet};
use std::net::Ipv4Addr;
use std::sync::Arc;
use wire::frame::Frame;
use wire::L4Info;
use wire::{EthernetFrame, MacAddr};

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
    /// Another worker owns this flow; pass the frame, untouched, to it.
    Handoff(Owner),
    /// A fragment whose datagram's flow another worker owns: the frame carries the
    /// flow's key in front ([`Pipeline::process_handed`] reads it); pass it on, even if
    /// it was handed over once already.
    HandoffKeyed(Owner),
    /// A fragment that came before its datagram's first: keep it (the caller owns the
    /// buffer, [`crate::fragment::HeldFragments`]) until [`Pipeline::take_released`]
    /// names its datagram's tag, then process it again.
    Hold(u32),
    /// A control segment for the slow path's ALG, translated and addressed, with an
    /// [`AlgMeta`](crate::alg::meta::AlgMeta) in front.
    Alg,
    Drop(DropReason),
}

/// Limits for what packets can make the appliance send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineLimits {
    pub icmp_errors_per_sec: u64,
    pub icmp_errors_burst: u64,
    /// Server-map entries a worker holds at most.
    pub server_map_entries: usize,
    /// Datagrams in fragments a worker follows at once, and for how long from the first.
    pub fragments: usize,
    pub fragment_timeout_ms: u64,
    /// Half-open TCP sessions (SYN seen, handshake not done) a worker holds at most: a
    /// SYN flood fills these, never the room established flows need.
    pub half_open_sessions: usize,
}

impl Default for PipelineLimits {
    fn default() -> Self {
        PipelineLimits {
            icmp_errors_per_sec: 100,
            icmp_errors_burst: 20,
            server_map_entries: 16_384,
            fragments: 4096,
            fragment_timeout_ms: 2000,
            half_open_sessions: usize::MAX,
        }
    }
}

/// What was read of a frame ahead of its processing: the checks of the common shape
/// passed (all but the IPv4 header checksum), its key hashed, its session-index bucket
/// on its way to the cache. Valid for the buffer it was read from (`at`) while no one
/// writes to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hint {
    packet: Packet,
    hash: u32,
    at: usize,
}

/// Session events the worker counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionCounters {
    pub created: u64,
    pub removed: u64,
    /// Server-map entries refused because the worker's map was full.
    pub server_map_full: u64,
}

/// What one worker needs besides its own tables: the shared, immutable parts.
#[derive(Clone)]
pub struct Shared {
    pub ifaces: Arc<Interfaces>,
    pub routes: Arc<RouteTable>,
    pub rules: Arc<Ruleset>,
    pub owners: Arc<OwnerMap>,
}

/// One worker's state: shared immutable config plus the tables the worker owns.
pub struct Pipeline {
    worker: Owner,
    shared: Shared,
    neigh: NeighbourCache,
    /// The last next hop resolved: most transit goes to one gateway, so this spares the
    /// hash lookup. Cleared whenever the neighbour cache changes.
    last_hop: Option<(Ipv4Addr, MacAddr)>,
    icmp_errors: TokenBucket,
    half_open_max: usize,
    sessions: SessionTable,
    ports: PortAllocator,
    /// Flows the ALG expects, for this worker's share.
    expected: ServerMap,
    /// Datagrams in fragments whose first fragment this worker has seen.
    frags: FragmentTable,
    /// Tags of datagrams whose first fragment just came, for the caller to release what
    /// it holds of them.
    released: [u32; 8],
    released_n: usize,
    frag_hold_ms: u64,
    /// Each port's zone (`NO_ZONE` for none), read for every packet of a session.
    zone_of: [u8; MAX_PORTS],
    /// Each port's MAC (`None` without an interface), read for every packet: frames
    /// must come to it, and leave from it.
    mac_of: [Option<MacAddr>; MAX_PORTS],
    hooks: Hooks,
    pub counters: SessionCounters,
}

impl Pipeline {
    pub fn new(
        worker: Owner,
        shared: Shared,
        neigh: NeighbourCache,
        sessions: SessionTable,
        limits: PipelineLimits,
    ) -> Pipeline {
        let zone_of = per_port(&shared.ifaces, NO_ZONE, |i| i.zone_id);
        let mac_of = per_port(&shared.ifaces, None, |i| Some(i.mac));
        Pipeline {
            worker,
            // A different start for every run, so NAT ports are not predictable across
            // restarts either.
            ports: nat_ports(&shared, worker, crate::clock::run_seed() ^ 0x5eed),
            shared,
            neigh,
            last_hop: None,
            icmp_errors: TokenBucket::new(limits.icmp_errors_per_sec, limits.icmp_errors_burst),
            half_open_max: limits.half_open_sessions,
            sessions,
            expected: ServerMap::with_capacity(limits.server_map_entries),
            frags: FragmentTable::new(limits.fragments, limits.fragment_timeout_ms),
            released: [0; 8],
            released_n: 0,
            frag_hold_ms: limits.fragment_timeout_ms / 4,
            zone_of,
            mac_of,
            hooks: Hooks { worker, slow_inbox: None, events: None },
            counters: SessionCounters::default(),
        }
    }

    /// Makes the NAT numbers this worker hands out the same sequence every run, from
    /// `seed` (benchmarks that address replies in advance).
    pub fn fix_nat_seed(&mut self, seed: u64) {
        self.ports = nat_ports(&self.shared, self.worker, seed);
    }

    /// A datagram whose first fragment came since the last call: its held fragments
    /// may go through now.
    #[inline]
    pub fn take_released(&mut self) -> Option<u32> {
        if self.released_n == 0 {
            return None;
        }
        self.released_n -= 1;
        Some(self.released[self.released_n])
    }

    /// Until when a fragment that came before its first is held.
    pub fn hold_until(&self, now: Millis) -> Millis {
        Millis(now.0 + self.frag_hold_ms)
    }

    /// Connects the worker to the slow path's inbox, for ALG events.
    pub fn connect_slow_path(&mut self, inbox: SlowInbox) {
        self.hooks.slow_inbox = Some(inbox);
    }

    /// Logs sessions opened and closed into `log` (if it wants session events).
    pub fn connect_events(&mut self, log: EventLog) {
        self.hooks.events = Some(log);
    }

    /// The server-map entries this worker holds.
    pub fn expected_flows(&self) -> usize {
        self.expected.len()
    }

    /// The neighbour cache, for applying updates; forgets the last next hop.
    pub fn neighbours_mut(&mut self) -> &mut NeighbourCache {
        self.last_hop = None;
        &mut self.neigh
    }

    pub fn interfaces(&self) -> &Interfaces {
        &self.shared.ifaces
    }

    pub fn sessions(&self) -> &SessionTable {
        &self.sessions
    }

    pub fn ports(&self) -> &PortAllocator {
        &self.ports
    }

    pub fn worker(&self) -> Owner {
        self.worker
    }

    pub fn owners(&self) -> &OwnerMap {
        &self.shared.owners
    }

    pub fn rules(&self) -> &Arc<Ruleset> {
        &self.shared.rules
    }

    /// A new ruleset (reload): new flows see it at once, sessions keep going.
    pub fn set_rules(&mut self, rules: Arc<Ruleset>) {
        self.sessions.set_timeouts(rules.timeouts);
        self.shared.rules = rules;
    }

    /// Decides the fate of one received frame, rewriting it in place when it is forwarded
    /// or answered.
    #[inline]
    pub fn process<F: Frame>(&mut self, frame: &mut F, in_port: PortId, now: Millis) -> Verdict {
        self.process_hinted(frame, in_port, now, None)
    }

    /// Second stage of a hint: starts loading the session itself (its index bucket
    /// should be in cache by now).
    #[inline]
    pub fn prefetch_session(&self, hint: &Hint) {
        self.sessions.prefetch_session(hint.hash);
    }

    /// [`Pipeline::process`] with what [`Pipeline::hint`] read of the frame earlier: a
    /// frame of the common shape skips the full parse. A hint read from another buffer
    /// is ignored.
    pub fn process_hinted<F: Frame>(
        &mut self,
        frame: &mut F,
        in_port: PortId,
        now: Millis,
        hint: Option<&Hint>,
    ) -> Verdict {
        let full;
        let (pkt, hash) = match hint {
            Some(h) if h.at == frame.data().as_ptr() as usize && self.checksum_ok(frame) => {
                (&h.packet, Some(h.hash))
            }
            _ => match self.classify(frame.data(), in_port, frame.ipv4_checksum_ok()) {
                Ok(Class::Ip(p)) => {
                    full = p;
                    (&full, None)
                }
                Ok(Class::Fragment(f)) => {
                    trim(frame, f.total_len);
                    return self.fragment(frame, in_port, f, now);
                }
                Ok(Class::SlowPath) => return Verdict::SlowPath,
                Err(reason) => return Verdict::Drop(reason),
            },
        };
        trim(frame, usize::from(pkt.total_len));
        if pkt.info == L4Info::IcmpError {
            return self.icmp_error(frame, in_port, pkt, now);
        }
        let owner =
            self.shared.owners.owner_of_frame(&pkt.key, is_portless(pkt.info), in_port, frame.rss_hash());
        if owner != self.worker {
            return Verdict::Handoff(owner);
        }
        let found = match hash {
            Some(h) => self.sessions.lookup_hashed(&pkt.key, h),
            None => self.sessions.lookup(&pkt.key),
        };
        match found {
            Some((id, dir)) => self.established(frame, in_port, pkt, id, dir, now),
            None => self.new_flow(frame, in_port, pkt, now),
        }
    }

    #[inline]
    fn port_mac(&self, port: PortId) -> Option<MacAddr> {
        self.mac_of.get(usize::from(port)).copied().flatten()
    }

    /// The IPv4 header checksum of a frame of the common shape: the NIC's verdict if it
    /// gave one.
    #[inline]
    fn checksum_ok<F: Frame>(&self, frame: &F) -> bool {
        frame.ipv4_checksum_ok().unwrap_or_else(|| header_checksum_ok(frame.data()))
    }

    /// Reads a frame still to come, from port `in_port`: if it has the common shape
    /// (IPv4 without options, not a fragment, UDP, TCP without SYN or enhanced GRE, to
    /// the port's MAC), its checked facts and its key's hash, and starts loading its session's
    /// index bucket, so that [`Pipeline::process_hinted`] parses nothing again and finds
    /// the bucket in cache. `None` for anything else.
    #[inline]
    pub fn hint(&self, data: &[u8], in_port: PortId) -> Option<Hint> {
        let mac = self.port_mac(in_port)?;
        let packet = common_shape(data, &mac.0)?;
        Some(Hint { packet, hash: self.sessions.prefetch(&packet.key), at: data.as_ptr() as usize })
    }

    /// Removes up to `max` expired sessions and gives back their NAT numbers. Called by
    /// the worker once per loop iteration.
    pub fn expire(&mut self, now: Millis, max: usize) -> usize {
        self.frags.expire(now);
        let (ports, hooks) = (&mut self.ports, &self.hooks);
        let n = self.sessions.expire(now, max, |s| session_ended(ports, hooks, s));
        self.counters.removed += n as u64;
        n
    }
}

/// Marks a port without an interface in [`Pipeline`]'s zone table.
const NO_ZONE: u8 = u8::MAX;

/// A table by port id of what each interface gives (`none` where a port has none).
fn per_port<T: Copy>(ifaces: &Interfaces, none: T, of: impl Fn(&Interface) -> T) -> [T; MAX_PORTS] {
    let mut table = [none; MAX_PORTS];
    for i in ifaces.iter() {
        if let Some(slot) = table.get_mut(usize::from(i.port)) {
            *slot = of(i);
        }
    }
    table
}

/// A worker's NAT numbers: its slice of every public address, from `seed` (each worker
/// its own start).
fn nat_ports(shared: &Shared, worker: Owner, seed: u64) -> PortAllocator {
    let public = shared.rules.nat.public_addrs(&shared.ifaces);
    PortAllocator::new(&public, &NAT_SPACES, shared.owners.slice(worker), seed ^ (u64::from(worker) << 48))
}

/// Who hears of sessions beginning and ending, besides the table.
struct Hooks {
    worker: Owner,
    /// The slow path, for ALG events (control sessions that ended); `None` runs
    /// without ALG.
    slow_inbox: Option<SlowInbox>,
    /// The operator's event log, if the config turns it on.
    events: Option<EventLog>,
}

/// What a session leaves behind when it ends: its NAT number goes back, the ALG hears
/// of a control connection's end, the event log of any session's.
fn session_ended(ports: &mut PortAllocator, hooks: &Hooks, s: &Session) {
    if let Some(b) = s.nat() {
        ports.release(b.public, b.proto, b.port);
    }
    alg_handover::notify_closed(&hooks.slow_inbox, s);
    if let Some(log) = &hooks.events {
        log.session_closed(hooks.worker, s);
    }
}

/// A session began (for the event log).
fn session_opened(hooks: &Hooks, s: &Session) {
    if let Some(log) = &hooks.events {
        log.session_opened(hooks.worker, s);
    }
}

#[cfg(test)]
mod tests;
