//! The ALG on its own: the scenario of DESIGN.md at the message level, calls, teardown.
use super::*;

const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
const CLIENT2: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 2);
const PUBLIC: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 2);
const SERVER: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 1);
const AAAA: u16 = 0x1234;
const CCCC: u16 = 0x0080;

#[derive(Default)]
struct Out {
    installed: Vec<(u16, ServerMapEntry)>,
    removed: Vec<(u16, FlowKey)>,
}

impl AlgOutput for Out {
    fn install(&mut self, owner: u16, entry: ServerMapEntry) {
        self.installed.push((owner, entry));
    }
    fn uninstall(&mut self, owner: u16, key: FlowKey) {
        self.removed.push((owner, key));
    }
}

fn message(kind: MsgType, a: u16, b: u16, result: u8) -> Vec<u8> {
    let mut m = vec![0u8; kind.length()];
    m[0..2].copy_from_slice(&(kind.length() as u16).to_be_bytes());
    m[2..4].copy_from_slice(&1u16.to_be_bytes());
    m[4..8].copy_from_slice(&wire::pptp::MAGIC_COOKIE.to_be_bytes());
    m[8..10].copy_from_slice(&(kind as u16).to_be_bytes());
    m[12..14].copy_from_slice(&a.to_be_bytes());
    m[14..16].copy_from_slice(&b.to_be_bytes());
    if kind == MsgType::Sccrp {
        m[14] = result;
    } else if m.len() > 16 {
        m[16] = result;
    }
    m
}

struct Conn1 {
    control: FlowKey,
    seq: [u32; 2],
}

impl Conn1 {
    fn new(client: Ipv4Addr, port: u16) -> Conn1 {
        Conn1 { control: FlowKey::new(client, SERVER, port, 1723, 6), seq: [1000, 5000] }
    }

    fn send(&mut self, alg: &mut PptpAlg, dir: Dir, bytes: Vec<u8>, now: u64, out: &mut Out) -> Vec<u8> {
        self.try_send(alg, dir, bytes, now, out).expect("forwarded whole")
    }

    /// What is forwarded of a segment, whole, or why it is not. A refused segment is
    /// not sent again: the stream goes on after it, as a sender that gave up on it.
    fn try_send(
        &mut self,
        alg: &mut PptpAlg,
        dir: Dir,
        mut bytes: Vec<u8>,
        now: u64,
        out: &mut Out,
    ) -> Result<Vec<u8>, PptpError> {
        let seq = self.seq[dir.index()];
        let seg = Segment { control: self.control, public: PUBLIC, dir, seq, payload: &mut bytes };
        let fed = alg.segment(seg, Millis(now), out)?;
        if let Some(e) = fed.refused {
            return Err(e);
        }
        self.seq[dir.index()] += bytes.len() as u32;
        Ok(bytes)
    }

    /// Start-Control-Connection both ways.
    fn start(&mut self, alg: &mut PptpAlg, out: &mut Out) {
        self.send(alg, Dir::Original, message(MsgType::Sccrq, 0, 0, 0), 0, out);
        self.send(alg, Dir::Reply, message(MsgType::Sccrp, 0, 0, 1), 0, out);
    }
}

