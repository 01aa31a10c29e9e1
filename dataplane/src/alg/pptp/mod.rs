//! The PPTP ALG (RFC 2637 behind NAPT), on the slow-path core.
//!
//! Workers pass it the control segments (TCP 1723 with payload) of sessions whose zone
//! pair has the ALG enabled, already translated by the session's NAT. Per control
//! connection and per call it keeps:
//! - the inside client's own Call ID and the translated one, unique per public address,
//!   taken from the slice of the worker the NIC delivers the server's GRE to (see
//!   `OwnerMap::by_addrs`), so that GRE arrives at the worker that owns its session;
//! - the server's (PAC's) Call ID once known.
//!
//! and it announces two server-map entries per call: one for the server's GRE to the
//! translated Call ID at the public address (translated back to the client), one for
//! the client's GRE to the server's Call ID (source-translated), each installed in the
//! worker that owns that flow. Entries and state go with the call (CDN, an OCRP or ICRP
//! that refuses it, Stop-Control-Connection, a CCRQ the PAC does not answer with a CDN
//! within 10 s) or with the control connection (FIN, RST, aging), and age out if the
//! connection falls silent for the server-map timeout. WAN-Error-Notify only reports
//! error counters (RFC 2637 2.14): no WEN ends a call.
//! Any number of calls per connection, up to `calls_per_connection`.
mod error;
mod stream;

pub use error::PptpError;
pub use stream::{Fed, StreamReader};
pub use wire::pptp::MsgType;

use crate::clock::Millis;
use crate::events::Event;
use crate::nat::{PortAllocator, CALL_ID_SPACE};
use crate::owner::OwnerMap;
use crate::servermap::ServerMapEntry;
use crate::session::{App, Dir};
use rustc_hash::FxHashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use stream::{Decide, Message};
use wire::pptp::CallIdField as Field;
use wire::FlowKey;

const GRE: u8 = 47;
/// OCRP, ICRP and SCCRP result code 1: the call (connection) is up.
const CONNECTED: u8 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlgLimits {
    pub calls_per_connection: usize,
    pub connections: usize,
    pub server_map_secs: u64,
}

impl Default for AlgLimits {
    fn default() -> Self {
        AlgLimits { calls_per_connection: 64, connections: 4096, server_map_secs: 600 }
    }
}

/// What the ALG asks of the workers.
pub trait AlgOutput {
    fn install(&mut self, owner: u16, entry: ServerMapEntry);
    /// Removes the entry and the session opened through it.
    fn uninstall(&mut self, owner: u16, key: FlowKey);
    /// A call went up or down (for the operator's log).
    fn event(&mut self, _event: Event) {}
}

/// A control segment as a worker hands it over.
pub struct Segment<'a> {
    /// The control session's original key (client -> server:1723).
    pub control: FlowKey,
    /// The address the client's connection is translated to.
    pub public: Ipv4Addr,
    /// `Original` is PNS -> PAC (client to server).
    pub dir: Dir,
    pub seq: u32,
    pub payload: &'a mut [u8],
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlgCounters {
    /// Messages seen, by direction (0: PNS->PAC) and type.
    pub messages: [[u64; 16]; 2],
    pub malformed: u64,
    pub retransmissions: u64,
    pub call_limit: u64,
    pub call_ids_exhausted: u64,
    /// Messages naming a call the connection does not have (refused from the client,
    /// passed from the server).
    pub unknown_call: u64,
    /// Segments cut or dropped, by [`PptpError`] (`PptpError::ALL` order).
    pub refused: [u64; PptpError::ALL.len()],
}

impl AlgCounters {
    fn refused(&mut self, e: PptpError) {
        if let Some(i) = PptpError::ALL.iter().position(|r| *r == e) {
            self.refused[i] += 1;
        }
        match e {
            PptpError::CallLimit => self.call_limit += 1,
            PptpError::CallIdsExhausted => self.call_ids_exhausted += 1,
            PptpError::UnknownCall => self.unknown_call += 1,
            _ => {}
        }
    }

    /// Refusals by reason, for displays and metrics.
    pub fn refusals(&self) -> impl Iterator<Item = (PptpError, u64)> + '_ {
        PptpError::ALL.iter().copied().zip(self.refused.iter().copied())
    }
}

