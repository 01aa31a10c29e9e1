//! Scenario tests of the slow path without EAL: ARP, echo, resolution, aging.
use super::*;
use crate::ifaces::Interface;
use crate::route::Route;
use wire::craft::{self, L2, L3};
use wire::frame::TestFrame;
use wire::{ArpOperation, ArpPacket, ArpRepr, Icmpv4Packet};

const IN_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xa0]);
const OUT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xb0]);
const CLIENT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const GW_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x99]);
const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
const INSIDE: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 254);
const OUTSIDE: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);
const GW: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
const REMOTE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);

#[derive(Default)]
struct Recorder {
    sent: Vec<(PortId, TestFrame)>,
    dropped: Vec<DropReason>,
    updates: Vec<NeighbourUpdate>,
}

impl SlowOutput<TestFrame> for Recorder {
    fn transmit(&mut self, port: PortId, frame: TestFrame) {
        self.sent.push((port, frame));
    }
    fn discard(&mut self, _frame: TestFrame, reason: DropReason) {
        self.dropped.push(reason);
    }
    fn notify(&mut self, update: NeighbourUpdate) {
        self.updates.push(update);
    }
    fn server_map(&mut self, _worker: u16, _change: crate::servermap::ServerMapChange) {}
    fn alloc(&mut self) -> Option<TestFrame> {
        Some(TestFrame::empty())
    }
    fn count_drop(&mut self, reason: DropReason) {
        self.dropped.push(reason);
    }
}

fn slow_path(limits: NeighbourLimits) -> SlowPath<TestFrame> {
    let ifaces = Arc::new(Interfaces::new(vec![
        Interface {
            port: 0,
            name: "inside".into(),
            zone: "trust".into(),
            zone_id: 0,
            mac: IN_MAC,
            addr: INSIDE,
            prefix_len: 24,
        },
        Interface {
            port: 1,
            name: "outside".into(),
            zone: "untrust".into(),
            zone_id: 1,
            mac: OUT_MAC,
            addr: OUTSIDE,
            prefix_len: 24,
        },
    ]));
    let routes =
        Arc::new(RouteTable::new(&ifaces, &[([0, 0, 0, 0].into(), 0, Route { port: 1, via: Some(GW) })]));
    SlowPath::new(ifaces, routes, &[], limits)
}

fn arp_of(f: &TestFrame) -> ArpRepr {
    let eth = EthernetFrame::new_checked(f.data()).unwrap();
    ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap()).unwrap()
}

fn frame(bytes: Vec<u8>) -> TestFrame {
    TestFrame::new(&bytes).unwrap()
}

#[test]
fn answers_arp_for_its_address_and_learns_the_asker() {
    let mut sp = slow_path(NeighbourLimits::default());
    let mut out = Recorder::default();
    sp.handle(frame(craft::arp(true, (CLIENT_MAC, CLIENT), (MacAddr::ZERO, INSIDE))), 0, Millis(0), &mut out);
    assert_eq!(out.sent.len(), 1);
    let (port, reply) = &out.sent[0];
    assert_eq!(*port, 0);
    let eth = EthernetFrame::new_checked(reply.data()).unwrap();
    assert_eq!((eth.dst_addr(), eth.src_addr()), (CLIENT_MAC, IN_MAC));
    let arp = arp_of(reply);
    assert_eq!(arp.operation, ArpOperation::Reply);
    assert_eq!((arp.sender_hw_addr, arp.sender_ip), (IN_MAC, INSIDE));
    assert_eq!((arp.target_hw_addr, arp.target_ip), (CLIENT_MAC, CLIENT));
    assert_eq!(out.updates, [NeighbourUpdate::Set { ip: CLIENT, mac: CLIENT_MAC }]);
}

#[test]
fn answers_arp_for_nat_pool_addresses_on_the_link() {
    let mut sp = slow_path(NeighbourLimits::default());
    let pool = Ipv4Addr::new(203, 0, 113, 10);
    sp.set_nat_addrs(vec![pool, Ipv4Addr::new(198, 51, 100, 10)]);
    let mut out = Recorder::default();
    sp.handle(frame(craft::arp(true, (GW_MAC, GW), (MacAddr::ZERO, pool))), 1, Millis(0), &mut out);
    assert_eq!(out.sent.len(), 1);
    let a = arp_of(&out.sent[0].1);
    assert_eq!((a.sender_hw_addr, a.sender_ip), (OUT_MAC, pool));
    let mut out = Recorder::default();
    let off_link = Ipv4Addr::new(198, 51, 100, 10);
    sp.handle(frame(craft::arp(true, (GW_MAC, GW), (MacAddr::ZERO, off_link))), 1, Millis(0), &mut out);
    assert_eq!(out.dropped, [DropReason::ArpNotForUs], "only pool addresses of the link's subnet");
}

