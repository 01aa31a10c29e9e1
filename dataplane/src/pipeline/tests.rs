//! Scenario tests of the worker's per-packet logic, without EAL.
use super::*;
use crate::craft::{self, L2, L3};
use crate::frame::TestFrame;
use crate::ifaces::Interface;
use crate::packet::{Icmpv4Packet, ParseError};
use crate::route::Route;

const IN_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xa0]);
const OUT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xb0]);
const CLIENT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const GW_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x99]);
const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
const GW: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
const REMOTE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);

fn interfaces() -> Arc<Interfaces> {
    Arc::new(Interfaces::new(vec![
        Interface {
            port: 0,
            name: "inside".into(),
            zone: "trust".into(),
            mac: IN_MAC,
            addr: [192, 168, 1, 254].into(),
            prefix_len: 24,
        },
        Interface {
            port: 1,
            name: "outside".into(),
            zone: "untrust".into(),
            mac: OUT_MAC,
            addr: [203, 0, 113, 2].into(),
            prefix_len: 24,
        },
    ]))
}

fn pipeline(default_route: bool, neighbours: &[(Ipv4Addr, MacAddr)]) -> Pipeline {
    let ifaces = interfaces();
    let statics: Vec<_> =
        if default_route { vec![([0, 0, 0, 0].into(), 0, Route { port: 1, via: Some(GW) })] } else { vec![] };
    let routes = Arc::new(RouteTable::new(&ifaces, &statics));
    let mut neigh = NeighbourCache::with_capacity(16);
    for &(ip, mac) in neighbours {
        neigh.set(ip, mac);
    }
    Pipeline::new(ifaces, routes, neigh, PipelineLimits { icmp_errors_per_sec: 1, icmp_errors_burst: 2 })
}

fn from_client(dst: Ipv4Addr, ttl: u8) -> TestFrame {
    let l2 = L2 { src: CLIENT_MAC, dst: IN_MAC };
    TestFrame::new(&craft::udp(l2, L3 { src: CLIENT, dst, ttl }, 40000, 53, b"query")).unwrap()
}

fn ip_of(f: &TestFrame) -> Ipv4Packet<&[u8]> {
    Ipv4Packet::new_checked(&f.data()[14..]).unwrap()
}

#[test]
fn forwards_with_ttl_decrement_and_valid_checksum() {
    let mut p = pipeline(true, &[(GW, GW_MAC)]);
    let mut f = from_client(REMOTE, 64);
    assert_eq!(p.process(&mut f, 0, Millis(0)), Verdict::Forward(1));
    let eth = EthernetFrame::new_checked(f.data()).unwrap();
    assert_eq!(eth.dst_addr(), GW_MAC);
    assert_eq!(eth.src_addr(), OUT_MAC);
    let ip = ip_of(&f);
    assert_eq!(ip.ttl(), 63);
    assert!(ip.verify_checksum(), "incremental update must equal a full recompute");
    assert_eq!((ip.src_addr(), ip.dst_addr()), (CLIENT, REMOTE));
}

#[test]
fn connected_destination_uses_its_own_neighbour_entry() {
    let mut p = pipeline(false, &[(CLIENT, CLIENT_MAC)]);
    let l2 = L2 { src: GW_MAC, dst: OUT_MAC };
    let mut f =
        TestFrame::new(&craft::udp(l2, L3 { src: GW, dst: CLIENT, ttl: 9 }, 53, 40000, b"x")).unwrap();
    assert_eq!(p.process(&mut f, 1, Millis(0)), Verdict::Forward(0));
    assert_eq!(EthernetFrame::new_checked(f.data()).unwrap().dst_addr(), CLIENT_MAC);
}

#[test]
fn unresolved_next_hop_goes_to_slow_path_untouched() {
    let mut p = pipeline(true, &[]);
    let mut f = from_client(REMOTE, 64);
    let before = f.data().to_vec();
    assert_eq!(p.process(&mut f, 0, Millis(0)), Verdict::SlowPath);
    assert_eq!(f.data(), &before[..]);
}

#[test]
fn arp_and_traffic_to_the_appliance_go_to_slow_path() {
    let mut p = pipeline(true, &[]);
    let mut arp =
        TestFrame::new(&craft::arp(true, (CLIENT_MAC, CLIENT), (MacAddr::ZERO, [192, 168, 1, 254].into())))
            .unwrap();
    assert_eq!(p.process(&mut arp, 0, Millis(0)), Verdict::SlowPath);
    let l2 = L2 { src: CLIENT_MAC, dst: IN_MAC };
    let ping =
        craft::icmp_echo(l2, L3 { src: CLIENT, dst: [203, 0, 113, 2].into(), ttl: 64 }, true, 1, 1, b"hi");
    assert_eq!(p.process(&mut TestFrame::new(&ping).unwrap(), 0, Millis(0)), Verdict::SlowPath);
}

