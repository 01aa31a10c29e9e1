use super::*;

fn key(i: u32) -> FlowKey {
    FlowKey { src: 0xc0a8_0100 + i, dst: 0xcb00_7101, sport: 40000, dport: 53, proto: 17 }
}

fn udp_session(i: u32) -> NewSession {
    let original = key(i);
    let translated = FlowKey { src: 0xcb00_7102, sport: 2048 + i as u16, ..original };
    NewSession {
        original,
        translated,
        tcp: None,
        class: TimeoutClass::Udp,
        app: App::None,
        nat: None,
        two_way: true,
        zones: [0, 1],
    }
}

fn table(capacity: usize) -> SessionTable {
    SessionTable::new(capacity, Timeouts::default())
}

#[test]
fn both_directions_find_the_session() {
    let mut t = table(4);
    let new = udp_session(1);
    let reply = new.reply();
    let id = t.create(new, Millis(0), |_| {}).unwrap();
    assert_eq!(t.lookup(&key(1)), Some((id, Dir::Original)));
    assert_eq!(t.lookup(&reply), Some((id, Dir::Reply)));
    assert_eq!(t.lookup(&key(2)), None);
    let s = t.get(id);
    assert_eq!(s.rewrite(Dir::Original).src_addr(), Some(0xcb00_7102));
    assert_eq!(s.rewrite(Dir::Reply).dst_addr(), Some(key(1).src));
}

#[test]
fn full_table_refuses_new_flows_and_keeps_old_ones() {
    let mut t = table(2);
    t.create(udp_session(1), Millis(0), |_| {}).unwrap();
    t.create(udp_session(2), Millis(0), |_| {}).unwrap();
    assert_eq!(t.create(udp_session(3), Millis(1000), |_| {}).unwrap_err(), CreateError::Full);
    assert!(t.lookup(&key(1)).is_some());
    assert!(t.lookup(&key(2)).is_some());
    assert_eq!(t.len(), 2);
}

#[test]
fn full_table_reclaims_expired_sessions_first() {
    let mut t = table(1);
    t.create(udp_session(1), Millis(0), |_| {}).unwrap();
    let mut removed = vec![];
    let id = t.create(udp_session(2), Millis(120_000), |s| removed.push(s.keys[0])).unwrap();
    assert_eq!(removed, [key(1)]);
    assert_eq!(t.lookup(&key(2)), Some((id, Dir::Original)));
}

#[test]
fn same_key_twice_is_a_conflict() {
    let mut t = table(4);
    t.create(udp_session(1), Millis(0), |_| {}).unwrap();
    assert_eq!(t.create(udp_session(1), Millis(0), |_| {}).unwrap_err(), CreateError::Conflict);
}

#[test]
fn each_class_ages_with_its_own_timeout() {
    let mut t = table(8);
    let classes = [
        (TimeoutClass::TcpHalfOpen, 5),
        (TimeoutClass::TcpEstablished, 1200),
        (TimeoutClass::TcpClosing, 10),
        (TimeoutClass::Udp, 120),
        (TimeoutClass::Icmp, 20),
        (TimeoutClass::Gre, 600),
    ];
    for (i, (class, _)) in classes.iter().enumerate() {
        let mut s = udp_session(i as u32);
        s.class = *class;
        t.create(s, Millis(0), |_| {}).unwrap();
    }
    let mut by_timeout: Vec<(usize, u64)> = classes.iter().enumerate().map(|(i, (_, s))| (i, *s)).collect();
    by_timeout.sort_by_key(|(_, s)| *s);
    for (i, secs) in &by_timeout {
        let (i, secs) = (*i, *secs);
        let before = Millis(secs * 1000 - 1);
        assert_eq!(t.expire(before, 100, |_| {}), 0, "nothing expires before {secs} s");
        let mut gone = vec![];
        t.expire(Millis(secs * 1000), 100, |s| gone.push(s.keys[0]));
        assert_eq!(gone, [key(i as u32)], "class {i} expires at {secs} s");
    }
    assert!(t.is_empty());
}

