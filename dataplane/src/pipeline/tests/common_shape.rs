//! The read-ahead parse of the common shape held to the full one. A frame an attacker
//! shapes to pass the short checks and fail the long ones would cross where the full
//! path drops it: so for any frame, what `common_shape` accepts is what `classify`
//! concludes, and a worker that reads ahead (`hint`, then `process_hinted`) treats every
//! frame, session state included, as one that does not (`process`).
use super::*;
use proptest::prelude::*;

/// A change to a frame: xor a byte of its first 64, cut it, make the IPv4 total length
/// claim fewer bytes than there are, mend the IPv4 checksum.
#[derive(Debug, Clone, Copy)]
struct Mutation {
    at: usize,
    xor: u8,
    cut: Option<usize>,
    shorter: Option<u16>,
    mend_checksum: bool,
}

fn mutation() -> impl Strategy<Value = Option<Mutation>> {
    let cut = proptest::option::weighted(0.15, 14usize..80);
    let shorter = proptest::option::weighted(0.2, 1u16..24);
    proptest::option::weighted(
        0.6,
        (0usize..64, 1u8..=255, cut, shorter, any::<bool>()).prop_map(
            |(at, xor, cut, shorter, mend_checksum)| Mutation { at, xor, cut, shorter, mend_checksum },
        ),
    )
}

fn mutate(mut f: Vec<u8>, m: Option<Mutation>) -> Vec<u8> {
    let Some(m) = m else { return f };
    if let Some(b) = f.get_mut(m.at) {
        *b ^= m.xor;
    }
    if let Some(len) = m.cut {
        f.truncate(len.max(1));
    }
    if let (Some(by), Some(t)) = (m.shorter, f.get_mut(16..18)) {
        let claimed = u16::from_be_bytes([t[0], t[1]]).saturating_sub(by);
        t.copy_from_slice(&claimed.to_be_bytes());
    }
    if m.mend_checksum && f.len() >= 34 && f[14] >> 4 == 4 {
        let ihl = usize::from(f[14] & 0xf) * 4;
        if ihl >= 20 && f.len() >= 14 + ihl {
            f[24..26].copy_from_slice(&[0, 0]);
            let c = wire::checksum::checksum(&f[14..14 + ihl]);
            f[24..26].copy_from_slice(&c.to_be_bytes());
        }
    }
    f
}

/// One step: a frame out of the inside, or back from the server to a NAT number a
/// session holds (`pick` among those seen), UDP, TCP or enhanced GRE, with any flags
/// and numbers.
#[derive(Debug, Clone, Copy)]
struct Step {
    back: bool,
    /// 17 (UDP), 6 (TCP) or 47 (GRE).
    proto: u8,
    pick: u8,
    flags: u8,
    seq: u32,
    ack: u32,
    ttl: u8,
    m: Option<Mutation>,
}

fn step() -> impl Strategy<Value = Step> {
    let proto = prop_oneof![Just(17u8), Just(6u8), Just(47u8)];
    (any::<bool>(), proto, any::<u8>(), any::<u8>(), 0u32..4000, 0u32..4000, 1u8..4, mutation()).prop_map(
        |(back, proto, pick, flags, seq, ack, ttl, m)| Step { back, proto, pick, flags, seq, ack, ttl, m },
    )
}