/// A call's place in RFC 2637's call state machines, as seen from the middle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallState {
    /// Outgoing: OCRQ sent, no OCRP yet.
    Requested,
    /// Incoming: ICRQ sent, no ICRP yet.
    Offered,
    Up,
}

#[derive(Debug, Clone, Copy)]
struct Call {
    /// The client's own Call ID (None until an incoming call is answered).
    pns: Option<u16>,
    xlat: u16,
    pac: Option<u16>,
    state: CallState,
    /// When the client asked to clear the call (CCRQ): the PAC's CDN ends it, or
    /// [`CLEAR_GRACE_MS`] later the ALG does.
    clearing: Option<Millis>,
    /// The server-map entries this call booked (server map 1, server map 2): only
    /// these go with it.
    booked: [bool; 2],
}

/// How long a cleared call (CCRQ) waits for the PAC's CDN before the ALG ends it.
const CLEAR_GRACE_MS: u64 = 10_000;

/// The control connection's state (RFC 2637 3.1.1 and 3.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ControlState {
    Idle,
    /// Start-Control-Connection-Request sent in this direction.
    Requested(Dir),
    Up,
    /// Stop-Control-Connection-Request sent: no new calls.
    Stopping,
    Closed,
}

struct Conn {
    /// The worker whose slice the connection's translated Call IDs come from: the one
    /// the NIC delivers the server's GRE to (hashed by addresses, server to public), so
    /// the tunnel's inbound half arrives at its owner.
    call_worker: u16,
    /// Whether the client is NATed; without NAT its Call IDs are already unique and
    /// stay as they are.
    translate: bool,
    client: u32,
    public: Ipv4Addr,
    server: u32,
    state: ControlState,
    calls: Vec<Call>,
    /// A client's new Call ID translated before the rest of its message came (an ICRP
    /// cut after its Call ID): (own, translated).
    pending: Option<(u16, u16)>,
    last_seen: Millis,
}

impl Conn {
    /// Server map 1's key: the server's GRE to the translated Call ID.
    fn server_gre(&self, xlat: u16) -> FlowKey {
        FlowKey { src: self.server, dst: self.public.into(), sport: 0, dport: xlat, proto: GRE }
    }

    /// Server map 2's key: the client's GRE to the server's Call ID.
    fn client_gre(&self, pac: u16) -> FlowKey {
        FlowKey { src: self.client, dst: self.server, sport: 0, dport: pac, proto: GRE }
    }

    /// Translated (client's own, translated) pairs in use, the pending one included.
    fn pairs(&self) -> impl Iterator<Item = (u16, u16)> + '_ {
        self.calls.iter().filter_map(|c| c.pns.map(|p| (p, c.xlat))).chain(self.pending)
    }

    /// The translated high byte this connection uses for a client high byte. Each row
    /// of translated IDs serves one client high byte per connection, so a Call ID cut
    /// between its bytes can be translated a byte at a time, both ways.
    fn row_for_client(&self, high: u8) -> Option<u8> {
        self.pairs().find(|(p, _)| (p >> 8) as u8 == high).map(|(_, x)| (x >> 8) as u8)
    }

    fn row_for_translated(&self, high: u8) -> Option<u8> {
        self.pairs().find(|(_, x)| (x >> 8) as u8 == high).map(|(p, _)| (p >> 8) as u8)
    }

    fn call_by_pns(&self, pns: u16) -> Option<usize> {
        self.calls.iter().position(|c| c.pns == Some(pns))
    }

    fn call_by_xlat(&self, xlat: u16) -> Option<usize> {
        self.calls.iter().position(|c| c.pns.is_some() && c.xlat == xlat)
    }

    fn call_by_pac(&self, pac: u16) -> Option<usize> {
        self.calls.iter().position(|c| c.pac == Some(pac))
    }
}

/// A control connection as the ALG keeps it: the byte streams' readers beside the
/// connection's state, so that reading one borrows both without moving either.
struct Entry {
    readers: [StreamReader; 2],
    conn: Conn,
}

struct Booked {
    entry: ServerMapEntry,
    owner: u16,
    control: FlowKey,
}

pub struct PptpAlg {
    conns: FxHashMap<FlowKey, Entry>,
    core: Core,
}

