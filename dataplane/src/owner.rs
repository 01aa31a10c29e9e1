//! Which worker owns a flow: a pure function of the packet, the same on every core.
//!
//! 1. One worker: it owns everything.
//! 2. Protocols with nothing port-like (GRE v0, other IP protocols): worker 0. After NAT
//!    the two directions share no field that could spread them consistently.
//! 3. Destination is a NAT public address: the worker whose slice of the port /
//!    identifier / Call ID space holds the destination port. Workers allocate only from
//!    their own slice, so a reply finds the worker that created the translation.
//! 4. Otherwise: the queue an RSS NIC programmed from this map delivers it to: the
//!    symmetric Toeplitz hash, over addresses and ports for TCP and UDP and over the
//!    addresses alone for everything else (ICMP, GRE), as NICs hash them, looked up in
//!    a 128-entry redirection table ([`OwnerMap::table_for`], entry i = i % workers). Both
//!    directions of an untranslated flow hash alike.
//!
//! Ports program the same key and table into the NIC (`dpdk::Port::start`), so packets
//! arrive at their owner. Replies to NAT addresses do too when NAT picks its ports with
//! [`OwnerMap::reply_queue`] (TCP, UDP) and the ALG its Call IDs from the slice of
//! [`OwnerMap::by_addrs`] (GRE): rule 3 and the NIC then agree. ICMP echo replies hash
//! by addresses only, so their identifier cannot steer them: they cross once.
use std::sync::Arc;
use wire::{FlowKey, Toeplitz, SYMMETRIC_KEY};

/// Ports, identifiers and Call IDs below this are never allocated by NAT.
pub const NAT_FIRST: u16 = 1024;

/// Entries of the redirection table ownership is defined over. A device's table of a
/// larger power-of-two size is programmed with this one repeated, which sends every
/// hash to the same queue.
pub const RETA_MODEL: usize = 128;

pub type Owner = u16;

const TCP: u8 = 6;
const UDP: u8 = 17;

/// The ownership rules, built at start (and on reload) and shared by every core.
pub struct OwnerMap {
    workers: u16,
    per_worker: u32,
    public: Vec<u32>,
    toeplitz: Arc<Toeplitz>,
    reta: [Owner; RETA_MODEL],
    /// Ports (bit = port id) whose NIC follows the plan: their RSS hash is the model's.
    hashing_ports: u64,
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
            reta: OwnerMap::table_for(workers),
            hashing_ports: 0,
        }
    }

    /// The redirection table of `workers` workers: entry i is worker i % workers.
    pub fn table_for(workers: u16) -> [Owner; RETA_MODEL] {
        std::array::from_fn(|i| (i % usize::from(workers.max(1))) as Owner)
    }

    /// The worker an RSS hash selects.
    #[inline]
    pub fn queue_of(&self, hash: u32) -> Owner {
        self.reta[hash as usize & (RETA_MODEL - 1)]
    }

    /// Where the NIC delivers what it hashes by addresses alone (ICMP, GRE, fragments)
    /// from `src` to `dst`.
    #[inline]
    pub fn by_addrs(&self, src: u32, dst: u32) -> Owner {
        if self.workers == 1 {
            return 0;
        }
        self.queue_of(self.toeplitz.hash_addrs(src, dst))
    }

    /// For NAT: when the port it picks decides where the NIC delivers the reply (TCP and
    /// UDP, with several workers), the part of the reply's hash that does not depend on
    /// it; the reply comes from `server:sport` to `public`. `None` where no port steers
    /// the reply (one worker; ICMP, hashed by its addresses alone). See
    /// [`OwnerMap::reply_queue`].
    #[inline]
    pub fn reply_base(&self, proto: u8, server: u32, sport: u16, public: u32) -> Option<u32> {
        (self.workers > 1 && matches!(proto, TCP | UDP))
            .then(|| self.toeplitz.hash_v4(server, public, sport, 0))
    }

    /// The worker the NIC delivers a TCP or UDP reply to when NAT gave the flow `port`.
    #[inline]
    pub fn reply_queue(&self, base: u32, port: u16) -> Owner {
        self.queue_of(base ^ self.toeplitz.dport_part(port))
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

    /// Takes the RSS hash of frames from `port` as the model's (its NIC was programmed
    /// with this map's key and table and read back equal).
    pub fn trust_nic_hash(&mut self, port: u16) {
        if port < 64 {
            self.hashing_ports |= 1 << port;
        }
    }

    /// The owner of a frame from `port` with this key and, if the NIC gave one, its RSS
    /// hash: where rule 4 applies and the port's NIC follows the plan, the NIC's hash is
    /// the one the model would compute, so it is not computed again.
    #[inline]
    pub fn owner_of_frame(&self, key: &FlowKey, portless: bool, port: u16, nic_hash: Option<u32>) -> Owner {
        match nic_hash {
            Some(h)
                if self.workers > 1
                    && !portless
                    && port < 64
                    && self.hashing_ports & (1 << port) != 0
                    && !self.is_public(key.dst) =>
            {
                self.queue_of(h)
            }
            _ => self.owner(key, portless),
        }
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
        let h = match key.proto {
            TCP | UDP => self.toeplitz.hash_v4(key.src, key.dst, key.sport, key.dport),
            _ => self.toeplitz.hash_addrs(key.src, key.dst),
        };
        self.queue_of(h)
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

    #[test]
    fn the_model_is_what_rte_softrss_and_the_table_give() {
        let m = OwnerMap::new(3, &[]);
        let t = Toeplitz::new(&SYMMETRIC_KEY);
        for i in 0..500u32 {
            let k = FlowKey {
                src: 0x0a00_0000 + i * 77,
                dst: 0xc633_6407,
                sport: i as u16,
                dport: 53,
                proto: 17,
            };
            let nic = t.hash_v4(k.src, k.dst, k.sport, k.dport);
            assert_eq!(m.owner(&k, false), ((nic & 127) % 3) as Owner);
            let gre = FlowKey { proto: 47, sport: 0, dport: 7, ..k };
            assert_eq!(m.owner(&gre, false), ((t.hash_addrs(k.src, k.dst) & 127) % 3) as Owner);
        }
    }

    #[test]
    fn nat_can_steer_replies_to_any_worker() {
        let public = std::net::Ipv4Addr::new(203, 0, 113, 2);
        let m = OwnerMap::new(4, &[public]);
        assert_eq!(
            m.reply_base(1, 0xc633_6407, 0, public.into()),
            None,
            "ICMP replies are hashed by addresses"
        );
        let base = m.reply_base(6, 0xc633_6407, 443, public.into()).unwrap();
        for w in 0..4 {
            let port = m.slice(w).find(|&p| m.reply_queue(base, p) == w).expect("a port of the slice");
            let reply = FlowKey::new([198, 51, 100, 7].into(), public, 443, port, 6);
            let t = Toeplitz::new(&SYMMETRIC_KEY);
            let nic = t.hash_v4(reply.src, reply.dst, reply.sport, reply.dport);
            assert_eq!((m.queue_of(nic), m.owner(&reply, false)), (w, w), "NIC and owner agree");
        }
    }
}
