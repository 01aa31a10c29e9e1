//! IPv4 fragments through NAT: every fragment of a permitted flow translated alike, in
//! order or not after the first; the attacks fragments allow refused.
use super::*;
use wire::craft::fragments;

/// The datagram the fragments make again (to check what left).
fn reassemble(frags: &[TestFrame]) -> Vec<u8> {
    let mut payload = vec![];
    let first = &frags[0].data()[14..34];
    for f in frags {
        let ip = Ipv4Packet::new_checked(&f.data()[14..]).unwrap();
        assert!(ip.verify_checksum(), "each fragment's header checksum");
        let at = usize::from(ip.frag_offset());
        if payload.len() < at + ip.payload().len() {
            payload.resize(at + ip.payload().len(), 0);
        }
        payload[at..at + ip.payload().len()].copy_from_slice(ip.payload());
    }
    let mut h = first.to_vec();
    h[2..4].copy_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    h[6..8].copy_from_slice(&[0, 0]);
    [&h[..], &payload].concat()
}

fn big_udp(src: Ipv4Addr, sport: u16, dport: u16) -> impl Fn(L2, L3) -> Vec<u8> {
    move |l2, l3| {
        let data: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
        craft::udp(l2, L3 { src, ..l3 }, sport, dport, &data)
    }
}

fn send_all(e: &mut Env, frames: &[Vec<u8>], port: PortId) -> Vec<(Verdict, TestFrame)> {
    frames.iter().map(|f| e.send(f.clone(), port)).collect()
}

/// Fragments beyond the first were dropped; a fragmented UDP datagram now crosses NAT
/// whole both ways, its checksum right.
#[test]
fn a_fragmented_datagram_crosses_nat_both_ways() {
    let mut e = env(DEFAULT);
    let whole = big_udp(CLIENT, 5000, 53)(
        L2 { src: CLIENT_MAC, dst: IN_MAC },
        L3 { src: CLIENT, dst: SERVER, ttl: 64 },
    );
    let out = send_all(&mut e, &fragments(&whole, 1480), 0);
    assert_eq!(out.len(), 3);
    assert!(
        out.iter().all(|(v, _)| *v == Verdict::Forward(1)),
        "{:?}",
        out.iter().map(|o| o.0).collect::<Vec<_>>()
    );
    let frames: Vec<TestFrame> = out.into_iter().map(|(_, f)| f).collect();
    let datagram = reassemble(&frames);
    let ip = Ipv4Packet::new_checked(&datagram[..]).unwrap();
    assert_eq!(ip.src_addr(), PUBLIC, "every fragment translated");
    let u = UdpPacket::new_checked(ip.payload()).unwrap();
    assert!(u.verify_checksum(PUBLIC, SERVER), "the datagram's checksum after NAT");
    let pport = u.src_port();
    assert_ne!(pport, 5000);
    // The reply, fragmented too, goes back to the client with its own port.
    let reply = big_udp(SERVER, 53, pport)(
        L2 { src: GW_MAC, dst: OUT_MAC },
        L3 { src: SERVER, dst: PUBLIC, ttl: 64 },
    );
    let back = send_all(&mut e, &fragments(&reply, 1480), 1);
    assert!(back.iter().all(|(v, _)| *v == Verdict::Forward(0)));
    let frames: Vec<TestFrame> = back.into_iter().map(|(_, f)| f).collect();
    let datagram = reassemble(&frames);
    let ip = Ipv4Packet::new_checked(&datagram[..]).unwrap();
    let u = UdpPacket::new_checked(ip.payload()).unwrap();
    assert_eq!((ip.dst_addr(), u.dst_port()), (CLIENT, 5000));
    assert!(u.verify_checksum(SERVER, CLIENT));
}

/// A fragment that comes before its datagram's first is held (by the caller, which owns
/// the buffer); once the first has come, the others find its key.
#[test]
fn fragments_before_their_first_are_held_for_it() {
    let mut e = env(DEFAULT);
    let whole = big_udp(CLIENT, 5000, 53)(
        L2 { src: CLIENT_MAC, dst: IN_MAC },
        L3 { src: CLIENT, dst: SERVER, ttl: 64 },
    );
    let frags = fragments(&whole, 1480);
    let v = e.send(frags[2].clone(), 0).0;
    assert!(matches!(v, Verdict::Hold(_)), "{v:?}");
    assert_eq!(e.p.take_released(), None);
    assert_eq!(e.send(frags[0].clone(), 0).0, Verdict::Forward(1));
    let Verdict::Hold(tag) = v else { unreachable!() };
    assert_eq!(e.p.take_released(), Some(tag), "the first fragment releases what waits for it");
    for i in [2, 1] {
        assert_eq!(e.send(frags[i].clone(), 0).0, Verdict::Forward(1), "fragment {i}");
    }
}

/// The attacks fragments make possible: a first fragment too short to show its
/// header, a fragment rewriting bytes another already carried, a datagram past
/// 65,535 bytes; and a denied flow's later fragments.
#[test]
fn fragment_attacks_are_refused() {
    let mut e = env(DEFAULT);
    let whole = big_udp(CLIENT, 5000, 53)(
        L2 { src: CLIENT_MAC, dst: IN_MAC },
        L3 { src: CLIENT, dst: SERVER, ttl: 64 },
    );
    let tiny = fragments(&whole, 8);
    let mut tiny0 = tiny[0].clone();
    // 4 bytes of UDP header only.
    tiny0.truncate(14 + 24);
    tiny0[16..18].copy_from_slice(&24u16.to_be_bytes());
    tiny0[24..26].copy_from_slice(&[0, 0]);
    let c = wire::checksum::checksum(&tiny0[14..34]);
    tiny0[24..26].copy_from_slice(&c.to_be_bytes());
    assert_eq!(e.send(tiny0, 0).0, Verdict::Drop(DropReason::Ipv4TinyFragment));

    let frags = fragments(&whole, 1480);
    assert_eq!(e.send(frags[0].clone(), 0).0, Verdict::Forward(1));
    // The same bytes again at 8: an overlap.
    let overlap = fragments(&whole, 8);
    assert_eq!(e.send(overlap[1].clone(), 0).0, Verdict::Drop(DropReason::Ipv4FragmentOverlap));
    let mut far = frags[1].clone();
    far[20..22].copy_from_slice(&(0x2000u16 | (65_528 / 8)).to_be_bytes());
    far[24..26].copy_from_slice(&[0, 0]);
    let c = wire::checksum::checksum(&far[14..34]);
    far[24..26].copy_from_slice(&c.to_be_bytes());
    assert_eq!(e.send(far, 0).0, Verdict::Drop(DropReason::Ipv4FragmentTooBig));

    // Telnet is denied: its first fragment by the policy, the rest for want of a session.
    let telnet = big_udp(CLIENT, 5001, 23)(
        L2 { src: CLIENT_MAC, dst: IN_MAC },
        L3 { src: CLIENT, dst: SERVER, ttl: 64 },
    );
    let mut t = craft::tcp(
        L2 { src: CLIENT_MAC, dst: IN_MAC },
        L3 { src: CLIENT, dst: SERVER, ttl: 64 },
        5001,
        23,
        1,
        0,
        SYN,
        &telnet[42..],
    );
    t[14 + 20 + 12] = 0x50;
    let tf = fragments(&t, 1480);
    assert_eq!(e.send(tf[0].clone(), 0).0, Verdict::Drop(DropReason::PolicyDeny));
    assert_eq!(e.send(tf[1].clone(), 0).0, Verdict::Drop(DropReason::Ipv4Fragment));
}
