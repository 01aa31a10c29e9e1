//! NAT numbers: a worker's ports and ICMP identifiers, and the ALG's translated Call IDs
//! (one allocator per worker slice): one bitmap per (public address, protocol),
//! covering one worker's slice only, allocated at start.
//!
//! Allocation starts at a pseudo-random position (so ports are not predictable from one
//! flow to the next) and takes the next free one; exhaustion is an error the caller
//! counts, never a wait.
use rustc_hash::FxHashMap;
use std::net::Ipv4Addr;
use std::ops::RangeInclusive;

/// The number spaces a worker's NAT allocates from: TCP and UDP ports, ICMP identifiers.
pub const NAT_SPACES: [u8; 3] = [6, 17, 1];
/// The space the PPTP ALG allocates translated Call IDs from (GRE).
pub const CALL_ID_SPACE: [u8; 1] = [47];

/// Free numbers [`PortAllocator::allocate_where`] looks at before it settles for any.
const STEER_TRIES: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortError {
    /// Every number of the slice is taken.
    Exhausted,
    /// Not a public address or protocol this allocator was built for.
    Unknown,
}

struct Bitmap {
    words: Vec<u64>,
    used: u32,
}

pub struct PortAllocator {
    range: RangeInclusive<u16>,
    maps: FxHashMap<(u32, u8), Bitmap>,
    rng: u64,
}

impl PortAllocator {
    /// Bitmaps for every public address and protocol of `spaces`, over `range` (one
    /// worker's slice).
    pub fn new(public: &[Ipv4Addr], spaces: &[u8], range: RangeInclusive<u16>, seed: u64) -> PortAllocator {
        let size = (*range.end() as usize + 1).saturating_sub(*range.start() as usize);
        let mut maps = FxHashMap::default();
        for addr in public {
            for &proto in spaces {
                maps.insert((u32::from(*addr), proto), Bitmap { words: vec![0; size.div_ceil(64)], used: 0 });
            }
        }
        PortAllocator { range, maps, rng: seed | 1 }
    }

    /// xorshift64: cheap, and enough to keep numbers unpredictable to an observer.
    fn next_random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn size(&self) -> u32 {
        u32::from(*self.range.end()) - u32::from(*self.range.start()) + 1
    }

    /// Numbers in use for every (address, protocol), and the slice's size.
    pub fn usage(&self) -> impl Iterator<Item = (Ipv4Addr, u8, u32)> + '_ {
        self.maps.iter().map(|(&(addr, proto), b)| (Ipv4Addr::from(addr), proto, b.used))
    }

    pub fn slice_size(&self) -> u32 {
        self.size()
    }

    /// Numbers in use for (address, protocol).
    pub fn in_use(&self, public: Ipv4Addr, proto: u8) -> u32 {
        self.maps.get(&(u32::from(public), proto)).map_or(0, |b| b.used)
    }

    pub fn allocate(&mut self, public: Ipv4Addr, proto: u8) -> Result<u16, PortError> {
        let size = self.size();
        let start = (self.next_random() % u64::from(size)) as u32;
        let map = self.maps.get_mut(&(u32::from(public), proto)).ok_or(PortError::Unknown)?;
        if map.used >= size {
            return Err(PortError::Exhausted);
        }
        let offset = find_free(&map.words, start, size).ok_or(PortError::Exhausted)?;
        map.words[(offset / 64) as usize] |= 1 << (offset % 64);
        map.used += 1;
        Ok(*self.range.start() + offset as u16)
    }

    /// A free number for which `wanted` holds, if one comes up among the first
    /// `STEER_TRIES` free numbers from a pseudo-random start; otherwise any free number.
    /// NAT uses it to pick ports whose replies the NIC delivers to the allocating worker;
    /// the bound keeps a nearly full slice from costing a scan of it per new flow.
    pub fn allocate_where(
        &mut self,
        public: Ipv4Addr,
        proto: u8,
        wanted: impl Fn(u16) -> bool,
    ) -> Result<u16, PortError> {
        let size = self.size();
        let start = (self.next_random() % u64::from(size)) as u32;
        let base = *self.range.start();
        let map = self.maps.get_mut(&(u32::from(public), proto)).ok_or(PortError::Unknown)?;
        if map.used >= size {
            return Err(PortError::Exhausted);
        }
        let mut at = start;
        for _ in 0..STEER_TRIES {
            let Some(offset) = find_free(&map.words, at, size) else { break };
            if wanted(base + offset as u16) {
                map.words[(offset / 64) as usize] |= 1 << (offset % 64);
                map.used += 1;
                return Ok(base + offset as u16);
            }
            at = (offset + 1) % size;
            if at == start {
                break;
            }
        }
        self.allocate(public, proto)
    }

    /// A free number within `within` (and this allocator's slice), taken from a
    /// pseudo-random start; for the ALG, which keeps a Call ID's high byte per row.
    pub fn allocate_in(
        &mut self,
        public: Ipv4Addr,
        proto: u8,
        within: RangeInclusive<u16>,
    ) -> Result<u16, PortError> {
        let (lo, hi) = (*within.start().max(self.range.start()), *within.end().min(self.range.end()));
        if lo > hi {
            return Err(PortError::Exhausted);
        }
        let span = u32::from(hi - lo) + 1;
        let start = (self.next_random() % u64::from(span)) as u32;
        let base = *self.range.start();
        let map = self.maps.get_mut(&(u32::from(public), proto)).ok_or(PortError::Unknown)?;
        for i in 0..span {
            let port = lo + ((start + i) % span) as u16;
            let offset = u32::from(port - base);
            let (w, bit) = ((offset / 64) as usize, 1u64 << (offset % 64));
            if map.words[w] & bit == 0 {
                map.words[w] |= bit;
                map.used += 1;
                return Ok(port);
            }
        }
        Err(PortError::Exhausted)
    }

    /// Whether a number within `within` (and the slice) is free.
    pub fn has_free_in(&self, public: Ipv4Addr, proto: u8, within: RangeInclusive<u16>) -> bool {
        let (lo, hi) = (*within.start().max(self.range.start()), *within.end().min(self.range.end()));
        let Some(map) = self.maps.get(&(u32::from(public), proto)) else { return false };
        let base = *self.range.start();
        (lo..=hi).any(|port| {
            let offset = u32::from(port - base);
            map.words[(offset / 64) as usize] & (1u64 << (offset % 64)) == 0
        })
    }

    /// The slice this allocator hands out numbers from.
    pub fn range(&self) -> RangeInclusive<u16> {
        self.range.clone()
    }

    /// Takes a specific number (e.g. keeping a client's own port); false if taken.
    pub fn reserve(&mut self, public: Ipv4Addr, proto: u8, port: u16) -> bool {
        if !self.range.contains(&port) {
            return false;
        }
        let offset = u32::from(port - *self.range.start());
        let Some(map) = self.maps.get_mut(&(u32::from(public), proto)) else { return false };
        let (w, bit) = ((offset / 64) as usize, 1u64 << (offset % 64));
        if map.words[w] & bit != 0 {
            return false;
        }
        map.words[w] |= bit;
        map.used += 1;
        true
    }

    pub fn release(&mut self, public: Ipv4Addr, proto: u8, port: u16) {
        if !self.range.contains(&port) {
            return;
        }
        let offset = u32::from(port - *self.range.start());
        if let Some(map) = self.maps.get_mut(&(u32::from(public), proto)) {
            let (w, bit) = ((offset / 64) as usize, 1u64 << (offset % 64));
            if map.words[w] & bit != 0 {
                map.words[w] &= !bit;
                map.used -= 1;
            }
        }
    }
}

