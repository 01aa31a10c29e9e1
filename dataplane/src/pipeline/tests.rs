//! Scenario tests of the worker's per-packet logic, without EAL: an inside network
//! 192.168.1.0/24 (zone trust) behind the appliance, an outside 203.0.113.0/24 (zone
//! untrust) with the gateway .1; NAT to the outside address 203.0.113.2 (easy-IP).
use super::*;
use crate::ifaces::Interface;
use crate::nat::{NatPolicy, NatRules, Pool, Target};
use crate::policy::{Action, AddrSet, Policy, Rule, Zones};
use crate::route::Route;
use crate::session::{Dir, TcpState, Timeouts};
use crate::stats::DropReason;
use wire::craft::{self, tcp_flags::*, L2, L3};
use wire::frame::TestFrame;
use wire::FlowKey;
use wire::{Icmpv4Packet, Ipv4Packet, MacAddr, ParseError, TcpPacket, UdpPacket};

const IN_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xa0]);
const OUT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xb0]);
const CLIENT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const GW_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x99]);
const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
const CLIENT2: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 2);
const PUBLIC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);
const GW: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);

struct Env {
    p: Pipeline,
    now: Millis,
}

#[derive(Clone, Copy)]
struct Opts {
    nat: bool,
    capacity: usize,
    /// NAT to a one-address pool with only this many UDP ports left free.
    pool: Option<(Ipv4Addr, u16)>,
}

const DEFAULT: Opts = Opts { nat: true, capacity: 64, pool: None };

fn env(o: Opts) -> Env {
    let zones = Zones::new(["trust", "untrust"]);
    let (trust, untrust) = (zones.id("trust").unwrap(), zones.id("untrust").unwrap());
    let ifaces = Arc::new(Interfaces::new(vec![
        Interface {
            port: 0,
            name: "inside".into(),
            zone: "trust".into(),
            zone_id: trust,
            mac: IN_MAC,
            addr: [192, 168, 1, 254].into(),
            prefix_len: 24,
        },
        Interface {
            port: 1,
            name: "outside".into(),
            zone: "untrust".into(),
            zone_id: untrust,
            mac: OUT_MAC,
            addr: PUBLIC,
            prefix_len: 24,
        },
    ]));
    let routes =
        Arc::new(RouteTable::new(&ifaces, &[([0, 0, 0, 0].into(), 0, Route { port: 1, via: Some(GW) })]));
    let rule = |name: &str, protocol, ports, action| Rule {
        name: name.into(),
        from: trust,
        to: untrust,
        source: AddrSet(vec![([192, 168, 1, 0].into(), 24)]),
        destination: AddrSet::any(),
        protocol,
        ports,
        action,
    };
    let policy = Policy::new(
        &zones,
        vec![
            rule("no-telnet", Some(6), vec![(23, 23)], Action::Deny),
            rule("lan-out", None, vec![], Action::Permit),
        ],
    );
    let mut nat = NatRules::default();
    if o.nat {
        let target = match o.pool {
            Some((addr, _)) => {
                nat.pools.push(Pool { name: "p".into(), addrs: vec![addr] });
                Target::Pool(0)
            }
            None => Target::EasyIp,
        };
        nat.policies.push(NatPolicy {
            name: "lan".into(),
            from: trust,
            to: untrust,
            source: AddrSet::any(),
            target,
        });
    }
    let rules = Arc::new(Ruleset { zones, policy, nat, timeouts: Timeouts::default(), ..Ruleset::default() });
    let owners = OwnerMap::new(1, &rules.nat.public_addrs(&ifaces));
    let shared = Shared { ifaces, routes, rules, owners: Arc::new(owners) };
    let mut neigh = NeighbourCache::with_capacity(16);
    neigh.insert(GW, GW_MAC);
    neigh.insert(CLIENT, CLIENT_MAC);
    neigh.insert(CLIENT2, CLIENT_MAC);
    let limits = PipelineLimits { icmp_errors_per_sec: 1, icmp_errors_burst: 2, ..PipelineLimits::default() };
    let mut p = Pipeline::new(0, shared, neigh, SessionTable::new(o.capacity, Timeouts::default()), limits);
    if let Some((addr, n)) = o.pool {
        // Leave only `n` ports free for UDP on the pool address.
        let slice = p.shared.owners.slice(0);
        for port in slice.skip(n as usize) {
            p.ports.reserve(addr, 17, port);
        }
    }
    Env { p, now: Millis(0) }
}

