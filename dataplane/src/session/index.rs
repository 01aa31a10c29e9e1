//! The flow index: flow key -> session slot, open addressing with linear probing.
//!
//! Written by hand because it sits on the per-packet path and must never allocate or
//! pause: the bucket array is sized once, to exactly 2 buckets per key it may hold (at
//! most half full, so probes stay short: 1.5 buckets on average to find a key, 2.5 to
//! miss; two thirds full would save 8 bytes a session and cost a tenth of the new-flow
//! rate), a key's home bucket its hash scaled to the array (no power of two to round to),
//! and deletion shifts the following entries back instead of leaving tombstones, so
//! there is never a rehash. A bucket holds only the key's hash and its value, 8 bytes:
//! the key itself lives in the session the value names, which a packet reads anyway, so
//! a probe compares 32 bits of hash and only on a match asks `key_of` for the key.
//! Keeping keys out of the buckets makes the index a third of its old size per session.
use wire::FlowKey;

#[derive(Clone, Copy, Default)]
struct Bucket {
    /// The key's keyed hash (never 0); 0 marks an empty bucket.
    tag: u32,
    value: u32,
}

pub struct FlowIndex {
    buckets: Box<[Bucket]>,
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
        FlowIndex {
            buckets: vec![Bucket::default(); Self::buckets_for(capacity)].into_boxed_slice(),
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
        Self::buckets_for(capacity) * std::mem::size_of::<Bucket>()
    }

    /// Buckets for `capacity` keys: at most half full, and one always empty (a probe
    /// ends at an empty bucket).
    fn buckets_for(capacity: usize) -> usize {
        capacity * 2 + 1
    }

    /// Where a key of hash `tag` is put first: the hash scaled to the array (the high
    /// bits decide, and they are as well mixed as the low ones).
    #[inline]
    fn home(&self, tag: u32) -> usize {
        ((u64::from(tag) * self.buckets.len() as u64) >> 32) as usize
    }

    /// The bucket after `i`, round the end.
    #[inline]
    fn next(&self, i: usize) -> usize {
        if i + 1 == self.buckets.len() {
            0
        } else {
            i + 1
        }
    }

    /// The hash `key` is found by, for [`FlowIndex::prefetch`] and [`FlowIndex::get_hashed`].
    #[inline]
    pub fn hash_of(&self, key: &FlowKey) -> u32 {
        self.hash(key)
    }

    /// Starts loading the bucket a key of hash `tag` would be found in (the lookup of a
    /// packet later in the burst).
    #[inline]
    pub fn prefetch(&self, tag: u32) {
        if let Some(b) = self.buckets.get(self.home(tag)) {
            dpdk::prefetch(b);
        }
    }

    /// The value of `key`; `key_of` gives the key stored under a value.
    #[inline]
    pub fn get(&self, key: &FlowKey, key_of: impl Fn(u32) -> FlowKey) -> Option<u32> {
        self.get_hashed(key, self.hash(key), key_of)
    }

    /// [`FlowIndex::get`] with the key's hash computed already (`hash_of`).
    #[inline]
    pub fn get_hashed(&self, key: &FlowKey, tag: u32, key_of: impl Fn(u32) -> FlowKey) -> Option<u32> {
        let mut i = self.home(tag);
        loop {
            let b = &self.buckets[i];
            if b.tag == 0 {
                return None;
            }
            if b.tag == tag && key_of(b.value) == *key {
                return Some(b.value);
            }
            i = self.next(i);
        }
    }

    /// The first value stored under hash `tag`, without comparing keys: where a lookup
    /// of that hash will most likely end (to prefetch what it names).
    #[inline]
    pub fn candidate(&self, tag: u32) -> Option<u32> {
        let mut i = self.home(tag);
        loop {
            let b = &self.buckets[i];
            if b.tag == 0 {
                return None;
            }
            if b.tag == tag {
                return Some(b.value);
            }
            i = self.next(i);
        }
    }

    /// Stores `value` under `key`; `key_of` must give, for every value already stored,
    /// its key (not yet for `value`).
    pub fn insert(
        &mut self,
        key: &FlowKey,
        value: u32,
        key_of: impl Fn(u32) -> FlowKey,
    ) -> Result<(), InsertError> {
        let tag = self.hash(key);
        let mut i = self.home(tag);
        loop {
            let b = &self.buckets[i];
            if b.tag == 0 {
                break;
            }
            if b.tag == tag && key_of(b.value) == *key {
                return Err(InsertError::Exists(b.value));
            }
            i = self.next(i);
        }
        if self.len >= self.capacity {
            return Err(InsertError::Full);
        }
        self.buckets[i] = Bucket { tag, value };
        self.len += 1;
        Ok(())
    }

