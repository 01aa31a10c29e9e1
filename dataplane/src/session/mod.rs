//! Sessions: the state of every flow a worker owns, preallocated and aged in O(1).
//!
//! Both directions of a flow find the same session: the index maps the key of each
//! direction (as packets arrive, before translation) to the session slot and the
//! direction. A session keeps per-direction counters and what it takes to rewrite each
//! direction (the checksum [`Deltas`]; the new values are the other direction's key
//! reversed), so a hit only looks up and applies.
//!
//! Aging without a scan: sessions sit in one least-recently-used list per timeout class
//! (all sessions of a class share one timeout, so each list is ordered by expiry). A
//! packet moves its session to the tail of its list (at most once a period of 1,024 ms:
//! when it comes in another period than the session's last packet), and the
//! worker removes a few expired sessions from the list heads per loop iteration, and
//! more when the table is full and a new flow needs room.
pub mod display;
mod filter;
mod index;
pub mod rewrite;
pub mod tcp;

pub use filter::SessionFilter;
pub use index::{FlowIndex, InsertError};
pub use rewrite::{Deltas, Rewrite};
pub use tcp::{TcpState, TcpTrack};

use crate::clock::Millis;
use std::net::Ipv4Addr;
use wire::FlowKey;

/// Direction of a packet relative to the session's first packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Original = 0,
    Reply = 1,
}

impl Dir {
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Sessions of one class share one timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutClass {
    TcpHalfOpen = 0,
    TcpEstablished = 1,
    TcpClosing = 2,
    Udp = 3,
    Icmp = 4,
    Gre = 5,
    Other = 6,
}

pub const CLASSES: usize = 7;

impl TimeoutClass {
    pub fn for_tcp(state: TcpState) -> TimeoutClass {
        match state {
            TcpState::SynSent | TcpState::SynReceived => TimeoutClass::TcpHalfOpen,
            TcpState::Established | TcpState::FinWait(_) => TimeoutClass::TcpEstablished,
            TcpState::Closing | TcpState::Closed => TimeoutClass::TcpClosing,
        }
    }
}

/// Timeouts in seconds; the defaults are the reference appliance's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub tcp: u64,
    pub tcp_half_open: u64,
    pub tcp_fin_rst: u64,
    pub udp: u64,
    pub icmp: u64,
    pub gre: u64,
    pub other: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { tcp: 1200, tcp_half_open: 5, tcp_fin_rst: 10, udp: 120, icmp: 20, gre: 600, other: 120 }
    }
}

impl Timeouts {
    fn millis(&self) -> [u64; CLASSES] {
        [self.tcp_half_open, self.tcp, self.tcp_fin_rst, self.udp, self.icmp, self.gre, self.other]
            .map(|s| s * 1000)
    }
}

/// Which application a session belongs to, for display and for the ALG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    None,
    /// A PPTP control connection the ALG reads.
    Pptp,
    /// A PPTP data tunnel, opened through the server map.
    PptpGre,
}

/// What a session is, as displays and metrics count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Tcp,
    Udp,
    Icmp,
    Gre,
    Pptp,
    PptpGre,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 7] =
        [Kind::Tcp, Kind::Udp, Kind::Icmp, Kind::Gre, Kind::Pptp, Kind::PptpGre, Kind::Other];

    pub fn of(s: &Session) -> Kind {
        match (s.app, s.keys[0].proto) {
            (App::Pptp, _) => Kind::Pptp,
            (App::PptpGre, _) => Kind::PptpGre,
            (App::None, 6) => Kind::Tcp,
            (App::None, 17) => Kind::Udp,
            (App::None, 1) => Kind::Icmp,
            (App::None, 47) => Kind::Gre,
            (App::None, _) => Kind::Other,
        }
    }

    /// The reference appliance's protocol word.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Tcp => "tcp",
            Kind::Udp => "udp",
            Kind::Icmp => "icmp",
            Kind::Gre => "gre",
            Kind::Pptp => "pptp",
            Kind::PptpGre => "pptp-gre",
            Kind::Other => "ip",
        }
    }
}

