//! Packets built to cross where they must not: spoofed from the wrong side, in the
//! wrong direction of a session. Each test failed before the checks it names.
use super::*;
use crate::policy::{Guards, PingAccess, ReversePath, ZoneGuard};

/// The inside port, with a frame from an inside host's MAC.
fn from_inside(e: &mut Env, src: Ipv4Addr, dst: Ipv4Addr, bytes_for: impl Fn(L2, L3) -> Vec<u8>) -> Verdict {
    let frame = bytes_for(L2 { src: CLIENT_MAC, dst: IN_MAC }, L3 { src, dst, ttl: 64 });
    e.send(frame, 0).0
}

/// A reply direction was matched on its 5-tuple alone: an inside host spoofing the
/// server's address reached another inside host's session, hairpinned out of the
/// inside port.
#[test]
fn a_sessions_packets_from_the_wrong_zone_are_dropped() {
    let mut e = env(DEFAULT);
    let (_, f) = e.out(CLIENT, dgram(5353, 53));
    let pport = udp(&f).0;
    let spoof = from_inside(&mut e, SERVER, PUBLIC, dgram(53, pport));
    assert_eq!(spoof, Verdict::Drop(DropReason::SessionWrongZone));
    assert_eq!(e.back(PUBLIC, dgram(53, pport)).0, Verdict::Forward(0), "the real reply passes");

    let (_, f) = e.out(CLIENT, seg(40001, 80, SYN, 1000, 0, b""));
    let tport = tcp(&f).0;
    e.back(PUBLIC, seg(80, tport, SYN | ACK, 2000, 1001, b""));
    let inject = from_inside(&mut e, SERVER, PUBLIC, seg(80, tport, ACK | PSH, 2001, 1001, b"evil"));
    assert_eq!(inject, Verdict::Drop(DropReason::SessionWrongZone));
    // And the original direction, spoofed from the outside.
    let frame = seg(40001, 80, ACK, 1001, 2001, b"")(
        L2 { src: GW_MAC, dst: OUT_MAC },
        L3 { src: CLIENT, dst: SERVER, ttl: 64 },
    );
    assert_eq!(e.send(frame, 1).0, Verdict::Drop(DropReason::SessionWrongZone));
}

/// ICMP sessions ignored direction: the server could ping an inside host through that
/// host's own ping session.
#[test]
fn only_replies_travel_back_through_a_ping_session() {
    let mut e = env(DEFAULT);
    let (_, f) = e.out(CLIENT, |l2, l3| craft::icmp_echo(l2, l3, true, 0x77, 1, b"ping"));
    let ident = Icmpv4Packet::new_checked(ip(&f).payload()).unwrap().echo_ident();
    let request = e.back(PUBLIC, |l2, l3| craft::icmp_echo(l2, l3, true, ident, 1, b"ping"));
    assert_eq!(request.0, Verdict::Drop(DropReason::IcmpWrongDirection));
    let reply = e.out(CLIENT, |l2, l3| craft::icmp_echo(l2, l3, false, 0x77, 1, b"pong"));
    assert_eq!(reply.0, Verdict::Drop(DropReason::IcmpWrongDirection));
    assert_eq!(
        e.back(PUBLIC, |l2, l3| craft::icmp_echo(l2, l3, false, ident, 1, b"ping")).0,
        Verdict::Forward(0)
    );
}

/// A new flow with flags no TCP sends is not a SYN that lost its way.
#[test]
fn impossible_flags_never_open_a_session() {
    let mut e = env(DEFAULT);
    for flags in [SYN | FIN, SYN | RST, SYN | FIN | PSH, 0] {
        assert_eq!(
            e.out(CLIENT, seg(40001, 80, flags, 1000, 0, b"")).0,
            Verdict::Drop(DropReason::TcpBadFlags)
        );
    }
    assert_eq!(e.p.sessions.len(), 0);
}

