//! Helpers shared by the DPDK integration tests: EAL start for tests, injecting frames
//! into ring ports and collecting what comes out.
use dataplane::policy::{Policy, Rule, Zones};
use dataplane::ruleset::Ruleset;
use dpdk::{Eal, EalArgs, Mbuf, MbufBurst, Mempool, RingRx, RingTx};
use std::time::{Duration, Instant};

/// A port of the appliance as the DPDK tests give them: a /24, 256 descriptors each way,
/// and the device's own MAC (net_ring cannot change it).
pub fn port_spec(
    id: u16,
    name: &str,
    zone: &str,
    addr: std::net::Ipv4Addr,
) -> dataplane::appliance::PortSpec {
    dataplane::appliance::PortSpec {
        port_id: id,
        name: name.into(),
        zone: zone.into(),
        addr,
        prefix_len: 24,
        mac: None,
        rx_desc: 256,
        tx_desc: 256,
        promiscuous: false,
    }
}

/// The appliance the DPDK tests start: `workers` workers, small pools and rings, the
/// given ports and rules, everything else at its default; tests change fields after.
pub fn test_config(
    workers: usize,
    ports: Vec<dataplane::appliance::PortSpec>,
    rules: Ruleset,
) -> dataplane::appliance::ApplianceConfig {
    dataplane::appliance::ApplianceConfig {
        ports,
        routes: vec![],
        static_neighbours: vec![],
        workers,
        mbufs: 8191,
        mbuf_cache: 0,
        ring_size: 1024,
        inbox_size: 1024,
        neighbour: Default::default(),
        limits: Default::default(),
        worker_idle_sleep: std::time::Duration::from_micros(50),
        rules,
        sessions_per_worker: 1024,
        alg: Default::default(),
        fixed_seed: None,
        events: None,
    }
}

/// A ruleset that permits every flow between every pair of `zones`, without NAT.
pub fn permit_all(zones: &[&str]) -> Ruleset {
    let z = Zones::new(zones.iter().copied());
    let mut rules = Vec::new();
    for from in zones {
        for to in zones {
            rules.push(Rule::permit_all(&format!("{from}-{to}"), z.id(from).unwrap(), z.id(to).unwrap()));
        }
    }
    Ruleset { policy: Policy::new(&z, rules), zones: z, ..Ruleset::default() }
}

/// A big-endian 16-bit field of a frame the tests read.
pub fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// (source, destination, ports, payload) of an Ethernet frame holding TCP, its IPv4 and
/// TCP checksums checked.
pub fn tcp_of(f: &[u8]) -> (std::net::Ipv4Addr, std::net::Ipv4Addr, u16, u16, Vec<u8>) {
    let ip = wire::Ipv4Packet::new_checked(&f[14..]).expect("IPv4");
    assert!(ip.verify_checksum(), "IPv4 checksum");
    let t = wire::TcpPacket::new_checked(ip.payload()).expect("TCP");
    assert!(t.verify_checksum(ip.src_addr(), ip.dst_addr()), "TCP checksum");
    (ip.src_addr(), ip.dst_addr(), t.src_port(), t.dst_port(), t.payload().to_vec())
}

/// The NAT lab's rules with the PPTP ALG on and one policy: PPTP control (TCP 1723) from
/// the inside to `server`.
pub fn pptp_out_rules(server: std::net::Ipv4Addr) -> Ruleset {
    use dataplane::policy::{Action, AddrSet};
    dataplane::sim::nat_lab_rules(true, |trust, untrust| {
        vec![Rule {
            name: "pptp-out".into(),
            from: trust,
            to: untrust,
            source: AddrSet::any(),
            destination: AddrSet(vec![(server, 32)]),
            protocol: Some(6),
            ports: vec![(1723, 1723)],
            action: Action::Permit,
        }]
    })
}

/// Starts the EAL without hugepages or PCI, with lcore 0 (main) and `extra` more lcores
/// spread over the machine's CPUs.
pub fn start_eal(name: &str, extra: usize) -> Eal {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let lcores: Vec<String> =
        (0..=extra).map(|l| format!("{l}@{}", if l == 0 { 0 } else { (l - 1) % cpus })).collect();
    let args = [
        "--no-huge",
        "-m",
        "512",
        "--no-pci",
        "--file-prefix",
        &format!("{name}-{}", std::process::id()),
        "--lcores",
        &lcores.join(","),
        "--main-lcore",
        "0",
        "--log-level",
        "lib.eal:error",
    ];
    Eal::init(&EalArgs(args.iter().map(|s| s.to_string()).collect())).expect("EAL start")
}

/// Puts one frame into a ring port's RX ring.
pub fn inject(pool: &Mempool, ring: &mut RingTx, bytes: &[u8]) {
    let mut m: Mbuf = pool.alloc().expect("test pool has room");
    assert!(m.write_all(bytes), "frame fits an mbuf");
    if ring.send(m).is_err() {
        panic!("RX ring full");
    }
}

/// Collects frames from a TX ring until `want` have come or `timeout` passes.
pub fn collect(ring: &mut RingRx, want: usize, timeout: Duration) -> Vec<Vec<u8>> {
    use wire::frame::Frame;
    let mut got = Vec::new();
    let mut burst = MbufBurst::default();
    let start = Instant::now();
    while got.len() < want && start.elapsed() < timeout {
        ring.recv_burst(&mut burst);
        for m in burst.by_ref() {
            got.push(m.data().to_vec());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    got
}

/// Collects frames from any of `rings` until `want` have come or `timeout` passes.
pub fn collect_any(rings: &mut [RingRx], want: usize, timeout: Duration) -> Vec<Vec<u8>> {
    use wire::frame::Frame;
    let mut got = Vec::new();
    let mut burst = MbufBurst::default();
    let start = Instant::now();
    while got.len() < want && start.elapsed() < timeout {
        for ring in rings.iter_mut() {
            ring.recv_burst(&mut burst);
            for m in burst.by_ref() {
                got.push(m.data().to_vec());
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    got
}

/// Drains a ring for `quiet` and returns what came (for "nothing else was sent" checks).
pub fn drain(ring: &mut RingRx, quiet: Duration) -> Vec<Vec<u8>> {
    collect(ring, usize::MAX, quiet)
}

/// Polls `done` every millisecond until it holds; fails the test naming `what` if it
/// does not within `timeout`. Tests wait for conditions, never for a fixed time.
pub fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}