impl Env {
    fn send(&mut self, bytes: Vec<u8>, port: PortId) -> (Verdict, TestFrame) {
        let mut f = TestFrame::new(&bytes).unwrap();
        let v = self.p.process(&mut f, port, self.now);
        (v, f)
    }

    fn out(&mut self, src: Ipv4Addr, bytes_for: impl Fn(L2, L3) -> Vec<u8>) -> (Verdict, TestFrame) {
        self.send(outbound(src, bytes_for), 0)
    }

    fn back(&mut self, dst: Ipv4Addr, bytes_for: impl Fn(L2, L3) -> Vec<u8>) -> (Verdict, TestFrame) {
        let frame = bytes_for(L2 { src: GW_MAC, dst: OUT_MAC }, L3 { src: SERVER, dst, ttl: 64 });
        self.send(frame, 1)
    }

    fn advance(&mut self, secs: u64) {
        self.now = self.now.plus_secs(secs);
        self.p.expire(self.now, 1000);
    }
}

fn ip(f: &TestFrame) -> Ipv4Packet<&[u8]> {
    Ipv4Packet::new_checked(&f.data()[14..]).unwrap()
}

fn tcp(f: &TestFrame) -> (u16, u16, bool) {
    let ip = ip(f);
    let (s, d) = (ip.src_addr(), ip.dst_addr());
    let t = TcpPacket::new_checked(ip.payload()).unwrap();
    (t.src_port(), t.dst_port(), t.verify_checksum(s, d))
}

fn udp(f: &TestFrame) -> (u16, u16, bool) {
    let ip = ip(f);
    let (s, d) = (ip.src_addr(), ip.dst_addr());
    let u = UdpPacket::new_checked(ip.payload()).unwrap();
    (u.src_port(), u.dst_port(), u.verify_checksum(s, d))
}

/// A TCP segment; the tests' connections start at 1000 (client) and 2000 (server).
fn seg(
    sport: u16,
    dport: u16,
    flags: u8,
    seq: u32,
    ack: u32,
    payload: &'static [u8],
) -> impl Fn(L2, L3) -> Vec<u8> {
    move |l2, l3| craft::tcp(l2, l3, sport, dport, seq, ack, flags, payload)
}

/// The bytes of a frame from inside host `src` to the server, as `Env::out` sends it.
fn outbound(src: Ipv4Addr, bytes_for: impl Fn(L2, L3) -> Vec<u8>) -> Vec<u8> {
    bytes_for(L2 { src: CLIENT_MAC, dst: IN_MAC }, L3 { src, dst: SERVER, ttl: 64 })
}

fn dgram(sport: u16, dport: u16) -> impl Fn(L2, L3) -> Vec<u8> {
    move |l2, l3| craft::udp(l2, l3, sport, dport, b"payload")
}

