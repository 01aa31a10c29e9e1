//! The whole appliance without EAL (workers, slow path, ALG), fed frames on both sides.
//!
//! The input is a sequence of steps: a frame on the inside or the outside port, taken
//! by a worker of its choice, or the clock moving. Frames are built from templates
//! (TCP with PPTP messages, UDP, ICMP echo and errors, GRE, ARP) with the addresses,
//! ports, keys and flags the input gives, or are raw bytes.
//!
//! Invariants: once every timeout has passed, every frame received was forwarded,
//! answered or counted as dropped (the appliance's own ARP requests aside), and no
//! session, server-map entry, call, translated Call ID or NAT port is left.
use crate::input::Input;
use dataplane::alg::pptp::MsgType;
use dataplane::policy::Rule;
use dataplane::sim::{self, Sim, SimLimits};
use std::net::Ipv4Addr;
use wire::craft::{self, L2, L3};
use wire::frame::Frame;
use wire::MacAddr;

const PUBLIC: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 2);
const SERVER: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 1);
const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
const CLIENT2: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 2);
const IN_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xa0]);
const OUT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xb0]);
const HOST_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const STEPS: usize = 200;

/// Addresses worth trying: the hosts, the appliance's own, a broadcast, a stranger.
const ADDRS: [Ipv4Addr; 8] = [
    CLIENT,
    CLIENT2,
    SERVER,
    PUBLIC,
    Ipv4Addr::new(192, 168, 1, 254),
    Ipv4Addr::new(192, 168, 1, 255),
    Ipv4Addr::new(1, 1, 1, 77),
    Ipv4Addr::new(10, 0, 0, 1),
];

fn lab(workers: u16) -> Sim {
    let shared = sim::nat_lab(PUBLIC, (IN_MAC, OUT_MAC), workers, true, |trust, untrust| {
        let permit = |from, to| Rule::permit_all("any", from, to);
        vec![permit(trust, untrust), permit(untrust, trust)]
    });
    let neighbours = [(CLIENT, HOST_MAC), (CLIENT2, HOST_MAC), (SERVER, HOST_MAC)];
    Sim::new(shared, &neighbours, SimLimits { sessions_per_worker: 64, ..SimLimits::default() })
}

fn frame(input: &mut Input, outside: bool) -> Vec<u8> {
    let l2 = if outside { L2 { src: HOST_MAC, dst: OUT_MAC } } else { L2 { src: HOST_MAC, dst: IN_MAC } };
    let pick = input.u8();
    let addr = |b: u8| ADDRS[usize::from(b) % ADDRS.len()];
    let l3 = L3 { src: addr(pick), dst: addr(pick >> 3), ttl: input.u8() % 4 + 1 };
    let (sport, dport) = (input.u16() % 2048, input.u16() % 2048);
    let port = |p: u16| if p.is_multiple_of(3) { 1723 } else { p };
    match input.u8() % 8 {
        0 | 1 => {
            let kind = MsgType::from_u16(u16::from(input.u8() % 16)).unwrap_or(MsgType::EchoRq);
            let msg = craft::pptp(kind, input.u16(), input.u16(), input.u8() % 3);
            let cut = usize::from(input.u8()).min(msg.len());
            let (seq, ack, flags) = (u32::from(input.u16()), u32::from(input.u16()), input.u8());
            craft::tcp(l2, l3, port(sport), port(dport), seq, ack, flags, &msg[..cut])
        }
        2 => craft::udp(l2, l3, sport, dport, input.bytes(64)),
        3 => craft::icmp_echo(l2, l3, input.u8() & 1 == 0, input.u16(), 1, b"ping"),
        4 => craft::gre_v1(l2, l3, input.u16(), u32::from(input.u16()), b"\xff\x03ppp"),
        5 => {
            // An ICMP error quoting a packet of the input's choice.
            let inner = frame(input, !outside);
            let mut err = vec![3, input.u8() % 5, 0, 0, 0, 0, 0, 0];
            err.extend_from_slice(inner.get(14..14 + 28).unwrap_or_default());
            let c = wire::checksum::checksum(&err);
            err[2..4].copy_from_slice(&c.to_be_bytes());
            craft::ethernet_ipv4(l2, l3, 1, &err)
        }
        6 => craft::arp(input.u8() & 1 == 0, (HOST_MAC, l3.src), (MacAddr::ZERO, l3.dst)),
        _ => {
            let mut raw = l2_bytes(l2);
            raw.extend_from_slice(input.bytes(1500));
            raw
        }
    }
}

fn l2_bytes(l2: L2) -> Vec<u8> {
    let mut b = Vec::with_capacity(14);
    b.extend_from_slice(&l2.dst.0);
    b.extend_from_slice(&l2.src.0);
    b.extend_from_slice(&[0x08, 0x00]);
    b
}

pub fn pipeline(data: &[u8]) {
    let mut input = Input::new(data);
    let workers = u16::from(input.u8() % 2) + 1;
    let mut sim = lab(workers);
    let mut generated = 0u64;
    for _ in 0..STEPS {
        if input.is_empty() {
            break;
        }
        let op = input.u8();
        if op & 0x80 != 0 {
            sim.advance_ms(u64::from(input.u16()) * 20);
        } else {
            let outside = op & 1 == 1;
            let bytes = frame(&mut input, outside);
            sim.receive(u16::from(outside), u16::from(op >> 1) % workers, &bytes);
        }
        generated += own_arp_requests(&mut sim);
    }
    for _ in 0..10 {
        sim.advance_secs(1);
        generated += own_arp_requests(&mut sim);
    }
    for _ in 0..12 {
        sim.advance_secs(600);
        generated += own_arp_requests(&mut sim);
    }
    let s = &sim.wire.stats;
    assert_eq!(s.rx_packets, s.tx_packets - generated + s.total_drops(), "every frame sent on or counted");
    assert_eq!(sim.sessions().len(), 0, "sessions left");
    assert_eq!(sim.installed_entries(), 0, "entries left in workers");
    assert!(sim.server_map().is_empty(), "server map left");
    let alg = sim.slow.pptp().expect("ALG");
    assert_eq!((alg.connections(), alg.calls(), alg.call_ids_in_use(PUBLIC)), (0, 0, 0), "ALG state left");
    for p in &sim.workers {
        for proto in [6, 17, 1] {
            assert_eq!(p.ports().in_use(PUBLIC, proto), 0, "NAT numbers left ({proto})");
        }
    }
}

/// ARP requests the appliance sent of its own (they answer no received frame).
fn own_arp_requests(sim: &mut Sim) -> u64 {
    let own = [IN_MAC, OUT_MAC];
    sim.take_sent()
        .iter()
        .filter(|(_, f)| {
            let d = f.data();
            d.get(12..14) == Some(&[0x08, 0x06])
                && d.get(20..22) == Some(&[0, 1])
                && own.iter().any(|m| d.get(6..12) == Some(&m.0))
        })
        .count() as u64
}