/// The first clear bit at or after `start` (wrapping), below `size`.
fn find_free(words: &[u64], start: u32, size: u32) -> Option<u32> {
    let probe = |from: u32, to: u32| -> Option<u32> {
        let mut i = from;
        while i < to {
            let w = words[(i / 64) as usize] | ((1u64 << (i % 64)) - 1);
            let free = !w;
            if free != 0 {
                let bit = (i / 64) * 64 + free.trailing_zeros();
                return (bit < to).then_some(bit);
            }
            i = (i / 64 + 1) * 64;
        }
        None
    };
    probe(start, size).or_else(|| probe(0, start))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUB: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);

    #[test]
    fn allocates_every_number_once_then_reports_exhaustion() {
        let mut a = PortAllocator::new(&[PUB], &NAT_SPACES, 2000..=2099, 7);
        let mut got: Vec<u16> = (0..100).map(|_| a.allocate(PUB, 17).unwrap()).collect();
        got.sort();
        assert_eq!(got, (2000..=2099).collect::<Vec<_>>());
        assert_eq!(a.allocate(PUB, 17), Err(PortError::Exhausted));
        assert_eq!(a.in_use(PUB, 17), 100);
        a.release(PUB, 17, 2050);
        assert_eq!(a.allocate(PUB, 17), Ok(2050));
        assert_eq!(a.allocate(PUB, 6).map(|p| (2000..=2099).contains(&p)), Ok(true), "TCP has its own space");
        assert_eq!(a.allocate(Ipv4Addr::new(1, 2, 3, 4), 6), Err(PortError::Unknown));
    }

    #[test]
    fn reserve_takes_a_chosen_number() {
        let mut a = PortAllocator::new(&[PUB], &CALL_ID_SPACE, 1024..=65535, 1);
        assert!(a.reserve(PUB, 47, 5000));
        assert!(!a.reserve(PUB, 47, 5000));
        assert!(!a.reserve(PUB, 47, 80), "outside the slice");
        a.release(PUB, 47, 5000);
        assert!(a.reserve(PUB, 47, 5000));
    }

    #[test]
    fn allocates_where_wanted_while_it_can_then_anything() {
        let mut a = PortAllocator::new(&[PUB], &NAT_SPACES, 2000..=2099, 7);
        let mut got = Vec::new();
        for _ in 0..25 {
            got.push(a.allocate_where(PUB, 17, |p| p % 4 == 1).unwrap());
        }
        assert!(got.iter().all(|p| p % 4 == 1), "every wanted number first: {got:?}");
        let other = a.allocate_where(PUB, 17, |p| p % 4 == 1).unwrap();
        assert_ne!(other % 4, 1, "none left that is wanted: any free one");
        got.push(other);
        got.sort_unstable();
        got.dedup();
        assert_eq!((got.len(), a.in_use(PUB, 17)), (26, 26));
        while a.allocate_where(PUB, 17, |_| false).is_ok() {}
        assert_eq!(a.in_use(PUB, 17), 100, "the slice is used up, every number once");
        assert_eq!(a.allocate_where(PUB, 17, |_| true), Err(PortError::Exhausted));
    }

    #[test]
    fn find_free_wraps_around() {
        let words = [u64::MAX, 0b1011];
        assert_eq!(find_free(&words, 64, 70), Some(66));
        assert_eq!(find_free(&words, 67, 68), Some(66), "wraps to the start");
        let full = [u64::MAX, 0b1111];
        assert_eq!(find_free(&full, 10, 68), None);
    }
}
