//! Start-up: the mbuf pool, ports and their queues, hand-off rings and inboxes, then one
//! lcore per role (the slow path first, then the workers).
use super::{Appliance, ApplianceConfig, StartError};
use crate::alg::pptp::PptpAlg;
use crate::clock::TscClock;
use crate::command::{inbox, Inbox, SlowInbox};
use crate::events::EventLog;
use crate::fragment::{HeldFragments, HELD_PER_WORKER};
use crate::ifaces::{Interface, Interfaces};
use crate::neigh::NeighbourCache;
use crate::owner::OwnerMap;
use crate::pipeline::{Pipeline, Shared};
use crate::published::Published;
use crate::route::RouteTable;
use crate::session::SessionTable;
use crate::slowpath::lcore::SlowPathCore;
use crate::slowpath::SlowPath;
use crate::stats::{CoreStats, SharedStats};
use crate::worker::{tx_table, Worker};
use dpdk::{
    launch_on, spsc_ring, tsc, tsc_hz, DpdkError, Eal, LcoreId, Mempool, Port, PortConfig, Queues, RingRx,
    RingTx, RssPlan, RssState, RxQueue, TxBuffer,
};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use wire::{MacAddr, SYMMETRIC_KEY};

impl Appliance {
    pub fn start(eal: &Eal, cfg: &ApplianceConfig) -> Result<Appliance, StartError> {
        let lcores = eal.worker_lcores();
        let needed = cfg.workers + 1;
        if lcores.len() < needed {
            return Err(StartError::NotEnoughLcores { needed, workers: cfg.workers, have: lcores.len() });
        }
        let pool = Arc::new(Mempool::new("ferrowall_mbufs", cfg.mbufs, cfg.mbuf_cache, -1)?);
        let (ports, mut queues): (Vec<Port>, Vec<Queues>) = start_ports(cfg, &pool)?.into_iter().unzip();
        let ifaces = Arc::new(interfaces_of(cfg, &ports));
        let routes = Arc::new(RouteTable::new(&ifaces, &cfg.routes));
        let clock = TscClock::new(tsc(), tsc_hz(eal.token()));
        let running = Arc::new(AtomicBool::new(true));

        let rules = Arc::new(cfg.rules.clone());
        let mut owners = OwnerMap::new(cfg.workers as u16, &rules.nat.public_addrs(&ifaces));
        for p in &ports {
            if matches!(p.rss(), RssState::Follows { .. }) {
                owners.trust_nic_hash(p.id());
            }
        }
        let owners = Arc::new(owners);
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
            rss: Some(RssPlan {
                key: SYMMETRIC_KEY,
                table: OwnerMap::table_for(cfg.workers as u16).to_vec(),
            }),
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

fn interfaces_of(cfg: &ApplianceConfig, ports: &[Port]) -> Interfaces {
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