#[test]
fn tcp_handshake_data_and_fin_through_nat() {
    let mut e = env(DEFAULT);
    let (v, f) = e.out(CLIENT, seg(40001, 80, SYN, 1000, 0, b""));
    assert_eq!(v, Verdict::Forward(1));
    assert_eq!((ip(&f).src_addr(), ip(&f).dst_addr()), (PUBLIC, SERVER));
    assert!(ip(&f).verify_checksum());
    let (sport, dport, ok) = tcp(&f);
    assert!(ok, "TCP checksum after NAT");
    assert_eq!(dport, 80);
    assert!(e.p.shared.owners.slice(0).contains(&sport));
    let public_port = sport;

    let (v, f) = e.back(PUBLIC, seg(80, public_port, SYN | ACK, 2000, 1001, b""));
    assert_eq!(v, Verdict::Forward(0));
    assert_eq!(ip(&f).dst_addr(), CLIENT);
    assert_eq!(tcp(&f), (80, 40001, true));
    assert_eq!(EthernetFrame::new_checked(f.data()).unwrap().dst_addr(), CLIENT_MAC);

    for (v, _) in [
        e.out(CLIENT, seg(40001, 80, ACK, 1001, 2001, b"")),
        e.out(CLIENT, seg(40001, 80, ACK | PSH, 1001, 2001, b"GET /")),
    ] {
        assert_eq!(v, Verdict::Forward(1));
    }
    let (id, _) = e.p.sessions.lookup(&FlowKey::new(CLIENT, SERVER, 40001, 80, 6)).unwrap();
    assert_eq!(e.p.sessions.get(id).tcp.map(|t| t.state), Some(TcpState::Established));
    assert_eq!(e.back(PUBLIC, seg(80, public_port, ACK | PSH, 2001, 1006, b"200 OK")).0, Verdict::Forward(0));
    assert_eq!(e.out(CLIENT, seg(40001, 80, FIN | ACK, 1006, 2007, b"")).0, Verdict::Forward(1));
    assert_eq!(e.back(PUBLIC, seg(80, public_port, FIN | ACK, 2007, 1007, b"")).0, Verdict::Forward(0));
    let s = e.p.sessions.get(id);
    assert_eq!(s.tcp.map(|t| t.state), Some(TcpState::Closing));
    assert_eq!(s.packets, [4, 3]);
    // Closing sessions age in 10 s, and the NAT port comes back.
    e.advance(9);
    assert_eq!(e.p.sessions.len(), 1);
    e.advance(1);
    assert_eq!(e.p.sessions.len(), 0);
    assert_eq!(e.p.ports.in_use(PUBLIC, 6), 0);
    assert_eq!(e.p.counters, SessionCounters { created: 1, removed: 1, ..SessionCounters::default() });
}

#[test]
fn udp_request_and_reply() {
    let mut e = env(DEFAULT);
    let (v, f) = e.out(CLIENT, dgram(5353, 53));
    assert_eq!(v, Verdict::Forward(1));
    let (pport, dport, ok) = udp(&f);
    assert!(ok);
    assert_eq!(dport, 53);
    let (v, f) = e.back(PUBLIC, dgram(53, pport));
    assert_eq!(v, Verdict::Forward(0));
    assert_eq!(udp(&f), (53, 5353, true));
    assert_eq!(ip(&f).dst_addr(), CLIENT);
    assert_eq!(ip(&f).ttl(), 63);
}

#[test]
fn icmp_echo_and_an_error_quoting_a_natted_packet() {
    let mut e = env(DEFAULT);
    let (v, f) = e.out(CLIENT, |l2, l3| craft::icmp_echo(l2, l3, true, 0x77, 1, b"ping"));
    assert_eq!(v, Verdict::Forward(1));
    let outer = ip(&f);
    let icmp = Icmpv4Packet::new_checked(outer.payload()).unwrap();
    assert!(icmp.verify_checksum());
    let ident = icmp.echo_ident();
    assert_ne!(ident, 0x77, "identifier translated into the worker's slice");
    let (v, f) = e.back(PUBLIC, |l2, l3| craft::icmp_echo(l2, l3, false, ident, 1, b"ping"));
    assert_eq!(v, Verdict::Forward(0));
    let outer = ip(&f);
    let icmp = Icmpv4Packet::new_checked(outer.payload()).unwrap();
    assert_eq!((icmp.msg_type(), icmp.echo_ident()), (0, 0x77));
    assert!(icmp.verify_checksum());

    // A UDP flow, then a port unreachable from the server quoting the NATed datagram.
    let (_, sent) = e.out(CLIENT, dgram(5353, 9999));
    let quoted = &sent.data()[14..14 + 28];
    let mut err = vec![3, 3, 0, 0, 0, 0, 0, 0];
    err.extend_from_slice(quoted);
    let c = wire::checksum::checksum(&err);
    err[2..4].copy_from_slice(&c.to_be_bytes());
    let frame = craft::ethernet_ipv4(
        L2 { src: GW_MAC, dst: OUT_MAC },
        L3 { src: SERVER, dst: PUBLIC, ttl: 64 },
        1,
        &err,
    );
    let (v, f) = e.send(frame, 1);
    assert_eq!(v, Verdict::Forward(0));
    let outer = ip(&f);
    assert!(outer.verify_checksum());
    assert_eq!((outer.src_addr(), outer.dst_addr()), (SERVER, CLIENT));
    let icmp = Icmpv4Packet::new_checked(outer.payload()).unwrap();
    assert!(icmp.verify_checksum());
    // The quoted copy is truncated (its total length is the original's): read by hand.
    let inner = icmp.data();
    assert_eq!(wire::checksum::checksum(&inner[..20]), 0, "quoted header checksum");
    let addr = |at: usize| Ipv4Addr::new(inner[at], inner[at + 1], inner[at + 2], inner[at + 3]);
    assert_eq!((addr(12), addr(16)), (CLIENT, SERVER), "quoted packet as the client sent it");
    let inner_udp = &icmp.data()[20..28];
    assert_eq!(u16::from_be_bytes([inner_udp[0], inner_udp[1]]), 5353);
    // An error quoting nothing we know is dropped.
    let mut stray = err.clone();
    stray[8 + 20] ^= 0xff;
    let frame = craft::ethernet_ipv4(
        L2 { src: GW_MAC, dst: OUT_MAC },
        L3 { src: SERVER, dst: [10, 9, 9, 9].into(), ttl: 64 },
        1,
        &stray,
    );
    assert_eq!(e.send(frame, 1).0, Verdict::Drop(DropReason::IcmpNoSession));
}

