//! The L3 gateway on a real EAL: two ring ports, two workers and the slow path.
//!
//! One test function, because DPDK allows one EAL per process; the steps run in order
//! and each checks what came out of which TX queue, then the counters at the end.
use dataplane::appliance::Appliance;
use dataplane::policy::{Action, Policy, Rule};
use dataplane::route::Route;
use dataplane::stats::DropReason;
use dpdk::{ring_port, Mempool};
use ferrowall_tests::{collect, collect_any, drain, inject, port_spec, start_eal, test_config, wait_for};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;
use wire::craft::{self, L2, L3};
use wire::{ArpPacket, ArpRepr, EthernetFrame, Icmpv4Packet, Ipv4Packet, MacAddr, ParseError};

const WORKERS: usize = 2;
const SLOW_Q: usize = WORKERS; // the slow path's TX queue
const T: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(5);

const CLIENT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const GW_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x99]);
const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
const INSIDE: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 254);
const OUTSIDE: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);
const GW: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
const REMOTE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);

fn udp_to(in_mac: MacAddr, dst: Ipv4Addr, ttl: u8) -> Vec<u8> {
    craft::udp(L2 { src: CLIENT_MAC, dst: in_mac }, L3 { src: CLIENT, dst, ttl }, 40000, 53, b"query")
}

fn ip(frame: &[u8]) -> Ipv4Packet<&[u8]> {
    Ipv4Packet::new_checked(&frame[14..]).expect("IPv4")
}

fn arp(frame: &[u8]) -> ArpRepr {
    let eth = EthernetFrame::new_checked(frame).unwrap();
    ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap()).unwrap()
}