/// What the ALG keeps besides its connections: what a message's handling touches.
struct Core {
    call_ids: Vec<PortAllocator>,
    owners: Arc<OwnerMap>,
    limits: AlgLimits,
    book: FxHashMap<FlowKey, Booked>,
    public: Vec<Ipv4Addr>,
    /// Picks rows of translated Call IDs.
    rng: u64,
    counters: AlgCounters,
}

/// One row of `display firewall server-map`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerMapView {
    pub entry: ServerMapEntry,
    pub owner: u16,
    pub left_secs: u64,
}

impl PptpAlg {
    /// An ALG whose translated Call IDs start somewhere new every run.
    pub fn new(owners: Arc<OwnerMap>, public: &[Ipv4Addr], limits: AlgLimits) -> PptpAlg {
        PptpAlg::with_seed(owners, public, limits, crate::clock::run_seed())
    }

    /// An ALG with a chosen seed: the same IDs every time (benchmarks, tests).
    pub fn with_seed(owners: Arc<OwnerMap>, public: &[Ipv4Addr], limits: AlgLimits, seed: u64) -> PptpAlg {
        let call_ids = (0..owners.workers())
            .map(|w| {
                let seed = seed.rotate_left(u32::from(w) * 7) ^ (0xca11 + u64::from(w));
                PortAllocator::new(public, &CALL_ID_SPACE, owners.slice(w), seed)
            })
            .collect();
        // Sized up front for the connections allowed (and two entries per call of a
        // typical one-call connection), so a burst of set-ups never rehashes.
        let expected = limits.connections.min(1 << 20);
        let mut conns = FxHashMap::default();
        conns.reserve(expected);
        let mut book = FxHashMap::default();
        book.reserve(2 * expected);
        let core = Core {
            call_ids,
            owners,
            limits,
            book,
            public: public.to_vec(),
            rng: seed | 1,
            counters: AlgCounters::default(),
        };
        PptpAlg { conns, core }
    }

    pub fn counters(&self) -> &AlgCounters {
        &self.core.counters
    }

    /// New limits (reload): they apply to new connections and calls, and the new
    /// server-map timeout to every entry from now on.
    pub fn set_limits(&mut self, limits: AlgLimits) {
        self.core.limits = limits;
    }

    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// Server-map entries announced and not yet withdrawn.
    pub fn entries(&self) -> usize {
        self.core.book.len()
    }

    pub fn calls(&self) -> usize {
        self.conns.values().map(|e| e.conn.calls.len()).sum()
    }

    /// Translated Call IDs in use on every public address.
    pub fn call_ids_by_address(&self) -> Vec<(Ipv4Addr, u32)> {
        self.core.public.iter().map(|&ip| (ip, self.call_ids_in_use(ip))).collect()
    }

    /// Translated Call IDs in use, per public address (metrics).
    pub fn call_ids_in_use(&self, public: Ipv4Addr) -> u32 {
        self.core.call_ids.iter().map(|a| a.in_use(public, GRE)).sum()
    }

    /// Reads one control segment, rewriting its Call IDs in place. `Err` means the
    /// segment must be dropped whole (malformed, or refused from its first byte);
    /// otherwise only `keep` bytes of its payload may be forwarded.
    pub fn segment(
        &mut self,
        seg: Segment<'_>,
        now: Millis,
        out: &mut impl AlgOutput,
    ) -> Result<Fed, PptpError> {
        let fresh = !self.conns.contains_key(&seg.control);
        if fresh {
            if self.conns.len() >= self.core.limits.connections {
                return Err(PptpError::ConnectionLimit);
            }
            let conn = Conn {
                call_worker: self.core.owners.by_addrs(seg.control.dst, u32::from(seg.public)),
                translate: u32::from(seg.public) != seg.control.src,
                client: seg.control.src,
                public: seg.public,
                server: seg.control.dst,
                state: ControlState::Idle,
                calls: Vec::new(),
                pending: None,
                last_seen: now,
            };
            self.conns.insert(seg.control, Entry { readers: [StreamReader::default(); 2], conn });
        }
        let Some(Entry { readers, conn }) = self.conns.get_mut(&seg.control) else {
            return Err(PptpError::ConnectionLimit);
        };
        conn.last_seen = now;
        let reader = &mut readers[seg.dir.index()];
        let mut ctx = Ctx { alg: &mut self.core, conn, control: seg.control, dir: seg.dir, out };
        let result = reader.feed(seg.seq, seg.payload, &mut ctx);
        let left_nothing = conn_is_empty(conn);
        let counters = &mut self.core.counters;
        let result = match result {
            Ok(fed) => {
                counters.retransmissions += u64::from(fed.retransmission);
                if let Some(e) = fed.refused {
                    counters.refused(e);
                }
                match fed.refused {
                    Some(e) if fed.keep == 0 => Err(e),
                    _ => Ok(fed),
                }
            }
            Err(e) => {
                counters.malformed += 1;
                Err(e)
            }
        };
        // A connection whose first segment is refused leaves nothing behind.
        if fresh && result.is_err() && left_nothing {
            self.conns.remove(&seg.control);
        }
        result
    }

