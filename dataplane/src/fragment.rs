//! IPv4 fragments without reassembly (VPP's shallow virtual reassembly): the first
//! fragment of a datagram leaves its flow's key in a small entry, keyed by
//! (source, destination, protocol, identification), and every fragment of the datagram
//! is then translated and forwarded with that key, as the first one was.
//!
//! Each entry remembers which byte ranges of the datagram went by, so a fragment that
//! overlaps one (the old way to hide a header from a firewall, or to rewrite one
//! behind it) or that would end past 65,535 bytes is refused. Entries live for the
//! configured time from their first fragment and the table is bounded: when it is full,
//! new datagrams' fragments are refused until entries age out. Fragments that arrive
//! before their datagram's first wait in a small buffer the worker keeps
//! ([`HeldFragments`]) until the first comes, for a quarter of that time at most.
use crate::clock::Millis;
use crate::stats::DropReason;
use std::collections::{HashMap, VecDeque};
use wire::FlowKey;

/// What names a datagram's fragments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DatagramId {
    pub src: u32,
    pub dst: u32,
    pub proto: u8,
    pub ident: u16,
}

impl DatagramId {
    /// A short name for the datagram, for matching held fragments to their first.
    pub fn tag(&self) -> u32 {
        let h = (u64::from(self.src) << 32 | u64::from(self.dst))
            ^ (u64::from(self.ident) << 16 | u64::from(self.proto)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h.wrapping_mul(0xbf58_476d_1ce4_e5b9) >> 32) as u32
    }
}

/// Byte ranges of one datagram seen so far; contiguous ones merge, so fragments in
/// order take one slot.
const RANGES: usize = 16;

#[derive(Debug, Clone, Copy)]
struct Entry {
    key: FlowKey,
    created: Millis,
    ranges: [(u32, u32); RANGES],
    used: usize,
}

impl Entry {
    /// Records `[start, end)`; refuses an overlap or a datagram cut in too many pieces.
    fn cover(&mut self, start: u32, end: u32) -> Result<(), DropReason> {
        let ranges = &mut self.ranges[..self.used];
        if ranges.iter().any(|&(s, e)| start < e && s < end) {
            return Err(DropReason::Ipv4FragmentOverlap);
        }
        if let Some(r) = ranges.iter_mut().find(|r| r.1 == start || r.0 == end) {
            *r = (r.0.min(start), r.1.max(end));
            return Ok(());
        }
        if self.used == RANGES {
            return Err(DropReason::Ipv4FragmentOverlap);
        }
        self.ranges[self.used] = (start, end);
        self.used += 1;
        Ok(())
    }
}

/// One fragment's place in its datagram.
#[derive(Debug, Clone, Copy)]
pub struct Piece {
    pub id: DatagramId,
    /// Byte offset of the fragment's payload in the datagram's payload.
    pub offset: u32,
    pub len: u32,
}

pub struct FragmentTable {
    /// Keyed by what senders choose (addresses, identification): std's hash with its
    /// per-process key, so no one can pick datagrams that collide in it.
    entries: HashMap<DatagramId, Entry>,
    order: VecDeque<(DatagramId, Millis)>,
    capacity: usize,
    timeout_ms: u64,
}

impl FragmentTable {
    pub fn new(capacity: usize, timeout_ms: u64) -> FragmentTable {
        FragmentTable {
            entries: HashMap::with_capacity(capacity),
            order: VecDeque::with_capacity(capacity),
            capacity,
            timeout_ms,
        }
    }

    /// The first fragment: its datagram's flow is `key`.
    pub fn first(&mut self, piece: Piece, key: FlowKey, now: Millis) -> Result<(), DropReason> {
        check_size(&piece)?;
        if let Some(e) = self.entries.get_mut(&piece.id) {
            // A second first fragment: the same flow, or an attempt to change it.
            if e.key != key {
                return Err(DropReason::Ipv4FragmentOverlap);
            }
            return e.cover(0, piece.len);
        }
        if self.order.len() >= self.capacity {
            return Err(DropReason::FragmentTableFull);
        }
        let mut e = Entry { key, created: now, ranges: [(0, 0); RANGES], used: 0 };
        e.cover(0, piece.len)?;
        self.entries.insert(piece.id, e);
        self.order.push_back((piece.id, now));
        Ok(())
    }

    /// A later fragment: the key its datagram's first fragment left.
    pub fn next(&mut self, piece: Piece) -> Result<FlowKey, DropReason> {
        check_size(&piece)?;
        let Some(e) = self.entries.get_mut(&piece.id) else {
            return Err(DropReason::Ipv4Fragment);
        };
        e.cover(piece.offset, piece.offset + piece.len)?;
        Ok(e.key)
    }

