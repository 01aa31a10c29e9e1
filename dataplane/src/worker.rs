//! A worker lcore: polls one RX queue of every port, runs the pipeline, transmits on its
//! own TX queue of every port.
//!
//! Loop: drain the inbox, `rx_burst` each port, process, flush TX and the slow-path ring,
//! publish counters every few milliseconds. Everything a packet touches is owned by this
//! struct; the only shared reads are the immutable topology behind `Arc`s.
use crate::clock::TscClock;
use crate::command::{Command, Inbox, SessionChunk, INBOX_BATCH};
use crate::fragment::HeldFragments;
use crate::ifaces::MAX_PORTS;
use crate::pipeline::{Hint, Pipeline, Verdict};
use crate::published::Reader;
use crate::ruleset::Ruleset;
use crate::session::display::SessionView;
use crate::stats::{CoreStats, DropReason, SharedStats};
use dpdk::{tsc, Flushed, Mbuf, MbufBurst, PortId, RingRx, RingTx, RxQueue, TxBuffer, BURST_SIZE};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often counters are published to the control plane.
const PUBLISH_MS: u64 = 10;
/// Expired sessions removed per loop iteration at most: aging never stalls the loop.
const EXPIRE_BATCH: usize = 16;

pub struct Worker {
    pub(crate) rx: Vec<RxQueue>,
    pub(crate) tx: Vec<Option<TxBuffer>>,
    pub(crate) pipeline: Pipeline,
    pub(crate) to_slow: RingTx,
    /// Control segments for the ALG: a ring of their own, so they keep their order and
    /// never wait behind (or crowd out) ARP and to-self traffic.
    pub(crate) to_alg: RingTx,
    /// Rings to the other workers, indexed by worker (`None` for this one).
    pub(crate) handoff_tx: Vec<Option<RingTx>>,
    pub(crate) handoff_rx: Vec<RingRx>,
    pub(crate) inbox: Inbox,
    /// The ruleset as the control plane last published it (reload).
    pub(crate) rules: Reader<Ruleset>,
    pub(crate) stats: CoreStats,
    pub(crate) shared: Arc<SharedStats>,
    pub(crate) clock: TscClock,
    /// Sleep after an empty poll; zero spins (production), non-zero shares a CPU (labs).
    pub(crate) idle_sleep: Duration,
    /// Fragments waiting for their datagram's first.
    pub(crate) held: HeldFragments<Mbuf>,
}

/// Sessions above which a burst also prefetches the sessions themselves: below it the
/// table stays in cache and the extra probe only costs (nat-1k 0.19 -> 0.17 of testpmd
/// with it, nat-100k 0.13 -> 0.14).
const PREFETCH_SESSIONS_ABOVE: usize = 16_384;

impl Worker {
    pub fn run(mut self, running: &AtomicBool) -> i32 {
        let mut burst = MbufBurst::default();
        // What was read ahead of each packet of a burst: written for the packets each
        // burst brings, never cleared (a burst of n reads only its first n).
        let mut hints: [Option<Hint>; BURST_SIZE] = [None; BURST_SIZE];
        let mut last_publish = self.clock.millis(tsc());
        while running.load(Ordering::Relaxed) {
            let start = tsc();
            let now = self.clock.millis(start);
            self.take_rules();
            self.drain_inbox();
            let mut received = 0;
            for q in 0..self.rx.len() {
                let n = self.rx[q].rx_burst(&mut burst);
                if n == 0 {
                    continue;
                }
                received += n;
                let port = self.rx[q].port();
                // In stages over the burst: load every packet's headers, then read each
                // one's key and start loading its session's bucket, then the session,
                // then process them, so one packet's memory is on its way while others work.
                for i in 0..n {
                    burst.prefetch(i);
                }
                for (i, hint) in hints.iter_mut().enumerate().take(n) {
                    *hint = burst.peek(i).and_then(|d| self.pipeline.hint(d, port));
                }
                if self.pipeline.sessions().len() > PREFETCH_SESSIONS_ABOVE {
                    for hint in hints.iter().take(n).flatten() {
                        self.pipeline.prefetch_session(hint);
                    }
                }
                for hint in hints.iter().take(n) {
                    let Some(m) = burst.next() else { break };
                    self.stats.rx_packets += 1;
                    self.handle(m, port, now, false, hint.as_ref());
                }
            }
            for r in 0..self.handoff_rx.len() {
                received += self.handoff_rx[r].recv_burst(&mut burst);
                for m in burst.by_ref() {
                    self.stats.handoffs_in += 1;
                    let port = m.port();
                    self.handle(m, port, now, true, None);
                }
            }
            self.flush();
            self.pipeline.expire(now, EXPIRE_BATCH);
            let stats = &mut self.stats;
            self.held.expire(now, |_| stats.drop(DropReason::Ipv4Fragment));
            self.stats.polls += 1;
            let spent = tsc().wrapping_sub(start);
            self.stats.cycles += spent;
            if received > 0 {
                self.stats.busy_polls += 1;
                self.stats.busy_cycles += spent;
            } else if !self.idle_sleep.is_zero() {
                std::thread::sleep(self.idle_sleep);
            }
            if now.saturating_sub(last_publish) >= PUBLISH_MS {
                self.publish();
                last_publish = now;
            }
        }
        self.flush();
        self.publish();
        0
    }

    fn publish(&mut self) {
        self.stats.sessions_created = self.pipeline.counters.created;
        self.stats.sessions_removed = self.pipeline.counters.removed;
        let live = self.pipeline.sessions().live_by_kind();
        for (gauge, n) in self.stats.sessions_live.iter_mut().zip(live) {
            *gauge = u64::from(n);
        }
        self.shared.publish(&self.stats);
    }

