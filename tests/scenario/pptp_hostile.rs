//! Control traffic built to hurt: cut where it hurts, out of order, out of state, over
//! the limits, or naming calls that are not the sender's. Each test failed on the ALG
//! before it read streams byte by byte and kept RFC 2637's states.
use super::*;
use dataplane::alg::pptp::{AlgLimits, PptpAlg};
use dataplane::owner::OwnerMap;

const CUTS: std::ops::Range<usize> = 1..24;

/// What the server received of a segment (nothing if it was refused whole).
fn to_server(c: &mut Control, sim: &mut Sim, bytes: &[u8]) -> Vec<u8> {
    c.send_to_server(sim, ACK | PSH, bytes).map(|s| s.payload).unwrap_or_default()
}

fn to_client(c: &mut Control, sim: &mut Sim, bytes: &[u8]) -> Vec<u8> {
    c.send_to_client(sim, ACK | PSH, bytes).map(|s| s.payload).unwrap_or_default()
}

/// A message sent in two segments cut at `cut`: what arrived on the other side.
fn cut_to_server(c: &mut Control, sim: &mut Sim, m: &[u8], cut: usize) -> Vec<u8> {
    let cut = cut.min(m.len() - 1);
    let mut seen = to_server(c, sim, &m[..cut]);
    seen.extend(to_server(c, sim, &m[cut..]));
    seen
}

fn cut_to_client(c: &mut Control, sim: &mut Sim, m: &[u8], cut: usize) -> Vec<u8> {
    let cut = cut.min(m.len() - 1);
    let mut seen = to_client(c, sim, &m[..cut]);
    seen.extend(to_client(c, sim, &m[cut..]));
    seen
}

/// Client B takes client A's translated Call ID as its own and cuts its OCRQ anywhere
/// in the head (the old ALG forwarded a Call ID cut in two untranslated, so the
/// server's GRE to A's translated ID went to B).
#[test]
fn no_cut_lets_a_client_call_id_out_or_take_another_clients_tunnel() {
    for cut in CUTS {
        let mut sim = lab(ONE);
        let mut a = Control::open(&mut sim, CLIENT, 40000);
        let xa = a.call(&mut sim, AAAA, CCCC);
        let mut b = Control::open(&mut sim, CLIENT2, 40001);
        b.start(&mut sim);
        let ocrq = msg(MsgType::Ocrq, xa, 7, 0);
        let seen = cut_to_server(&mut b, &mut sim, &ocrq, cut);
        assert_eq!(seen.len(), ocrq.len(), "cut at {cut}: forwarded whole");
        let xb = be16(&seen, 12);
        assert_ne!(xb, xa, "cut at {cut}: the client's own ID reached the server");
        assert_eq!((&seen[..12], &seen[14..]), (&ocrq[..12], &ocrq[14..]), "cut at {cut}");
        assert_eq!(gre_from_server(&mut sim, xa, 0), Some((SERVER, CLIENT, AAAA)), "cut at {cut}");
        assert_eq!(gre_from_server(&mut sim, xb, 0), Some((SERVER, CLIENT2, xa)), "cut at {cut}");
    }
}

