//! Start-up and shutdown: pools, ports, rings and inboxes, then one lcore per role.
//!
//! ```text
//!  main lcore ── control plane (the caller of Appliance::start)
//!  lcore 1st  ── slow path: rings from workers ─► ARP / to-self / resolution / ALG ─► own TX queues
//!  lcore 2nd+ ── workers: RX queue w of every port ─► pipeline ─► TX queue w of every port
//! ```
//! Port queues: RX queue `w` belongs to worker `w`; TX queue `w` to worker `w` and TX
//! queue `workers` to the slow path.
use crate::alg::pptp::{AlgLimits, PptpAlg, ServerMapView};
use crate::clock::TscClock;
use crate::command::{inbox, AlgStatus, Command, Inbox, NatUsage, SlowCommand, SlowInbox};
use crate::events::EventLog;
use crate::fragment::{HeldFragments, HELD_PER_WORKER};
use crate::ifaces::{Interface, Interfaces};
use crate::neigh::NeighbourCache;
use crate::owner::OwnerMap;
use crate::pipeline::{Pipeline, PipelineLimits, Shared};
use crate::published::Published;
use crate::route::{Route, RouteTable};
use crate::ruleset::Ruleset;
use crate::session::display::SessionView;
use crate::session::{SessionFilter, SessionTable};
use crate::slowpath::lcore::SlowPathCore;
use crate::slowpath::{NeighbourLimits, SlowPath};
use crate::stats::{CoreStats, SharedStats};
use crate::worker::{tx_table, Worker};
use dpdk::{
    launch_on, spsc_ring, tsc, tsc_hz, wait_lcore, DpdkError, Eal, EalToken, LcoreId, Mempool, Port,
    PortConfig, PortId, Queues, RingRx, RingTx, RxQueue, TxBuffer,
};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;
use wire::MacAddr;

/// One port as the dataplane needs it (the control plane resolved names to ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    pub port_id: PortId,
    pub name: String,
    pub zone: String,
    pub addr: Ipv4Addr,
    pub prefix_len: u8,
    pub mac: Option<MacAddr>,
    pub rx_desc: u16,
    pub tx_desc: u16,
    pub promiscuous: bool,
}

/// Everything the dataplane needs to start, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplianceConfig {
    pub ports: Vec<PortSpec>,
    /// (network, prefix length, route) beside the connected routes.
    pub routes: Vec<(Ipv4Addr, u8, Route)>,
    pub static_neighbours: Vec<(Ipv4Addr, MacAddr)>,
    pub workers: usize,
    pub mbufs: u32,
    pub mbuf_cache: u32,
    pub ring_size: u32,
    pub inbox_size: usize,
    pub neighbour: NeighbourLimits,
    pub limits: PipelineLimits,
    pub worker_idle_sleep: Duration,
    /// Zones, security policy, NAT, timeouts.
    pub rules: Ruleset,
    pub sessions_per_worker: usize,
    /// PPTP ALG limits and server-map aging.
    pub alg: AlgLimits,
    /// A fixed seed for NAT ports and the ALG's translated Call IDs (benchmarks only);
    /// `None`: a new one every run.
    pub fixed_seed: Option<u64>,
    /// The event log: `None` off; otherwise its queue size and whether sessions are
    /// logged besides PPTP calls.
    pub events: Option<(usize, bool)>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Dpdk(#[from] DpdkError),
    #[error(
        "{needed} lcores are needed besides the main one (1 slow path + {workers} workers), EAL has {have}"
    )]
    NotEnoughLcores { needed: usize, workers: usize, have: usize },
    #[error("port {0} appears twice")]
    DuplicatePort(PortId),
    #[error("port {port}'s {side} queue {queue} is missing or already taken")]
    QueueUnavailable { port: PortId, side: &'static str, queue: u16 },
}

