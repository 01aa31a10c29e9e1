//! Two PPTP control connections through one public address, as the input plays them.
//!
//! Each direction of each connection is a sender with a queue of messages the input
//! chose (any type, any Call IDs; a server names the IDs it has seen). The input picks
//! which sender goes next, where its segment starts (at its first unacknowledged byte,
//! before it: a retransmission, or after it: out of order) and how long it is. What
//! the ALG lets through reaches a receiver that keeps every byte by sequence number.
//!
//! Invariants: a byte that reaches a receiver twice is the same both times; no client
//! Call ID (clients use IDs below 1024, translated ones are 1024 and up) reaches the
//! server in a message that carries the client's own ID; after both connections end
//! and every timeout passes, no connection, call, server-map entry or Call ID is left,
//! and every entry installed in a worker was removed again.
use crate::input::Input;
use dataplane::alg::pptp::{AlgLimits, AlgOutput, MsgType, PptpAlg, Segment};
use dataplane::clock::Millis;
use dataplane::owner::OwnerMap;
use dataplane::servermap::ServerMapEntry;
use dataplane::session::Dir;
use std::collections::{BTreeMap, HashSet};
use std::net::Ipv4Addr;
use std::sync::Arc;
use wire::craft;
use wire::FlowKey;

const PUBLIC: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 2);
const SERVER: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 1);
const CLIENTS: [Ipv4Addr; 2] = [Ipv4Addr::new(192, 168, 1, 1), Ipv4Addr::new(192, 168, 1, 2)];
/// Clients' own Call IDs stay below this; translated ones never are.
const CLIENT_IDS: u16 = 1024;
const STEPS: usize = 400;

#[derive(Default)]
struct Out {
    installed: HashSet<FlowKey>,
}

impl AlgOutput for Out {
    fn install(&mut self, _owner: u16, entry: ServerMapEntry) {
        assert!(self.installed.insert(entry.key), "an entry installed twice: {:?}", entry.key);
    }

    fn uninstall(&mut self, _owner: u16, key: FlowKey) {
        assert!(self.installed.remove(&key), "an entry removed that was not installed: {key:?}");
    }
}

/// A message still to be written: its IDs are chosen when the sender reaches it.
#[derive(Clone, Copy)]
struct Template {
    kind: u16,
    id12: u16,
    id14: u16,
    result: u8,
    /// Take the Call IDs from those the sender has seen (a server naming real calls).
    learned: Option<(u8, u8)>,
}

#[derive(Default)]
struct Stream {
    queue: Vec<Template>,
    bytes: Vec<u8>,
    /// First byte the receiver has not got in order.
    una: usize,
    received: BTreeMap<usize, u8>,
    /// Where the receiver's next unread message starts.
    read: usize,
}

impl Stream {
    fn fill(&mut self, upto: usize, seen: &[u16]) {
        while self.bytes.len() < upto && !self.queue.is_empty() {
            let t = self.queue.remove(0);
            let pick =
                |i: u8, raw: u16| if seen.is_empty() { raw } else { seen[usize::from(i) % seen.len()] };
            let (a, b) = match t.learned {
                Some((i, j)) => (pick(i, t.id12), pick(j, t.id14)),
                None => (t.id12, t.id14),
            };
            match MsgType::from_u16(t.kind) {
                Some(kind) => self.bytes.extend(craft::pptp(kind, a, b, t.result)),
                // Not a message: a few bytes of garbage.
                None => self.bytes.extend_from_slice(&t.kind.to_be_bytes()),
            }
        }
    }
}

