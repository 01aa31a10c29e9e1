//! The slow-path lcore: drains the workers' rings (packets, ALG segments) and its inbox
//! into [`SlowPath`], transmits on its own TX queue of every port, and tells the workers
//! about neighbour and server-map changes.
use super::{SlowOutput, SlowPath};
use crate::alg::pptp::AlgLimits;
use crate::clock::{Millis, TscClock};
use crate::command::{Command, Inbox, SlowInbox, INBOX_BATCH};
use crate::events::EventLog;
use crate::neigh::NeighbourUpdate;
use crate::published::Reader;
use crate::servermap::ServerMapChange;
use crate::stats::{CoreStats, DropReason, SharedStats};
use dpdk::{tsc, Mbuf, MbufBurst, Mempool, PortId, RingRx, TxBuffer};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const TICK_MS: u64 = 10;
const PUBLISH_MS: u64 = 10;
/// The slow path sleeps this long after an empty poll: it is not the fast path, and on
/// small machines it shares a CPU.
const IDLE_SLEEP: Duration = Duration::from_micros(100);

pub struct SlowPathCore {
    pub(crate) logic: SlowPath<Mbuf>,
    pub(crate) from_workers: Vec<RingRx>,
    /// Control segments for the ALG, one ring per worker.
    pub(crate) from_workers_alg: Vec<RingRx>,
    pub(crate) inbox: SlowInbox,
    /// The ALG limits as the control plane last published them (reload).
    pub(crate) alg_limits: Reader<AlgLimits>,
    pub(crate) events: Option<EventLog>,
    pub(crate) tx: Vec<Option<TxBuffer>>,
    pub(crate) inboxes: Vec<Inbox>,
    pub(crate) pool: Arc<Mempool>,
    pub(crate) stats: CoreStats,
    pub(crate) shared: Arc<SharedStats>,
    pub(crate) clock: TscClock,
}

/// The effects of one step, borrowed from the core's own fields.
struct Effects<'a> {
    events: Option<&'a EventLog>,
    tx: &'a mut [Option<TxBuffer>],
    inboxes: &'a [Inbox],
    pool: &'a Mempool,
    stats: &'a mut CoreStats,
}

impl SlowOutput<Mbuf> for Effects<'_> {
    fn transmit(&mut self, port: PortId, frame: Mbuf) {
        match self.tx.get_mut(port as usize).and_then(Option::as_mut) {
            Some(buf) => {
                let f = buf.push(frame);
                self.stats.tx_packets += u64::from(f.sent);
                self.stats.count_drops(DropReason::TxQueueFull, u64::from(f.dropped));
            }
            None => self.stats.drop(DropReason::NoRoute),
        }
    }

    fn discard(&mut self, frame: Mbuf, reason: DropReason) {
        self.stats.drop(reason);
        drop(frame);
    }

    fn notify(&mut self, update: NeighbourUpdate) {
        for inbox in self.inboxes {
            // A full inbox loses the update; the worker then passes packets for that
            // neighbour here, and resolve() notifies again.
            let _ = inbox.push(Command::Neighbour(update));
        }
    }

    fn server_map(&mut self, worker: u16, change: ServerMapChange) {
        // A lost install leaves the tunnel's first GRE dropped until the call is set up
        // again; a lost removal leaves an entry that expires with its session. Both are
        // counted, and inboxes are sized so neither happens in practice.
        let pushed =
            self.inboxes.get(worker as usize).is_some_and(|i| i.push(Command::ServerMap(change)).is_ok());
        if !pushed {
            self.stats.commands_lost += 1;
        }
    }

    fn event(&mut self, event: crate::events::Event) {
        if let Some(log) = self.events {
            log.push(event);
        }
    }

    fn alloc(&mut self) -> Option<Mbuf> {
        self.pool.alloc()
    }

    fn count_drop(&mut self, reason: DropReason) {
        self.stats.drop(reason);
    }
}

impl SlowPathCore {
    pub fn run(mut self, running: &AtomicBool) -> i32 {
        let mut burst = MbufBurst::default();
        let mut last_tick = Millis(0);
        let mut last_publish = Millis(0);
        while running.load(Ordering::Relaxed) {
            let start = tsc();
            let now = self.clock.millis(start);
            if let Some(limits) = self.alg_limits.changed() {
                self.logic.set_alg_limits(*limits);
            }
            let mut received = 0;
            for r in 0..self.from_workers.len() {
                received += self.from_workers[r].recv_burst(&mut burst);
                for m in burst.by_ref() {
                    self.stats.rx_packets += 1;
                    let port = m.port();
                    let (logic, mut fx) = self.parts();
                    logic.handle(m, port, now, &mut fx);
                }
            }
            for r in 0..self.from_workers_alg.len() {
                received += self.from_workers_alg[r].recv_burst(&mut burst);
                for m in burst.by_ref() {
                    self.stats.rx_packets += 1;
                    let port = m.port();
                    let (logic, mut fx) = self.parts();
                    logic.handle_alg(m, port, now, &mut fx);
                }
            }
            for _ in 0..INBOX_BATCH {
                let Some(cmd) = self.inbox.pop() else { break };
                received += 1;
                let (logic, mut fx) = self.parts();
                logic.command(cmd, now, &mut fx);
            }
            if now.saturating_sub(last_tick) >= TICK_MS {
                let (logic, mut fx) = self.parts();
                logic.tick(now, &mut fx);
                last_tick = now;
            }
            self.flush();
            self.stats.polls += 1;
            let spent = tsc().wrapping_sub(start);
            self.stats.cycles += spent;
            if received > 0 {
                self.stats.busy_polls += 1;
                self.stats.busy_cycles += spent;
            } else {
                std::thread::sleep(IDLE_SLEEP);
            }
            if now.saturating_sub(last_publish) >= PUBLISH_MS {
                self.shared.publish(&self.stats);
                last_publish = now;
            }
        }
        self.flush();
        self.shared.publish(&self.stats);
        0
    }

    /// The logic and, borrowed from the other fields, where its effects go.
    fn parts(&mut self) -> (&mut SlowPath<Mbuf>, Effects<'_>) {
        let SlowPathCore { logic, tx, inboxes, pool, stats, events, .. } = self;
        (logic, Effects { events: events.as_ref(), tx, inboxes, pool, stats })
    }

    fn flush(&mut self) {
        for buf in self.tx.iter_mut().flatten() {
            let f = buf.flush();
            self.stats.tx_packets += u64::from(f.sent);
            self.stats.count_drops(DropReason::TxQueueFull, u64::from(f.dropped));
        }
    }
}