#[test]
fn gateway_on_ring_ports() {
    let eal = start_eal("fwtest-gw", WORKERS + 1);
    let pool = Mempool::new("test_inject", 4095, 0, -1).unwrap();
    let (in_id, mut in_rx, mut in_tx) =
        ring_port("ring_in", WORKERS as u16, WORKERS as u16 + 1, 1024).unwrap();
    let (out_id, mut out_rx, mut out_tx) =
        ring_port("ring_out", WORKERS as u16, WORKERS as u16 + 1, 1024).unwrap();
    let mut cfg = test_config(
        WORKERS,
        vec![port_spec(in_id, "inside", "trust", INSIDE), port_spec(out_id, "outside", "untrust", OUTSIDE)],
        ferrowall_tests::permit_all(&["trust", "untrust"]),
    );
    cfg.routes = vec![([198, 51, 100, 0].into(), 24, Route { port: out_id, via: Some(GW) })];
    let app = Appliance::start(&eal, &cfg).expect("appliance starts");
    let in_mac = app.interfaces().get(in_id).unwrap().mac;
    let out_mac = app.interfaces().get(out_id).unwrap().mac;
    let to_remote = |dst: Ipv4Addr, ttl: u8| udp_to(in_mac, dst, ttl);
    let mut injected = 0u64;

    // ARP request for the inside address: the slow path answers on its own queue.
    inject(&pool, &mut in_rx[0], &craft::arp(true, (CLIENT_MAC, CLIENT), (MacAddr::ZERO, INSIDE)));
    injected += 1;
    let replies = collect(&mut in_tx[SLOW_Q], 1, T);
    assert_eq!(replies.len(), 1, "ARP reply");
    let a = arp(&replies[0]);
    assert_eq!((a.sender_hw_addr, a.sender_ip, a.target_ip), (in_mac, INSIDE, CLIENT));

    // Ping the inside address from the inside, through worker 1 (the outside address
    // answers only the outside zone by default).
    let ping = craft::icmp_echo(
        L2 { src: CLIENT_MAC, dst: in_mac },
        L3 { src: CLIENT, dst: INSIDE, ttl: 64 },
        true,
        77,
        1,
        b"abcdefgh",
    );
    inject(&pool, &mut in_rx[1], &ping);
    injected += 1;
    let echo = collect(&mut in_tx[SLOW_Q], 1, T);
    assert_eq!(echo.len(), 1, "echo reply");
    let e = ip(&echo[0]);
    assert!(e.verify_checksum());
    assert_eq!((e.src_addr(), e.dst_addr()), (INSIDE, CLIENT));
    let icmp = Icmpv4Packet::new_checked(e.payload()).unwrap();
    assert_eq!((icmp.msg_type(), icmp.echo_ident()), (0, 77));
    assert!(icmp.verify_checksum());

    // Transit with the gateway unresolved: held, ARP asked on the outside, released on reply.
    inject(&pool, &mut in_rx[0], &to_remote(REMOTE, 64));
    injected += 1;
    let req = collect(&mut out_tx[SLOW_Q], 1, T);
    assert_eq!(req.len(), 1, "ARP request for the gateway");
    let r = arp(&req[0]);
    assert_eq!((r.sender_ip, r.target_ip), (OUTSIDE, GW));
    inject(&pool, &mut out_rx[1], &craft::arp(false, (GW_MAC, GW), (out_mac, OUTSIDE)));
    injected += 1;
    let released = collect(&mut out_tx[SLOW_Q], 1, T);
    assert_eq!(released.len(), 1, "held packet released");
    assert_eq!(EthernetFrame::new_checked(&released[0][..]).unwrap().dst_addr(), GW_MAC);
    assert_eq!(ip(&released[0]).ttl(), 63);
    // The slow path told the workers before it released the packet.
    app.sync(T).expect("the workers answer");

    // Now the flow is forwarded by its owner, whichever queue it arrives on (the other
    // worker hands it over): TTL down, checksum right, MACs set.
    for ring in in_rx.iter_mut() {
        for _ in 0..10 {
            inject(&pool, ring, &to_remote(REMOTE, 64));
            injected += 1;
        }
    }
    let fwd = collect_any(&mut out_tx[..WORKERS], 20, T);
    assert_eq!(fwd.len(), 20, "every packet forwarded once");
    for f in &fwd {
        let eth = EthernetFrame::new_checked(&f[..]).unwrap();
        assert_eq!((eth.src_addr(), eth.dst_addr()), (out_mac, GW_MAC));
        let p = ip(f);
        assert_eq!(p.ttl(), 63);
        assert!(p.verify_checksum());
    }

    // TTL 1: the owner answers with time exceeded on its own inside queue.
    inject(&pool, &mut in_rx[0], &to_remote(REMOTE, 1));
    injected += 1;
    let te = collect_any(&mut in_tx[..WORKERS], 1, T);
    assert_eq!(te.len(), 1, "time exceeded, from the flow's owner");
    let t = ip(&te[0]);
    assert_eq!((t.src_addr(), t.dst_addr()), (INSIDE, CLIENT));
    assert_eq!(Icmpv4Packet::new_checked(t.payload()).unwrap().msg_type(), 11);

    // Drops, one of each kind.
    let mut bad_sum = to_remote(REMOTE, 64);
    bad_sum[14 + 10] ^= 0x55;
    let mut v6 = to_remote(REMOTE, 64);
    v6[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
    let drops: Vec<(Vec<u8>, DropReason)> = vec![
        (to_remote([8, 8, 8, 8].into(), 64), DropReason::NoRoute),
        (bad_sum, DropReason::Ipv4BadChecksum),
        (v6, DropReason::UnsupportedEthertype),
        (vec![0u8; 12], DropReason::Malformed(ParseError::EthTruncated)),
        (
            craft::udp(
                L2 { src: CLIENT_MAC, dst: MacAddr([2, 1, 1, 1, 1, 1]) },
                L3 { src: CLIENT, dst: REMOTE, ttl: 64 },
                1,
                2,
                b"",
            ),
            DropReason::NotOurMac,
        ),
        (
            craft::udp(
                L2 { src: CLIENT_MAC, dst: in_mac },
                L3 { src: CLIENT, dst: INSIDE, ttl: 64 },
                1,
                161,
                b"",
            ),
            DropReason::ToSelfUnhandled,
        ),
    ];
    for (bytes, _) in &drops {
        inject(&pool, &mut in_rx[1], bytes);
        injected += 1;
    }
    // Whatever these frames made the appliance send, it sent before counting them.
    wait_for("every drop counted", T, || app.total_stats().total_drops() == drops.len() as u64 + 1);
    for q in 0..=SLOW_Q {
        assert!(drain(&mut out_tx[q], QUIET).is_empty(), "nothing else leaves outside queue {q}");
        assert!(drain(&mut in_tx[q], QUIET).is_empty(), "nothing else leaves inside queue {q}");
    }

    // A reload that denies trust to untrust reaches both workers at once: 32 new flows,
    // half on each queue, all denied, by both owners; the established flow goes on. Then
    // the old rules again, and a new flow passes.
    let permit = ferrowall_tests::permit_all(&["trust", "untrust"]);
    let mut deny = permit.clone();
    let mut rules: Vec<Rule> = permit.policy.rules().to_vec();
    rules.iter_mut().filter(|r| r.name == "trust-untrust").for_each(|r| r.action = Action::Deny);
    deny.policy = Policy::new(&deny.zones, rules);
    app.set_rules(Arc::new(deny));
    app.sync(T).expect("the workers answer");
    for port in 0..32u16 {
        let f = craft::udp(
            L2 { src: CLIENT_MAC, dst: in_mac },
            L3 { src: CLIENT, dst: REMOTE, ttl: 64 },
            41000 + port,
            53,
            b"new",
        );
        inject(&pool, &mut in_rx[usize::from(port) % WORKERS], &f);
        injected += 1;
    }
    let denied = |w: usize| app.worker_stats()[w].drops[DropReason::PolicyDeny.index()];
    wait_for("32 new flows denied", T, || denied(0) + denied(1) == 32);
    assert!(denied(0) > 0 && denied(1) > 0, "each worker owns some of the flows and denies them");
    inject(&pool, &mut in_rx[0], &to_remote(REMOTE, 64));
    injected += 1;
    assert_eq!(collect_any(&mut out_tx[..WORKERS], 1, T).len(), 1, "the established flow goes on");
    app.set_rules(Arc::new(permit));
    app.sync(T).expect("the workers answer");
    inject(
        &pool,
        &mut in_rx[1],
        &craft::udp(
            L2 { src: CLIENT_MAC, dst: in_mac },
            L3 { src: CLIENT, dst: REMOTE, ttl: 64 },
            41000,
            53,
            b"new",
        ),
    );
    injected += 1;
    assert_eq!(collect_any(&mut out_tx[..WORKERS], 1, T).len(), 1, "permitted again after the second reload");

    let total = app.stop().expect("stop");
    assert_eq!(total.rx_packets, injected, "every injected packet received once by a worker");
    for (_, reason) in &drops {
        assert_eq!(total.drops[reason.index()], 1, "{}", reason.name());
    }
    // The gateway's ARP reply is taken in, not forwarded: counted, like every frame.
    assert_eq!(total.drops[DropReason::ArpReplyConsumed.index()], 1, "ARP reply counted");
    assert_eq!(total.drops[DropReason::PolicyDeny.index()], 32);
    assert_eq!(total.total_drops(), drops.len() as u64 + 1 + 32, "no other drops");
    assert_eq!(total.handoffs_out, total.handoffs_in, "every hand-off arrived");
    assert_eq!(total.forwarded, 10 * WORKERS as u64 + 2);
    assert!(total.handoffs_in >= 10, "one worker's packets were handed to the owner");
    assert_eq!(total.local_replies, 1, "time exceeded");
}
