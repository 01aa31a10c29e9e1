//! The appliance without EAL: the workers' pipelines and the slow path, wired as the
//! lcores wire them and stepped one frame at a time.
//!
//! A frame enters at the worker whose RX queue the NIC chose; hand-offs go to the owner;
//! slow-path and ALG verdicts go to the slow path; every inbox is drained after each
//! frame. Scenario tests, the pcap replays and the ALG benchmark drive exactly the code
//! the cores run, with an injectable clock. Only the rings' timing differs: here a
//! server-map entry is installed before the next frame arrives.
use crate::alg::pptp::{AlgLimits, PptpAlg, ServerMapView};
use crate::clock::Millis;
use crate::command::{inbox, Command, Inbox, SlowInbox};
use crate::events::EventLog;
use crate::fragment::{HeldFragments, HELD_PER_WORKER};
use crate::ifaces::PortId;
use crate::ifaces::{Interface, Interfaces};
use crate::nat::{NatPolicy, NatRules, Target};
use crate::neigh::NeighbourCache;
use crate::neigh::NeighbourUpdate;
use crate::owner::OwnerMap;
use crate::pipeline::{Pipeline, PipelineLimits, Shared, Verdict};
use crate::policy::{AddrSet, Policy, Rule, ZoneId, Zones};
use crate::route::RouteTable;
use crate::ruleset::{AlgRules, Ruleset};
use crate::servermap::ServerMapChange;
use crate::session::display::SessionView;
use crate::session::SessionTable;
use crate::session::Timeouts;
use crate::slowpath::{NeighbourLimits, SlowOutput, SlowPath};
use crate::stats::{CoreStats, DropReason};
use std::net::Ipv4Addr;
use std::sync::Arc;
use wire::frame::{Frame, TestFrame};
use wire::MacAddr;

/// What left the appliance, and what it dropped.
#[derive(Default)]
pub struct Wire {
    pub sent: Vec<(PortId, TestFrame)>,
    pub stats: CoreStats,
}

/// The slow path's effects in the simulation.
struct SimOutput<'a> {
    wire: &'a mut Wire,
    inboxes: &'a [Inbox],
    events: Option<&'a EventLog>,
}

impl SlowOutput<TestFrame> for SimOutput<'_> {
    fn transmit(&mut self, port: PortId, frame: TestFrame) {
        self.wire.stats.tx_packets += 1;
        self.wire.sent.push((port, frame));
    }

    fn discard(&mut self, _frame: TestFrame, reason: DropReason) {
        self.wire.stats.drop(reason);
    }

    fn notify(&mut self, update: NeighbourUpdate) {
        for i in self.inboxes {
            if i.push(Command::Neighbour(update)).is_err() {
                self.wire.stats.commands_lost += 1;
            }
        }
    }

    fn server_map(&mut self, worker: u16, change: ServerMapChange) {
        let pushed =
            self.inboxes.get(worker as usize).is_some_and(|i| i.push(Command::ServerMap(change)).is_ok());
        if !pushed {
            self.wire.stats.commands_lost += 1;
        }
    }

    fn event(&mut self, event: crate::events::Event) {
        if let Some(log) = self.events {
            log.push(event);
        }
    }

    fn alloc(&mut self) -> Option<TestFrame> {
        Some(TestFrame::empty())
    }

    fn count_drop(&mut self, reason: DropReason) {
        self.wire.stats.drop(reason);
    }
}

/// The rules of the lab the PPTP tests use: zones trust and untrust, easy-IP NAT from
/// trust to untrust, the PPTP ALG between them if `alg`, and a policy from trust to
/// untrust of the rules `permit` gives for (trust, untrust).
pub fn nat_lab_rules(alg: bool, permit: impl FnOnce(ZoneId, ZoneId) -> Vec<Rule>) -> Ruleset {
    let zones = Zones::new(["trust", "untrust"]);
    let (trust, untrust) = (zones.id("trust").unwrap_or(0), zones.id("untrust").unwrap_or(1));
    let nat = NatRules {
        policies: vec![NatPolicy {
            name: "easy-ip".into(),
            from: trust,
            to: untrust,
            source: AddrSet::any(),
            target: Target::EasyIp,
        }],
        pools: vec![],
    };
    Ruleset {
        policy: Policy::new(&zones, permit(trust, untrust)),
        zones,
        nat,
        alg: AlgRules { pptp: if alg { vec![(trust, untrust)] } else { vec![] } },
        timeouts: Timeouts::default(),
        guards: Default::default(),
    }
}