/// The frame of a step; `nat` holds the (protocol, public port, client port) seen leave.
fn frame_of(s: &Step, nat: &[(u8, u16, u16)]) -> (Vec<u8>, PortId) {
    let sport = 4000 + u16::from(s.pick % 4);
    let proto = s.proto;
    let tcp = proto == 6;
    let build = |l2, l3, sp, dp| {
        if proto == 47 {
            // The Call ID the receiver named: the destination "port" of GRE's key.
            craft::gre_v1(l2, l3, dp, s.seq, b"\xff\x03ppp")
        } else if tcp && s.pick & 0x10 != 0 {
            // The first 4 bytes after the header read as a window scale option.
            let mut f = craft::tcp(l2, l3, sp, dp, 1000 + s.seq, 2000 + s.ack, s.flags, &[3, 3, 7, 0, 1]);
            f[14 + 20 + 12] = 6 << 4;
            f
        } else if tcp {
            craft::tcp(l2, l3, sp, dp, 1000 + s.seq, 2000 + s.ack, s.flags, b"data")
        } else {
            craft::udp(l2, l3, sp, dp, b"payload")
        }
    };
    let ttl = if s.ttl == 3 { 64 } else { s.ttl };
    let seen: Vec<_> = nat.iter().filter(|n| n.0 == proto).collect();
    let (bytes, port) = match seen.get(usize::from(s.pick) % seen.len().max(1)) {
        Some(&&(_, public_port, _)) if s.back => {
            let l3 = L3 { src: SERVER, dst: PUBLIC, ttl };
            (build(L2 { src: GW_MAC, dst: OUT_MAC }, l3, 80, public_port), 1)
        }
        _ => {
            let l3 = L3 { src: CLIENT, dst: SERVER, ttl };
            (build(L2 { src: CLIENT_MAC, dst: IN_MAC }, l3, sport, 80), 0)
        }
    };
    (mutate(bytes, s.m), port)
}

/// What a session is, for comparing two tables.
fn sessions_of(p: &Pipeline) -> Vec<String> {
    p.sessions()
        .iter()
        .map(|(id, s)| {
            format!(
                "{id} {:?} {:?} {:?} {:?} {:?} {:?}",
                s.keys, s.packets, s.bytes, s.tcp, s.class, s.last_seen
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn what_the_short_parse_accepts_the_full_one_concludes(steps in proptest::collection::vec(step(), 1..24)) {
        let e = env(DEFAULT);
        for s in &steps {
            let (bytes, port) = frame_of(s, &[(6, 1024, 4000), (17, 1025, 4000)]);
            let mac = if port == 0 { IN_MAC } else { OUT_MAC };
            if let Some(p) = classify::common_shape(&bytes, &mac.0) {
                let full = e.p.classify(&bytes, port, Some(true));
                prop_assert!(matches!(full, Ok(classify::Class::Ip(q)) if q == p), "{bytes:02x?}: {p:?}");
                let sw = wire::checksum::checksum(&bytes[14..34]) == 0;
                prop_assert_eq!(classify::header_checksum_ok(&bytes), sw);
            }
        }
    }

    #[test]
    fn reading_ahead_changes_nothing(steps in proptest::collection::vec(step(), 1..48)) {
        let (mut full, mut ahead) = (env(DEFAULT), env(DEFAULT));
        full.p.fix_nat_seed(7);
        ahead.p.fix_nat_seed(7);
        let mut nat = Vec::new();
        for s in &steps {
            let (bytes, port) = frame_of(s, &nat);
            let mut a = TestFrame::new(&bytes).unwrap();
            let mut b = TestFrame::new(&bytes).unwrap();
            let va = full.p.process(&mut a, port, full.now);
            let hint = ahead.p.hint(b.data(), port);
            let vb = ahead.p.process_hinted(&mut b, port, ahead.now, hint.as_ref());
            prop_assert_eq!(va, vb, "{:02x?}", bytes);
            prop_assert_eq!(a.data(), b.data());
            prop_assert_eq!(full.p.counters, ahead.p.counters);
            if va == Verdict::Forward(1) && a.data().len() >= 38 {
                let d = a.data();
                let n = (d[14 + 9], u16::from_be_bytes([d[34], d[35]]), u16::from_be_bytes([bytes[34], bytes[35]]));
                if !nat.contains(&n) {
                    nat.push(n);
                }
            }
            if s.pick % 16 == 0 {
                full.advance(u64::from(s.flags % 8));
                ahead.advance(u64::from(s.flags % 8));
            }
        }
        prop_assert_eq!(sessions_of(&full.p), sessions_of(&ahead.p));
    }
}