fn alg() -> PptpAlg {
    PptpAlg::new(Arc::new(OwnerMap::new(2, &[PUBLIC])), &[PUBLIC], AlgLimits::default())
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

#[test]
fn the_design_scenario() {
    let mut alg = alg();
    let mut out = Out::default();
    let mut c = Conn1::new(CLIENT, 40000);
    c.send(&mut alg, Dir::Original, message(MsgType::Sccrq, 0, 0, 0), 0, &mut out);
    c.send(&mut alg, Dir::Reply, message(MsgType::Sccrp, 0, 0, 1), 0, &mut out);
    assert!(out.installed.is_empty());

    // OCRQ: the client's Call ID aaaa becomes bbbb, from the slice of the worker the NIC
    // delivers the server's GRE to (hashed by addresses, server to public).
    let ocrq = c.send(&mut alg, Dir::Original, message(MsgType::Ocrq, AAAA, 1, 0), 1, &mut out);
    let bbbb = be16(&ocrq, 12);
    assert_ne!(bbbb, AAAA);
    let inbound = alg.core.owners.by_addrs(SERVER.into(), PUBLIC.into());
    assert!(alg.core.owners.slice(inbound).contains(&bbbb));
    assert_eq!(out.installed.len(), 1);
    let (owner, sm1) = out.installed[0];
    assert_eq!(owner, inbound, "the owner of GRE to bbbb at the public address");
    assert_eq!(sm1.key, FlowKey::new(SERVER, PUBLIC, 0, bbbb, 47));
    assert_eq!(sm1.translated, FlowKey::new(SERVER, CLIENT, 0, AAAA, 47));

    // OCRP: the server's Call ID cccc stays, the peer's bbbb goes back to aaaa.
    let ocrp = c.send(&mut alg, Dir::Reply, message(MsgType::Ocrp, CCCC, bbbb, 1), 2, &mut out);
    assert_eq!((be16(&ocrp, 12), be16(&ocrp, 14)), (CCCC, AAAA));
    assert_eq!(out.installed.len(), 2);
    let (owner2, sm2) = out.installed[1];
    assert_eq!(owner2, alg.core.owners.owner(&sm2.key, false));
    assert_eq!(sm2.key, FlowKey::new(CLIENT, SERVER, 0, CCCC, 47));
    assert_eq!(sm2.translated, FlowKey::new(PUBLIC, SERVER, 0, CCCC, 47));

    // The ALG's list is what `display firewall server-map` renders (ctrlplane::render):
    // both entries, pptp-gre, 9 min 59 s left one second after the OCRQ.
    let listed: Vec<(ServerMapEntry, u64)> =
        alg.server_map(Millis(1002)).iter().map(|v| (v.entry, v.left_secs)).collect();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&(sm1, 599)) && listed.contains(&(sm2, 599)), "{listed:?}");
    assert!(listed.iter().all(|(e, _)| e.app == App::PptpGre));

    // SLI from the client carries the server's ID: untouched. WEN from the server
    // carries the client's: translated back.
    let sli = c.send(&mut alg, Dir::Original, message(MsgType::Sli, CCCC, 0, 0), 3, &mut out);
    assert_eq!(be16(&sli, 12), CCCC);
    let wen = c.send(&mut alg, Dir::Reply, message(MsgType::Wen, bbbb, 0, 0), 3, &mut out);
    assert_eq!(be16(&wen, 12), AAAA);

    // CCRQ translated; CDN (the server's own ID) ends the call.
    let ccrq = c.send(&mut alg, Dir::Original, message(MsgType::Ccrq, AAAA, 0, 0), 4, &mut out);
    assert_eq!(be16(&ccrq, 12), bbbb);
    c.send(&mut alg, Dir::Reply, message(MsgType::Cdn, CCCC, 0, 0), 5, &mut out);
    assert_eq!(out.removed.len(), 2);
    assert!(alg.server_map(Millis(5)).is_empty());
    assert_eq!(alg.calls(), 0);
    assert_eq!(alg.call_ids_in_use(PUBLIC), 0);
}

#[test]
fn two_clients_with_the_same_call_id_get_distinct_ones() {
    let mut alg = alg();
    let mut out = Out::default();
    let mut a = Conn1::new(CLIENT, 40000);
    a.start(&mut alg, &mut out);
    let mut b = Conn1::new(CLIENT2, 40000);
    b.start(&mut alg, &mut out);
    let xa = be16(&a.send(&mut alg, Dir::Original, message(MsgType::Ocrq, AAAA, 1, 0), 0, &mut out), 12);
    let xb = be16(&b.send(&mut alg, Dir::Original, message(MsgType::Ocrq, AAAA, 1, 0), 0, &mut out), 12);
    assert_ne!(xa, xb);
    let back_a = a.send(&mut alg, Dir::Reply, message(MsgType::Ocrp, 0, xa, 1), 1, &mut out);
    let back_b = b.send(&mut alg, Dir::Reply, message(MsgType::Ocrp, 128, xb, 1), 1, &mut out);
    assert_eq!((be16(&back_a, 14), be16(&back_b, 14)), (AAAA, AAAA));
    assert_eq!(alg.server_map(Millis(1)).len(), 4);
}

