//! The running appliance: what it is made of, its counters, and shutdown. Start-up is in
//! `start`, the control plane's queries and reloads in `client`.
//!
//! ```text
//!  main lcore ── control plane (the caller of Appliance::start)
//!  lcore 1st  ── slow path: rings from workers ─► ARP / to-self / resolution / ALG ─► own TX queues
//!  lcore 2nd+ ── workers: RX queue w of every port ─► pipeline ─► TX queue w of every port
//! ```
//! Port queues: RX queue `w` belongs to worker `w`; TX queue `w` to worker `w` and TX
//! queue `workers` to the slow path.
mod client;
mod start;

pub use client::QueryError;

use crate::alg::pptp::AlgLimits;
use crate::command::{Inbox, SlowInbox};
use crate::events::EventLog;
use crate::ifaces::Interfaces;
use crate::pipeline::PipelineLimits;
use crate::published::Published;
use crate::route::Route;
use crate::ruleset::Ruleset;
use crate::slowpath::NeighbourLimits;
use crate::stats::{CoreStats, SharedStats};
use dpdk::{wait_lcore, DpdkError, EalToken, LcoreId, Mempool, Port, PortId};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
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

impl Appliance {
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

    /// The event log the control plane drains, if the config turned it on.
    pub fn events(&self) -> Option<&EventLog> {
        self.events.as_ref()
    }

    pub fn workers(&self) -> usize {
        self.inboxes.len()
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