/// That lab's topology: inside 192.168.1.0/24 (zone trust, port 0, MAC `macs.0`) behind
/// the appliance, outside a /24 whose address `public` is also the NAT address (zone
/// untrust, port 1, MAC `macs.1`).
pub fn nat_lab(
    public: Ipv4Addr,
    macs: (MacAddr, MacAddr),
    workers: u16,
    alg: bool,
    permit: impl FnOnce(ZoneId, ZoneId) -> Vec<Rule>,
) -> Shared {
    let rules = Arc::new(nat_lab_rules(alg, permit));
    let zone = |name: &str| rules.zones.id(name).unwrap_or(0);
    let iface = |port, name: &str, zone_name: &str, mac, addr| Interface {
        port,
        name: name.into(),
        zone: zone_name.into(),
        zone_id: zone(zone_name),
        mac,
        addr,
        prefix_len: 24,
    };
    let ifaces = Arc::new(Interfaces::new(vec![
        iface(0, "inside", "trust", macs.0, Ipv4Addr::new(192, 168, 1, 254)),
        iface(1, "outside", "untrust", macs.1, public),
    ]));
    let routes = Arc::new(RouteTable::new(&ifaces, &[]));
    let owners = Arc::new(OwnerMap::new(workers, &rules.nat.public_addrs(&ifaces)));
    Shared { ifaces, routes, rules, owners }
}

pub struct Sim {
    pub workers: Vec<Pipeline>,
    /// Each worker's fragments waiting for their first, as its lcore keeps them.
    held: Vec<HeldFragments<TestFrame>>,
    pub slow: SlowPath<TestFrame>,
    inboxes: Vec<Inbox>,
    slow_inbox: SlowInbox,
    pub now: Millis,
    pub wire: Wire,
    events: Option<EventLog>,
}

/// How big the simulated appliance is.
#[derive(Debug, Clone, Copy)]
pub struct SimLimits {
    pub sessions_per_worker: usize,
    pub pipeline: PipelineLimits,
    pub alg: AlgLimits,
    pub inbox: usize,
}

impl Default for SimLimits {
    fn default() -> Self {
        SimLimits {
            sessions_per_worker: 1024,
            pipeline: PipelineLimits::default(),
            alg: AlgLimits::default(),
            inbox: 1024,
        }
    }
}

impl Sim {
    /// One pipeline per worker of `shared.owners`, neighbours known up front.
    pub fn new(shared: Shared, neighbours: &[(std::net::Ipv4Addr, wire::MacAddr)], limits: SimLimits) -> Sim {
        let workers = usize::from(shared.owners.workers());
        let mut slow = SlowPath::new(
            shared.ifaces.clone(),
            shared.routes.clone(),
            neighbours,
            NeighbourLimits::default(),
        );
        let public = shared.rules.nat.public_addrs(&shared.ifaces);
        slow.enable_pptp(PptpAlg::new(shared.owners.clone(), &public, limits.alg));
        let slow_inbox: SlowInbox = Arc::new(crossbeam_queue::ArrayQueue::new(limits.inbox));
        let mut seed = NeighbourCache::with_capacity(64);
        for &(ip, mac) in neighbours {
            let _ = seed.insert(ip, mac);
        }
        let pipelines = (0..workers)
            .map(|w| {
                let sessions = SessionTable::new(limits.sessions_per_worker, shared.rules.timeouts);
                let mut p = Pipeline::new(w as u16, shared.clone(), seed.clone(), sessions, limits.pipeline);
                p.connect_slow_path(slow_inbox.clone());
                p
            })
            .collect();
        Sim {
            workers: pipelines,
            held: (0..workers).map(|_| HeldFragments::new(HELD_PER_WORKER)).collect(),
            slow,
            inboxes: (0..workers).map(|_| inbox(limits.inbox)).collect(),
            slow_inbox,
            now: Millis(0),
            wire: Wire::default(),
            events: None,
        }
    }

