//! The flow index: flow key -> session slot, open addressing with linear probing.
//!
//! Written by hand because it sits on the per-packet path and must never allocate or
//! pause: the bucket array is sized once (at most half full, so probes stay short),
//! and deletion shifts the following entries back instead of leaving tombstones, so
//! there is never a rehash. A bucket keeps the key's hash beside the key: a probe
//! compares 32 bits before comparing keys.
use wire::FlowKey;

#[derive(Clone, Copy, Default)]
struct Bucket {
    /// The key's keyed hash (never 0); 0 marks an empty bucket.
    tag: u32,
    value: u32,
    key: FlowKey,
}

pub struct FlowIndex {
    buckets: Box<[Bucket]>,
    mask: usize,
    len: usize,
    capacity: usize,
    /// The hash's key, new every run (see `FlowKey::hash32_keyed`).
    secret: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertError {
    /// `capacity` entries are stored already.
    Full,
    /// The key is present, with this value.
    Exists(u32),
}

impl FlowIndex {
    /// An index for at most `capacity` keys, its hash keyed anew.
    pub fn with_capacity(capacity: usize) -> FlowIndex {
        FlowIndex::with_secret(capacity, crate::clock::run_seed())
    }

    /// An index with a chosen hash key (tests).
    pub fn with_secret(capacity: usize, secret: u64) -> FlowIndex {
        let size = (capacity.max(1) * 2).next_power_of_two();
        FlowIndex {
            buckets: vec![Bucket::default(); size].into_boxed_slice(),
            mask: size - 1,
            len: 0,
            capacity,
            secret,
        }
    }