/// Packets from the appliance's own addresses, a directed broadcast or the NAT address
/// were NATed and forwarded; an echo request from the public address was answered to
/// the appliance itself.
#[test]
fn sources_that_can_only_be_spoofed_are_dropped() {
    let mut e = env(DEFAULT);
    for src in [PUBLIC, Ipv4Addr::new(192, 168, 1, 254), Ipv4Addr::new(192, 168, 1, 255)] {
        let v = from_inside(&mut e, src, SERVER, dgram(1, 53));
        assert_eq!(v, Verdict::Drop(DropReason::SpoofedSource), "{src} from inside");
    }
    let ping = |l2, l3| craft::icmp_echo(l2, l3, true, 1, 1, b"");
    let frame = ping(L2 { src: GW_MAC, dst: OUT_MAC }, L3 { src: PUBLIC, dst: PUBLIC, ttl: 64 });
    assert_eq!(e.send(frame, 1).0, Verdict::Drop(DropReason::SpoofedSource), "a ping from ourselves");
    assert_eq!(e.p.sessions.len(), 0);
}

/// A new flow's source must route back through the port it came in by (the default,
/// strict reverse path): an inside host using an outside address is dropped, and so is
/// an outside packet from an inside address.
#[test]
fn new_flows_from_sources_that_route_elsewhere_are_dropped() {
    let mut e = env(DEFAULT);
    assert_eq!(from_inside(&mut e, SERVER, GW, dgram(1, 53)), Verdict::Drop(DropReason::ReversePath));
    let frame = dgram(1, 53)(L2 { src: GW_MAC, dst: OUT_MAC }, L3 { src: CLIENT2, dst: SERVER, ttl: 64 });
    assert_eq!(e.send(frame, 1).0, Verdict::Drop(DropReason::ReversePath));
    // Loose: some route back is enough; off: no check. The policy decides then.
    let stray = Ipv4Addr::new(10, 9, 9, 9);
    assert_eq!(from_inside(&mut e, stray, SERVER, dgram(1, 53)), Verdict::Drop(DropReason::ReversePath));
    let want = Verdict::Drop(DropReason::PolicyDeny);
    for rp in [ReversePath::Loose, ReversePath::Off] {
        let guards = Guards(vec![ZoneGuard { reverse_path: rp, ..ZoneGuard::default() }; 2]);
        let rules = Ruleset { guards, ..Ruleset::clone(e.p.rules()) };
        e.p.set_rules(Arc::new(rules));
        assert_eq!(from_inside(&mut e, stray, SERVER, dgram(1, 53)), want, "{rp:?}");
    }
}

/// Loose and strict source routes were forwarded; malformed options too.
#[test]
fn source_routes_and_malformed_options_are_dropped() {
    let mut e = env(DEFAULT);
    let with_options = |opts: &[u8]| {
        let mut f = craft::udp(
            L2 { src: CLIENT_MAC, dst: IN_MAC },
            L3 { src: CLIENT, dst: SERVER, ttl: 64 },
            1,
            53,
            b"x",
        );
        let mut ip = f[14..34].to_vec();
        ip[0] = 0x40 | ((20 + opts.len()) / 4) as u8;
        let total = u16::from_be_bytes([ip[2], ip[3]]) + opts.len() as u16;
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip.extend_from_slice(opts);
        ip[10..12].copy_from_slice(&[0, 0]);
        let c = wire::checksum::checksum(&ip);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let rest = f.split_off(34);
        f.truncate(14);
        f.extend(ip);
        f.extend(rest);
        f
    };
    let lsrr = [131, 7, 4, 10, 0, 0, 1, 0];
    assert_eq!(e.send(with_options(&lsrr), 0).0, Verdict::Drop(DropReason::SourceRoute));
    let ssrr = [1, 137, 7, 4, 10, 0, 0, 1];
    assert_eq!(e.send(with_options(&ssrr), 0).0, Verdict::Drop(DropReason::SourceRoute));
    let bad = [7, 9, 4, 0];
    assert_eq!(e.send(with_options(&bad), 0).0, Verdict::Drop(ParseError::Ipv4BadOptions.into()));
    let record_route = [7, 7, 4, 0, 0, 0, 0, 0];
    assert_eq!(e.send(with_options(&record_route), 0).0, Verdict::Forward(1), "harmless options pass");
    let guards = Guards(vec![ZoneGuard { source_route: true, ..ZoneGuard::default() }; 2]);
    e.p.set_rules(Arc::new(Ruleset { guards, ..Ruleset::clone(e.p.rules()) }));
    assert_eq!(e.send(with_options(&lsrr), 0).0, Verdict::Forward(1), "allowed where the zone says so");
}