pub fn pptp_stream(data: &[u8]) {
    let mut input = Input::new(data);
    let flags = input.u8();
    let translate = flags & 1 == 0;
    let calls = usize::from(flags >> 1 & 7) + 1;
    let limits = AlgLimits { calls_per_connection: calls, connections: 8, ..AlgLimits::default() };
    let owners = Arc::new(OwnerMap::new(1 + u16::from(flags >> 4 & 1), &[PUBLIC]));
    let mut alg = PptpAlg::with_seed(owners, &[PUBLIC], limits, u64::from(input.u16()));
    let mut out = Out::default();
    // streams[conn * 2 + dir]
    let mut streams: [Stream; 4] = Default::default();
    for (c, s) in streams.iter_mut().enumerate() {
        let start = [craft::pptp(MsgType::Sccrq, 0, 0, 0), craft::pptp(MsgType::Sccrp, 0, 0, 1)];
        if input.u8() & 3 != 0 {
            s.bytes = start[c % 2].clone();
        }
    }
    let messages = usize::from(input.u8() % 48);
    for _ in 0..messages {
        let pick = input.u8();
        let (conn, dir) = (usize::from(pick & 1), usize::from(pick >> 1 & 1));
        let kind = match input.u8() {
            k @ 0..=15 => u16::from(k),
            k if k >= 0xf0 => 0xffff - u16::from(k),
            k => u16::from(k % 15 + 1),
        };
        let (mut id12, id14, result) = (input.u16(), input.u16(), input.u8() % 4);
        if dir == 0 {
            id12 %= CLIENT_IDS;
        }
        let learned = (dir == 1 && pick & 4 != 0).then(|| (input.u8(), input.u8()));
        streams[conn * 2 + dir].queue.push(Template { kind, id12, id14, result, learned });
    }
    // The translated IDs each server has seen, for its messages to name.
    let mut seen: [Vec<u16>; 2] = Default::default();
    let mut now = 0u64;
    for _ in 0..STEPS {
        if input.is_empty() {
            break;
        }
        let pick = input.u8();
        let (conn, dir) = (usize::from(pick & 1), usize::from(pick >> 1 & 1));
        let s = &mut streams[conn * 2 + dir];
        let len = usize::from(input.u8() % 64) + 1;
        let start = match pick >> 2 & 3 {
            0 => s.una.saturating_sub(usize::from(input.u8() % 64)),
            1 => s.una + usize::from(input.u8() % 32) + 1,
            _ => s.una,
        };
        s.fill(start + len, &seen[conn]);
        if start >= s.bytes.len() {
            continue;
        }
        let end = (start + len).min(s.bytes.len());
        let mut payload = s.bytes[start..end].to_vec();
        now += u64::from(input.u8()) * 50;
        let control = FlowKey::new(CLIENTS[conn], SERVER, 40000 + conn as u16, 1723, 6);
        let public = if translate { PUBLIC } else { CLIENTS[conn] };
        let dir_ = if dir == 0 { Dir::Original } else { Dir::Reply };
        let seq = 1000u32.wrapping_add(start as u32);
        let seg = Segment { control, public, dir: dir_, seq, payload: &mut payload };
        let Ok(fed) = alg.segment(seg, Millis(now), &mut out) else { continue };
        for (i, b) in payload[..fed.keep].iter().enumerate() {
            let at = start + i;
            if let Some(old) = s.received.insert(at, *b) {
                assert_eq!(old, *b, "byte {at} of stream {conn}/{dir} left twice, differently");
            }
        }
        while s.received.contains_key(&s.una) {
            s.una += 1;
        }
        if dir == 0 {
            check_no_client_id(s, translate, &mut seen[conn]);
        }
    }
    for (conn, client) in CLIENTS.iter().enumerate() {
        alg.close(&FlowKey::new(*client, SERVER, 40000 + conn as u16, 1723, 6), &mut out);
    }
    alg.tick(Millis(now + 3_600_000), &mut out);
    assert_eq!((alg.connections(), alg.calls(), alg.entries()), (0, 0, 0), "state left");
    assert_eq!(alg.call_ids_in_use(PUBLIC), 0, "Call IDs left");
    assert!(out.installed.is_empty(), "entries left in workers: {:?}", out.installed);
}

/// Reads the messages the server has received in order and checks the client's own
/// Call IDs in them are translated; remembers them for the server to name.
fn check_no_client_id(s: &mut Stream, translate: bool, seen: &mut Vec<u16>) {
    let byte = |i: usize| s.received.get(&i).copied();
    loop {
        let at = s.read;
        let Some(head) = (at..at + 14).map(byte).collect::<Option<Vec<u8>>>() else { return };
        let len = usize::from(u16::from_be_bytes([head[0], head[1]]));
        let kind = u16::from_be_bytes([head[8], head[9]]);
        if head[4..8] != [0x1a, 0x2b, 0x3c, 0x4d] || MsgType::from_u16(kind).map(MsgType::length) != Some(len)
        {
            return;
        }
        // OCRQ, ICRP, CCRQ and a client's CDN carry its own ID at 12.
        if matches!(kind, 7 | 10 | 12 | 13) {
            let id = u16::from_be_bytes([head[12], head[13]]);
            assert!(!translate || id >= CLIENT_IDS, "client Call ID {id} reached the server");
            if !seen.contains(&id) {
                seen.push(id);
            }
        }
        if at + len > s.una {
            // Read the message's ID once only.
            s.read = at + len;
            return;
        }
        s.read = at + len;
    }
}