    #[inline]
    fn hash(&self, key: &FlowKey) -> u32 {
        key.hash32_keyed(self.secret)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Memory an index for `capacity` keys takes.
    pub fn memory_bytes(capacity: usize) -> usize {
        (capacity.max(1) * 2).next_power_of_two() * std::mem::size_of::<Bucket>()
    }

    /// The hash `key` is found by, for [`Index::prefetch`] and [`Index::get_hashed`].
    #[inline]
    pub fn hash_of(&self, key: &FlowKey) -> u32 {
        self.hash(key)
    }

    /// Starts loading the bucket a key of hash `tag` would be found in (the lookup of a
    /// packet later in the burst).
    #[inline]
    pub fn prefetch(&self, tag: u32) {
        dpdk::prefetch(&self.buckets[tag as usize & self.mask]);
    }

    #[inline]
    pub fn get(&self, key: &FlowKey) -> Option<u32> {
        self.get_hashed(key, self.hash(key))
    }

    /// [`Index::get`] with the key's hash computed already (`hash_of`).
    #[inline]
    pub fn get_hashed(&self, key: &FlowKey, tag: u32) -> Option<u32> {
        let mut i = tag as usize & self.mask;
        loop {
            let b = &self.buckets[i];
            if b.tag == 0 {
                return None;
            }
            if b.tag == tag && b.key == *key {
                return Some(b.value);
            }
            i = (i + 1) & self.mask;
        }
    }

    pub fn insert(&mut self, key: FlowKey, value: u32) -> Result<(), InsertError> {
        let tag = self.hash(&key);
        let mut i = tag as usize & self.mask;
        loop {
            let b = &self.buckets[i];
            if b.tag == 0 {
                break;
            }
            if b.tag == tag && b.key == key {
                return Err(InsertError::Exists(b.value));
            }
            i = (i + 1) & self.mask;
        }
        if self.len >= self.capacity {
            return Err(InsertError::Full);
        }
        self.buckets[i] = Bucket { tag, value, key };
        self.len += 1;
        Ok(())
    }

    /// Removes `key`; the entries after it in its probe run move back to fill the gap.
    pub fn remove(&mut self, key: &FlowKey) -> Option<u32> {
        let tag = self.hash(key);
        let mut i = tag as usize & self.mask;
        loop {
            let b = &self.buckets[i];
            if b.tag == 0 {
                return None;
            }
            if b.tag == tag && b.key == *key {
                break;
            }
            i = (i + 1) & self.mask;
        }
        let value = self.buckets[i].value;
        let mut hole = i;
        let mut j = (i + 1) & self.mask;
        while self.buckets[j].tag != 0 {
            let home = self.buckets[j].tag as usize & self.mask;
            // Move j into the hole unless its home lies cyclically in (hole, j].
            let stays = if hole <= j { hole < home && home <= j } else { hole < home || home <= j };
            if !stays {
                self.buckets[hole] = self.buckets[j];
                hole = j;
            }
            j = (j + 1) & self.mask;
        }
        self.buckets[hole] = Bucket::default();
        self.len -= 1;
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn key(i: u32) -> FlowKey {
        FlowKey { src: i, dst: i.rotate_left(7), sport: i as u16, dport: 80, proto: 6 }
    }

    #[test]
    fn insert_get_remove() {
        let mut ix = FlowIndex::with_capacity(4);
        for i in 0..4 {
            assert_eq!(ix.insert(key(i), i + 100), Ok(()));
        }
        assert_eq!(ix.insert(key(9), 9), Err(InsertError::Full));
        assert_eq!(ix.insert(key(2), 5), Err(InsertError::Exists(102)));
        assert_eq!(ix.get(&key(3)), Some(103));
        assert_eq!(ix.remove(&key(3)), Some(103));
        assert_eq!(ix.get(&key(3)), None);
        assert_eq!(ix.remove(&key(3)), None);
        assert_eq!(ix.insert(key(9), 9), Ok(()));
        assert_eq!(ix.len(), 4);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16),
        Remove(u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![(0u16..300).prop_map(Op::Insert), (0u16..300).prop_map(Op::Remove)]
    }

    proptest! {
        /// Any sequence of inserts and removes behaves like a HashMap with a size cap,
        /// including the backward shifts over a crowded, wrapped-around table.
        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec(op(), 1..600)) {
            let mut ix = FlowIndex::with_capacity(64);
            let mut model: HashMap<u32, u32> = HashMap::new();
            for (n, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Insert(k) => {
                        let k = u32::from(k);
                        let r = ix.insert(key(k), n as u32);
                        match model.get(&k) {
                            Some(v) => prop_assert_eq!(r, Err(InsertError::Exists(*v))),
                            None if model.len() >= 64 => prop_assert_eq!(r, Err(InsertError::Full)),
                            None => { prop_assert_eq!(r, Ok(())); model.insert(k, n as u32); }
                        }
                    }
                    Op::Remove(k) => {
                        let k = u32::from(k);
                        prop_assert_eq!(ix.remove(&key(k)), model.remove(&k));
                    }
                }
                prop_assert_eq!(ix.len(), model.len());
            }
            for k in 0..300u32 {
                prop_assert_eq!(ix.get(&key(k)), model.get(&k).copied());
            }
        }
    }
}

#[cfg(test)]
mod keyed {
    use super::*;

    /// Tuples an attacker found to share one probe run (for a hash key it knew) land
    /// all over an index keyed otherwise: every run has its own key.
    #[test]
    fn tuples_that_share_a_probe_run_under_one_key_spread_under_another() {
        let (known, run) = (FlowIndex::with_secret(1024, 1), FlowIndex::with_secret(1024, 2));
        let home = |ix: &FlowIndex, k: &FlowKey| ix.hash(k) as usize & ix.mask;
        let crafted: Vec<FlowKey> = (0u32..)
            .map(|i| FlowKey { src: i, dst: 1, sport: 2, dport: 3, proto: 17 })
            .filter(|k| home(&known, k) == 0)
            .take(64)
            .collect();
        let spread: std::collections::HashSet<usize> = crafted.iter().map(|k| home(&run, k)).collect();
        assert!(spread.len() > 48, "{} buckets", spread.len());
        assert_ne!(FlowIndex::with_capacity(8).secret, FlowIndex::with_capacity(8).secret);
    }
}