impl App {
    pub fn name(self) -> &'static str {
        match self {
            App::None => "none",
            App::Pptp => "pptp",
            App::PptpGre => "pptp-gre",
        }
    }
}

/// A NAT allocation the session holds and gives back when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatBinding {
    pub public: Ipv4Addr,
    pub port: u16,
    pub proto: u8,
}

/// One flow's state. `keys[d]` is the key packets of direction `d` arrive with.
///
/// Kept small, a table holds millions: what follows from the keys is not stored (the
/// values each direction is rewritten to, the NAT number held), times are 32-bit where
/// a second is precise enough. In the order a packet reads it (`repr(C)` keeps it): a
/// UDP packet touches the first 96 bytes, TCP's tracking follows, the LRU links and the
/// creation time are read about once a second.
#[derive(Debug, Clone)]
#[repr(C)]
pub struct Session {
    /// Set once, at creation: the flow index finds the session's keys here.
    pub keys: [FlowKey; 2],
    deltas: [Deltas; 2],
    /// The zone packets of each direction arrive from: a packet of the session from
    /// another zone (a spoofed source) is not the session's.
    pub zones: [crate::policy::ZoneId; 2],
    pub class: TimeoutClass,
    pub app: App,
    /// Whether packets of the reply key are the session's (not for one-way flows such as
    /// PPTP GRE, whose other direction is a session of its own).
    pub two_way: bool,
    /// Whether the reply key is in the index: always for two-way sessions; for one-way
    /// ones (PPTP GRE) so that ICMP errors about what they sent find them, when no
    /// packet of the protocol can carry that key (GRE's keys have source port 0).
    reply_indexed: bool,
    /// Whether the session holds a NAT number (its reply key's destination port) of
    /// this worker's allocator, to give back when it ends.
    holds_nat_port: bool,
    in_use: bool,
    pub last_seen: Millis,
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    pub tcp: Option<TcpTrack>,
    lru_prev: u32,
    lru_next: u32,
    /// Seconds of the worker's clock at creation.
    created_secs: u32,
}

impl Session {
    /// The rewrite of packets of direction `dir`: to the key they leave with, the other
    /// direction's reversed.
    #[inline]
    pub fn rewrite(&self, dir: Dir) -> Rewrite {
        let to = self.keys[1 - dir.index()].reversed();
        Rewrite::from_deltas(self.deltas[dir.index()], &to)
    }

    /// The NAT number the session holds: the public address and port replies come to.
    pub fn nat(&self) -> Option<NatBinding> {
        let reply = &self.keys[Dir::Reply.index()];
        self.holds_nat_port.then(|| NatBinding {
            public: reply.dst_addr(),
            port: reply.dport,
            proto: reply.proto,
        })
    }

    /// When the session was created, to the second.
    pub fn created(&self) -> Millis {
        Millis(u64::from(self.created_secs) * 1000)
    }
}

/// What a new session starts from.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub original: FlowKey,
    /// The original direction as it leaves (after translation): replies arrive with
    /// this key reversed.
    pub translated: FlowKey,
    pub tcp: Option<TcpTrack>,
    pub class: TimeoutClass,
    pub app: App,
    /// The NAT number taken for the session: the translated source (a binding without
    /// a port holds nothing to give back).
    pub nat: Option<NatBinding>,
    pub two_way: bool,
    /// Zones the original and the reply direction arrive from.
    pub zones: [crate::policy::ZoneId; 2],
}

impl NewSession {
    /// The key replies arrive with (the original reversed, then translated).
    pub fn reply(&self) -> FlowKey {
        self.translated.reversed()
    }
}