/// Every message with a client Call ID, cut anywhere: the server sees only translated
/// IDs, the client only its own.
#[test]
fn every_message_is_translated_wherever_it_is_cut() {
    for cut in CUTS {
        let mut sim = lab(ONE);
        let mut c = Control::open(&mut sim, CLIENT, 40000);
        c.start(&mut sim);
        let own = 0x3300 + cut as u16;
        let x = be16(&cut_to_server(&mut c, &mut sim, &msg(MsgType::Ocrq, own, 7, 0), cut), 12);
        assert_ne!(x, own, "cut at {cut}");
        let ocrp = cut_to_client(&mut c, &mut sim, &msg(MsgType::Ocrp, CCCC, x, 1), cut);
        assert_eq!((be16(&ocrp, 12), be16(&ocrp, 14)), (CCCC, own), "cut at {cut}");
        assert_eq!(sim.server_map().len(), 2, "cut at {cut}");
        let wen = cut_to_client(&mut c, &mut sim, &msg(MsgType::Wen, x, 0, 0), cut);
        assert_eq!(be16(&wen, 12), own, "cut at {cut}");
        let ccrq = cut_to_server(&mut c, &mut sim, &msg(MsgType::Ccrq, own, 0, 0), cut);
        assert_eq!(be16(&ccrq, 12), x, "cut at {cut}");
        let cdn = cut_to_client(&mut c, &mut sim, &msg(MsgType::Cdn, CCCC, 0, 3), cut);
        assert_eq!(be16(&cdn, 12), CCCC, "cut at {cut}");
        assert_clean(&sim);
    }
}

/// 1,000 OCRQs on one connection with room for 2 calls: the old ALG forwarded the rest
/// with the client's own ID. Refused calls are dropped and counted; the client resends.
#[test]
fn calls_over_the_limit_are_refused_never_forwarded_untranslated() {
    let alg = AlgLimits { calls_per_connection: 2, ..AlgLimits::default() };
    let mut sim = lab_with(ONE, SimLimits { alg, ..SimLimits::default() });
    let mut c = Control::open(&mut sim, CLIENT, 40000);
    c.start(&mut sim);
    let mut reached = Vec::new();
    for own in 0..1000u16 {
        let seen = to_server(&mut c, &mut sim, &msg(MsgType::Ocrq, own, 7, 0));
        if seen.is_empty() {
            c.seq[0] -= 168; // the server never got it: the next message takes its place
            continue;
        }
        let x = be16(&seen, 12);
        assert_ne!(x, own, "an untranslated Call ID reached the server");
        reached.push(x);
    }
    assert_eq!(reached.len(), 2);
    assert_eq!(sim.drops(DropReason::PptpCallLimit), 998);
    assert_eq!(sim.slow.pptp().unwrap().calls(), 2);
    // Room again after a call ends: the next OCRQ passes, translated.
    to_server(&mut c, &mut sim, &msg(MsgType::Ccrq, 0, 0, 0));
    to_client(&mut c, &mut sim, &msg(MsgType::Cdn, CCCC, 0, 3));
    assert!(to_client(&mut c, &mut sim, &msg(MsgType::Ocrp, CCCC, reached[0], 1)).len() == 32);
    to_client(&mut c, &mut sim, &msg(MsgType::Cdn, CCCC, 0, 3));
    let x = be16(&to_server(&mut c, &mut sim, &msg(MsgType::Ocrq, 5000, 7, 0)), 12);
    assert!(x != 5000 && x >= 1024);
}

/// A segment that came early made the old reader fail on it and on every segment after.
#[test]
fn an_early_segment_costs_only_itself() {
    let mut sim = lab(ONE);
    let mut c = Control::open(&mut sim, CLIENT, 40000);
    c.start(&mut sim);
    let ocrq = msg(MsgType::Ocrq, AAAA, 7, 0);
    let at = c.seq[0];
    c.seq[0] = at + 100;
    assert!(to_server(&mut c, &mut sim, &ocrq[100..]).is_empty(), "after a gap: dropped");
    assert_eq!(sim.drops(DropReason::PptpOutOfOrder), 1);
    c.seq[0] = at;
    let head = to_server(&mut c, &mut sim, &ocrq[..100]);
    let tail = to_server(&mut c, &mut sim, &ocrq[100..]);
    assert_eq!((head.len(), tail.len()), (100, 68));
    let x = be16(&head, 12);
    assert_ne!(x, AAAA);
    let ocrp = c.pac(&mut sim, msg(MsgType::Ocrp, CCCC, x, 1));
    assert_eq!(be16(&ocrp, 14), AAAA);
    assert_eq!(sim.server_map().len(), 2);
}