#[test]
fn traffic_keeps_a_session_alive_and_reorders_the_list() {
    let mut t = table(4);
    let a = t.create(udp_session(1), Millis(0), |_| {}).unwrap();
    t.create(udp_session(2), Millis(0), |_| {}).unwrap();
    t.touch(a, Dir::Reply, 100, Millis(100_000));
    let mut gone = vec![];
    t.expire(Millis(120_000), 10, |s| gone.push(s.keys[0]));
    assert_eq!(gone, [key(2)]);
    assert_eq!(t.get(a).packets, [0, 1]);
    assert_eq!(t.get(a).bytes, [0, 100]);
    assert_eq!(t.remaining_ms(t.get(a), Millis(120_000)), 100_000);
}

#[test]
fn expiry_is_bounded_per_call() {
    let mut t = table(100);
    for i in 0..100 {
        t.create(udp_session(i), Millis(0), |_| {}).unwrap();
    }
    assert_eq!(t.expire(Millis(200_000), 8, |_| {}), 8);
    assert_eq!(t.len(), 92);
}

#[test]
fn class_change_moves_between_lists() {
    let mut t = table(2);
    let mut s = udp_session(1);
    s.class = TimeoutClass::TcpHalfOpen;
    let id = t.create(s, Millis(0), |_| {}).unwrap();
    t.set_class(id, TimeoutClass::TcpEstablished);
    assert_eq!(t.expire(Millis(6_000), 10, |_| {}), 0);
    t.remove(id);
    assert!(t.is_empty());
    assert!(t.lookup(&key(1)).is_none());
}

#[test]
fn the_nat_number_held_is_the_reply_keys_destination() {
    let mut t = table(4);
    let mut new = udp_session(1);
    let binding = NatBinding { public: std::net::Ipv4Addr::new(203, 0, 113, 2), port: 2049, proto: 17 };
    new.nat = Some(binding);
    let id = t.create(new, Millis(0), |_| {}).unwrap();
    assert_eq!(t.get(id).nat(), Some(binding));
    let mut portless = udp_session(2);
    portless.nat = Some(NatBinding { port: 0, ..binding });
    let id = t.create(portless, Millis(0), |_| {}).unwrap();
    assert_eq!(t.get(id).nat(), None, "a binding without a port holds nothing to give back");
}

proptest::proptest! {
    /// Whatever the packets' times, expiry takes only sessions whose timeout has passed
    /// and leaves none more than one LRU period (1,024 ms) past it; slots freed and taken
    /// again keep every session findable by its keys.
    #[test]
    fn expiry_is_never_early_and_at_most_a_period_late(
        steps in proptest::collection::vec((0u32..12, 0u64..2500), 1..300)
    ) {
        let timeout = 5_000;
        let mut t = SessionTable::new(8, Timeouts { udp: timeout / 1000, ..Timeouts::default() });
        let mut now = 0;
        for (which, dt) in steps {
            now += dt;
            match t.lookup(&key(which)) {
                Some((id, _)) => t.touch(id, Dir::Original, 60, Millis(now)),
                None => {
                    let _ = t.create(udp_session(which), Millis(now), |_| {});
                }
            }
            let mut early = vec![];
            t.expire(Millis(now), 100, |s| {
                if now < s.last_seen.0 + timeout {
                    early.push(s.keys[0]);
                }
            });
            proptest::prop_assert!(early.is_empty(), "expired early: {early:?}");
            for (id, s) in t.iter() {
                proptest::prop_assert!(now < s.last_seen.0 + timeout + 1024, "{id} left {} ms late", now - s.last_seen.0 - timeout);
                proptest::prop_assert_eq!(t.lookup(&s.keys[0]), Some((id, Dir::Original)));
                proptest::prop_assert_eq!(t.lookup(&s.keys[1]), Some((id, Dir::Reply)));
            }
            proptest::prop_assert_eq!(t.iter().count(), t.len());
        }
    }
}

/// What a session costs is what bounds the table an operator can afford: BENCHMARKS.md
/// and deploy.md give these figures, and a field added carelessly shows here first.
#[test]
fn a_session_stays_within_its_budget() {
    assert!(std::mem::size_of::<Session>() <= 144, "{} bytes", std::mem::size_of::<Session>());
    assert!(SessionTable::memory_bytes(1 << 20) >> 20 <= 176);
}