pub type SessionId = u32;
/// A session moves in its LRU list at most once a period of 2^10 ms.
const LRU_PERIOD_BITS: u32 = 10;
const NIL: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateError {
    /// No free session: the flow is refused, established ones are untouched.
    Full,
    /// A session already uses one of the keys (e.g. a NAT tuple collision).
    Conflict,
}

#[derive(Debug, Clone, Copy)]
struct Lru {
    head: u32,
    tail: u32,
}

/// A worker's sessions.
pub struct SessionTable {
    slots: Vec<Session>,
    /// The first free slot; free slots are chained through their `lru_next`.
    free: u32,
    index: FlowIndex,
    lru: [Lru; CLASSES],
    timeouts_ms: [u64; CLASSES],
    live: usize,
    live_by_kind: [u32; Kind::ALL.len()],
    live_by_class: [u32; CLASSES],
}

impl SessionTable {
    /// A table for `capacity` sessions, all memory allocated now.
    pub fn new(capacity: usize, timeouts: Timeouts) -> SessionTable {
        let blank = Session {
            keys: [FlowKey::default(); 2],
            deltas: [Deltas::default(); 2],
            zones: [0; 2],
            class: TimeoutClass::Other,
            app: App::None,
            two_way: true,
            reply_indexed: false,
            holds_nat_port: false,
            in_use: false,
            last_seen: Millis(0),
            packets: [0; 2],
            bytes: [0; 2],
            tcp: None,
            lru_prev: NIL,
            lru_next: NIL,
            created_secs: 0,
        };
        let mut slots = vec![blank; capacity];
        // Every slot free, chained in order: slot 0 is taken first.
        for (i, s) in slots.iter_mut().enumerate() {
            s.lru_next = if i + 1 < capacity { i as u32 + 1 } else { NIL };
        }
        SessionTable {
            slots,
            free: if capacity == 0 { NIL } else { 0 },
            index: FlowIndex::with_capacity(capacity * 2),
            lru: [Lru { head: NIL, tail: NIL }; CLASSES],
            timeouts_ms: timeouts.millis(),
            live: 0,
            live_by_kind: [0; Kind::ALL.len()],
            live_by_class: [0; CLASSES],
        }
    }

