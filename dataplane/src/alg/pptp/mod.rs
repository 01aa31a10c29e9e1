//! The PPTP ALG (RFC 2637 behind NAPT), on the slow-path core.
//!
//! Workers pass it the control segments (TCP 1723 with payload) of sessions whose zone
//! pair has the ALG enabled, already translated by the session's NAT. Per control
//! connection and per call it keeps:
//! - the inside client's own Call ID and the translated one, unique per public address,
//!   taken from the slice of the worker that owns the control connection;
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
mod msg;
mod stream;

pub use msg::{MsgType, PptpError};
pub use stream::{Fed, StreamReader};

use crate::clock::Millis;
use crate::events::Event;
use crate::flow::{FlowKey, OwnerMap};
use crate::nat::{PortAllocator, CALL_ID_SPACE};
use crate::servermap::ServerMapEntry;
use crate::session::{App, Dir};
use msg::Field;
use rustc_hash::FxHashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use stream::{Message, Rewrites};

const GRE: u8 = 47;
/// OCRP and ICRP result code 1: the call is up.
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
    /// The worker owning the control session.
    pub worker: u16,
    pub seq: u32,
    pub payload: &'a mut [u8],
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlgCounters {
    /// Messages seen, by direction (0: PNS->PAC) and type.
    pub messages: [[u64; 16]; 2],
    pub malformed: u64,
    pub retransmissions: u64,
    pub split_fields: u64,
    pub call_limit: u64,
    pub call_ids_exhausted: u64,
    pub unknown_call: u64,
}

#[derive(Debug, Clone, Copy)]
struct Call {
    /// The client's own Call ID (None until an incoming call is answered).
    pns: Option<u16>,
    xlat: u16,
    pac: Option<u16>,
    /// When the client asked to clear the call (CCRQ): the PAC's CDN ends it, or
    /// [`CLEAR_GRACE_MS`] later the ALG does.
    clearing: Option<Millis>,
}

/// How long a cleared call (CCRQ) waits for the PAC's CDN before the ALG ends it.
const CLEAR_GRACE_MS: u64 = 10_000;

struct Conn {
    worker: u16,
    /// Whether the client is NATed; without NAT its Call IDs are already unique and
    /// stay as they are.
    translate: bool,
    client: u32,
    public: Ipv4Addr,
    server: u32,
    readers: [StreamReader; 2],
    calls: Vec<Call>,
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
}

struct Booked {
    entry: ServerMapEntry,
    owner: u16,
    control: FlowKey,
}

pub struct PptpAlg {
    conns: FxHashMap<FlowKey, Conn>,
    call_ids: Vec<PortAllocator>,
    owners: Arc<OwnerMap>,
    limits: AlgLimits,
    book: FxHashMap<FlowKey, Booked>,
    public: Vec<Ipv4Addr>,
    pub counters: AlgCounters,
}

/// One row of `display firewall server-map`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerMapView {
    pub entry: ServerMapEntry,
    pub owner: u16,
    pub left_secs: u64,
}

impl PptpAlg {
    pub fn new(owners: Arc<OwnerMap>, public: &[Ipv4Addr], limits: AlgLimits) -> PptpAlg {
        let call_ids = (0..owners.workers())
            .map(|w| PortAllocator::new(public, &CALL_ID_SPACE, owners.slice(w), 0xca11 + u64::from(w)))
            .collect();
        // Sized up front for the connections allowed (and two entries per call of a
        // typical one-call connection), so a burst of set-ups never rehashes.
        let expected = limits.connections.min(1 << 20);
        let mut conns = FxHashMap::default();
        conns.reserve(expected);
        let mut book = FxHashMap::default();
        book.reserve(2 * expected);
        PptpAlg {
            conns,
            call_ids,
            owners,
            limits,
            book,
            public: public.to_vec(),
            counters: AlgCounters::default(),
        }
    }

    /// New limits (reload): they apply to new connections and calls, and the new
    /// server-map timeout to every entry from now on.
    pub fn set_limits(&mut self, limits: AlgLimits) {
        self.limits = limits;
    }

    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// Server-map entries announced and not yet withdrawn.
    pub fn entries(&self) -> usize {
        self.book.len()
    }