    /// Turns the event log on (as `[log]` does): PPTP calls, and sessions if asked.
    pub fn enable_events(&mut self, sessions: bool) -> EventLog {
        let log = EventLog::new(4096, sessions);
        for p in &mut self.workers {
            p.connect_events(log.clone());
        }
        self.events = Some(log.clone());
        log
    }

    /// A frame arrives on `port`, in the RX queue of worker `rx_worker`.
    pub fn receive(&mut self, port: PortId, rx_worker: u16, bytes: &[u8]) {
        self.wire.stats.rx_packets += 1;
        let Some(frame) = TestFrame::new(bytes) else {
            return self.wire.stats.drop(DropReason::MultiSegment);
        };
        self.deliver(frame, port, usize::from(rx_worker));
        self.release_held();
        self.settle();
    }

    /// One frame through the worker that took it, and the workers it is handed to.
    fn deliver(&mut self, mut frame: TestFrame, port: PortId, mut worker: usize) {
        let mut handed = false;
        loop {
            let Some(p) = self.workers.get_mut(worker) else {
                return self.wire.stats.drop(DropReason::HandoffMisdirected);
            };
            let verdict = if handed {
                p.process_handed(&mut frame, port, self.now)
            } else {
                // As a worker does: read ahead, then process with what was read.
                let hint = p.hint(frame.data(), port);
                p.process_hinted(&mut frame, port, self.now, hint.as_ref())
            };
            let until = p.hold_until(self.now);
            let mut out =
                SimOutput { wire: &mut self.wire, inboxes: &self.inboxes, events: self.events.as_ref() };
            match verdict {
                Verdict::Forward(to) | Verdict::Reply(to) => out.transmit(to, frame),
                Verdict::SlowPath => self.slow.handle(frame, port, self.now, &mut out),
                Verdict::Alg => {
                    out.wire.stats.to_alg += 1;
                    self.slow.handle_alg(frame, port, self.now, &mut out);
                }
                Verdict::Handoff(_) if handed => out.discard(frame, DropReason::HandoffMisdirected),
                Verdict::Handoff(owner) | Verdict::HandoffKeyed(owner) => {
                    out.wire.stats.handoffs_out += 1;
                    worker = usize::from(owner);
                    handed = true;
                    continue;
                }
                Verdict::Hold(tag) => {
                    if let Err(f) = self.held[worker].hold(frame, port, tag, until) {
                        out.discard(f, DropReason::FragmentHoldFull);
                    }
                }
                Verdict::Drop(reason) => out.discard(frame, reason),
            }
            break;
        }
    }

    /// What workers hold of datagrams whose first fragment came goes through again.
    fn release_held(&mut self) {
        for w in 0..self.workers.len() {
            while let Some(tag) = self.workers[w].take_released() {
                while let Some((f, port)) = self.held[w].take(tag) {
                    self.deliver(f, port, w);
                }
            }
        }
    }

    /// Moves the clock: sessions age on every worker, the slow path's timers run.
    pub fn advance_ms(&mut self, ms: u64) {
        self.now = Millis(self.now.0 + ms);
        for p in &mut self.workers {
            while p.expire(self.now, 1024) > 0 {}
        }
        let stats = &mut self.wire.stats;
        for held in &mut self.held {
            held.expire(self.now, |_| stats.drop(DropReason::Ipv4Fragment));
        }
        self.settle();
        let mut out =
            SimOutput { wire: &mut self.wire, inboxes: &self.inboxes, events: self.events.as_ref() };
        self.slow.tick(self.now, &mut out);
        self.settle();
    }

    pub fn advance_secs(&mut self, secs: u64) {
        self.advance_ms(secs * 1000);
    }

    /// Drains every inbox until nothing moves.
    fn settle(&mut self) {
        loop {
            let mut moved = false;
            while let Some(cmd) = self.slow_inbox.pop() {
                moved = true;
                let mut out =
                    SimOutput { wire: &mut self.wire, inboxes: &self.inboxes, events: self.events.as_ref() };
                self.slow.command(cmd, self.now, &mut out);
            }
            for (p, inbox) in self.workers.iter_mut().zip(&self.inboxes) {
                while let Some(cmd) = inbox.pop() {
                    moved = true;
                    let _ = p.apply(cmd);
                }
            }
            if !moved {
                break;
            }
        }
    }

