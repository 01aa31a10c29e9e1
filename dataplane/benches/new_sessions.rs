//! New sessions per second on one worker in steady state, without EAL or a NIC: every
//! packet opens a NATed UDP flow (policy, NAT port, session, rewrite) while older ones
//! expire, as on a worker whose table stays full (UDP timeout 1 s, the clock advancing
//! 1 ms per 32 packets, expiry between bursts as the worker does it).
//! Usage: cargo bench -p dataplane --bench new_sessions [-- PACKETS TABLE]
use dataplane::clock::Millis;
use dataplane::pipeline::{Pipeline, PipelineLimits, Verdict};
use dataplane::policy::Rule;
use dataplane::ruleset::Ruleset;
use dataplane::session::SessionTable;
use dataplane::sim;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Instant;
use wire::craft::{self, L2, L3};
use wire::frame::{Frame, TestFrame};
use wire::MacAddr;

const IN_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xa0]);
const OUT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xb0]);
const HOST: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
/// Packets per burst, between which the worker expires sessions.
const BURST: usize = 32;
/// Sessions a worker expires per loop iteration (worker.rs's EXPIRE_BATCH).
const EXPIRE_PER_BURST: usize = 16;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let packets = args.first().copied().unwrap_or(2_000_000);
    let table = args.get(1).copied().unwrap_or(32_768);
    let public = Ipv4Addr::new(203, 0, 113, 2);
    let mut shared = sim::nat_lab(public, (IN_MAC, OUT_MAC), 1, false, |trust, untrust| {
        vec![Rule::permit_all("out", trust, untrust)]
    });
    let mut rules: Ruleset = (*shared.rules).clone();
    rules.timeouts.udp = 1;
    shared.rules = Arc::new(rules);
    let server = Ipv4Addr::new(203, 0, 113, 1);
    let mut neigh = dataplane::neigh::NeighbourCache::with_capacity(16);
    let _ = neigh.insert(server, HOST);
    let sessions = SessionTable::new(table, shared.rules.timeouts);
    let mut p = Pipeline::new(0, shared, neigh, sessions, PipelineLimits::default());
    // Frames of 60 bytes exactly (18 bytes of payload), so one buffer takes each in turn.
    let frames: Vec<Vec<u8>> = (0..packets)
        .map(|i| {
            let src = Ipv4Addr::new(192, 168, 1, 1 + (i % 250) as u8);
            let sport = 1024 + ((i / 250) % 64_000) as u16;
            craft::udp(
                L2 { src: HOST, dst: IN_MAC },
                L3 { src, dst: server, ttl: 64 },
                sport,
                53,
                b"payload-of-18-byte",
            )
        })
        .collect();
    let mut f = TestFrame::new(&frames[0]).expect("fits");
    let mut verdicts: BTreeMap<String, usize> = BTreeMap::new();
    let mut now = Millis(1000);
    let start = Instant::now();
    for (i, bytes) in frames.iter().enumerate() {
        f.data_mut().copy_from_slice(bytes);
        match black_box(p.process(&mut f, 0, now)) {
            Verdict::Forward(_) => {}
            v => *verdicts.entry(format!("{v:?}")).or_default() += 1,
        }
        if i % BURST == BURST - 1 {
            now = Millis(now.0 + 1);
            p.expire(now, EXPIRE_PER_BURST);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "new_sessions: {packets} new NATed UDP flows, table {table}, {} live at the end: {:.0} ns per new session, {:.2} M new sessions/s; not forwarded: {verdicts:?}",
        p.sessions().len(),
        secs * 1e9 / packets as f64,
        packets as f64 / secs / 1e6
    );
}
