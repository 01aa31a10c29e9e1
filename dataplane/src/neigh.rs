//! The workers' copy of the neighbour (ARP) table.
//!
//! The slow path owns the authoritative table (resolution, aging, hold queues; see
//! `slowpath::resolve`) and sends each worker every change through its inbox. A worker
//! applies changes between bursts, so a lookup is a plain read of memory it owns. The map
//! is sized at start; inserts beyond the capacity are refused rather than reallocating.
use crate::packet::MacAddr;
use rustc_hash::FxHashMap;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Default)]
pub struct NeighbourCache {
    map: FxHashMap<Ipv4Addr, MacAddr>,
    capacity: usize,
}

impl NeighbourCache {
    pub fn with_capacity(capacity: usize) -> NeighbourCache {
        let mut map = FxHashMap::default();
        map.reserve(capacity);
        NeighbourCache { map, capacity }
    }

    #[inline]
    pub fn get(&self, ip: Ipv4Addr) -> Option<MacAddr> {
        self.map.get(&ip).copied()
    }

    /// Records `ip -> mac`; false when the cache is full and `ip` is new.
    pub fn set(&mut self, ip: Ipv4Addr, mac: MacAddr) -> bool {
        if self.map.len() >= self.capacity && !self.map.contains_key(&ip) {
            return false;
        }
        self.map.insert(ip, mac);
        true
    }

    pub fn remove(&mut self, ip: Ipv4Addr) {
        self.map.remove(&ip);
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_new_entries_when_full() {
        let mut c = NeighbourCache::with_capacity(1);
        let mac = MacAddr([2, 0, 0, 0, 0, 1]);
        assert!(c.set([10, 0, 0, 1].into(), mac));
        assert!(c.set([10, 0, 0, 1].into(), MacAddr::BROADCAST));
        assert!(!c.set([10, 0, 0, 2].into(), mac));
        assert_eq!(c.get([10, 0, 0, 1].into()), Some(MacAddr::BROADCAST));
        c.remove([10, 0, 0, 1].into());
        assert!(c.is_empty());
    }
}