/// A running appliance. Dropping it without `stop` leaves the lcores running.
pub struct Appliance {
    eal: EalToken,
    running: Arc<AtomicBool>,
    lcores: Vec<LcoreId>,
    ports: Vec<Port>,
    ifaces: Arc<Interfaces>,
    pool: Arc<Mempool>,
    worker_stats: Vec<Arc<SharedStats>>,
    slow_stats: Arc<SharedStats>,
    inboxes: Vec<Inbox>,
    slow_inbox: SlowInbox,
    /// What a reload changes, published to every core at once.
    rules: Arc<Published<Ruleset>>,
    alg_limits: Arc<Published<AlgLimits>>,
    events: Option<EventLog>,
}

/// Sessions asked of a worker per message: small enough that answering never stalls
/// its loop for long.
const SESSION_CHUNK: u32 = 256;
/// Slots a worker scans per reset message.
const RESET_CHUNK: u32 = 4096;

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("worker {0} did not answer within {1:?}")]
    Timeout(usize, Duration),
    #[error("worker {0}'s inbox is full")]
    InboxFull(usize),
    #[error("the slow path did not answer within {0:?}")]
    SlowTimeout(Duration),
    #[error("the slow path's inbox is full")]
    SlowInboxFull,
}

impl Appliance {
    pub fn start(eal: &Eal, cfg: &ApplianceConfig) -> Result<Appliance, StartError> {
        let lcores = eal.worker_lcores();
        let needed = cfg.workers + 1;
        if lcores.len() < needed {
            return Err(StartError::NotEnoughLcores { needed, workers: cfg.workers, have: lcores.len() });
        }
        let pool = Arc::new(Mempool::new("ferrowall_mbufs", cfg.mbufs, cfg.mbuf_cache, -1)?);
        let (ports, mut queues): (Vec<Port>, Vec<Queues>) = start_ports(cfg, &pool)?.into_iter().unzip();
        let ifaces = Arc::new(interfaces(cfg, &ports));
        let routes = Arc::new(RouteTable::new(&ifaces, &cfg.routes));
        let clock = TscClock::new(tsc(), tsc_hz(eal.token()));
        let running = Arc::new(AtomicBool::new(true));

        let rules = Arc::new(cfg.rules.clone());
        let owners = Arc::new(OwnerMap::new(cfg.workers as u16, &rules.nat.public_addrs(&ifaces)));
        let shared = Shared { ifaces: ifaces.clone(), routes: routes.clone(), rules, owners };

        let mut slow = SlowPath::new(ifaces.clone(), routes.clone(), &cfg.static_neighbours, cfg.neighbour);
        slow.set_nat_addrs(cfg.rules.nat.pools.iter().flat_map(|p| p.addrs.iter().copied()).collect());
        let mut seed = NeighbourCache::with_capacity(cfg.neighbour.capacity + cfg.static_neighbours.len());
        for (ip, mac) in slow.static_neighbours() {
            seed.insert(ip, mac);
        }

        let public = shared.rules.nat.public_addrs(&ifaces);
        slow.enable_pptp(match cfg.fixed_seed {
            Some(seed) => PptpAlg::with_seed(shared.owners.clone(), &public, cfg.alg, seed),
            None => PptpAlg::new(shared.owners.clone(), &public, cfg.alg),
        });
        let slow_inbox: SlowInbox = Arc::new(crossbeam_queue::ArrayQueue::new(cfg.inbox_size.max(1)));
        let rules_board = Published::new(shared.rules.clone());
        let alg_board = Published::new(Arc::new(cfg.alg));

        let events = cfg.events.map(|(size, sessions)| EventLog::new(size, sessions));
        let mut handoffs = handoff_rings(cfg.workers, cfg.ring_size)?;
        let mut from_workers = Vec::new();
        let mut from_workers_alg = Vec::new();
        let mut inboxes: Vec<Inbox> = Vec::new();
        let mut workers = Vec::new();
        let mut worker_stats = Vec::new();
        for w in 0..cfg.workers {
            let (to_slow, from) = spsc_ring(&format!("fw_slow{w}"), cfg.ring_size)?;
            from_workers.push(from);
            let (to_alg, from) = spsc_ring(&format!("fw_alg{w}"), cfg.ring_size)?;
            from_workers_alg.push(from);
            let mut pipeline = Pipeline::new(
                w as u16,
                shared.clone(),
                seed.clone(),
                SessionTable::new(cfg.sessions_per_worker, cfg.rules.timeouts),
                cfg.limits,
            );
            pipeline.connect_slow_path(slow_inbox.clone());
            if let Some(seed) = cfg.fixed_seed {
                pipeline.fix_nat_seed(seed);
            }
            if let Some(log) = &events {
                pipeline.connect_events(log.clone());
            }
            let inbox = inbox(cfg.inbox_size);
            inboxes.push(inbox.clone());
            let shared_stats = Arc::new(SharedStats::default());
            worker_stats.push(shared_stats.clone());
            let (handoff_tx, handoff_rx) = handoffs.remove(0);
            workers.push(Worker {
                rx: rx_queues_of(&ports, &mut queues, w, cfg.workers)?,
                tx: tx_table(tx_buffers(&ports, &mut queues, w as u16)?),
                pipeline,
                to_slow,
                to_alg,
                handoff_tx,
                handoff_rx,
                inbox,
                rules: rules_board.reader(),
                stats: CoreStats::default(),
                shared: shared_stats,
                clock,
                idle_sleep: cfg.worker_idle_sleep,
                held: HeldFragments::new(HELD_PER_WORKER),
            });
        }
        let slow_stats = Arc::new(SharedStats::default());
        let slow_core = SlowPathCore {
            logic: slow,
            from_workers,
            from_workers_alg,
            inbox: slow_inbox.clone(),
            alg_limits: alg_board.reader(),
            events: events.clone(),
            tx: tx_table(tx_buffers(&ports, &mut queues, cfg.workers as u16)?),
            inboxes: inboxes.clone(),
            pool: pool.clone(),
            stats: CoreStats::default(),
            shared: slow_stats.clone(),
            clock,
        };

        let used: Vec<LcoreId> = lcores[..needed].to_vec();
        let flag = running.clone();
        launch_on(eal.token(), used[0], move || slow_core.run(&flag))?;
        for (i, worker) in workers.into_iter().enumerate() {
            let flag = running.clone();
            launch_on(eal.token(), used[i + 1], move || worker.run(&flag))?;
        }
        Ok(Appliance {
            eal: eal.token(),
            running,
            lcores: used,
            ports,
            ifaces,
            pool,
            worker_stats,
            slow_stats,
            inboxes,
            slow_inbox,
            rules: rules_board,
            alg_limits: alg_board,
            events,
        })
    }

