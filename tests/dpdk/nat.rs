//! NAT through two workers on a real EAL: flows and their replies arrive on whichever
//! queue, the owner translates them, every packet is counted once, and the session
//! table reads back in the reference format.
use dataplane::appliance::Appliance;
use dataplane::nat::{NatPolicy, NatRules, Target};
use dataplane::policy::{AddrSet, Policy, Rule, Zones};
use dataplane::route::Route;
use dataplane::ruleset::Ruleset;
use dataplane::stats::DropReason;
use dpdk::{ring_port, Mempool};
use ferrowall_tests::{collect_any, drain, inject, port_spec, start_eal, test_config, wait_for};
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Duration;
use wire::craft::{self, L2, L3};
use wire::{EthernetFrame, Ipv4Packet, MacAddr, UdpPacket};

const WORKERS: usize = 2;
const FLOWS: u16 = 40;
const CLIENT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const GW_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x99]);
const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
const PUBLIC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);
const GW: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);

fn rules() -> Ruleset {
    let zones = Zones::new(["trust", "untrust"]);
    let (trust, untrust) = (zones.id("trust").unwrap(), zones.id("untrust").unwrap());
    let out = Rule::permit_all("out", trust, untrust);
    let nat = NatRules {
        policies: vec![NatPolicy {
            name: "lan".into(),
            from: trust,
            to: untrust,
            source: AddrSet::any(),
            target: Target::EasyIp,
        }],
        pools: vec![],
    };
    Ruleset { policy: Policy::new(&zones, vec![out]), zones, nat, ..Ruleset::default() }
}

fn udp_of(f: &[u8]) -> (Ipv4Addr, Ipv4Addr, u16, u16, bool) {
    let ip = Ipv4Packet::new_checked(&f[14..]).unwrap();
    let (s, d) = (ip.src_addr(), ip.dst_addr());
    let u = UdpPacket::new_checked(ip.payload()).unwrap();
    (s, d, u.src_port(), u.dst_port(), ip.verify_checksum() && u.verify_checksum(s, d))
}