/// Calls only on an established control connection, only from the side that makes
/// them (the old ALG set up a call from an OCRQ on a bare TCP connection).
#[test]
fn messages_out_of_state_or_direction_are_refused_and_book_nothing() {
    let mut sim = lab(ONE);
    let mut c = Control::open(&mut sim, CLIENT, 40000);
    assert!(to_server(&mut c, &mut sim, &msg(MsgType::Ocrq, AAAA, 7, 0)).is_empty(), "before SCCRQ");
    c.seq[0] -= 168;
    assert_eq!(sim.drops(DropReason::PptpWrongState), 1);
    assert!(sim.server_map().is_empty());
    c.pns(&mut sim, msg(MsgType::Sccrq, 0, 0, 0));
    assert!(to_server(&mut c, &mut sim, &msg(MsgType::Ocrq, AAAA, 7, 0)).is_empty(), "before SCCRP");
    c.seq[0] -= 168;
    assert_eq!(sim.drops(DropReason::PptpWrongState), 2);
    assert!(
        to_server(&mut c, &mut sim, &msg(MsgType::Sccrp, 0, 0, 1)).is_empty(),
        "SCCRP from the requester"
    );
    c.seq[0] -= 156;
    assert_eq!(sim.drops(DropReason::PptpWrongState), 3);
    c.pac(&mut sim, msg(MsgType::Sccrp, 0, 0, 1));
    assert!(
        to_server(&mut c, &mut sim, &msg(MsgType::Ocrp, CCCC, 0x0400, 1)).is_empty(),
        "OCRP from the client"
    );
    c.seq[0] -= 32;
    assert_eq!(sim.drops(DropReason::PptpWrongDirection), 1);
    assert!(
        to_client(&mut c, &mut sim, &msg(MsgType::Ocrq, 0x0400, 7, 0)).is_empty(),
        "OCRQ from the server"
    );
    c.seq[1] -= 168;
    assert_eq!(sim.drops(DropReason::PptpWrongDirection), 2);
    assert!(sim.server_map().is_empty());
    // After Stop-Control-Connection, no new call either.
    c.pns(&mut sim, msg(MsgType::StopCcrq, 0, 0, 0));
    assert!(to_server(&mut c, &mut sim, &msg(MsgType::Ocrq, AAAA, 7, 0)).is_empty(), "after StopCCRQ");
    assert_eq!(sim.drops(DropReason::PptpWrongState), 4);
    assert_clean(&sim);
}

/// Microsoft's servers and accel-ppp put the client's (translated) Call ID in their CDN;
/// the old ALG passed it on untranslated and kept the call until the connection ended.
#[test]
fn a_server_cdn_naming_the_clients_call_ends_it_either_way() {
    for server_reads_rfc in [true, false] {
        let mut sim = lab(ONE);
        let (mut c, x) = one_tunnel(&mut sim);
        let id = if server_reads_rfc { CCCC } else { x };
        let cdn = c.pac(&mut sim, msg(MsgType::Cdn, id, 0, 3));
        let want = if server_reads_rfc { CCCC } else { AAAA };
        assert_eq!(be16(&cdn, 12), want, "the client sees its own ID or the server's");
        assert_clean(&sim);
    }
}

/// A second OCRP for a call that is up booked a second server-map entry that outlived
/// the call and the connection.
#[test]
fn a_second_reply_cannot_change_an_established_call() {
    let mut sim = lab(ONE);
    let (mut c, x) = one_tunnel(&mut sim);
    assert!(to_client(&mut c, &mut sim, &msg(MsgType::Ocrp, 0x0999, x, 1)).is_empty());
    assert_eq!(sim.drops(DropReason::PptpCallChange), 1);
    assert_eq!(sim.server_map().len(), 2);
    assert_eq!(gre_from_client(&mut sim, CLIENT, 0x0999, 0), None, "no entry for the second server ID");
    c.seq[1] -= 32;
    c.pac(&mut sim, msg(MsgType::Cdn, CCCC, 0, 3));
    assert_clean(&sim);
}