    /// One packet, from a port queue (with what was read of it ahead) or (`handed`) from
    /// another worker's hand-off ring.
    #[inline]
    fn handle(
        &mut self,
        mut m: Mbuf,
        port: PortId,
        now: crate::clock::Millis,
        handed: bool,
        hint: Option<&Hint>,
    ) {
        if m.segments() != 1 {
            return self.stats.drop(DropReason::MultiSegment);
        }
        let verdict = if handed {
            self.pipeline.process_handed(&mut m, port, now)
        } else {
            self.pipeline.process_hinted(&mut m, port, now, hint)
        };
        match verdict {
            Verdict::Forward(out) => {
                self.stats.forwarded += 1;
                self.transmit(out, m);
            }
            Verdict::Reply(out) => {
                self.stats.local_replies += 1;
                self.transmit(out, m);
            }
            Verdict::SlowPath => {
                self.stats.to_slow_path += 1;
                m.set_port(port);
                let dropped = self.to_slow.push(m);
                self.stats.count_drops(DropReason::SlowPathRingFull, u64::from(dropped));
            }
            Verdict::Alg => {
                self.stats.to_alg += 1;
                let dropped = self.to_alg.push(m);
                self.stats.count_drops(DropReason::AlgRingFull, u64::from(dropped));
            }
            Verdict::Handoff(_) if handed => self.stats.drop(DropReason::HandoffMisdirected),
            Verdict::Handoff(owner) | Verdict::HandoffKeyed(owner) => {
                m.set_port(port);
                match self.handoff_tx.get_mut(owner as usize).and_then(Option::as_mut) {
                    Some(ring) => {
                        self.stats.handoffs_out += 1;
                        let dropped = ring.push(m);
                        self.stats.count_drops(DropReason::HandoffRingFull, u64::from(dropped));
                    }
                    None => self.stats.drop(DropReason::HandoffMisdirected),
                }
            }
            Verdict::Hold(tag) => {
                if self.held.hold(m, port, tag, self.pipeline.hold_until(now)).is_err() {
                    self.stats.drop(DropReason::FragmentHoldFull);
                }
            }
            Verdict::Drop(reason) => self.stats.drop(reason),
        }
        // A first fragment came: what was held of its datagram goes through now.
        while let Some(tag) = self.pipeline.take_released() {
            while let Some((held, held_port)) = self.held.take(tag) {
                self.handle(held, held_port, now, false, None);
            }
        }
    }

    #[inline]
    fn transmit(&mut self, port: PortId, m: Mbuf) {
        match self.tx.get_mut(port as usize).and_then(Option::as_mut) {
            Some(buf) => {
                let f = buf.push(m);
                self.count_tx(f);
            }
            None => self.stats.drop(DropReason::NoRoute),
        }
    }

    fn count_tx(&mut self, f: Flushed) {
        self.stats.tx_packets += u64::from(f.sent);
        self.stats.count_drops(DropReason::TxQueueFull, u64::from(f.dropped));
    }

    fn flush(&mut self) {
        for i in 0..self.tx.len() {
            if let Some(buf) = self.tx[i].as_mut() {
                let f = buf.flush();
                self.count_tx(f);
            }
        }
        let dropped = self.to_slow.flush();
        self.stats.count_drops(DropReason::SlowPathRingFull, u64::from(dropped));
        let dropped = self.to_alg.flush();
        self.stats.count_drops(DropReason::AlgRingFull, u64::from(dropped));
        for ring in self.handoff_tx.iter_mut().flatten() {
            let dropped = ring.flush();
            self.stats.count_drops(DropReason::HandoffRingFull, u64::from(dropped));
        }
    }

    /// Up to `max` sessions from slot `from`: a bounded piece of work per loop iteration,
    /// so a display of a big table never stalls forwarding.
    fn session_chunk(&self, from: u32, max: u32, now: crate::clock::Millis) -> SessionChunk {
        let table = self.pipeline.sessions();
        let worker = self.pipeline.worker();
        let mut sessions = Vec::with_capacity(max as usize);
        let mut next = None;
        for (id, s) in table.iter_from(from) {
            if sessions.len() == max as usize {
                next = Some(id);
                break;
            }
            sessions.push(SessionView::new(table, id, s, worker, now));
        }
        SessionChunk { worker, sessions, next }
    }

    fn take_rules(&mut self) {
        if let Some(rules) = self.rules.changed() {
            self.pipeline.set_rules(rules);
        }
    }

    fn drain_inbox(&mut self) {
        for _ in 0..INBOX_BATCH {
            let Some(cmd) = self.inbox.pop() else { break };
            match self.pipeline.apply(cmd) {
                Some(Command::Sessions { from, max, reply }) => {
                    let now = self.clock.millis(tsc());
                    let _ = reply.send(self.session_chunk(from, max, now));
                }
                Some(Command::Reset { filter, from, max, reply }) => {
                    let _ = reply.send(self.pipeline.reset(&filter, from, max));
                }
                Some(Command::Sync { reply }) => {
                    // A ruleset published before the sync was asked for is in force
                    // when it is answered.
                    self.take_rules();
                    let _ = reply.send(());
                }
                Some(Command::NatUsage { reply }) => {
                    let _ = reply.send(self.pipeline.nat_usage());
                }
                _ => {}
            }
        }
    }
}

/// TX buffers indexed by port id.
pub(crate) fn tx_table(buffers: Vec<TxBuffer>) -> Vec<Option<TxBuffer>> {
    let mut table: Vec<Option<TxBuffer>> = (0..MAX_PORTS).map(|_| None).collect();
    for b in buffers {
        let i = b.port() as usize;
        if i < MAX_PORTS {
            table[i] = Some(b);
        }
    }
    table
}