#[test]
fn policy_denies_and_default_denies() {
    let mut e = env(DEFAULT);
    assert_eq!(e.out(CLIENT, seg(40001, 23, SYN, 1000, 0, b"")).0, Verdict::Drop(DropReason::PolicyDeny));
    let from_outside = e.back(CLIENT, seg(5000, 22, SYN, 1000, 0, b"")).0;
    assert_eq!(
        from_outside,
        Verdict::Drop(DropReason::PolicyDeny),
        "nothing from outside gets in unsolicited"
    );
    assert_eq!(e.back(PUBLIC, dgram(53, 3000)).0, Verdict::SlowPath, "to the appliance itself: slow path");
    assert!(e.p.sessions.is_empty());
}

#[test]
fn a_non_syn_first_packet_is_dropped() {
    let mut e = env(DEFAULT);
    assert_eq!(
        e.out(CLIENT, seg(40001, 80, ACK, 1001, 2001, b"")).0,
        Verdict::Drop(DropReason::TcpNoSession)
    );
    assert_eq!(
        e.out(CLIENT, seg(40001, 80, SYN | ACK, 2000, 1001, b"")).0,
        Verdict::Drop(DropReason::TcpNoSession)
    );
    assert_eq!(
        e.back(CLIENT, |l2, l3| craft::icmp_echo(l2, l3, false, 5000, 1, b"")).0,
        Verdict::Drop(DropReason::IcmpNoSession)
    );
    assert!(e.p.sessions.is_empty());
}