/// The first translated Call ID was the same on every run (a fixed seed).
#[test]
fn translated_call_ids_differ_from_run_to_run() {
    let first = |alg: PptpAlg| {
        let mut sim = lab(ONE);
        sim.slow.enable_pptp(alg);
        let mut c = Control::open(&mut sim, CLIENT, 40000);
        c.call(&mut sim, AAAA, CCCC)
    };
    let owners = || Arc::new(OwnerMap::new(1, &[PUBLIC]));
    let seeded: Vec<u16> =
        (0..2).map(|_| first(PptpAlg::with_seed(owners(), &[PUBLIC], AlgLimits::default(), 7))).collect();
    assert_eq!(seeded[0], seeded[1], "a chosen seed repeats (benchmarks)");
    let runs: Vec<u16> =
        (0..8).map(|_| first(PptpAlg::new(owners(), &[PUBLIC], AlgLimits::default()))).collect();
    assert!(runs.iter().any(|x| *x != runs[0]), "eight runs, one ID: {runs:?}");
}

/// Any RST closed any TCP session: one blind RST ended the control connection and every
/// tunnel on it. Now only one inside the window does.
#[test]
fn a_blind_reset_cannot_end_the_control_connection() {
    let mut sim = lab(ONE);
    let (mut c, x) = one_tunnel(&mut sim);
    let real = c.seq[1];
    for guess in [real.wrapping_add(1 << 20), real.wrapping_sub(1 << 20), real ^ 0x8000_0000] {
        c.seq[1] = guess;
        assert!(c.send_to_client(&mut sim, RST, b"").is_none(), "seq {guess}");
        c.seq[1] = guess;
        assert!(c.send_to_server(&mut sim, RST | ACK, b"").is_none(), "ack {guess}");
    }
    c.seq[1] = real;
    assert_eq!(sim.drops(DropReason::TcpOutOfWindow), 6);
    assert_eq!(sim.server_map().len(), 2);
    assert_eq!(gre_from_server(&mut sim, x, 0), Some((SERVER, CLIENT, AAAA)), "the tunnel lives");
    c.pns(&mut sim, msg(MsgType::EchoRq, 0, 0, 0));
    assert!(c.send_to_client(&mut sim, RST, b"").is_some(), "a reset in the window ends it");
    assert_clean(&sim);
}

/// SYN+FIN, no flags, FIN without ACK in an established session were forwarded.
#[test]
fn impossible_flag_sets_are_dropped() {
    let mut sim = lab(ONE);
    let (mut c, _) = one_tunnel(&mut sim);
    for flags in [SYN | FIN, 0, FIN, SYN | RST, FIN | PSH | 0x20] {
        assert!(c.send_to_server(&mut sim, flags, b"").is_none(), "{flags:#x}");
        assert!(c.send_to_client(&mut sim, flags, b"").is_none(), "{flags:#x}");
    }
    assert_eq!(sim.drops(DropReason::TcpBadFlags), 10);
    assert_eq!(sim.server_map().len(), 2, "nothing changed");
}

