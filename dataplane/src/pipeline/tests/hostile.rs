//! Packets built to cross where they must not: spoofed from the wrong side, in the
//! wrong direction of a session. Each test failed before the checks it names.
use super::*;

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