    /// The control connection ended (FIN, RST, aging): everything of it goes.
    pub fn close(&mut self, control: &FlowKey, out: &mut impl AlgOutput) {
        if let Some(mut e) = self.conns.remove(control) {
            self.core.end_all(&mut e.conn, out);
        }
    }

    /// Ends connections silent for the server-map timeout, with their calls and entries.
    /// PPTP peers send Echo-Requests every 60 s, so a live connection never gets here;
    /// this reclaims state whose TCP session ended without the ALG hearing of it.
    pub fn tick(&mut self, now: Millis, out: &mut impl AlgOutput) {
        let limit = self.core.limits.server_map_secs * 1000;
        let stale: Vec<FlowKey> = self
            .conns
            .iter()
            .filter(|(_, e)| now.saturating_sub(e.conn.last_seen) >= limit)
            .map(|(k, _)| *k)
            .collect();
        for key in stale {
            self.close(&key, out);
        }
        let cleared: Vec<(FlowKey, u16)> = self
            .conns
            .iter()
            .flat_map(|(k, e)| {
                e.conn
                    .calls
                    .iter()
                    .filter(|call| call.clearing.is_some_and(|t| now.saturating_sub(t) >= CLEAR_GRACE_MS))
                    .map(move |call| (*k, call.xlat))
            })
            .collect();
        for (key, xlat) in cleared {
            if let Some(e) = self.conns.get_mut(&key) {
                if let Some(i) = e.conn.calls.iter().position(|c| c.xlat == xlat && c.clearing.is_some()) {
                    self.core.drop_call(&mut e.conn, i, out);
                }
            }
        }
    }

    pub fn server_map(&self, now: Millis) -> Vec<ServerMapView> {
        let limit = self.core.limits.server_map_secs * 1000;
        let mut v: Vec<ServerMapView> = self
            .core
            .book
            .values()
            .map(|b| {
                let seen = self.conns.get(&b.control).map_or(now, |e| e.conn.last_seen);
                ServerMapView {
                    entry: b.entry,
                    owner: b.owner,
                    left_secs: (seen.0 + limit).saturating_sub(now.0) / 1000,
                }
            })
            .collect();
        v.sort_by_key(|s| (s.entry.key.src, s.entry.key.dst, s.entry.key.dport));
        v
    }

    /// How to translate an ICMP error about a tunnel's GRE, quoted as it was on the wire:
    /// the outer header's new source and destination (if they change) and the quoted
    /// packet as its sender sent it. `None` if no call has that GRE.
    pub fn gre_error(&self, quoted: &FlowKey) -> Option<(Option<u32>, Option<u32>, FlowKey)> {
        for c in self.conns.values().map(|e| &e.conn) {
            // The client's GRE after NAT (public -> server, the server's Call ID): the
            // error goes back to the client.
            if u32::from(c.public) == quoted.src && c.server == quoted.dst {
                if let Some(call) = c.calls.iter().find(|k| k.pac == Some(quoted.dport)) {
                    let restore = FlowKey { src: c.client, ..*quoted };
                    return call.pac.map(|_| (None, Some(c.client), restore));
                }
            }
            // The server's GRE after NAT (server -> client, the client's own Call ID):
            // the client's error goes to the server from the public address.
            if c.server == quoted.src && c.client == quoted.dst {
                if let Some(call) = c.calls.iter().find(|k| k.pns == Some(quoted.dport)) {
                    let restore = FlowKey { dst: c.public.into(), dport: call.xlat, ..*quoted };
                    return Some((Some(c.public.into()), None, restore));
                }
            }
        }
        None
    }
}