    pub fn interfaces(&self) -> &Interfaces {
        &self.ifaces
    }

    pub fn ports(&self) -> &[Port] {
        &self.ports
    }

    pub fn worker_stats(&self) -> Vec<CoreStats> {
        self.worker_stats.iter().map(|s| s.snapshot()).collect()
    }

    pub fn slow_path_stats(&self) -> CoreStats {
        self.slow_stats.snapshot()
    }

    /// The appliance as a whole: packets received from ports (by workers), and everything
    /// transmitted or dropped by any core. What the slow path receives is internal.
    pub fn total_stats(&self) -> CoreStats {
        let mut total = CoreStats::default();
        for s in self.worker_stats() {
            total.accumulate(&s);
        }
        let slow = self.slow_path_stats();
        total.tx_packets += slow.tx_packets;
        total.commands_lost += slow.commands_lost;
        for (t, s) in total.drops.iter_mut().zip(slow.drops.iter()) {
            *t += s;
        }
        total
    }

    /// Every worker's sessions, fetched in chunks through the inboxes while traffic flows.
    pub fn sessions(&self, timeout: Duration) -> Result<Vec<SessionView>, QueryError> {
        let mut all = Vec::new();
        for (w, inbox) in self.inboxes.iter().enumerate() {
            let mut from = 0;
            loop {
                let (tx, rx) = mpsc::channel();
                inbox
                    .push(Command::Sessions { from, max: SESSION_CHUNK, reply: tx })
                    .map_err(|_| QueryError::InboxFull(w))?;
                let chunk = rx.recv_timeout(timeout).map_err(|_| QueryError::Timeout(w, timeout))?;
                all.extend(chunk.sessions);
                match chunk.next {
                    Some(n) => from = n,
                    None => break,
                }
            }
        }
        Ok(all)
    }