/// "Fragmentation needed" about the client's GRE found no session (one-way sessions
/// were indexed by their first packet's key only) and was dropped, so path-MTU
/// discovery through PPTP tunnels broke. With several workers the error may reach one
/// that does not own the tunnel's session: the ALG places it on the slow path.
#[test]
fn icmp_errors_about_tunnel_gre_reach_their_senders() {
    for workers in [1, 2] {
        for rx in 0..workers {
            let mut sim = lab(Setup { workers, ..ONE });
            let (_c, x) = one_tunnel(&mut sim);
            let error = |l2, l3, gre: Vec<u8>, code| {
                let mut err = vec![3, code, 0, 0, 0, 0, 0x05, 0x78];
                err.extend_from_slice(&gre[14..14 + 28]);
                let c = wire::checksum::checksum(&err);
                err[2..4].copy_from_slice(&c.to_be_bytes());
                craft::ethernet_ipv4(l2, l3, 1, &err)
            };
            // A router on the way to the server: the client's GRE was too big.
            let gre = craft::gre_v1(
                L2 { src: OUT_MAC, dst: SERVER_MAC },
                L3 { src: PUBLIC, dst: SERVER, ttl: 63 },
                CCCC,
                1,
                b"\xff\x03ppp",
            );
            let router = Ipv4Addr::new(1, 1, 1, 254);
            let l3 = L3 { src: router, dst: PUBLIC, ttl: 64 };
            sim.receive(OUTSIDE, rx, &error(L2 { src: SERVER_MAC, dst: OUT_MAC }, l3, gre, 4));
            let (port, f) =
                sent_one(&mut sim).unwrap_or_else(|| panic!("to the client, {workers} worker(s), rx {rx}"));
            assert_eq!(port, INSIDE);
            let ip = Ipv4Packet::new_checked(&f.data()[14..]).unwrap();
            assert!(ip.verify_checksum());
            assert_eq!((ip.src_addr(), ip.dst_addr()), (router, CLIENT));
            let quoted = &ip.payload()[8..];
            assert_eq!(quoted[12..16], CLIENT.octets(), "the quoted GRE as the client sent it");
            assert!(wire::checksum::checksum(ip.payload()) == 0, "ICMP checksum");

            // The client about the server's GRE to it: the error goes to the server.
            let gre = craft::gre_v1(
                L2 { src: IN_MAC, dst: CLIENT_MAC },
                L3 { src: SERVER, dst: CLIENT, ttl: 63 },
                AAAA,
                1,
                b"\xff\x03ppp",
            );
            let l3 = L3 { src: CLIENT, dst: SERVER, ttl: 64 };
            sim.receive(INSIDE, rx, &error(L2 { src: CLIENT_MAC, dst: IN_MAC }, l3, gre, 1));
            let (port, f) =
                sent_one(&mut sim).unwrap_or_else(|| panic!("to the server, {workers} worker(s), rx {rx}"));
            assert_eq!(port, OUTSIDE);
            let ip = Ipv4Packet::new_checked(&f.data()[14..]).unwrap();
            assert_eq!((ip.src_addr(), ip.dst_addr()), (PUBLIC, SERVER));
            let quoted = &ip.payload()[8..];
            assert_eq!((&quoted[12..16], &quoted[16..20]), (&SERVER.octets()[..], &PUBLIC.octets()[..]));
            assert_eq!(
                u16::from_be_bytes([quoted[26], quoted[27]]),
                x,
                "the quoted key as the server sent it"
            );
            assert_eq!(sim.wire.stats.total_drops(), 0, "{:?}", sim.wire.stats);
        }
    }
}

/// Large PPTP GRE packets get fragmented on real links: every fragment of the server's
/// GRE reaches the client, the key translated in the first, with one or two workers
/// (the fragments cross to the worker that owns the datagram, then to the tunnel's).
#[test]
fn fragmented_tunnel_gre_reaches_the_client() {
    for workers in [1, 2] {
        let mut sim = lab(Setup { workers, ..ONE });
        let (_c, x) = one_tunnel(&mut sim);
        let ppp: Vec<u8> = (0..2000u32).map(|i| i as u8).collect();
        let l3 = L3 { src: SERVER, dst: PUBLIC, ttl: 64 };
        let whole = craft::gre_v1(L2 { src: SERVER_MAC, dst: OUT_MAC }, l3, x, 9, &ppp);
        let frags = craft::fragments(&whole, 1000);
        assert_eq!(frags.len(), 3);
        for (i, f) in frags.iter().enumerate() {
            sim.receive(OUTSIDE, (i % 2) as u16 % workers, f);
            let (port, out) =
                sent_one(&mut sim).unwrap_or_else(|| panic!("fragment {i} with {workers} worker(s)"));
            assert_eq!(port, INSIDE);
            let ip = Ipv4Packet::new_checked(&out.data()[14..]).unwrap();
            assert!(ip.verify_checksum());
            assert_eq!(ip.dst_addr(), CLIENT);
            if i == 0 {
                assert_eq!(GrePacket::new_checked(ip.payload()).unwrap().call_id(), Some(AAAA));
            }
        }
        assert_eq!(sim.wire.stats.total_drops(), 0, "{:?}", sim.wire.stats);
        if workers == 2 {
            assert!(sim.wire.stats.handoffs_out > 0, "fragments crossed between workers");
        }
    }
}