    pub fn calls(&self) -> usize {
        self.conns.values().map(|c| c.calls.len()).sum()
    }

    /// Translated Call IDs in use on every public address.
    pub fn call_ids_by_address(&self) -> Vec<(Ipv4Addr, u32)> {
        self.public.iter().map(|&ip| (ip, self.call_ids_in_use(ip))).collect()
    }

    /// Translated Call IDs in use, per public address (metrics).
    pub fn call_ids_in_use(&self, public: Ipv4Addr) -> u32 {
        self.call_ids.iter().map(|a| a.in_use(public, GRE)).sum()
    }

    /// Reads one control segment, rewriting its Call IDs in place. An error means a
    /// malformed message: nothing of it took effect, and the segment must be dropped.
    pub fn segment(
        &mut self,
        seg: Segment<'_>,
        now: Millis,
        out: &mut impl AlgOutput,
    ) -> Result<Fed, PptpError> {
        let known = self.conns.remove(&seg.control);
        let fresh = known.is_none();
        let mut conn = match known {
            Some(c) => c,
            None if self.conns.len() >= self.limits.connections => return Err(PptpError::ConnectionLimit),
            None => Conn {
                worker: seg.worker,
                translate: u32::from(seg.public) != seg.control.src,
                client: seg.control.src,
                public: seg.public,
                server: seg.control.dst,
                readers: [StreamReader::default(), StreamReader::default()],
                calls: Vec::new(),
                last_seen: now,
            },
        };
        conn.last_seen = now;
        let d = seg.dir.index();
        let mut reader = std::mem::take(&mut conn.readers[d]);
        let result = reader
            .feed(seg.seq, seg.payload, &mut |m| self.on_message(&seg.control, &mut conn, seg.dir, m, out));
        conn.readers[d] = reader;
        match &result {
            Ok(fed) => {
                self.counters.retransmissions += u64::from(fed.retransmission);
                self.counters.split_fields += u64::from(fed.split_fields);
            }
            Err(_) => self.counters.malformed += 1,
        }
        // A connection whose first segment is malformed leaves nothing behind.
        if !(fresh && result.is_err() && conn.calls.is_empty()) {
            self.conns.insert(seg.control, conn);
        }
        result
    }

    /// The control connection ended (FIN, RST, aging): everything of it goes.
    pub fn close(&mut self, control: &FlowKey, out: &mut impl AlgOutput) {
        if let Some(mut conn) = self.conns.remove(control) {
            self.end_all(&mut conn, out);
        }
    }

    /// Ends connections silent for the server-map timeout, with their calls and entries.
    /// PPTP peers send Echo-Requests every 60 s, so a live connection never gets here;
    /// this reclaims state whose TCP session ended without the ALG hearing of it.
    pub fn tick(&mut self, now: Millis, out: &mut impl AlgOutput) {
        let limit = self.limits.server_map_secs * 1000;
        let stale: Vec<FlowKey> = self
            .conns
            .iter()
            .filter(|(_, c)| now.saturating_sub(c.last_seen) >= limit)
            .map(|(k, _)| *k)
            .collect();
        for key in stale {
            self.close(&key, out);
        }
        let cleared: Vec<(FlowKey, u16)> = self
            .conns
            .iter()
            .flat_map(|(k, c)| {
                c.calls
                    .iter()
                    .filter(|call| call.clearing.is_some_and(|t| now.saturating_sub(t) >= CLEAR_GRACE_MS))
                    .map(move |call| (*k, call.xlat))
            })
            .collect();
        for (key, xlat) in cleared {
            if let Some(mut conn) = self.conns.remove(&key) {
                if let Some(i) = conn.calls.iter().position(|c| c.xlat == xlat && c.clearing.is_some()) {
                    self.drop_call(&mut conn, i, out);
                }
                self.conns.insert(key, conn);
            }
        }
    }