#[test]
fn two_calls_on_one_connection_and_teardown_by_close() {
    let mut alg = alg();
    let mut out = Out::default();
    let mut c = Conn1::new(CLIENT, 40000);
    c.start(&mut alg, &mut out);
    let x1 = be16(&c.send(&mut alg, Dir::Original, message(MsgType::Ocrq, 1, 1, 0), 0, &mut out), 12);
    let x2 = be16(&c.send(&mut alg, Dir::Original, message(MsgType::Ocrq, 2, 2, 0), 0, &mut out), 12);
    assert_ne!(x1, x2);
    c.send(&mut alg, Dir::Reply, message(MsgType::Ocrp, 10, x1, 1), 0, &mut out);
    c.send(&mut alg, Dir::Reply, message(MsgType::Ocrp, 11, x2, 1), 0, &mut out);
    assert_eq!(alg.calls(), 2);
    assert_eq!(out.installed.len(), 4);
    alg.close(&c.control, &mut out);
    assert_eq!(out.removed.len(), 4);
    assert_eq!(alg.connections(), 0);
    assert!(alg.server_map(Millis(0)).is_empty());
    assert_eq!(alg.call_ids_in_use(PUBLIC), 0);
}

#[test]
fn an_incoming_call() {
    let mut alg = alg();
    let mut out = Out::default();
    let mut c = Conn1::new(CLIENT, 40000);
    c.start(&mut alg, &mut out);
    c.send(&mut alg, Dir::Reply, message(MsgType::Icrq, CCCC, 9, 0), 0, &mut out);
    assert!(out.installed.is_empty());
    let icrp = c.send(&mut alg, Dir::Original, message(MsgType::Icrp, AAAA, CCCC, 1), 1, &mut out);
    let x = be16(&icrp, 12);
    assert_ne!(x, AAAA);
    assert_eq!(be16(&icrp, 14), CCCC);
    assert_eq!(out.installed.len(), 2, "both directions at once");
    let iccn = c.send(&mut alg, Dir::Reply, message(MsgType::Iccn, x, 0, 0), 2, &mut out);
    assert_eq!(be16(&iccn, 12), AAAA);
    c.send(&mut alg, Dir::Original, message(MsgType::StopCcrq, 0, 0, 0), 3, &mut out);
    assert_eq!(out.removed.len(), 2);
}

#[test]
fn a_refused_call_leaves_nothing() {
    let mut alg = alg();
    let mut out = Out::default();
    let mut c = Conn1::new(CLIENT, 40000);
    c.start(&mut alg, &mut out);
    let x = be16(&c.send(&mut alg, Dir::Original, message(MsgType::Ocrq, AAAA, 1, 0), 0, &mut out), 12);
    c.send(&mut alg, Dir::Reply, message(MsgType::Ocrp, CCCC, x, 2), 1, &mut out);
    assert_eq!(out.removed.len(), 1);
    assert_eq!(alg.calls(), 0);
    assert!(alg.server_map(Millis(1)).is_empty());
}

#[test]
fn silent_connections_age_out() {
    let mut alg = alg();
    let mut out = Out::default();
    let mut c = Conn1::new(CLIENT, 40000);
    c.start(&mut alg, &mut out);
    let x = be16(&c.send(&mut alg, Dir::Original, message(MsgType::Ocrq, AAAA, 1, 0), 0, &mut out), 12);
    c.send(&mut alg, Dir::Reply, message(MsgType::Ocrp, CCCC, x, 1), 0, &mut out);
    alg.tick(Millis(599_000), &mut out);
    assert!(out.removed.is_empty());
    c.send(&mut alg, Dir::Original, message(MsgType::EchoRq, 0, 0, 0), 599_000, &mut out);
    alg.tick(Millis(1_198_000), &mut out);
    assert!(out.removed.is_empty(), "the echo kept it alive");
    alg.tick(Millis(1_199_000), &mut out);
    assert_eq!(out.removed.len(), 2);
    assert_eq!(alg.connections(), 0);
}