#[test]
fn every_protocol_ages_with_its_timeout() {
    let mut e = env(DEFAULT);
    e.out(CLIENT, seg(1, 80, SYN, 1000, 0, b""));
    assert_eq!(e.p.sessions.len(), 1);
    e.advance(5);
    assert_eq!(e.p.sessions.len(), 0, "half-open TCP: 5 s");

    e.out(CLIENT, |l2, l3| craft::icmp_echo(l2, l3, true, 1, 1, b""));
    e.advance(19);
    assert_eq!(e.p.sessions.len(), 1);
    e.advance(1);
    assert_eq!(e.p.sessions.len(), 0, "ICMP: 20 s");

    e.out(CLIENT, dgram(1, 53));
    e.advance(119);
    assert_eq!(e.p.sessions.len(), 1);
    e.advance(1);
    assert_eq!(e.p.sessions.len(), 0, "UDP: 120 s");

    let gre =
        |l2, l3| craft::ethernet_ipv4(l2, l3, 47, &[0x30, 0x01, 0x88, 0x0b, 0, 0, 0x12, 0x34, 0, 0, 0, 1]);
    assert_eq!(e.out(CLIENT, gre).0, Verdict::Forward(1));
    e.advance(599);
    assert_eq!(e.p.sessions.len(), 1);
    e.advance(1);
    assert_eq!(e.p.sessions.len(), 0, "GRE: 600 s");

    e.out(CLIENT, seg(2, 80, SYN, 1000, 0, b""));
    let (_, f) = e.out(CLIENT, seg(2, 80, SYN, 1000, 0, b""));
    let pport = tcp(&f).0;
    e.back(PUBLIC, seg(80, pport, SYN | ACK, 2000, 1001, b""));
    e.out(CLIENT, seg(2, 80, ACK, 1001, 2001, b""));
    e.advance(1199);
    assert_eq!(e.p.sessions.len(), 1);
    e.advance(1);
    assert_eq!(e.p.sessions.len(), 0, "established TCP: 1200 s");
    assert_eq!(e.p.ports.in_use(PUBLIC, 6) + e.p.ports.in_use(PUBLIC, 17) + e.p.ports.in_use(PUBLIC, 1), 0);
}

#[test]
fn a_full_table_refuses_new_flows_and_keeps_established_ones() {
    let mut e = env(Opts { capacity: 2, ..DEFAULT });
    let (_, a) = e.out(CLIENT, dgram(1, 53));
    e.out(CLIENT, dgram(2, 53));
    assert_eq!(e.out(CLIENT, dgram(3, 53)).0, Verdict::Drop(DropReason::SessionTableFull));
    assert_eq!(e.p.ports.in_use(PUBLIC, 17), 2, "the refused flow's port was given back");
    let pport = udp(&a).0;
    assert_eq!(e.back(PUBLIC, dgram(53, pport)).0, Verdict::Forward(0));
    assert_eq!(e.out(CLIENT, dgram(1, 53)).0, Verdict::Forward(1));
    // When the pressure stops (the flows age out), new flows pass again, no restart.
    e.advance(121);
    assert_eq!(e.out(CLIENT, dgram(3, 53)).0, Verdict::Forward(1));
    assert_eq!(e.out(CLIENT, dgram(4, 53)).0, Verdict::Forward(1));
}

#[test]
fn pool_exhaustion_refuses_the_flow() {
    let pool = Ipv4Addr::new(198, 51, 100, 200);
    let mut e = env(Opts { pool: Some((pool, 2)), ..DEFAULT });
    let (v, f) = e.out(CLIENT, dgram(1, 53));
    assert_eq!(v, Verdict::Forward(1));
    assert_eq!(ip(&f).src_addr(), pool);
    assert_eq!(e.out(CLIENT, dgram(2, 53)).0, Verdict::Forward(1));
    assert_eq!(e.out(CLIENT, dgram(3, 53)).0, Verdict::Drop(DropReason::NatExhausted));
    assert_eq!(e.p.sessions.len(), 2);
    assert_eq!(e.out(CLIENT, dgram(1, 53)).0, Verdict::Forward(1), "established flows go on");
    e.advance(121);
    assert_eq!(e.out(CLIENT, dgram(3, 53)).0, Verdict::Forward(1), "ports back after aging");
}

#[test]
fn two_inside_hosts_to_one_server_get_distinct_public_ports() {
    let mut e = env(DEFAULT);
    let (_, a) = e.out(CLIENT, seg(40000, 443, SYN, 1000, 0, b""));
    let (_, b) = e.out(CLIENT2, seg(40000, 443, SYN, 1000, 0, b""));
    let (pa, pb) = (tcp(&a).0, tcp(&b).0);
    assert_ne!(pa, pb);
    assert_eq!(ip(&a).src_addr(), ip(&b).src_addr());
    let (_, ra) = e.back(PUBLIC, seg(443, pa, SYN | ACK, 2000, 1001, b""));
    let (_, rb) = e.back(PUBLIC, seg(443, pb, SYN | ACK, 2000, 1001, b""));
    assert_eq!(ip(&ra).dst_addr(), CLIENT);
    assert_eq!(ip(&rb).dst_addr(), CLIENT2);
}