    /// Timeouts can change at reload; sessions keep their place in their lists.
    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.timeouts_ms = timeouts.millis();
    }

    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Live sessions by kind, in [`Kind::ALL`] order.
    pub fn live_by_kind(&self) -> [u32; Kind::ALL.len()] {
        self.live_by_kind
    }

    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Bytes of memory per session (slot plus its share of the index).
    pub fn bytes_per_session(&self) -> usize {
        Self::memory_bytes(self.slots.len()) / self.slots.len().max(1)
    }

    /// Memory a table of `capacity` sessions takes: the slots and the index (two keys
    /// per session, at most half full).
    pub fn memory_bytes(capacity: usize) -> usize {
        capacity * std::mem::size_of::<Session>() + FlowIndex::memory_bytes(capacity * 2)
    }

    /// A lookup ahead: start loading the key's index bucket.
    #[inline]
    pub fn prefetch(&self, key: &FlowKey) -> u32 {
        let hash = self.index.hash_of(key);
        self.index.prefetch(hash);
        hash
    }

    /// The key the index value `v` (a session and a direction) stands for.
    #[inline]
    fn key_of(slots: &[Session]) -> impl Fn(u32) -> FlowKey + '_ {
        move |v| slots.get((v >> 1) as usize).map_or(FlowKey::default(), |s| s.keys[(v & 1) as usize])
    }

    #[inline]
    pub fn lookup(&self, key: &FlowKey) -> Option<(SessionId, Dir)> {
        let v = self.index.get(key, Self::key_of(&self.slots))?;
        Some((v >> 1, if v & 1 == 0 { Dir::Original } else { Dir::Reply }))
    }

    /// Starts loading the session a key of this hash most likely names, if its index
    /// bucket says there is one (the bucket was prefetched a stage earlier): the lines a
    /// packet of it touches. No key is compared: that would read the session itself.
    #[inline]
    pub fn prefetch_session(&self, hash: u32) {
        if let Some(v) = self.index.candidate(hash) {
            if let Some(s) = self.slots.get((v >> 1) as usize) {
                let at = (s as *const Session).cast::<u8>();
                for line in 0..std::mem::size_of::<Session>().div_ceil(64) {
                    dpdk::prefetch(at.wrapping_add(line * 64));
                }
            }
        }
    }

    /// [`SessionTable::lookup`] with the hash [`SessionTable::prefetch`] returned for it.
    #[inline]
    pub fn lookup_hashed(&self, key: &FlowKey, hash: u32) -> Option<(SessionId, Dir)> {
        let v = self.index.get_hashed(key, hash, Self::key_of(&self.slots))?;
        Some((v >> 1, if v & 1 == 0 { Dir::Original } else { Dir::Reply }))
    }

    #[inline]
    pub fn get(&self, id: SessionId) -> &Session {
        &self.slots[id as usize]
    }

    #[inline]
    pub fn get_mut(&mut self, id: SessionId) -> &mut Session {
        &mut self.slots[id as usize]
    }

    /// The remaining time of a session, in milliseconds.
    pub fn remaining_ms(&self, s: &Session, now: Millis) -> u64 {
        (s.last_seen.0 + self.timeouts_ms[s.class as usize]).saturating_sub(now.0)
    }

    /// Live sessions (for display; not on the packet path).
    pub fn iter(&self) -> impl Iterator<Item = (SessionId, &Session)> {
        self.iter_from(0)
    }

    /// Live sessions in slot order from slot `from` (chunked display).
    pub fn iter_from(&self, from: SessionId) -> impl Iterator<Item = (SessionId, &Session)> {
        self.slots
            .iter()
            .enumerate()
            .skip(from as usize)
            .filter(|(_, s)| s.in_use)
            .map(|(i, s)| (i as SessionId, s))
    }

    /// Creates a session; when the table is full, expired sessions are reclaimed first
    /// (their removal is reported through `on_removed`).
    pub fn create(
        &mut self,
        new: NewSession,
        now: Millis,
        on_removed: impl FnMut(&Session),
    ) -> Result<SessionId, CreateError> {
        if self.free == NIL {
            self.expire(now, 8, on_removed);
        }
        let reply = new.reply();
        if self.lookup(&new.original).is_some() || (new.two_way && self.lookup(&reply).is_some()) {
            return Err(CreateError::Conflict);
        }
        let needed = if new.two_way { 2 } else { 1 };
        if self.index.len() + needed > self.index.capacity() {
            return Err(CreateError::Full);
        }
        let id = self.free;
        if id == NIL {
            return Err(CreateError::Full);
        }
        self.free = self.slots[id as usize].lru_next;
        // The index finds keys through the slot: the keys first.
        self.slots[id as usize].keys = [new.original, reply];
        let _ = self.index.insert(&new.original, id << 1, Self::key_of(&self.slots));
        let index_reply = new.two_way
            || (reply.sport != 0
                && self.lookup(&reply).is_none()
                && self.index.len() < self.index.capacity());
        if index_reply {
            let _ = self.index.insert(&reply, (id << 1) | 1, Self::key_of(&self.slots));
        }
        let s = &mut self.slots[id as usize];
        s.deltas = [
            Rewrite::between(&new.original, &new.translated).deltas(),
            Rewrite::between(&reply, &new.original.reversed()).deltas(),
        ];
        s.tcp = new.tcp;
        s.class = new.class;
        s.app = new.app;
        s.holds_nat_port = new.nat.is_some_and(|b| b.port != 0);
        s.created_secs = (now.0 / 1000) as u32;
        s.last_seen = now;
        s.packets = [0; 2];
        s.bytes = [0; 2];
        s.two_way = new.two_way;
        s.zones = new.zones;
        s.reply_indexed = index_reply;
        s.in_use = true;
        self.live += 1;
        self.live_by_kind[Kind::of(s) as usize] += 1;
        self.link_tail(id);
        Ok(id)
    }

    /// Records a packet: counters, time, and its LRU position if it comes in another
    /// period of 1,024 ms than the session's last packet. So a session's last packet is
    /// always of the period it last moved in, and the lists stay ordered by last packet
    /// to within a period: a session expires at most 1,024 ms late.
    #[inline]
    pub fn touch(&mut self, id: SessionId, dir: Dir, bytes: usize, now: Millis) {
        let s = &mut self.slots[id as usize];
        s.packets[dir.index()] += 1;
        s.bytes[dir.index()] += bytes as u64;
        let moved = s.last_seen.0 >> LRU_PERIOD_BITS != now.0 >> LRU_PERIOD_BITS;
        s.last_seen = now;
        if moved {
            self.unlink(id);
            self.link_tail(id);
        }
    }

    /// Moves a session to another timeout class (TCP state changes).
    pub fn set_class(&mut self, id: SessionId, class: TimeoutClass) {
        if self.slots[id as usize].class == class {
            return;
        }
        self.unlink(id);
        self.slots[id as usize].class = class;
        self.link_tail(id);
    }

    /// Removes up to `max` expired sessions from the list heads.
    pub fn expire(&mut self, now: Millis, max: usize, mut on_removed: impl FnMut(&Session)) -> usize {
        let mut removed = 0;
        for class in 0..CLASSES {
            while removed < max {
                let head = self.lru[class].head;
                if head == NIL {
                    break;
                }
                let s = &self.slots[head as usize];
                if now.0 < s.last_seen.0 + self.timeouts_ms[class] {
                    break;
                }
                on_removed(s);
                self.remove(head);
                removed += 1;
            }
        }
        removed
    }

    /// Ends a session now (reset, teardown by an ALG).
    pub fn remove(&mut self, id: SessionId) {
        let s = &self.slots[id as usize];
        if !s.in_use {
            return;
        }
        let (k0, k1, reply_indexed) = (s.keys[0], s.keys[1], s.reply_indexed);
        self.index.remove(&k0, id << 1);
        if reply_indexed {
            self.index.remove(&k1, (id << 1) | 1);
        }
        self.unlink(id);
        let kind = Kind::of(&self.slots[id as usize]) as usize;
        self.live_by_kind[kind] -= 1;
        self.slots[id as usize].in_use = false;
        self.slots[id as usize].lru_next = self.free;
        self.free = id;
        self.live -= 1;
    }

    /// Live sessions of a timeout class (half-open TCP: what a SYN flood fills).
    pub fn live_in(&self, class: TimeoutClass) -> usize {
        self.live_by_class[class as usize] as usize
    }

    fn link_tail(&mut self, id: SessionId) {
        let class = self.slots[id as usize].class as usize;
        self.live_by_class[class] += 1;
        let tail = self.lru[class].tail;
        {
            let s = &mut self.slots[id as usize];
            s.lru_prev = tail;
            s.lru_next = NIL;
        }
        if tail == NIL {
            self.lru[class].head = id;
        } else {
            self.slots[tail as usize].lru_next = id;
        }
        self.lru[class].tail = id;
    }

    fn unlink(&mut self, id: SessionId) {
        let (class, prev, next) = {
            let s = &self.slots[id as usize];
            (s.class as usize, s.lru_prev, s.lru_next)
        };
        self.live_by_class[class] -= 1;
        if prev == NIL {
            self.lru[class].head = next;
        } else {
            self.slots[prev as usize].lru_next = next;
        }
        if next == NIL {
            self.lru[class].tail = prev;
        } else {
            self.slots[next as usize].lru_prev = prev;
        }
    }
}

#[cfg(test)]
mod tests;