impl Core {
    fn next_random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// The rows (high bytes) of translated Call IDs in the connection's worker slice.
    fn rows(&self, conn: &Conn) -> std::ops::RangeInclusive<u8> {
        let slice = self.owners.slice(conn.call_worker);
        ((slice.start() >> 8) as u8)..=((slice.end() >> 8) as u8)
    }

    fn row_has_room(&self, conn: &Conn, row: u8) -> bool {
        let ids = u16::from(row) << 8..=u16::from(row) << 8 | 0xff;
        self.call_ids.get(conn.call_worker as usize).is_some_and(|a| a.has_free_in(conn.public, GRE, ids))
    }

    /// A row for a client high byte: the one the connection already uses for it, or a
    /// free row no other client high byte of the connection uses.
    fn row_for(&mut self, conn: &Conn, high: u8) -> Result<u8, PptpError> {
        if let Some(row) = conn.row_for_client(high) {
            return Ok(row);
        }
        let rows = self.rows(conn);
        let (first, count) = (*rows.start(), u32::from(rows.end() - rows.start()) + 1);
        let start = (self.next_random() % u64::from(count)) as u32;
        (0..count)
            .map(|i| first.wrapping_add(((start + i) % count) as u8))
            .find(|&row| conn.row_for_translated(row).is_none() && self.row_has_room(conn, row))
            .ok_or(PptpError::CallIdsExhausted)
    }

    /// Translates a new call's client Call ID `pns`, in row `sent_high` if its high
    /// byte has gone out already.
    fn translate_new(&mut self, conn: &Conn, pns: u16, sent_high: Option<u8>) -> Result<u16, PptpError> {
        let high = (pns >> 8) as u8;
        let row = match (sent_high, conn.row_for_client(high)) {
            (Some(sent), Some(row)) if sent != row => return Err(PptpError::CallIdsExhausted),
            (Some(sent), _) if conn.row_for_translated(sent).is_some_and(|h| h != high) => {
                return Err(PptpError::CallIdsExhausted)
            }
            (Some(sent), _) => sent,
            (None, _) => self.row_for(conn, high)?,
        };
        let ids = u16::from(row) << 8..=u16::from(row) << 8 | 0xff;
        let alloc = self.call_ids.get_mut(conn.call_worker as usize).ok_or(PptpError::CallIdsExhausted)?;
        alloc.allocate_in(conn.public, GRE, ids).map_err(|_| PptpError::CallIdsExhausted)
    }

    fn release(&mut self, conn: &Conn, xlat: u16) {
        if conn.translate {
            if let Some(a) = self.call_ids.get_mut(conn.call_worker as usize) {
                a.release(conn.public, GRE, xlat);
            }
        }
    }

    /// Server map 1: the server's GRE to the translated Call ID, back to the client.
    fn announce_to_client(&mut self, control: &FlowKey, conn: &mut Conn, i: usize, out: &mut impl AlgOutput) {
        let call = conn.calls[i];
        let Some(pns) = call.pns else { return };
        let key = conn.server_gre(call.xlat);
        let translated = FlowKey { dst: conn.client, dport: pns, ..key };
        conn.calls[i].booked[0] |=
            self.book_entry(control, ServerMapEntry { key, translated, app: App::PptpGre }, out);
    }

    /// Server map 2: the client's GRE to the server's Call ID, from the public address.
    fn announce_to_server(&mut self, control: &FlowKey, conn: &mut Conn, i: usize, out: &mut impl AlgOutput) {
        let call = conn.calls[i];
        let Some(pac) = call.pac else { return };
        let key = conn.client_gre(pac);
        let translated = FlowKey { src: conn.public.into(), ..key };
        conn.calls[i].booked[1] |=
            self.book_entry(control, ServerMapEntry { key, translated, app: App::PptpGre }, out);
    }