#[test]
fn no_route_is_dropped() {
    let mut p = pipeline(false, &[]);
    assert_eq!(p.process(&mut from_client(REMOTE, 64), 0, Millis(0)), Verdict::Drop(DropReason::NoRoute));
}

#[test]
fn frames_for_other_macs_and_other_ethertypes_are_dropped() {
    let mut p = pipeline(true, &[(GW, GW_MAC)]);
    let l2 = L2 { src: CLIENT_MAC, dst: MacAddr([2, 9, 9, 9, 9, 9]) };
    let mut f = TestFrame::new(&craft::udp(l2, L3 { src: CLIENT, dst: REMOTE, ttl: 64 }, 1, 2, b"")).unwrap();
    assert_eq!(p.process(&mut f, 0, Millis(0)), Verdict::Drop(DropReason::NotOurMac));
    let mut v6 = from_client(REMOTE, 64);
    v6.data_mut()[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
    assert_eq!(p.process(&mut v6, 0, Millis(0)), Verdict::Drop(DropReason::UnsupportedEthertype));
}

#[test]
fn malformed_headers_are_dropped_by_name() {
    let mut p = pipeline(true, &[(GW, GW_MAC)]);
    let mut short = TestFrame::new(&[0u8; 10]).unwrap();
    assert_eq!(
        p.process(&mut short, 0, Millis(0)),
        Verdict::Drop(DropReason::Malformed(ParseError::EthTruncated))
    );
    let mut bad_sum = from_client(REMOTE, 64);
    bad_sum.data_mut()[14 + 10] ^= 0xff;
    assert_eq!(p.process(&mut bad_sum, 0, Millis(0)), Verdict::Drop(DropReason::Ipv4BadChecksum));
    let mut bad_version = from_client(REMOTE, 64);
    bad_version.data_mut()[14] = 0x65;
    assert_eq!(
        p.process(&mut bad_version, 0, Millis(0)),
        Verdict::Drop(DropReason::Malformed(ParseError::Ipv4BadVersion))
    );
    let mut cut = from_client(REMOTE, 64);
    cut.truncate(14 + 12);
    assert!(matches!(p.process(&mut cut, 0, Millis(0)), Verdict::Drop(DropReason::Malformed(_))));
}

#[test]
fn martian_addresses_are_dropped() {
    let mut p = pipeline(true, &[(GW, GW_MAC)]);
    for dst in [
        Ipv4Addr::BROADCAST,
        Ipv4Addr::new(224, 0, 0, 5),
        Ipv4Addr::new(192, 168, 1, 255),
        Ipv4Addr::LOCALHOST,
    ] {
        assert_eq!(
            p.process(&mut from_client(dst, 64), 0, Millis(0)),
            Verdict::Drop(DropReason::MartianAddress),
            "{dst}"
        );
    }
}

#[test]
fn expiring_ttl_is_answered_with_time_exceeded_then_rate_limited() {
    let mut p = pipeline(true, &[(GW, GW_MAC)]);
    let original = from_client(REMOTE, 1);
    let orig_ip_header = original.data()[14..34].to_vec();
    let mut f = original.clone();
    assert_eq!(p.process(&mut f, 0, Millis(0)), Verdict::Reply(0));
    let eth = EthernetFrame::new_checked(f.data()).unwrap();
    assert_eq!((eth.dst_addr(), eth.src_addr()), (CLIENT_MAC, IN_MAC));
    let ip = ip_of(&f);
    assert!(ip.verify_checksum());
    assert_eq!(
        (ip.src_addr(), ip.dst_addr(), ip.next_header()),
        ([192, 168, 1, 254].into(), CLIENT, IpProtocol::Icmp)
    );
    let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
    assert_eq!((icmp.msg_type(), icmp.code()), (11, 0));
    assert!(icmp.verify_checksum());
    assert_eq!(&icmp.data()[..20], &orig_ip_header[..], "quotes the original header");
    assert_eq!(icmp.data().len(), 28, "header plus 8 bytes");
    // Burst of 2, then 1 per second.
    assert_eq!(p.process(&mut original.clone(), 0, Millis(0)), Verdict::Reply(0));
    assert_eq!(p.process(&mut original.clone(), 0, Millis(0)), Verdict::Drop(DropReason::TtlExceeded));
    assert_eq!(p.process(&mut original.clone(), 0, Millis(1000)), Verdict::Reply(0));
}

#[test]
fn icmp_errors_are_not_answered_with_errors() {
    let mut p = pipeline(true, &[(GW, GW_MAC)]);
    let l2 = L2 { src: CLIENT_MAC, dst: IN_MAC };
    let mut unreachable = craft::icmp_echo(l2, L3 { src: CLIENT, dst: REMOTE, ttl: 1 }, true, 0, 0, &[0; 28]);
    unreachable[34] = 3; // type: destination unreachable
    let mut f = TestFrame::new(&unreachable).unwrap();
    assert_eq!(p.process(&mut f, 0, Millis(0)), Verdict::Drop(DropReason::TtlExceeded));
}