    /// Removes the entry of `key` holding `value` (values are unique, so no key needs
    /// comparing); the entries after it in its probe run move back to fill the gap.
    pub fn remove(&mut self, key: &FlowKey, value: u32) -> bool {
        let tag = self.hash(key);
        let mut i = self.home(tag);
        loop {
            let b = &self.buckets[i];
            if b.tag == 0 {
                return false;
            }
            if b.tag == tag && b.value == value {
                break;
            }
            i = self.next(i);
        }
        let mut hole = i;
        let mut j = self.next(i);
        while self.buckets[j].tag != 0 {
            let home = self.home(self.buckets[j].tag);
            // Move j into the hole unless its home lies cyclically in (hole, j].
            let stays = if hole <= j { hole < home && home <= j } else { hole < home || home <= j };
            if !stays {
                self.buckets[hole] = self.buckets[j];
                hole = j;
            }
            j = self.next(j);
        }
        self.buckets[hole] = Bucket::default();
        self.len -= 1;
        true
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

    /// Values name their key as sessions do: key number in the high bits.
    fn key_of(v: u32) -> FlowKey {
        key(v >> 10)
    }

    #[test]
    fn insert_get_remove() {
        let mut ix = FlowIndex::with_capacity(4);
        let v = |k: u32, n: u32| (k << 10) | n;
        for i in 0..4 {
            assert_eq!(ix.insert(&key(i), v(i, 100), key_of), Ok(()));
        }
        assert_eq!(ix.insert(&key(9), v(9, 9), key_of), Err(InsertError::Full));
        assert_eq!(ix.insert(&key(2), v(2, 5), key_of), Err(InsertError::Exists(v(2, 100))));
        assert_eq!(ix.get(&key(3), key_of), Some(v(3, 100)));
        assert_eq!(ix.candidate(ix.hash_of(&key(3))), Some(v(3, 100)));
        assert!(!ix.remove(&key(3), v(3, 7)), "only the entry holding that value");
        assert!(ix.remove(&key(3), v(3, 100)));
        assert_eq!(ix.get(&key(3), key_of), None);
        assert!(!ix.remove(&key(3), v(3, 100)));
        assert_eq!(ix.insert(&key(9), v(9, 9), key_of), Ok(()));
        assert_eq!(ix.len(), 4);
    }

    /// A bucket whose hash matches is the key's only if the key stored under its value
    /// is: a value whose session now holds another key is not found (a full 32-bit
    /// collision between two keys is what this guards against).
    #[test]
    fn a_matching_hash_is_not_enough() {
        let mut ix = FlowIndex::with_secret(16, 1);
        ix.insert(&key(1), 1 << 10, key_of).unwrap();
        assert_eq!(ix.get(&key(1), key_of), Some(1 << 10));
        assert_eq!(ix.get(&key(1), |_| key(7)), None, "the stored key decides, not the hash");
        assert_eq!(ix.candidate(ix.hash_of(&key(1))), Some(1 << 10), "a candidate compares no key");
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
                        let value = (k << 10) | (n as u32 & 1023);
                        let r = ix.insert(&key(k), value, key_of);
                        match model.get(&k) {
                            Some(v) => prop_assert_eq!(r, Err(InsertError::Exists(*v))),
                            None if model.len() >= 64 => prop_assert_eq!(r, Err(InsertError::Full)),
                            None => { prop_assert_eq!(r, Ok(())); model.insert(k, value); }
                        }
                    }
                    Op::Remove(k) => {
                        let k = u32::from(k);
                        let stored = ix.get(&key(k), key_of);
                        prop_assert_eq!(stored, model.get(&k).copied());
                        if let Some(v) = stored {
                            prop_assert!(ix.remove(&key(k), v));
                            model.remove(&k);
                        }
                    }
                }
                prop_assert_eq!(ix.len(), model.len());
            }
            for k in 0..300u32 {
                prop_assert_eq!(ix.get(&key(k), key_of), model.get(&k).copied());
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
        let home = |ix: &FlowIndex, k: &FlowKey| ix.home(ix.hash(k));
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
