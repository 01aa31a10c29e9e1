//! Pressure on a real EAL: a full ring, a full NIC TX queue, an empty mempool and a burst
//! that overruns the ring to the slow path. Each is counted under its reason, established
//! traffic keeps flowing through it, and everything works again once the pressure is
//! gone, without a restart.
//!
//! One test function, because DPDK allows one EAL per process. Every step waits for a
//! counter or a frame with a deadline, never for a fixed time.
use dataplane::appliance::Appliance;
use dataplane::route::Route;
use dataplane::slowpath::NeighbourLimits;
use dataplane::stats::DropReason;
use dpdk::{ring_port, spsc_ring, Mempool};
use ferrowall_tests::{collect, drain, inject, port_spec, start_eal, test_config, wait_for};
use std::net::Ipv4Addr;
use std::time::Duration;
use wire::craft::{self, L2, L3};
use wire::{ArpPacket, ArpRepr, EthernetFrame, IpProtocol, Ipv4Packet, MacAddr};

const WORKERS: usize = 1;
const SLOW_Q: usize = WORKERS; // the slow path's TX queue
const T: Duration = Duration::from_secs(5);
/// The outside port's rings: 64 slots, 63 usable.
const OUT_RING: u32 = 64;
/// The appliance's own mbufs, what the slow path builds ARP requests from: fewer than the
/// outside ring holds, so the pool runs dry before the ring fills.
const POOL: u32 = 31;

const CLIENT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const GW_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x99]);
const HOST_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x77]);
const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
const INSIDE: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 254);
const OUTSIDE: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);
const GW: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
const REMOTE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);

/// An ARP request the appliance sent, by the address it asks for.
fn arp_request_target(frame: &[u8]) -> Option<Ipv4Addr> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    let arp = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).ok()?).ok()?;
    (arp.sender_ip == OUTSIDE).then_some(arp.target_ip)
}

fn is_udp_to(frame: &[u8], dst: Ipv4Addr) -> bool {
    Ipv4Packet::new_checked(&frame[14..])
        .is_ok_and(|ip| ip.dst_addr() == dst && ip.next_header() == IpProtocol::Udp)
}