#[test]
fn without_nat_the_flow_is_routed_as_is() {
    let mut e = env(Opts { nat: false, ..DEFAULT });
    let (v, f) = e.out(CLIENT, dgram(7, 53));
    assert_eq!(v, Verdict::Forward(1));
    assert_eq!(udp(&f), (7, 53, true));
    assert_eq!(ip(&f).src_addr(), CLIENT);
    let (id, dir) = e.p.sessions.lookup(&FlowKey::new(SERVER, CLIENT, 53, 7, 17)).unwrap();
    assert_eq!(dir, Dir::Reply);
    assert!(e.p.sessions.get(id).rewrite(Dir::Reply).is_identity());
}

#[test]
fn another_workers_flow_is_handed_off() {
    let mut e = env(DEFAULT);
    e.p.shared.owners = Arc::new(OwnerMap::new(4, &[PUBLIC]));
    e.p.worker = 0;
    let mut handed = 0;
    for sport in 0..64 {
        match e.out(CLIENT, dgram(10_000 + sport, 53)).0 {
            Verdict::Handoff(w) => {
                assert!((1..4).contains(&w));
                handed += 1;
            }
            Verdict::Forward(1) => {}
            v => panic!("{v:?}"),
        }
    }
    assert!(handed > 32, "most of 64 flows belong to the other 3 workers: {handed}");
    let reply_for_w2 = *e.p.shared.owners.slice(2).start() + 5;
    assert_eq!(e.back(PUBLIC, dgram(53, reply_for_w2)).0, Verdict::Handoff(2));
}

#[test]
fn the_nic_hash_decides_where_its_nic_follows_the_plan() {
    let mut e = env(DEFAULT);
    let mut owners = OwnerMap::new(4, &[PUBLIC]);
    let frame = |sport| outbound(CLIENT, dgram(sport, 53));
    // A flow the model gives worker 0, and a NIC hash that says worker 3.
    let key = |sport| FlowKey::new(CLIENT, SERVER, sport, 53, 17);
    let sport = (10_000..).find(|&p| owners.owner(&key(p), false) == 0).unwrap();
    let to_3 = (0..).find(|&h| owners.queue_of(h) == 3).unwrap();
    e.p.worker = 0;
    e.p.shared.owners = Arc::new(OwnerMap::new(4, &[PUBLIC]));
    assert_eq!(e.send(frame(sport), 0).0, Verdict::Forward(1), "no NIC hash: the model's owner");
    let mut f = TestFrame::new(&frame(sport)).unwrap().with_rss_hash(to_3);
    assert_eq!(
        e.p.process(&mut f, 0, e.now),
        Verdict::Forward(1),
        "a port that does not follow: its hash is ignored"
    );
    owners.trust_nic_hash(0);
    e.p.shared.owners = Arc::new(owners);
    let mut f = TestFrame::new(&frame(sport)).unwrap().with_rss_hash(to_3);
    assert_eq!(e.p.process(&mut f, 0, e.now), Verdict::Handoff(3), "the NIC's hash, not computed again");
}

#[test]
fn a_hint_is_used_only_for_the_frame_it_was_read_from() {
    let mut e = env(DEFAULT);
    let frame = |sport| TestFrame::new(&outbound(CLIENT, dgram(sport, 53))).unwrap();
    let (mut a, mut b) = (frame(4000), frame(4001));
    assert_eq!(e.send(a.data().to_vec(), 0).0, Verdict::Forward(1));
    let (hint_a, hint_b) = (e.p.hint(a.data(), 0), e.p.hint(b.data(), 0));
    assert!(hint_a.is_some() && hint_b.is_some(), "plain UDP is read ahead");
    assert_eq!(e.p.hint(a.data(), 1), None, "not to the MAC of port 1");
    let created = e.p.counters.created;
    assert_eq!(
        e.p.process_hinted(&mut a, 0, e.now, hint_b.as_ref()),
        Verdict::Forward(1),
        "b's hint is ignored"
    );
    assert_eq!(e.p.counters.created, created, "a's session, not a new one from b's key");
    assert_eq!(e.p.process_hinted(&mut b, 0, e.now, hint_a.as_ref()), Verdict::Forward(1));
    assert_eq!(e.p.counters.created, created + 1, "b is a new flow whatever a's hint says");
    let mut arp = TestFrame::new(&craft::arp(true, (CLIENT_MAC, CLIENT), (MacAddr::ZERO, SERVER))).unwrap();
    assert_eq!(e.p.hint(arp.data(), 0), None, "only the common shape is read ahead");
    assert_eq!(e.p.process_hinted(&mut arp, 0, e.now, hint_a.as_ref()), Verdict::SlowPath);
}

