//! A map a worker owns and reads on the packet path, sized at start: an insert beyond
//! the capacity is refused rather than growing the map, so a lookup never meets a
//! reallocation and nothing on the packet path allocates. The workers' neighbour cache
//! and server map are both kept this way; their owners (the slow path) hold the
//! authoritative tables and send changes through the inbox.
use rustc_hash::FxHashMap;
use std::hash::Hash;

#[derive(Debug, Clone)]
pub struct BoundedMap<K, V> {
    map: FxHashMap<K, V>,
    capacity: usize,
}

impl<K: Hash + Eq, V> BoundedMap<K, V> {
    pub fn with_capacity(capacity: usize) -> Self {
        let mut map = FxHashMap::default();
        map.reserve(capacity);
        BoundedMap { map, capacity }
    }

    /// A lookup; an empty map (no PPTP tunnel, say) costs no hashing.
    #[inline]
    pub fn get(&self, key: &K) -> Option<&V> {
        if self.map.is_empty() {
            return None;
        }
        self.map.get(key)
    }

    /// Inserts or replaces; false when the map is full and `key` is new.
    pub fn insert(&mut self, key: K, value: V) -> bool {
        if self.map.len() >= self.capacity && !self.map.contains_key(&key) {
            return false;
        }
        self.map.insert(key, value);
        true
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.map.remove(key)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl<K: Hash + Eq, V> Default for BoundedMap<K, V> {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_new_entries_when_full() {
        let mut m = BoundedMap::with_capacity(1);
        assert!(m.insert(1, "a"));
        assert!(m.insert(1, "b"), "a key already in replaces its value even when full");
        assert!(!m.insert(2, "c"));
        assert_eq!(m.get(&1), Some(&"b"));
        assert_eq!(m.get(&2), None);
        assert_eq!(m.remove(&1), Some("b"));
        assert!(m.is_empty());
    }
}