#[test]
fn nat_across_two_workers() {
    let eal = start_eal("fwtest-nat", WORKERS + 1);
    let pool = Mempool::new("test_inject", 4095, 0, -1).unwrap();
    let (in_id, mut in_rx, mut in_tx) =
        ring_port("nat_in", WORKERS as u16, WORKERS as u16 + 1, 1024).unwrap();
    let (out_id, mut out_rx, mut out_tx) =
        ring_port("nat_out", WORKERS as u16, WORKERS as u16 + 1, 1024).unwrap();
    let mut cfg = test_config(
        WORKERS,
        vec![
            port_spec(in_id, "inside", "trust", [192, 168, 1, 254].into()),
            port_spec(out_id, "outside", "untrust", PUBLIC),
        ],
        rules(),
    );
    cfg.routes = vec![([0, 0, 0, 0].into(), 0, Route { port: out_id, via: Some(GW) })];
    cfg.static_neighbours = vec![(GW, GW_MAC), (CLIENT, CLIENT_MAC)];
    let app = Appliance::start(&eal, &cfg).expect("appliance starts");
    let in_mac = app.interfaces().get(in_id).unwrap().mac;
    let out_mac = app.interfaces().get(out_id).unwrap().mac;
    let mut injected = 0u64;

    for i in 0..FLOWS {
        let f = craft::udp(
            L2 { src: CLIENT_MAC, dst: in_mac },
            L3 { src: CLIENT, dst: SERVER, ttl: 64 },
            20_000 + i,
            53,
            b"query",
        );
        inject(&pool, &mut in_rx[i as usize % WORKERS], &f);
        injected += 1;
    }
    let out = collect_any(&mut out_tx[..WORKERS], FLOWS as usize, Duration::from_secs(3));
    assert_eq!(out.len(), FLOWS as usize, "every flow leaves once");
    let mut public_port = HashMap::new();
    for f in &out {
        let eth = EthernetFrame::new_checked(&f[..]).unwrap();
        assert_eq!((eth.src_addr(), eth.dst_addr()), (out_mac, GW_MAC));
        let (s, d, sp, dp, ok) = udp_of(f);
        assert!(ok, "checksums after NAT");
        assert_eq!((s, d, dp), (PUBLIC, SERVER, 53));
        assert!(public_port.insert(sp, ()).is_none(), "distinct public ports");
    }

    // Replies, each on the queue of the worker that did not send the request, mostly.
    let ports: Vec<u16> = public_port.keys().copied().collect();
    for (i, pp) in ports.iter().enumerate() {
        let f = craft::udp(
            L2 { src: GW_MAC, dst: out_mac },
            L3 { src: SERVER, dst: PUBLIC, ttl: 64 },
            53,
            *pp,
            &pp.to_be_bytes(), // says which public port the reply went to
        );
        inject(&pool, &mut out_rx[(i + 1) % WORKERS], &f);
        injected += 1;
    }
    let back = collect_any(&mut in_tx[..WORKERS], FLOWS as usize, Duration::from_secs(3));
    assert_eq!(back.len(), FLOWS as usize, "every reply comes back once");
    // Which inside port each public port leads back to, as seen on the wire.
    let mut wire_pairs: Vec<(u16, u16)> = back
        .iter()
        .map(|f| {
            let (s, d, sp, dp, ok) = udp_of(f);
            assert!(ok);
            assert_eq!((s, d, sp), (SERVER, CLIENT, 53));
            let payload = &f[f.len() - 2..];
            (dp, u16::from_be_bytes([payload[0], payload[1]]))
        })
        .collect();
    wire_pairs.sort();
    assert_eq!(
        wire_pairs.iter().map(|p| p.0).collect::<Vec<_>>(),
        (20_000..20_000 + FLOWS).collect::<Vec<_>>()
    );

    // The session table, read while running, in the reference format: one line per
    // pair of ports the wire showed.
    let sessions = app.sessions(Duration::from_secs(2)).expect("sessions");
    let mut lines: Vec<String> = sessions.iter().map(ctrlplane::render::session_line).collect();
    lines.sort();
    let mut expected: Vec<String> = wire_pairs
        .iter()
        .map(|(inside, public)| {
            format!(
                "udp VPN:public --> public 192.168.1.1:{inside}[203.0.113.2:{public}] --> 198.51.100.7:53"
            )
        })
        .collect();
    expected.sort();
    assert_eq!(lines, expected);
    assert!(sessions.iter().all(|s| s.packets == [1, 1]), "one packet each way per session");
    assert!(
        sessions.iter().any(|s| s.worker == 0) && sessions.iter().any(|s| s.worker == 1),
        "both workers own flows"
    );

    // Unsolicited from outside: denied by policy (to the client) or not for anyone.
    let probe =
        craft::udp(L2 { src: GW_MAC, dst: out_mac }, L3 { src: SERVER, dst: CLIENT, ttl: 64 }, 53, 9, b"x");
    inject(&pool, &mut out_rx[0], &probe);
    let probe =
        craft::udp(L2 { src: GW_MAC, dst: out_mac }, L3 { src: SERVER, dst: PUBLIC, ttl: 64 }, 53, 1, b"x");
    inject(&pool, &mut out_rx[1], &probe);
    injected += 2;
    // Whatever the probes made the appliance send, it sent before counting them.
    wait_for("both probes counted", Duration::from_secs(5), || app.total_stats().total_drops() == 2);
    for ring in in_tx.iter_mut().chain(out_tx.iter_mut()) {
        assert!(drain(ring, Duration::from_millis(5)).is_empty(), "nothing else is sent");
    }

    let total = app.stop().expect("stop");
    assert_eq!(total.rx_packets, injected, "every packet received once");
    assert_eq!(total.forwarded, 2 * u64::from(FLOWS), "every packet forwarded once");
    assert_eq!(total.drops[DropReason::PolicyDeny.index()], 1);
    assert_eq!(total.drops[DropReason::ToSelfUnhandled.index()], 1);
    assert_eq!(total.total_drops(), 2);
    assert!(total.handoffs_in > 0, "some packets arrived at the other worker");
    assert_eq!(total.handoffs_in, total.handoffs_out);
    assert_eq!(total.sessions_created, u64::from(FLOWS));
}