#[test]
fn the_nics_checksum_verdict_stands_in_for_the_software_one() {
    let mut e = env(DEFAULT);
    let good = outbound(CLIENT, dgram(4000, 53));
    let mut bad = good.clone();
    bad[14 + 10] ^= 0x55;
    let run = |e: &mut Env, bytes: &[u8], nic: Option<bool>| {
        let f = TestFrame::new(bytes).unwrap();
        let mut f = match nic {
            Some(ok) => f.with_ipv4_checksum_verdict(ok),
            None => f,
        };
        e.p.process(&mut f, 0, e.now)
    };
    let bad_checksum = Verdict::Drop(DropReason::Ipv4BadChecksum);
    assert_eq!(run(&mut e, &bad, None), bad_checksum, "no verdict: summed in software");
    assert_eq!(run(&mut e, &good, Some(false)), bad_checksum, "the NIC found it bad");
    assert_eq!(run(&mut e, &bad, Some(true)), Verdict::Forward(1), "the NIC found it good: not summed again");
    assert_eq!(run(&mut e, &good, None), Verdict::Forward(1));
}

#[test]
fn l3_checks_still_apply() {
    let mut e = env(DEFAULT);
    let mut short = TestFrame::new(&[0u8; 10]).unwrap();
    assert_eq!(
        e.p.process(&mut short, 0, e.now),
        Verdict::Drop(DropReason::Malformed(ParseError::EthTruncated))
    );
    let mut bad =
        craft::udp(L2 { src: CLIENT_MAC, dst: IN_MAC }, L3 { src: CLIENT, dst: SERVER, ttl: 64 }, 1, 2, b"");
    bad[14 + 10] ^= 0xff;
    assert_eq!(e.send(bad, 0).0, Verdict::Drop(DropReason::Ipv4BadChecksum));
    let mut frag =
        craft::udp(L2 { src: CLIENT_MAC, dst: IN_MAC }, L3 { src: CLIENT, dst: SERVER, ttl: 64 }, 1, 2, b"");
    frag[14 + 6] = 0x00;
    frag[14 + 7] = 0x10;
    frag[14 + 10..14 + 12].copy_from_slice(&[0, 0]);
    let c = wire::checksum::checksum(&frag[14..34]);
    frag[14 + 10..14 + 12].copy_from_slice(&c.to_be_bytes());
    // A fragment with no first fragment seen: held for its first (see tests/fragments.rs).
    assert!(matches!(e.send(frag, 0).0, Verdict::Hold(_)));
    assert_eq!(
        e.out(CLIENT, |l2, _| craft::udp(
            l2,
            L3 { src: CLIENT, dst: Ipv4Addr::BROADCAST, ttl: 64 },
            1,
            2,
            b""
        ))
        .0,
        Verdict::Drop(DropReason::MartianAddress)
    );
    let arp = craft::arp(true, (CLIENT_MAC, CLIENT), (MacAddr::ZERO, [192, 168, 1, 254].into()));
    assert_eq!(e.send(arp, 0).0, Verdict::SlowPath);
}