/// Fragments in any order: the last ones wait (bounded, briefly) for their datagram's
/// first, then all go through; a fragment whose first never comes is dropped when its
/// time is up, and with no room left to hold one it is dropped at once.
#[test]
fn fragments_in_reverse_order_wait_for_their_first() {
    for workers in [1, 2] {
        let mut sim = lab(Setup { workers, ..ONE });
        let (_c, x) = one_tunnel(&mut sim);
        let ppp: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        let l3 = L3 { src: SERVER, dst: PUBLIC, ttl: 64 };
        let whole = craft::gre_v1(L2 { src: SERVER_MAC, dst: OUT_MAC }, l3, x, 9, &ppp);
        let frags = craft::fragments(&whole, 1000);
        assert_eq!(frags.len(), 4);
        for (n, f) in frags.iter().rev().enumerate() {
            sim.receive(OUTSIDE, (n % 2) as u16 % workers, f);
        }
        let sent = sim.take_sent();
        assert_eq!(sent.len(), 4, "{workers} worker(s): every fragment out, {:?}", sim.wire.stats);
        assert!(sent.iter().all(|(port, _)| *port == INSIDE));
        assert_eq!(sim.wire.stats.total_drops(), 0);

        // A datagram whose first never comes: its fragment waits, then is dropped.
        let lone =
            craft::fragments(&craft::gre_v1(L2 { src: SERVER_MAC, dst: OUT_MAC }, l3, x, 10, &ppp), 1000);
        sim.receive(OUTSIDE, 0, &with_ident(&lone[3], 77));
        assert!(sim.take_sent().is_empty());
        assert_eq!(sim.wire.stats.total_drops(), 0, "held, not dropped");
        sim.advance_ms(499);
        assert_eq!(sim.drops(DropReason::Ipv4Fragment), 0, "still held");
        sim.advance_ms(1);
        assert_eq!(sim.drops(DropReason::Ipv4Fragment), 1, "its time is up");
    }
    // No room: 64 held per worker, the 65th is dropped at once.
    let mut sim = lab(ONE);
    let (_c, x) = one_tunnel(&mut sim);
    let l3 = L3 { src: SERVER, dst: PUBLIC, ttl: 64 };
    for seq in 0..65 {
        let d = craft::gre_v1(L2 { src: SERVER_MAC, dst: OUT_MAC }, l3, x, 100 + seq, &[7u8; 1200]);
        let f = craft::fragments(&d, 1000).pop().unwrap();
        sim.receive(OUTSIDE, 0, &with_ident(&f, 1000 + seq as u16));
    }
    assert_eq!(sim.drops(DropReason::FragmentHoldFull), 1);
}

/// A frame of another datagram: its IP identification changed, the checksum with it.
fn with_ident(frame: &[u8], ident: u16) -> Vec<u8> {
    let mut f = frame.to_vec();
    f[18..20].copy_from_slice(&ident.to_be_bytes());
    f[24..26].copy_from_slice(&[0, 0]);
    let c = wire::checksum::checksum(&f[14..34]);
    f[24..26].copy_from_slice(&c.to_be_bytes());
    f
}