    /// Books an entry unless another call holds its key (then that call keeps it).
    fn book_entry(&mut self, control: &FlowKey, entry: ServerMapEntry, out: &mut impl AlgOutput) -> bool {
        if self.book.contains_key(&entry.key) {
            return false;
        }
        let owner = self.owners.owner(&entry.key, false);
        out.install(owner, entry);
        self.book.insert(entry.key, Booked { entry, owner, control: *control });
        true
    }

    fn drop_call(&mut self, conn: &mut Conn, i: usize, out: &mut impl AlgOutput) {
        let call = conn.calls.remove(i);
        self.end_call(conn, call, out);
    }

    fn end_all(&mut self, conn: &mut Conn, out: &mut impl AlgOutput) {
        for call in std::mem::take(&mut conn.calls) {
            self.end_call(conn, call, out);
        }
        if let Some((_, xlat)) = conn.pending.take() {
            self.release(conn, xlat);
        }
    }

    fn end_call(&mut self, conn: &Conn, call: Call, out: &mut impl AlgOutput) {
        out.event(Event::CallDown {
            client: conn.client.into(),
            public: conn.public,
            server: conn.server.into(),
            client_call_id: call.pns,
            translated: call.xlat,
        });
        let keys = [
            call.pns.filter(|_| call.booked[0]).map(|_| conn.server_gre(call.xlat)),
            call.pac.filter(|_| call.booked[1]).map(|pac| conn.client_gre(pac)),
        ];
        for key in keys.into_iter().flatten() {
            if let Some(b) = self.book.remove(&key) {
                out.uninstall(b.owner, key);
            }
        }
        if call.pns.is_some() {
            self.release(conn, call.xlat);
        }
    }
}

/// One segment's reading: the ALG, the connection and direction it belongs to.
struct Ctx<'a, O> {
    alg: &'a mut Core,
    conn: &'a mut Conn,
    control: FlowKey,
    dir: Dir,
    out: &'a mut O,
}

/// Whose Call ID a field carries, and so what the ALG does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The client's own ID for a call it opens (OCRQ, ICRP): translated anew.
    NewClientId,
    /// The client's own ID for a call it has (CCRQ, its CDN): translated as booked.
    ClientId,
    /// The client's translated ID in a server message: put back.
    TranslatedId,
    /// A server CDN's Call ID: the server's own (RFC 2637) or the client's translated
    /// one (Microsoft's servers, accel-ppp): put back in the second case.
    ServerCdn,
    /// The server's own ID: passes.
    ServerId,
}

fn role(dir: Dir, kind: MsgType, at: usize) -> Role {
    let field = kind.call_id_fields().iter().find(|(a, _)| *a == at).map(|(_, f)| *f);
    match (dir, field, kind) {
        (Dir::Original, Some(Field::Own), MsgType::Ocrq | MsgType::Icrp) => Role::NewClientId,
        (Dir::Original, Some(Field::Own), _) => Role::ClientId,
        (Dir::Reply, Some(Field::Peer), _) => Role::TranslatedId,
        (Dir::Reply, Some(Field::Own), MsgType::Cdn) => Role::ServerCdn,
        _ => Role::ServerId,
    }
}

/// The side that sends each call message (RFC 2637 section 2); `None`: either.
fn sender(kind: MsgType) -> Option<Dir> {
    use MsgType::*;
    match kind {
        Ocrq | Icrp | Ccrq => Some(Dir::Original),
        Ocrp | Icrq | Iccn | Wen => Some(Dir::Reply),
        _ => None,
    }
}