    /// Frames sent since the last call.
    pub fn take_sent(&mut self) -> Vec<(PortId, TestFrame)> {
        std::mem::take(&mut self.wire.sent)
    }

    /// Every worker's sessions, as `display firewall session-table` lists them.
    pub fn sessions(&self) -> Vec<SessionView> {
        let mut all = Vec::new();
        for p in &self.workers {
            let t = p.sessions();
            all.extend(t.iter().map(|(id, s)| SessionView::new(t, id, s, p.worker(), self.now)));
        }
        all
    }

    pub fn server_map(&self) -> Vec<ServerMapView> {
        self.slow.server_map(self.now)
    }

    /// Server-map entries installed in the workers, in all.
    pub fn installed_entries(&self) -> usize {
        self.workers.iter().map(|p| p.expected_flows()).sum()
    }

    pub fn drops(&self, reason: DropReason) -> u64 {
        self.wire.stats.drops[reason.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::craft::{self, L2, L3};
    use wire::frame::Frame;
    use wire::{ArpOperation, ArpPacket, ArpRepr, EthernetFrame};

    const IN_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xa0]);
    const OUT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xb0]);
    const HOST_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
    const SERVER_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x99]);
    const PUBLIC: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 2);
    const SERVER: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 1);
    const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);

    fn lab(workers: u16) -> Sim {
        let shared = nat_lab(PUBLIC, (IN_MAC, OUT_MAC), workers, false, |trust, untrust| {
            vec![Rule::permit_all("out", trust, untrust)]
        });
        // The client is known; the server is on the outside link, learned by ARP.
        Sim::new(shared, &[(CLIENT, HOST_MAC)], SimLimits::default())
    }

    fn out(sim: &mut Sim, sport: u16) {
        let f = craft::udp(
            L2 { src: HOST_MAC, dst: IN_MAC },
            L3 { src: CLIENT, dst: SERVER, ttl: 64 },
            sport,
            53,
            b"q",
        );
        sim.receive(0, 0, &f);
    }

    /// (ARP requests for the server, UDP frames to it) among what left.
    fn seen(sim: &mut Sim) -> (usize, usize) {
        let sent = sim.take_sent();
        let arp = sent
            .iter()
            .filter(|(_, f)| {
                let eth = EthernetFrame::new_checked(f.data()).unwrap();
                ArpPacket::new_checked(eth.payload())
                    .ok()
                    .and_then(|a| ArpRepr::parse(&a).ok())
                    .is_some_and(|a| a.operation == ArpOperation::Request && a.target_ip == SERVER)
            })
            .count();
        (arp, sent.len() - arp)
    }

    fn answer(sim: &mut Sim) {
        sim.receive(1, 0, &craft::arp(false, (SERVER_MAC, SERVER), (OUT_MAC, PUBLIC)));
    }

    #[test]
    fn a_neighbour_that_stops_answering_is_forgotten_by_every_worker() {
        let mut sim = lab(2);
        out(&mut sim, 1);
        assert_eq!(seen(&mut sim), (1, 0), "asked for, the packet held");
        answer(&mut sim);
        assert_eq!(seen(&mut sim), (0, 1), "released");
        // Learned: both workers now forward to it themselves, no ARP.
        for sport in 2..40 {
            out(&mut sim, sport);
        }
        assert_eq!(seen(&mut sim), (0, 38));
        assert_eq!(sim.slow.neighbours(sim.now).len(), 2);
        // Five minutes without an answer (probes every second from three quarters of the
        // timeout on go unanswered): the slow path forgets it, and so does every worker.
        for _ in 0..300 {
            sim.advance_secs(1);
        }
        assert_eq!(seen(&mut sim), (75, 0), "a probe a second in the last quarter");
        assert!(sim.slow.neighbours(sim.now).iter().all(|n| n.ip != SERVER));
        // Flows of both workers now go to the slow path again, which asks once and holds
        // eight packets; the rest are counted, and the answer releases exactly eight.
        for sport in 2..40 {
            out(&mut sim, sport);
        }
        assert_eq!(seen(&mut sim), (1, 0), "asked again, nothing forwarded without an address");
        assert_eq!(sim.drops(DropReason::NeighbourUnresolved), 38 - 8, "the hold queue keeps 8");
        answer(&mut sim);
        assert_eq!(seen(&mut sim), (0, 8));
    }
}