    pub fn server_map(&self, now: Millis) -> Vec<ServerMapView> {
        let limit = self.limits.server_map_secs * 1000;
        let mut v: Vec<ServerMapView> = self
            .book
            .values()
            .map(|b| {
                let seen = self.conns.get(&b.control).map_or(now, |c| c.last_seen);
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

    fn on_message(
        &mut self,
        control: &FlowKey,
        conn: &mut Conn,
        dir: Dir,
        m: &Message,
        out: &mut impl AlgOutput,
    ) -> Rewrites {
        if !m.retransmitted {
            self.counters.messages[dir.index()][m.kind as usize] += 1;
        }
        match dir {
            Dir::Original => self.pns_to_pac(control, conn, m, out),
            Dir::Reply => self.pac_to_pns(control, conn, m, out),
        }
    }

    /// PNS -> PAC: the client's own Call IDs become the translated ones.
    fn pns_to_pac(
        &mut self,
        control: &FlowKey,
        conn: &mut Conn,
        m: &Message,
        out: &mut impl AlgOutput,
    ) -> Rewrites {
        let mut rw: Rewrites = [None, None];
        match m.kind {
            MsgType::Ocrq | MsgType::Icrp | MsgType::Ccrq => {
                let Some((at, pns)) = m.field(Field::Own) else { return rw };
                let existing = conn.calls.iter().position(|c| c.pns == Some(pns));
                let idx = match (existing, m.kind) {
                    (Some(i), _) => Some(i),
                    (None, MsgType::Ocrq) => self.new_call(conn, pns, None),
                    (None, MsgType::Icrp) => {
                        let pac = m.u16_at(14);
                        match conn.calls.iter().position(|c| c.pns.is_none() && c.pac == Some(pac)) {
                            Some(i) => {
                                let xlat = self.allocate(conn, pns);
                                xlat.map(|x| {
                                    conn.calls[i].pns = Some(pns);
                                    conn.calls[i].xlat = x;
                                    i
                                })
                            }
                            None => self.new_call(conn, pns, Some(pac)),
                        }
                    }
                    _ => {
                        self.counters.unknown_call += 1;
                        None
                    }
                };
                let Some(i) = idx else { return rw };
                rw[0] = Some((at, conn.calls[i].xlat));
                if m.kind == MsgType::Ccrq {
                    let since = conn.last_seen;
                    conn.calls[i].clearing.get_or_insert(since);
                }
                if m.kind == MsgType::Ocrq {
                    self.announce_to_client(control, conn, conn.calls[i], out);
                }
                if m.kind == MsgType::Icrp {
                    if m.u8_at(16) == CONNECTED {
                        self.announce_to_client(control, conn, conn.calls[i], out);
                        self.announce_to_server(control, conn, conn.calls[i], out);
                        call_up(conn, conn.calls[i], out);
                    } else {
                        self.drop_call(conn, i, out);
                    }
                }
            }
            // Not the RFC's direction (CDN is the PAC's), but some PNSs abort a call this
            // way: the ID is then the client's own, and the call ends.
            MsgType::Cdn => {
                let Some((at, pns)) = m.field(Field::Own) else { return rw };
                if let Some(i) = conn.calls.iter().position(|c| c.pns == Some(pns)) {
                    rw[0] = Some((at, conn.calls[i].xlat));
                    self.drop_call(conn, i, out);
                }
            }
            MsgType::StopCcrq | MsgType::StopCcrp => self.end_all(conn, out),
            _ => {}
        }
        rw
    }

    /// PAC -> PNS: translated Call IDs in peer fields go back to the client's own.
    fn pac_to_pns(
        &mut self,
        control: &FlowKey,
        conn: &mut Conn,
        m: &Message,
        out: &mut impl AlgOutput,
    ) -> Rewrites {
        let mut rw: Rewrites = [None, None];
        if let Some((at, xlat)) = m.field(Field::Peer) {
            match conn.calls.iter().position(|c| c.xlat == xlat && c.pns.is_some()) {
                Some(i) => rw[0] = conn.calls[i].pns.map(|pns| (at, pns)),
                None => self.counters.unknown_call += 1,
            }
        }
        match m.kind {
            MsgType::Ocrp => {
                let (pac, xlat) = (m.u16_at(12), m.u16_at(14));
                let Some(i) = conn.calls.iter().position(|c| c.xlat == xlat && c.pns.is_some()) else {
                    return rw;
                };
                if m.u8_at(16) == CONNECTED {
                    conn.calls[i].pac = Some(pac);
                    self.announce_to_server(control, conn, conn.calls[i], out);
                    call_up(conn, conn.calls[i], out);
                } else {
                    self.drop_call(conn, i, out);
                }
            }
            MsgType::Icrq => {
                let pac = m.u16_at(12);
                if !conn.calls.iter().any(|c| c.pac == Some(pac))
                    && conn.calls.len() < self.limits.calls_per_connection
                {
                    conn.calls.push(Call { pns: None, xlat: 0, pac: Some(pac), clearing: None });
                }
            }
            MsgType::Cdn => {
                let pac = m.u16_at(12);
                match conn.calls.iter().position(|c| c.pac == Some(pac)) {
                    Some(i) => {
                        self.drop_call(conn, i, out);
                    }
                    None => self.counters.unknown_call += 1,
                }
            }
            MsgType::StopCcrq | MsgType::StopCcrp => self.end_all(conn, out),
            _ => {}
        }
        rw
    }

    fn allocate(&mut self, conn: &Conn, pns: u16) -> Option<u16> {
        if !conn.translate {
            return Some(pns);
        }
        let alloc = self.call_ids.get_mut(conn.worker as usize)?;
        match alloc.allocate(conn.public, GRE) {
            Ok(x) => Some(x),
            Err(_) => {
                self.counters.call_ids_exhausted += 1;
                None
            }
        }
    }

    fn new_call(&mut self, conn: &mut Conn, pns: u16, pac: Option<u16>) -> Option<usize> {
        if conn.calls.len() >= self.limits.calls_per_connection {
            self.counters.call_limit += 1;
            return None;
        }
        let xlat = self.allocate(conn, pns)?;
        conn.calls.push(Call { pns: Some(pns), xlat, pac, clearing: None });
        Some(conn.calls.len() - 1)
    }

    /// Server map 1: the server's GRE to the translated Call ID, back to the client.
    fn announce_to_client(&mut self, control: &FlowKey, conn: &Conn, call: Call, out: &mut impl AlgOutput) {
        let Some(pns) = call.pns else { return };
        let key = conn.server_gre(call.xlat);
        let translated = FlowKey { dst: conn.client, dport: pns, ..key };
        self.book_entry(control, ServerMapEntry { key, translated, app: App::PptpGre }, out);
    }

    /// Server map 2: the client's GRE to the server's Call ID, from the public address.
    fn announce_to_server(&mut self, control: &FlowKey, conn: &Conn, call: Call, out: &mut impl AlgOutput) {
        let Some(pac) = call.pac else { return };
        let key = conn.client_gre(pac);
        let translated = FlowKey { src: conn.public.into(), ..key };
        self.book_entry(control, ServerMapEntry { key, translated, app: App::PptpGre }, out);
    }

    fn book_entry(&mut self, control: &FlowKey, entry: ServerMapEntry, out: &mut impl AlgOutput) {
        if self.book.contains_key(&entry.key) {
            return;
        }
        let owner = self.owners.owner(&entry.key, false);
        out.install(owner, entry);
        self.book.insert(entry.key, Booked { entry, owner, control: *control });
    }

    fn drop_call(&mut self, conn: &mut Conn, i: usize, out: &mut impl AlgOutput) {
        let call = conn.calls.remove(i);
        self.end_call(conn, call, out);
    }

    fn end_all(&mut self, conn: &mut Conn, out: &mut impl AlgOutput) {
        for call in std::mem::take(&mut conn.calls) {
            self.end_call(conn, call, out);
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
        let keys = [call.pns.map(|_| conn.server_gre(call.xlat)), call.pac.map(|pac| conn.client_gre(pac))];
        for key in keys.into_iter().flatten() {
            if let Some(b) = self.book.remove(&key) {
                out.uninstall(b.owner, key);
            }
        }
        if call.pns.is_some() && conn.translate {
            if let Some(a) = self.call_ids.get_mut(conn.worker as usize) {
                a.release(conn.public, GRE, call.xlat);
            }
        }
    }
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
mod scenario_tests;
#[cfg(test)]
mod tests;