#[test]
fn a_malformed_message_creates_nothing() {
    let mut alg = alg();
    let mut out = Out::default();
    let mut bad = message(MsgType::Ocrq, AAAA, 1, 0);
    bad[5] = 0;
    let seg = Segment {
        control: FlowKey::new(CLIENT, SERVER, 1, 1723, 6),
        public: PUBLIC,
        dir: Dir::Original,
        seq: 1,
        payload: &mut bad,
    };
    assert_eq!(alg.segment(seg, Millis(0), &mut out).unwrap_err(), PptpError::BadCookie);
    assert!(out.installed.is_empty());
    assert_eq!(alg.calls(), 0);
    assert_eq!(alg.connections(), 0);
    assert_eq!(alg.counters().malformed, 1);
}

#[test]
fn the_call_limit_holds() {
    let owners = Arc::new(OwnerMap::new(1, &[PUBLIC]));
    let mut alg =
        PptpAlg::new(owners, &[PUBLIC], AlgLimits { calls_per_connection: 2, ..AlgLimits::default() });
    let mut out = Out::default();
    let mut c = Conn1::new(CLIENT, 40000);
    c.start(&mut alg, &mut out);
    for id in 1..=2 {
        c.send(&mut alg, Dir::Original, message(MsgType::Ocrq, id, 1, 0), 0, &mut out);
    }
    // The old ALG forwarded the third OCRQ with the client's own Call ID.
    assert_eq!(
        c.try_send(&mut alg, Dir::Original, message(MsgType::Ocrq, 3, 1, 0), 0, &mut out),
        Err(PptpError::CallLimit)
    );
    assert_eq!(alg.calls(), 2);
    assert_eq!(alg.counters().call_limit, 1);
}

/// Every translated Call ID of a public address in use: the next call is refused (the
/// old ALG forwarded it with the client's own ID), the calls up go on, and when one
/// connection ends its IDs serve new calls, without a restart.
#[test]
fn call_ids_run_out_and_come_back() {
    let owners = Arc::new(OwnerMap::new(1, &[PUBLIC]));
    let limits = AlgLimits { calls_per_connection: 64, connections: 2000, ..AlgLimits::default() };
    let mut alg = PptpAlg::with_seed(owners, &[PUBLIC], limits, 1);
    let mut out = Out::default();
    let size = 65536 - 1024;
    let mut conns = Vec::new();
    let mut made = 0;
    'fill: for n in 0..1100u32 {
        let client = Ipv4Addr::from(u32::from(CLIENT) + n);
        let mut c = Conn1::new(client, 40000);
        c.start(&mut alg, &mut out);
        for id in 0..64u16 {
            match c.try_send(&mut alg, Dir::Original, message(MsgType::Ocrq, id, 1, 0), 0, &mut out) {
                Ok(m) => assert!(be16(&m, 12) >= 1024, "translated"),
                Err(e) => {
                    assert_eq!(e, PptpError::CallIdsExhausted);
                    conns.push(c);
                    break 'fill;
                }
            }
            made += 1;
        }
        conns.push(c);
    }
    assert_eq!(made, size, "every ID of the slice handed out once");
    assert_eq!(alg.call_ids_in_use(PUBLIC), size as u32);
    assert!(alg.counters().call_ids_exhausted >= 1);
    let last = conns.last_mut().unwrap();
    assert_eq!(
        last.try_send(&mut alg, Dir::Original, message(MsgType::Ocrq, 900, 1, 0), 1, &mut out),
        Err(PptpError::CallIdsExhausted)
    );
    // One connection ends: its 64 IDs come back and serve a new client.
    let first = conns.remove(0);
    alg.close(&first.control, &mut out);
    let mut fresh = Conn1::new(Ipv4Addr::new(10, 9, 9, 9), 40000);
    fresh.start(&mut alg, &mut out);
    let m = fresh.send(&mut alg, Dir::Original, message(MsgType::Ocrq, 7, 1, 0), 2, &mut out);
    assert!(be16(&m, 12) >= 1024);
}