#[test]
fn expiring_ttl_is_answered_with_time_exceeded_then_rate_limited() {
    let mut e = env(DEFAULT);
    let original =
        craft::udp(L2 { src: CLIENT_MAC, dst: IN_MAC }, L3 { src: CLIENT, dst: SERVER, ttl: 1 }, 1, 53, b"q");
    let header = original[14..34].to_vec();
    let (v, f) = e.send(original.clone(), 0);
    assert_eq!(v, Verdict::Reply(0));
    let eth = EthernetFrame::new_checked(f.data()).unwrap();
    assert_eq!((eth.dst_addr(), eth.src_addr()), (CLIENT_MAC, IN_MAC));
    let t = ip(&f);
    assert!(t.verify_checksum());
    assert_eq!((t.src_addr(), t.dst_addr()), ([192, 168, 1, 254].into(), CLIENT));
    let icmp = Icmpv4Packet::new_checked(t.payload()).unwrap();
    assert_eq!((icmp.msg_type(), icmp.code(), icmp.data().len()), (11, 0, 28));
    assert!(icmp.verify_checksum());
    assert_eq!(&icmp.data()[..20], &header[..], "quotes the original header");
    assert_eq!(e.send(original.clone(), 0).0, Verdict::Reply(0));
    assert_eq!(e.send(original.clone(), 0).0, Verdict::Drop(DropReason::TtlExceeded));
    e.now = Millis(1000);
    assert_eq!(e.send(original, 0).0, Verdict::Reply(0));
}

#[test]
fn unresolved_next_hop_goes_to_slow_path_translated() {
    let mut e = env(DEFAULT);
    e.p.neighbours_mut().remove(&GW);
    let (v, f) = e.out(CLIENT, dgram(1, 53));
    assert_eq!(v, Verdict::SlowPath);
    assert_eq!(ip(&f).src_addr(), PUBLIC, "the slow path gets the packet translated");
    assert_eq!(ip(&f).ttl(), 64, "TTL is decremented when the neighbour is known");
}

mod hostile;

mod fragments;

mod common_shape;

/// GRE v0 (plain GRE: a tunnel with nothing port-like) as an inside host runs it.
fn gre_v0(l2: L2, l3: L3) -> Vec<u8> {
    // Key present (0x2000), protocol IPv4, key 0x00000007, then a stand-in payload.
    craft::ethernet_ipv4(l2, l3, 47, &[0x20, 0x00, 0x08, 0x00, 0, 0, 0, 7, 0x45, 0, 0, 20])
}

#[test]
fn gre_v0_is_tracked_through_nat_and_a_second_host_collides() {
    let mut e = env(DEFAULT);
    let (v, f) = e.out(CLIENT, gre_v0);
    assert_eq!(v, Verdict::Forward(1));
    assert_eq!((ip(&f).src_addr(), ip(&f).dst_addr()), (PUBLIC, SERVER), "the address is translated");
    assert!(ip(&f).verify_checksum());
    assert_eq!(&f.data()[14 + 20..14 + 28], &[0x20, 0x00, 0x08, 0x00, 0, 0, 0, 7], "GRE as sent");
    let (_, s) = e.p.sessions.iter_from(0).next().unwrap();
    assert_eq!(crate::session::Kind::of(s), crate::session::Kind::Gre);

    // The server's GRE back to the public address reaches the host, as its session's reply.
    let (v, f) = e.back(PUBLIC, gre_v0);
    assert_eq!(v, Verdict::Forward(0));
    assert_eq!((ip(&f).src_addr(), ip(&f).dst_addr()), (SERVER, CLIENT));
    assert!(ip(&f).verify_checksum());

    // A second inside host, same protocol, same server, one public address: its
    // translated tuple is the first one's, so its flow is refused and the first goes on.
    assert_eq!(e.out(CLIENT2, gre_v0).0, Verdict::Drop(DropReason::SessionConflict));
    assert_eq!(e.p.sessions.len(), 1);
    assert_eq!(e.back(PUBLIC, gre_v0).1.data()[14 + 16..14 + 20], CLIENT.octets(), "still the first host's");
    // Once the first host's tunnel ages out (600 s), the second's may open.
    e.advance(600);
    assert_eq!(e.out(CLIENT2, gre_v0).0, Verdict::Forward(1));
    assert_eq!(e.back(PUBLIC, gre_v0).1.data()[14 + 16..14 + 20], CLIENT2.octets());
}