#[test]
fn ignores_arp_for_other_hosts_and_learns_nothing_from_it() {
    let mut sp = slow_path(NeighbourLimits::default());
    let mut out = Recorder::default();
    sp.handle(
        frame(craft::arp(true, (CLIENT_MAC, CLIENT), (MacAddr::ZERO, [192, 168, 1, 2].into()))),
        0,
        Millis(0),
        &mut out,
    );
    assert!(out.sent.is_empty());
    assert_eq!(out.dropped, [DropReason::ArpNotForUs]);
    assert!(out.updates.is_empty());
    assert!(sp.neighbours(Millis(0)).is_empty());
}

#[test]
fn answers_echo_requests_to_any_of_its_addresses() {
    let mut sp = slow_path(NeighbourLimits::default());
    for dst in [INSIDE, OUTSIDE] {
        let mut out = Recorder::default();
        let l2 = L2 { src: CLIENT_MAC, dst: IN_MAC };
        sp.handle(
            frame(craft::icmp_echo(l2, L3 { src: CLIENT, dst, ttl: 64 }, true, 7, 9, b"ping")),
            0,
            Millis(0),
            &mut out,
        );
        assert_eq!(out.sent.len(), 1, "{dst}");
        let (port, reply) = &out.sent[0];
        assert_eq!(*port, 0);
        let eth = EthernetFrame::new_checked(reply.data()).unwrap();
        assert_eq!((eth.dst_addr(), eth.src_addr()), (CLIENT_MAC, IN_MAC));
        let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
        assert!(ip.verify_checksum());
        assert_eq!((ip.src_addr(), ip.dst_addr()), (dst, CLIENT));
        let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
        assert_eq!((icmp.msg_type(), icmp.echo_ident(), icmp.echo_seq()), (0, 7, 9));
        assert!(icmp.verify_checksum());
    }
}

#[test]
fn other_traffic_to_the_appliance_is_dropped() {
    let mut sp = slow_path(NeighbourLimits::default());
    let mut out = Recorder::default();
    let l2 = L2 { src: CLIENT_MAC, dst: IN_MAC };
    sp.handle(
        frame(craft::udp(l2, L3 { src: CLIENT, dst: INSIDE, ttl: 64 }, 1, 161, b"")),
        0,
        Millis(0),
        &mut out,
    );
    assert_eq!(out.dropped, [DropReason::ToSelfUnhandled]);
}

fn transit() -> TestFrame {
    let l2 = L2 { src: CLIENT_MAC, dst: IN_MAC };
    frame(craft::udp(l2, L3 { src: CLIENT, dst: REMOTE, ttl: 64 }, 40000, 53, b"q"))
}

#[test]
fn holds_packets_until_the_next_hop_answers() {
    let mut sp = slow_path(NeighbourLimits::default());
    let mut out = Recorder::default();
    sp.handle(transit(), 0, Millis(0), &mut out);
    sp.handle(transit(), 0, Millis(1), &mut out);
    assert_eq!(out.sent.len(), 1, "one ARP request for two held packets");
    let (port, req) = &out.sent[0];
    assert_eq!(*port, 1);
    let arp = arp_of(req);
    assert_eq!((arp.operation, arp.sender_ip, arp.target_ip), (ArpOperation::Request, OUTSIDE, GW));
    assert_eq!(EthernetFrame::new_checked(req.data()).unwrap().dst_addr(), MacAddr::BROADCAST);

    out.sent.clear();
    sp.handle(frame(craft::arp(false, (GW_MAC, GW), (OUT_MAC, OUTSIDE))), 1, Millis(5), &mut out);
    assert_eq!(out.updates, [NeighbourUpdate::Set { ip: GW, mac: GW_MAC }]);
    assert_eq!(out.sent.len(), 2, "both held packets released");
    for (port, f) in &out.sent {
        assert_eq!(*port, 1);
        let eth = EthernetFrame::new_checked(f.data()).unwrap();
        assert_eq!((eth.dst_addr(), eth.src_addr()), (GW_MAC, OUT_MAC));
        let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
        assert_eq!(ip.ttl(), 63);
        assert!(ip.verify_checksum());
    }
}