impl<O: AlgOutput> Decide for Ctx<'_, O> {
    fn begin(&mut self, kind: MsgType) -> Result<(), PptpError> {
        use MsgType::*;
        if sender(kind).is_some_and(|d| d != self.dir) {
            return Err(PptpError::WrongDirection);
        }
        let ok = match (kind, self.conn.state) {
            (Sccrq, ControlState::Idle) => true,
            (Sccrp, ControlState::Requested(d)) => d != self.dir,
            (StopCcrq | EchoRq | EchoRp, s) => s != ControlState::Closed,
            (StopCcrp, s) => s == ControlState::Stopping,
            (Sccrq | Sccrp, _) => false,
            // Call messages need an established control connection; a CDN or WEN may
            // still end or report on a call while it stops.
            (Cdn | Wen | Ccrq | Sli, ControlState::Stopping) => true,
            (_, s) => s == ControlState::Up,
        };
        if !ok {
            return Err(PptpError::WrongState);
        }
        self.alg.counters.messages[self.dir.index()][kind as usize] += 1;
        Ok(())
    }

    fn field(
        &mut self,
        kind: MsgType,
        at: usize,
        value: u16,
        sent_high: Option<u8>,
    ) -> Result<u16, PptpError> {
        let conn = &mut *self.conn;
        match role(self.dir, kind, at) {
            Role::NewClientId => {
                if conn.calls.len() >= self.alg.limits.calls_per_connection {
                    return Err(PptpError::CallLimit);
                }
                if conn.call_by_pns(value).is_some() {
                    return Err(PptpError::CallIdInUse);
                }
                if let Some((_, xlat)) = conn.pending.take() {
                    self.alg.release(conn, xlat);
                }
                let xlat =
                    if conn.translate { self.alg.translate_new(conn, value, sent_high)? } else { value };
                conn.pending = Some((value, xlat));
                Ok(xlat)
            }
            Role::ClientId => match conn.call_by_pns(value) {
                Some(i) => Ok(conn.calls[i].xlat),
                None => Err(PptpError::UnknownCall),
            },
            Role::TranslatedId => {
                Ok(conn.call_by_xlat(value).and_then(|i| conn.calls[i].pns).unwrap_or(value))
            }
            Role::ServerCdn if conn.call_by_pac(value).is_some() => Ok(value),
            Role::ServerCdn => Ok(conn.call_by_xlat(value).and_then(|i| conn.calls[i].pns).unwrap_or(value)),
            Role::ServerId => Ok(value),
        }
    }

    fn field_high(&mut self, kind: MsgType, at: usize, high: u8) -> Result<u8, PptpError> {
        let conn = &*self.conn;
        let back = |h: u8| conn.row_for_translated(h).unwrap_or(h);
        match role(self.dir, kind, at) {
            Role::NewClientId if conn.calls.len() >= self.alg.limits.calls_per_connection => {
                Err(PptpError::CallLimit)
            }
            Role::NewClientId if !conn.translate => Ok(high),
            Role::NewClientId => self.alg.row_for(conn, high),
            Role::ClientId => conn.row_for_client(high).ok_or(PptpError::UnknownCall),
            Role::TranslatedId => Ok(back(high)),
            // The server's own ID is the RFC's reading: when it may be that, it passes.
            Role::ServerCdn if conn.calls.iter().any(|c| c.pac.is_some_and(|p| (p >> 8) as u8 == high)) => {
                Ok(high)
            }
            Role::ServerCdn => Ok(back(high)),
            Role::ServerId => Ok(high),
        }
    }

    fn complete(&mut self, m: &Message) -> Result<(), PptpError> {
        match self.dir {
            Dir::Original => self.client_message(m),
            Dir::Reply => self.server_message(m),
        }
    }
}