/// Bytes after the IPv4 total length left with the frame.
#[test]
fn bytes_after_the_total_length_are_trimmed() {
    let mut e = env(DEFAULT);
    let mut f = craft::udp(
        L2 { src: CLIENT_MAC, dst: IN_MAC },
        L3 { src: CLIENT, dst: SERVER, ttl: 64 },
        1,
        53,
        b"x",
    );
    let ip_len = usize::from(u16::from_be_bytes([f[16], f[17]]));
    f.extend_from_slice(b"secret bytes that are not the packet's");
    let (v, out) = e.send(f, 0);
    assert_eq!(v, Verdict::Forward(1));
    assert_eq!(out.data().len(), 14 + ip_len);
}

/// The appliance answered a ping from the Internet to its inside address.
#[test]
fn the_appliance_answers_a_zone_only_on_its_own_interface_by_default() {
    let mut e = env(DEFAULT);
    let inside_addr = Ipv4Addr::new(192, 168, 1, 254);
    let ping = |dst| move |l2, l3: L3| craft::icmp_echo(l2, L3 { dst, ..l3 }, true, 1, 1, b"");
    assert_eq!(e.back(inside_addr, ping(inside_addr)).0, Verdict::Drop(DropReason::ToSelfDenied));
    assert_eq!(e.back(PUBLIC, ping(PUBLIC)).0, Verdict::SlowPath);
    assert_eq!(from_inside(&mut e, CLIENT, inside_addr, ping(inside_addr)), Verdict::SlowPath);
    assert_eq!(from_inside(&mut e, CLIENT, PUBLIC, ping(PUBLIC)), Verdict::Drop(DropReason::ToSelfDenied));
    let guards = Guards(vec![
        ZoneGuard { ping: PingAccess::Any, ..ZoneGuard::default() },
        ZoneGuard { ping: PingAccess::None, ..ZoneGuard::default() },
    ]);
    e.p.set_rules(Arc::new(Ruleset { guards, ..Ruleset::clone(e.p.rules()) }));
    assert_eq!(from_inside(&mut e, CLIENT, PUBLIC, ping(PUBLIC)), Verdict::SlowPath);
    assert_eq!(e.back(PUBLIC, ping(PUBLIC)).0, Verdict::Drop(DropReason::ToSelfDenied));
}

/// A SYN flood filled the whole session table; half-open sessions are capped now, so
/// established flows keep their room, and the flood's sessions age out fast.
#[test]
fn a_syn_flood_fills_only_the_half_open_share() {
    let mut e = env(Opts { capacity: 64, ..DEFAULT });
    let limits = PipelineLimits { half_open_sessions: 8, ..PipelineLimits::default() };
    let shared = e.p.shared.clone();
    let neigh = e.p.neigh.clone();
    e.p = Pipeline::new(0, shared, neigh, SessionTable::new(64, Timeouts::default()), limits);
    let (_, f) = e.out(CLIENT, dgram(5353, 53));
    let pport = udp(&f).0;
    for sport in 1000..1100 {
        let v = e.out(CLIENT, seg(sport, 80, SYN, 1, 0, b"")).0;
        let want =
            if sport < 1008 { Verdict::Forward(1) } else { Verdict::Drop(DropReason::TcpHalfOpenLimit) };
        assert_eq!(v, want, "SYN from port {sport}");
    }
    assert_eq!(e.back(PUBLIC, dgram(53, pport)).0, Verdict::Forward(0), "the established flow goes on");
    assert_eq!(e.out(CLIENT2, dgram(1, 53)).0, Verdict::Forward(1), "other flows still open");
    e.advance(6);
    assert_eq!(e.out(CLIENT, seg(2000, 80, SYN, 1, 0, b"")).0, Verdict::Forward(1), "room again after 5 s");
}