    /// The server map, as the slow path keeps it.
    pub fn server_map(&self, timeout: Duration) -> Result<Vec<ServerMapView>, QueryError> {
        self.ask_slow_path(|reply| SlowCommand::ServerMap { reply }, timeout)
    }

    /// The PPTP ALG's state sizes and counters.
    pub fn alg_status(&self, timeout: Duration) -> Result<AlgStatus, QueryError> {
        self.ask_slow_path(|reply| SlowCommand::AlgStatus { reply }, timeout)
    }

    /// Sends the slow path a question and waits for its answer.
    fn ask_slow_path<T>(
        &self,
        question: impl FnOnce(mpsc::Sender<T>) -> SlowCommand,
        timeout: Duration,
    ) -> Result<T, QueryError> {
        let (tx, rx) = mpsc::channel();
        self.slow_inbox.push(question(tx)).map_err(|_| QueryError::SlowInboxFull)?;
        rx.recv_timeout(timeout).map_err(|_| QueryError::SlowTimeout(timeout))
    }

    /// Ends the sessions `filter` covers on every worker, in chunks while traffic flows;
    /// returns how many ended.
    pub fn reset_sessions(&self, filter: SessionFilter, timeout: Duration) -> Result<usize, QueryError> {
        let mut removed = 0;
        for (w, inbox) in self.inboxes.iter().enumerate() {
            let mut from = 0;
            loop {
                let (tx, rx) = mpsc::channel();
                inbox
                    .push(Command::Reset { filter, from, max: RESET_CHUNK, reply: tx })
                    .map_err(|_| QueryError::InboxFull(w))?;
                let chunk = rx.recv_timeout(timeout).map_err(|_| QueryError::Timeout(w, timeout))?;
                removed += chunk.removed;
                match chunk.next {
                    Some(n) => from = n,
                    None => break,
                }
            }
        }
        Ok(removed)
    }

    /// NAT numbers in use per public address and protocol, summed over the workers;
    /// `size` is the numbers all workers together can hand out.
    pub fn nat_usage(&self, timeout: Duration) -> Result<Vec<NatUsage>, QueryError> {
        let mut total: Vec<NatUsage> = Vec::new();
        for (w, inbox) in self.inboxes.iter().enumerate() {
            let (tx, rx) = mpsc::channel();
            inbox.push(Command::NatUsage { reply: tx }).map_err(|_| QueryError::InboxFull(w))?;
            for u in rx.recv_timeout(timeout).map_err(|_| QueryError::Timeout(w, timeout))? {
                match total.iter_mut().find(|t| (t.public, t.proto) == (u.public, u.proto)) {
                    Some(t) => {
                        t.in_use += u.in_use;
                        t.size += u.size;
                    }
                    None => total.push(u),
                }
            }
        }
        total.sort_by_key(|u| (u.public, u.proto));
        Ok(total)
    }

    /// New ALG limits and server-map timeout (reload).
    pub fn set_alg_limits(&self, limits: AlgLimits) {
        self.alg_limits.publish(Arc::new(limits));
    }

    /// The event log the control plane drains, if the config turned it on.
    pub fn events(&self) -> Option<&EventLog> {
        self.events.as_ref()
    }

    pub fn workers(&self) -> usize {
        self.inboxes.len()
    }

    /// A new ruleset for every worker (reload): one store, so no worker can be left on
    /// the old rules while another runs the new; each takes it at its next poll loop.
    pub fn set_rules(&self, rules: Arc<Ruleset>) {
        self.rules.publish(rules);
    }

    /// Returns once every worker has applied every command queued to it, and every ruleset
    /// published, before the call: neighbour and server-map updates the slow path sent
    /// before something the caller saw it do, or a reload.
    pub fn sync(&self, timeout: Duration) -> Result<(), QueryError> {
        let mut waiting = Vec::new();
        for (w, inbox) in self.inboxes.iter().enumerate() {
            let (tx, rx) = mpsc::channel();
            inbox.push(Command::Sync { reply: tx }).map_err(|_| QueryError::InboxFull(w))?;
            waiting.push(rx);
        }
        for (w, rx) in waiting.into_iter().enumerate() {
            rx.recv_timeout(timeout).map_err(|_| QueryError::Timeout(w, timeout))?;
        }
        Ok(())
    }