impl<O: AlgOutput> Ctx<'_, O> {
    /// PNS -> PAC.
    fn client_message(&mut self, m: &Message) -> Result<(), PptpError> {
        let (alg, conn, control) = (&mut *self.alg, &mut *self.conn, &self.control);
        match m.kind {
            MsgType::Ocrq => {
                let Some((pns, xlat)) = conn.pending.take() else { return Err(PptpError::UnknownCall) };
                conn.calls.push(Call {
                    pns: Some(pns),
                    xlat,
                    pac: None,
                    state: CallState::Requested,
                    clearing: None,
                    booked: [false; 2],
                });
                let i = conn.calls.len() - 1;
                alg.announce_to_client(control, conn, i, self.out);
            }
            MsgType::Icrp => {
                let Some((pns, xlat)) = conn.pending.take() else { return Err(PptpError::UnknownCall) };
                let pac = m.u16_at(14);
                let offered =
                    conn.calls.iter().position(|c| c.pac == Some(pac) && c.state == CallState::Offered);
                let Some(i) = offered else {
                    alg.release(conn, xlat);
                    return Err(PptpError::UnknownCall);
                };
                conn.calls[i].pns = Some(pns);
                conn.calls[i].xlat = xlat;
                if m.u8_at(16) == CONNECTED {
                    conn.calls[i].state = CallState::Up;
                    alg.announce_to_client(control, conn, i, self.out);
                    alg.announce_to_server(control, conn, i, self.out);
                    call_up(conn, conn.calls[i], self.out);
                } else {
                    alg.drop_call(conn, i, self.out);
                }
            }
            MsgType::Ccrq => {
                let i = conn.call_by_pns(m.u16_at(12)).ok_or(PptpError::UnknownCall)?;
                let since = conn.last_seen;
                conn.calls[i].clearing.get_or_insert(since);
            }
            // Not the RFC's direction (CDN is the PAC's), but some PNSs abort a call this
            // way: the ID is then the client's own, and the call ends.
            MsgType::Cdn => {
                let i = conn.call_by_pns(m.u16_at(12)).ok_or(PptpError::UnknownCall)?;
                alg.drop_call(conn, i, self.out);
            }
            kind => self.control_message(kind, m),
        }
        Ok(())
    }

    /// PAC -> PNS.
    fn server_message(&mut self, m: &Message) -> Result<(), PptpError> {
        let (alg, conn, control) = (&mut *self.alg, &mut *self.conn, &self.control);
        match m.kind {
            MsgType::Ocrp => {
                let (pac, xlat) = (m.u16_at(12), m.u16_at(14));
                let Some(i) = conn.call_by_xlat(xlat) else {
                    alg.counters.unknown_call += 1;
                    return Ok(());
                };
                if conn.calls[i].state != CallState::Requested {
                    return Err(PptpError::CallChange);
                }
                if m.u8_at(16) == CONNECTED {
                    conn.calls[i].pac = Some(pac);
                    conn.calls[i].state = CallState::Up;
                    alg.announce_to_server(control, conn, i, self.out);
                    call_up(conn, conn.calls[i], self.out);
                } else {
                    alg.drop_call(conn, i, self.out);
                }
            }
            MsgType::Icrq => {
                let pac = m.u16_at(12);
                if conn.call_by_pac(pac).is_some() {
                    return Err(PptpError::CallIdInUse);
                }
                if conn.calls.len() >= alg.limits.calls_per_connection {
                    return Err(PptpError::CallLimit);
                }
                conn.calls.push(Call {
                    pns: None,
                    xlat: 0,
                    pac: Some(pac),
                    state: CallState::Offered,
                    clearing: None,
                    booked: [false; 2],
                });
            }
            MsgType::Cdn => {
                let id = m.u16_at(12);
                match conn.call_by_pac(id).or_else(|| conn.call_by_xlat(id)) {
                    Some(i) => alg.drop_call(conn, i, self.out),
                    None => alg.counters.unknown_call += 1,
                }
            }
            MsgType::Iccn | MsgType::Wen | MsgType::Sli => {
                if conn.call_by_xlat(m.u16_at(12)).is_none() {
                    alg.counters.unknown_call += 1;
                }
            }
            kind => self.control_message(kind, m),
        }
        Ok(())
    }

    /// Messages of the control connection itself, either way.
    fn control_message(&mut self, kind: MsgType, m: &Message) {
        let conn = &mut *self.conn;
        match kind {
            MsgType::Sccrq => conn.state = ControlState::Requested(self.dir),
            MsgType::Sccrp if m.u8_at(14) == CONNECTED => conn.state = ControlState::Up,
            MsgType::Sccrp => conn.state = ControlState::Closed,
            MsgType::StopCcrq => {
                conn.state = ControlState::Stopping;
                self.alg.end_all(conn, self.out);
            }
            MsgType::StopCcrp => {
                conn.state = ControlState::Closed;
                self.alg.end_all(conn, self.out);
            }
            _ => {}
        }
    }
}

/// Whether a connection holds nothing (no call, nothing pending).
fn conn_is_empty(conn: &Conn) -> bool {
    conn.calls.is_empty() && conn.pending.is_none()
}

fn call_up(conn: &Conn, call: Call, out: &mut impl AlgOutput) {
    if let (Some(pns), Some(pac)) = (call.pns, call.pac) {
        out.event(Event::CallUp {
            client: conn.client.into(),
            public: conn.public,
            server: conn.server.into(),
            client_call_id: pns,
            translated: call.xlat,
            server_call_id: pac,
        });
    }
}

#[cfg(test)]
mod tests;