#[test]
fn pressure_on_ring_ports() {
    let eal = start_eal("fwtest-pressure", WORKERS + 1);
    let pool = Mempool::new("test_inject", 4095, 0, -1).unwrap();

    // A full ring drops what does not fit, counts it and frees it: nothing leaks.
    let (mut ring_tx, mut ring_rx) = spsc_ring("pr_probe", 64).unwrap();
    let free_before = pool.available();
    let mut dropped = 0;
    for _ in 0..100 {
        dropped += ring_tx.push(pool.alloc().unwrap());
    }
    dropped += ring_tx.flush();
    assert_eq!((dropped, ring_rx.count()), (37, 63), "a 64-slot ring takes 63, drops 37");
    assert_eq!(pool.available(), free_before - 63, "the dropped mbufs went back to the pool");
    assert_eq!(collect(&mut ring_rx, 63, T).len(), 63);
    assert_eq!(pool.available(), free_before, "and the ring's once read");

    let (in_id, mut in_rx, mut in_tx) = ring_port("pr_in", 1, 2, 1024).unwrap();
    let (out_id, mut out_rx, mut out_tx) = ring_port("pr_out", 1, 2, OUT_RING).unwrap();
    let mut cfg = test_config(
        WORKERS,
        vec![port_spec(in_id, "inside", "trust", INSIDE), port_spec(out_id, "outside", "untrust", OUTSIDE)],
        ferrowall_tests::permit_all(&["trust", "untrust"]),
    );
    cfg.routes = vec![([198, 51, 100, 0].into(), 24, Route { port: out_id, via: Some(GW) })];
    cfg.static_neighbours = vec![(GW, GW_MAC), (CLIENT, CLIENT_MAC)];
    cfg.mbufs = POOL;
    cfg.ring_size = 64;
    // Neighbours stay asked for through the whole test, however slow the machine.
    cfg.neighbour = NeighbourLimits { retries: u8::MAX, ..NeighbourLimits::default() };
    let app = Appliance::start(&eal, &cfg).expect("appliance starts");
    let in_mac = app.interfaces().get(in_id).unwrap().mac;
    let out_mac = app.interfaces().get(out_id).unwrap().mac;
    let to = |dst: Ipv4Addr| {
        craft::udp(L2 { src: CLIENT_MAC, dst: in_mac }, L3 { src: CLIENT, dst, ttl: 64 }, 40000, 53, b"q")
    };
    let mut injected = 0u64;
    let mut send = |n: usize, frame: &[u8], injected: &mut u64| {
        for _ in 0..n {
            inject(&pool, &mut in_rx[0], frame);
            *injected += 1;
        }
    };
    let received = |app: &Appliance, n: u64| {
        wait_for("the worker to take every frame in", T, || app.worker_stats()[0].rx_packets == n)
    };
    let drops = |app: &Appliance, r: DropReason| app.total_stats().drops[r.index()];

    // The established flow.
    send(10, &to(REMOTE), &mut injected);
    assert_eq!(collect(&mut out_tx[0], 10, T).len(), 10, "forwarded");

    // The NIC's TX queue full (nobody reads the outside ring): 63 go, the rest counted.
    send(100, &to(REMOTE), &mut injected);
    received(&app, injected);
    assert_eq!(out_tx[0].count(), 63, "the TX ring is full");
    assert_eq!(drops(&app, DropReason::TxQueueFull), 37, "what did not fit, counted");
    assert_eq!(collect(&mut out_tx[0], 63, T).len(), 63);
    send(10, &to(REMOTE), &mut injected);
    assert_eq!(collect(&mut out_tx[0], 10, T).len(), 10, "forwarding again once the queue drains");

    // The mempool empty: 40 new neighbours to ask for, nobody reading the slow path's
    // outside queue, so every ARP request built stays out of the pool. The pool gives 31;
    // the other requests are counted and their packets wait for the retry.
    let hosts: Vec<Ipv4Addr> = (10..50).map(|h| Ipv4Addr::new(203, 0, 113, h)).collect();
    for &h in &hosts {
        send(1, &to(h), &mut injected);
    }
    received(&app, injected);
    wait_for("the slow path to run out of mbufs", T, || drops(&app, DropReason::NoBuffer) >= 9);
    wait_for("every mbuf of the pool an ARP request in the queue", T, || out_tx[SLOW_Q].count() == POOL);
    assert_eq!(app.mbufs_in_use(), POOL);
    // Established traffic does not need the pool (a frame leaves in the mbuf it came in).
    send(10, &to(REMOTE), &mut injected);
    assert_eq!(collect(&mut out_tx[0], 10, T).len(), 10, "established flow forwarded with the pool empty");

    // The queue read, the pool refills; a new neighbour is asked for and reached.
    let asked = collect(&mut out_tx[SLOW_Q], POOL as usize, T);
    assert!(asked.iter().all(|f| arp_request_target(f).is_some_and(|t| hosts.contains(&t))));
    let host = Ipv4Addr::new(203, 0, 113, 200);
    send(1, &to(host), &mut injected);
    wait_for("an ARP request for the new neighbour", T, || {
        collect(&mut out_tx[SLOW_Q], 1, Duration::from_millis(1))
            .iter()
            .any(|f| arp_request_target(f) == Some(host))
    });
    // Every neighbour answers, those the empty pool kept from being asked too: each
    // waiting packet leaves, and nothing is left asking.
    for &h in hosts.iter().chain([&host]) {
        inject(&pool, &mut out_rx[0], &craft::arp(false, (HOST_MAC, h), (out_mac, OUTSIDE)));
        injected += 1;
    }
    let mut released = 0;
    wait_for("every held packet released", T, || {
        released += collect(&mut out_tx[SLOW_Q], 1, Duration::from_millis(1))
            .iter()
            .filter(|f| is_udp_to(f, host) || hosts.iter().any(|&h| is_udp_to(f, h)))
            .count();
        released == hosts.len() + 1
    });
    received(&app, injected);
    assert!(drain(&mut out_tx[SLOW_Q], Duration::from_millis(50))
        .iter()
        .all(|f| arp_request_target(f).is_some()));

    // A burst at the slow path through a ring of 64: every ARP request for our address is
    // answered or counted, none lost unseen; the ring overflows or not as the cores race,
    // the sum holds either way.
    const BURST: u64 = 1000;
    let before = app.total_stats();
    let counted = |app: &Appliance| {
        let now = app.total_stats();
        [DropReason::SlowPathRingFull, DropReason::TxQueueFull, DropReason::NoBuffer]
            .iter()
            .map(|r| now.drops[r.index()] - before.drops[r.index()])
            .sum::<u64>()
    };
    let request = craft::arp(true, (CLIENT_MAC, CLIENT), (MacAddr::ZERO, INSIDE));
    send(BURST as usize, &request, &mut injected);
    let mut answered = 0u64;
    wait_for("every ARP request answered or counted", T, || {
        answered += collect(&mut in_tx[SLOW_Q], usize::MAX, Duration::from_millis(1)).len() as u64;
        answered + counted(&app) == BURST
    });
    let ring_full = app.total_stats().drops[DropReason::SlowPathRingFull.index()]
        - before.drops[DropReason::SlowPathRingFull.index()];
    eprintln!("burst of {BURST}: {answered} answered, {ring_full} over the slow path's ring");
    // And the appliance still answers and forwards.
    send(1, &request, &mut injected);
    assert_eq!(collect(&mut in_tx[SLOW_Q], 1, T).len(), 1, "ARP answered after the burst");
    send(10, &to(REMOTE), &mut injected);
    assert_eq!(collect(&mut out_tx[0], 10, T).len(), 10, "forwarded after the burst");

    received(&app, injected);
    wait_for("the pool back to what the appliance keeps", T, || app.mbufs_in_use() == 0);
    let total = app.stop().expect("stop");
    assert_eq!(total.rx_packets, injected, "every injected frame received once");
}
