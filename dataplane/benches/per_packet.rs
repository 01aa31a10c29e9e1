//! The worker's per-packet logic alone, without EAL or a NIC: established NATed UDP,
//! FLOWS flows (default 1,000), frames restored before each pass (as a NIC's DMA would
//! write them). Prints ns per packet; under `valgrind --tool=callgrind` the instruction
//! count per packet is repeatable, so two builds compare exactly. Frames go in bursts of
//! 32 read ahead as a worker reads them (`hint`, then `process_hinted`); `full` sends
//! each through the full parse instead (`process`).
//! Usage: cargo bench -p dataplane --bench per_packet [-- FLOWS PASSES [full]]
use dataplane::clock::Millis;
use dataplane::pipeline::{Pipeline, PipelineLimits, Verdict};
use dataplane::policy::Rule;
use dataplane::session::SessionTable;
use dataplane::sim;
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Instant;
use wire::craft::{self, L2, L3};
use wire::frame::{Frame, TestFrame};
use wire::MacAddr;

const IN_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xa0]);
const OUT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xb0]);
/// A worker's burst.
const BURST: usize = 32;
const HOST: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let flows = args.first().copied().unwrap_or(1000);
    let passes = args.get(1).copied().unwrap_or(2000);
    let full = std::env::args().any(|a| a == "full");
    let public = Ipv4Addr::new(203, 0, 113, 2);
    let shared = sim::nat_lab(public, (IN_MAC, OUT_MAC), 1, false, |trust, untrust| {
        vec![Rule::permit_all("out", trust, untrust)]
    });
    let server = Ipv4Addr::new(203, 0, 113, 1);
    let mut neigh = dataplane::neigh::NeighbourCache::with_capacity(16);
    let _ = neigh.insert(server, HOST);
    let sessions = SessionTable::new(flows * 2 + 16, shared.rules.timeouts);
    let mut p = Pipeline::new(0, shared, neigh, sessions, PipelineLimits::default());
    let originals: Vec<Vec<u8>> = (0..flows)
        .map(|i| {
            let src = Ipv4Addr::new(192, 168, 1, 1 + (i % 200) as u8);
            let l3 = L3 { src, dst: server, ttl: 64 };
            craft::udp(L2 { src: HOST, dst: IN_MAC }, l3, 1024 + (i / 200) as u16, 53, b"payload-of-18-byte")
        })
        .collect();
    let mut frames: Vec<TestFrame> = originals.iter().map(|b| TestFrame::new(b).expect("fits")).collect();
    let now = Millis(1000);
    for f in &mut frames {
        assert_eq!(p.process(f, 0, now), Verdict::Forward(1), "the flow opens");
    }
    let start = Instant::now();
    for _ in 0..passes {
        for (burst, origs) in frames.chunks_mut(BURST).zip(originals.chunks(BURST)) {
            for (f, orig) in burst.iter_mut().zip(origs) {
                f.data_mut().copy_from_slice(orig);
            }
            if full {
                for f in burst.iter_mut() {
                    black_box(p.process(f, 0, now));
                }
                continue;
            }
            let mut hints = [None; BURST];
            for (hint, f) in hints.iter_mut().zip(burst.iter()) {
                *hint = p.hint(f.data(), 0);
            }
            for (f, hint) in burst.iter_mut().zip(hints) {
                black_box(p.process_hinted(f, 0, now, hint.as_ref()));
            }
        }
    }
    let n = (flows * passes) as f64;
    println!(
        "per_packet: {flows} established NATed UDP flows, {} packets{}: {:.1} ns per packet",
        flows * passes,
        if full { " (full parse)" } else { "" },
        start.elapsed().as_nanos() as f64 / n
    );
}
