//! Which worker owns a flow: a pure function of the packet, the same on every core.
//!
//! 1. One worker: it owns everything.
//! 2. Protocols with nothing port-like (GRE v0, other IP protocols): worker 0. After NAT
//!    the two directions share no field that could spread them consistently.
//! 3. Destination is a NAT public address: the worker whose slice of the port /
//!    identifier / Call ID space holds the destination port. Workers allocate only from
//!    their own slice, so a reply finds the worker that created the translation.
//! 4. Otherwise: the symmetric Toeplitz hash of the tuple, as an RSS NIC with the same
//!    key computes it (`(hash & 127) % workers` mirrors a 128-entry round-robin
//!    redirection table). Both directions of an untranslated flow hash alike.
use std::sync::Arc;
use wire::{FlowKey, Toeplitz, SYMMETRIC_KEY};

/// Ports, identifiers and Call IDs below this are never allocated by NAT.
pub const NAT_FIRST: u16 = 1024;

pub type Owner = u16;

/// The ownership rules, built at start (and on reload) and shared by every core.
pub struct OwnerMap {
    workers: u16,
    per_worker: u32,
    public: Vec<u32>,
    toeplitz: Arc<Toeplitz>,
}

impl OwnerMap {
    pub fn new(workers: u16, public_addrs: &[std::net::Ipv4Addr]) -> OwnerMap {
        let workers = workers.max(1);
        let mut public: Vec<u32> = public_addrs.iter().map(|a| u32::from(*a)).collect();
        public.sort_unstable();
        public.dedup();
        OwnerMap {
            workers,
            per_worker: (u32::from(u16::MAX) - u32::from(NAT_FIRST) + 1) / u32::from(workers),
            public,
            toeplitz: Arc::new(Toeplitz::new(&SYMMETRIC_KEY)),
        }
    }

    pub fn workers(&self) -> u16 {
        self.workers
    }

    /// Whether `addr` is one NAT translates sources to.
    #[inline]
    pub fn is_public(&self, addr: u32) -> bool {
        self.public.binary_search(&addr).is_ok()
    }

    /// The slice of NAT ports (identifiers, Call IDs) worker `w` allocates from.
    pub fn slice(&self, w: Owner) -> std::ops::RangeInclusive<u16> {
        let start = u32::from(NAT_FIRST) + u32::from(w) * self.per_worker;
        let end = if w + 1 == self.workers { u32::from(u16::MAX) } else { start + self.per_worker - 1 };
        (start as u16)..=(end as u16)
    }

    #[inline]
    fn slice_of(&self, port: u16) -> Owner {
        if port < NAT_FIRST {
            return 0;
        }
        let w = (u32::from(port - NAT_FIRST) / self.per_worker) as u16;
        w.min(self.workers - 1)
    }

    /// The owner of a packet with this key; `portless` for protocols of rule 2.
    #[inline]
    pub fn owner(&self, key: &FlowKey, portless: bool) -> Owner {
        if self.workers == 1 || portless {
            return 0;
        }
        if self.is_public(key.dst) {
            return self.slice_of(key.dport);
        }
        let h = self.toeplitz.hash_v4(key.src, key.dst, key.sport, key.dport);
        ((h & 127) % u32::from(self.workers)) as Owner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_cover_the_space_without_overlap() {
        for workers in 1..=5 {
            let m = OwnerMap::new(workers, &[]);
            let mut next = u32::from(NAT_FIRST);
            for w in 0..workers {
                let s = m.slice(w);
                assert_eq!(u32::from(*s.start()), next);
                next = u32::from(*s.end()) + 1;
                assert_eq!(m.slice_of(*s.start()), w);
                assert_eq!(m.slice_of(*s.end()), w);
            }
            assert_eq!(next, 65536);
        }
    }

    #[test]
    fn replies_to_public_addresses_go_to_the_allocating_slice() {
        let public = std::net::Ipv4Addr::new(203, 0, 113, 2);
        let m = OwnerMap::new(3, &[public]);
        for w in 0..3 {
            let port = *m.slice(w).start() + 17;
            let reply = FlowKey::new([1, 1, 1, 1].into(), public, 80, port, 6);
            assert_eq!(m.owner(&reply, false), w);
        }
    }

    #[test]
    fn untranslated_flows_have_one_owner_both_ways() {
        let m = OwnerMap::new(4, &[]);
        let mut used = [0; 4];
        for i in 0..1000u32 {
            let k = FlowKey {
                src: 0xc0a8_0100 + i,
                dst: 0xcb00_7101,
                sport: (i * 7) as u16,
                dport: 80,
                proto: 6,
            };
            let o = m.owner(&k, false);
            assert_eq!(o, m.owner(&k.reversed(), false));
            used[o as usize] += 1;
        }
        assert!(used.iter().all(|n| *n > 150), "spread over workers: {used:?}");
        let gre0 = FlowKey { proto: 47, ..FlowKey::default() };
        assert_eq!(m.owner(&gre0, true), 0);
    }
}