    /// Forgets datagrams whose time is up.
    pub fn expire(&mut self, now: Millis) {
        while let Some(&(id, created)) = self.order.front() {
            if now.0 < created.0 + self.timeout_ms {
                break;
            }
            self.order.pop_front();
            if self.entries.get(&id).is_some_and(|e| e.created == created) {
                self.entries.remove(&id);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Fragments a worker holds at most while they wait for their datagram's first.
pub const HELD_PER_WORKER: usize = 64;

/// Fragments that came before their datagram's first, kept by the worker (which owns the
/// buffers) until the first arrives or their time is up. Fixed room, taken at start.
pub struct HeldFragments<F> {
    slots: Vec<Option<Held<F>>>,
    held: usize,
}

struct Held<F> {
    frame: F,
    port: crate::ifaces::PortId,
    tag: u32,
    until: Millis,
}

impl<F> HeldFragments<F> {
    pub fn new(room: usize) -> HeldFragments<F> {
        HeldFragments { slots: (0..room).map(|_| None).collect(), held: 0 }
    }

    /// Keeps `frame` until its datagram's first fragment or `until`; gives it back if
    /// there is no room.
    pub fn hold(&mut self, frame: F, port: crate::ifaces::PortId, tag: u32, until: Millis) -> Result<(), F> {
        // Full (a fragment flood keeps it so): refuse without a scan.
        if self.held == self.slots.len() {
            return Err(frame);
        }
        match self.slots.iter_mut().find(|s| s.is_none()) {
            Some(slot) => {
                *slot = Some(Held { frame, port, tag, until });
                self.held += 1;
                Ok(())
            }
            None => Err(frame),
        }
    }

    /// One fragment held for the datagram `tag`, if any.
    pub fn take(&mut self, tag: u32) -> Option<(F, crate::ifaces::PortId)> {
        if self.held == 0 {
            return None;
        }
        let slot = self.slots.iter_mut().find(|s| s.as_ref().is_some_and(|h| h.tag == tag))?;
        let h = slot.take()?;
        self.held -= 1;
        Some((h.frame, h.port))
    }

    /// Gives every fragment whose time is up to `gone`.
    pub fn expire(&mut self, now: Millis, mut gone: impl FnMut(F)) {
        if self.held == 0 {
            return;
        }
        for slot in &mut self.slots {
            if slot.as_ref().is_some_and(|h| h.until.0 <= now.0) {
                if let Some(h) = slot.take() {
                    self.held -= 1;
                    gone(h.frame);
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        self.held
    }

    pub fn is_empty(&self) -> bool {
        self.held == 0
    }
}

fn check_size(piece: &Piece) -> Result<(), DropReason> {
    // The datagram's payload may not take it past 65,535 bytes (20 of header at least).
    if piece.offset + piece.len > 65_535 - 20 {
        return Err(DropReason::Ipv4FragmentTooBig);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: DatagramId = DatagramId { src: 1, dst: 2, proto: 17, ident: 7 };
    const KEY: FlowKey = FlowKey { src: 1, dst: 2, sport: 1000, dport: 53, proto: 17 };

    fn piece(offset: u32, len: u32) -> Piece {
        Piece { id: ID, offset, len }
    }

    #[test]
    fn fragments_find_their_first_ones_key_in_any_order_after_it() {
        let mut t = FragmentTable::new(4, 2000);
        assert_eq!(t.next(piece(1480, 1480)), Err(DropReason::Ipv4Fragment), "before the first");
        t.first(piece(0, 1480), KEY, Millis(0)).unwrap();
        assert_eq!(t.next(piece(2960, 100)), Ok(KEY));
        assert_eq!(t.next(piece(1480, 1480)), Ok(KEY));
    }

    #[test]
    fn overlaps_and_oversized_datagrams_are_refused() {
        let mut t = FragmentTable::new(4, 2000);
        t.first(piece(0, 1480), KEY, Millis(0)).unwrap();
        assert_eq!(t.next(piece(1472, 16)), Err(DropReason::Ipv4FragmentOverlap));
        assert_eq!(t.next(piece(0, 8)), Err(DropReason::Ipv4FragmentOverlap), "the header again");
        assert_eq!(t.next(piece(65_000, 1000)), Err(DropReason::Ipv4FragmentTooBig));
        let other = FlowKey { dport: 54, ..KEY };
        assert_eq!(t.first(piece(0, 1480), other, Millis(0)), Err(DropReason::Ipv4FragmentOverlap));
    }

    #[test]
    fn the_table_is_bounded_and_ages() {
        let mut t = FragmentTable::new(2, 2000);
        for ident in 0..2 {
            t.first(Piece { id: DatagramId { ident, ..ID }, offset: 0, len: 8 }, KEY, Millis(0)).unwrap();
        }
        let third = Piece { id: DatagramId { ident: 9, ..ID }, offset: 0, len: 8 };
        assert_eq!(t.first(third, KEY, Millis(1)), Err(DropReason::FragmentTableFull));
        t.expire(Millis(1999));
        assert_eq!(t.len(), 2);
        t.expire(Millis(2000));
        assert!(t.is_empty());
        t.first(third, KEY, Millis(2000)).unwrap();
    }
}