#[test]
fn gives_up_after_the_retries_and_counts_the_held_packets() {
    let limits = NeighbourLimits { hold_packets: 2, retries: 3, ..NeighbourLimits::default() };
    let mut sp = slow_path(limits);
    let mut out = Recorder::default();
    for _ in 0..3 {
        sp.handle(transit(), 0, Millis(0), &mut out);
    }
    assert_eq!(out.dropped, [DropReason::NeighbourUnresolved], "third packet overflows the hold queue");
    for t in [500, 1000, 2000, 3000] {
        sp.tick(Millis(t), &mut out);
    }
    assert_eq!(out.sent.len(), 3, "first request plus two retries");
    assert_eq!(out.dropped.len(), 3, "the two held packets are dropped at the end");
    assert!(sp.neighbours(Millis(3000)).is_empty());
}

#[test]
fn learned_neighbours_are_probed_then_forgotten() {
    let limits = NeighbourLimits { timeout_secs: 100, ..NeighbourLimits::default() };
    let mut sp = slow_path(limits);
    let mut out = Recorder::default();
    sp.handle(frame(craft::arp(true, (CLIENT_MAC, CLIENT), (MacAddr::ZERO, INSIDE))), 0, Millis(0), &mut out);
    out.sent.clear();
    sp.tick(Millis(74_000), &mut out);
    assert!(out.sent.is_empty());
    sp.tick(Millis(75_000), &mut out);
    assert_eq!(out.sent.len(), 1, "probe at three quarters of the timeout");
    assert_eq!(arp_of(&out.sent[0].1).target_ip, CLIENT);
    sp.tick(Millis(100_000), &mut out);
    assert_eq!(out.updates.last(), Some(&NeighbourUpdate::Remove { ip: CLIENT }));
    assert!(sp.neighbours(Millis(100_000)).is_empty());
}

#[test]
fn a_known_neighbour_is_used_directly_and_workers_are_reminded() {
    let mut sp = slow_path(NeighbourLimits::default());
    let mut out = Recorder::default();
    sp.handle(frame(craft::arp(true, (GW_MAC, GW), (MacAddr::ZERO, OUTSIDE))), 1, Millis(0), &mut out);
    out = Recorder::default();
    sp.handle(transit(), 0, Millis(1), &mut out);
    assert_eq!(out.updates, [NeighbourUpdate::Set { ip: GW, mac: GW_MAC }]);
    assert_eq!(out.sent.len(), 1);
    assert_eq!(out.sent[0].0, 1);
}

/// An ARP claiming one of the appliance's addresses was answered (and a reply to us
/// that nobody asked for was freed without a count).
#[test]
fn arp_claiming_our_address_is_neither_answered_nor_learned() {
    let mut sp = slow_path(NeighbourLimits::default());
    sp.set_nat_addrs(vec![Ipv4Addr::new(203, 0, 113, 9)]);
    let mut out = Recorder::default();
    let thief = MacAddr([2, 0, 0, 0, 0, 0x66]);
    for claimed in [OUTSIDE, INSIDE, Ipv4Addr::new(203, 0, 113, 9)] {
        let req = craft::arp(true, (thief, claimed), (MacAddr::ZERO, OUTSIDE));
        sp.handle(frame(req), 1, Millis(0), &mut out);
        let gratuitous = craft::arp(false, (thief, claimed), (MacAddr::BROADCAST, claimed));
        sp.handle(frame(gratuitous), 1, Millis(0), &mut out);
    }
    assert!(out.sent.is_empty(), "{:?}", out.sent);
    assert!(out.updates.is_empty());
    assert_eq!(out.dropped, [DropReason::ArpAddressConflict; 6]);
}

#[test]
fn every_arp_reply_is_counted_and_only_asked_for_ones_are_learned() {
    let mut sp = slow_path(NeighbourLimits::default());
    let mut out = Recorder::default();
    let reply = craft::arp(false, (GW_MAC, GW), (OUT_MAC, OUTSIDE));
    sp.handle(frame(reply.clone()), 1, Millis(0), &mut out);
    assert_eq!(out.dropped, [DropReason::ArpUnsolicited]);
    assert!(out.updates.is_empty(), "a reply nobody asked for teaches nothing");
    // Ask (a packet to route), then the answer is taken in.
    let pkt =
        craft::udp(L2 { src: CLIENT_MAC, dst: IN_MAC }, L3 { src: CLIENT, dst: REMOTE, ttl: 64 }, 1, 2, b"x");
    sp.handle(frame(pkt), 0, Millis(0), &mut out);
    sp.handle(frame(reply), 1, Millis(1), &mut out);
    assert_eq!(out.dropped[1..], [DropReason::ArpReplyConsumed]);
    assert_eq!(out.updates, [NeighbourUpdate::Set { ip: GW, mac: GW_MAC }]);
}