    pub fn mbufs_in_use(&self) -> u32 {
        self.pool.in_use()
    }

    /// Stops the loops (they drain and publish), waits for every lcore, stops the ports.
    pub fn stop(self) -> Result<CoreStats, DpdkError> {
        self.running.store(false, Ordering::SeqCst);
        for &l in &self.lcores {
            wait_lcore(self.eal, l);
        }
        for p in &self.ports {
            p.stop()?;
        }
        Ok(self.total_stats())
    }
}

fn start_ports(cfg: &ApplianceConfig, pool: &Mempool) -> Result<Vec<(Port, Queues)>, StartError> {
    let mut ports = Vec::new();
    for (i, spec) in cfg.ports.iter().enumerate() {
        if cfg.ports[..i].iter().any(|p| p.port_id == spec.port_id) {
            return Err(StartError::DuplicatePort(spec.port_id));
        }
        let info = Port::info(spec.port_id)?;
        let pc = PortConfig {
            rx_queues: info.rx_queues_for(cfg.workers as u16),
            tx_queues: cfg.workers as u16 + 1,
            rx_desc: spec.rx_desc,
            tx_desc: spec.tx_desc,
            mac: spec.mac.map(|m| m.0),
            promiscuous: spec.promiscuous,
        };
        ports.push(Port::start(spec.port_id, &pc, pool)?);
    }
    Ok(ports)
}

/// Hand-off rings between every pair of workers (single producer, single consumer):
/// for each worker, its producer ends indexed by destination (`None` for itself) and its
/// consumer ends.
#[allow(clippy::type_complexity)]
fn handoff_rings(workers: usize, size: u32) -> Result<Vec<(Vec<Option<RingTx>>, Vec<RingRx>)>, DpdkError> {
    let mut out: Vec<(Vec<Option<RingTx>>, Vec<RingRx>)> =
        (0..workers).map(|_| ((0..workers).map(|_| None).collect(), Vec::new())).collect();
    for from in 0..workers {
        for to in 0..workers {
            if from != to {
                let (tx, rx) = spsc_ring(&format!("fw_ho{from}_{to}"), size)?;
                out[from].0[to] = Some(tx);
                out[to].1.push(rx);
            }
        }
    }
    Ok(out)
}

/// Worker `w` polls RX queues w, w + workers, ... of every port: one each, unless a driver
/// insists on more queues than workers.
fn rx_queues_of(
    ports: &[Port],
    queues: &mut [Queues],
    w: usize,
    workers: usize,
) -> Result<Vec<RxQueue>, StartError> {
    let mut rx = Vec::new();
    for (p, qs) in ports.iter().zip(queues.iter_mut()) {
        for q in (w..usize::from(p.rx_queue_count())).step_by(workers) {
            let q = q as u16;
            rx.push(qs.take_rx(q).ok_or(StartError::QueueUnavailable {
                port: p.id(),
                side: "RX",
                queue: q,
            })?);
        }
    }
    Ok(rx)
}

/// TX queue `q` of every port, for the core that transmits on it.
fn tx_buffers(ports: &[Port], queues: &mut [Queues], q: u16) -> Result<Vec<TxBuffer>, StartError> {
    ports
        .iter()
        .zip(queues.iter_mut())
        .map(|(p, qs)| {
            let queue =
                qs.take_tx(q).ok_or(StartError::QueueUnavailable { port: p.id(), side: "TX", queue: q })?;
            Ok(TxBuffer::new(queue))
        })
        .collect()
}

fn interfaces(cfg: &ApplianceConfig, ports: &[Port]) -> Interfaces {
    Interfaces::new(
        cfg.ports
            .iter()
            .zip(ports)
            .map(|(spec, port)| Interface {
                port: spec.port_id,
                name: spec.name.clone(),
                zone: spec.zone.clone(),
                zone_id: cfg.rules.zones.id(&spec.zone).unwrap_or(0),
                mac: MacAddr(port.mac()),
                addr: spec.addr,
                prefix_len: spec.prefix_len,
            })
            .collect(),
    )
}
