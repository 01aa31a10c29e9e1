//! Static IPv4 routes with longest-prefix match in a DIR-16-8-8 table.
//!
//! The table is built once from the config (and rebuilt on reload), so it is expanded
//! at build time: every /16 block has one first-level entry, which either names a route
//! or points at a 256-entry group for the next 8 bits, and likewise for the last 8 bits.
//! A lookup is one to three array reads, no hashing and no tree walk; the first level is
//! 256 KiB. Routes are inserted shortest prefix first, so a longer prefix always
//! overwrites what a shorter one filled in.
use crate::ifaces::Interfaces;
use crate::ifaces::PortId;
use std::net::Ipv4Addr;
use wire::ipv4::prefix_mask;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub port: PortId,
    /// Gateway; `None` for a connected subnet (the destination is the next hop).
    pub via: Option<Ipv4Addr>,
}

impl Route {
    /// The address to resolve with ARP for a packet to `dst`.
    #[inline]
    pub fn next_hop(&self, dst: Ipv4Addr) -> Ipv4Addr {
        self.via.unwrap_or(dst)
    }
}

/// A table slot: 0 is no route, `POINTER | g` points at group `g` of the next level,
/// anything else is a route index plus one.
type Slot = u32;
const EMPTY: Slot = 0;
const POINTER: Slot = 1 << 31;
const GROUP: usize = 256;

#[derive(Debug, Clone)]
pub struct RouteTable {
    l1: Box<[Slot]>,
    l2: Vec<Slot>,
    l3: Vec<Slot>,
    routes: Vec<(Ipv4Addr, u8, Route)>,
}

impl Default for RouteTable {
    fn default() -> Self {
        RouteTable {
            l1: vec![EMPTY; 1 << 16].into_boxed_slice(),
            l2: Vec::new(),
            l3: Vec::new(),
            routes: Vec::new(),
        }
    }
}

impl RouteTable {
    /// Connected routes for every interface, then `statics` (a static route to the same
    /// prefix replaces the connected one).
    pub fn new(ifaces: &Interfaces, statics: &[(Ipv4Addr, u8, Route)]) -> RouteTable {
        let mut all: Vec<(Ipv4Addr, u8, Route)> = Vec::new();
        let connected = ifaces.iter().map(|i| (i.addr, i.prefix_len, Route { port: i.port, via: None }));
        for (net, len, route) in connected.chain(statics.iter().copied()) {
            let len = len.min(32);
            let net = Ipv4Addr::from(u32::from(net) & prefix_mask(len));
            all.retain(|(n, l, _)| !(*n == net && *l == len));
            all.push((net, len, route));
        }
        all.sort_by_key(|(_, len, _)| *len);
        let mut t = RouteTable::default();
        for (i, &(net, len, _)) in all.iter().enumerate() {
            t.insert(u32::from(net), len, i as Slot + 1);
        }
        t.routes = all;
        t
    }

    fn insert(&mut self, net: u32, len: u8, value: Slot) {
        let first = (net >> 16) as usize;
        if len <= 16 {
            let count = 1usize << (16 - len);
            for i in first..first + count {
                fill(&mut self.l1[i], &mut self.l2, &mut self.l3, value, 2);
            }
            return;
        }
        let g2 = descend(&mut self.l1[first], &mut self.l2);
        let second = g2 * GROUP + ((net >> 8) & 0xff) as usize;
        if len <= 24 {
            let count = 1usize << (24 - len);
            for i in second..second + count {
                fill(&mut self.l2[i], &mut Vec::new(), &mut self.l3, value, 3);
            }
            return;
        }
        let g3 = descend(&mut self.l2[second], &mut self.l3);
        let third = g3 * GROUP + (net & 0xff) as usize;
        let count = 1usize << (32 - len);
        for slot in &mut self.l3[third..third + count] {
            *slot = value;
        }
    }

    #[inline]
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<Route> {
        let d = u32::from(dst);
        let mut slot = self.l1[(d >> 16) as usize];
        if slot & POINTER != 0 {
            slot = self.l2[(slot & !POINTER) as usize * GROUP + ((d >> 8) & 0xff) as usize];
            if slot & POINTER != 0 {
                slot = self.l3[(slot & !POINTER) as usize * GROUP + (d & 0xff) as usize];
            }
        }
        self.routes.get((slot as usize).wrapping_sub(1)).map(|(_, _, r)| *r)
    }

    /// (network, length, route), longest prefix first.
    pub fn entries(&self) -> Vec<(Ipv4Addr, u8, Route)> {
        let mut v = self.routes.clone();
        v.sort_by_key(|(n, l, _)| (std::cmp::Reverse(*l), u32::from(*n)));
        v
    }
}

/// Turns a slot into a pointer to a new group of the next level (pre-filled with what the
/// slot held), or follows the pointer it already is. Returns the group index.
fn descend(slot: &mut Slot, next: &mut Vec<Slot>) -> usize {
    if *slot & POINTER != 0 {
        return (*slot & !POINTER) as usize;
    }
    let g = next.len() / GROUP;
    next.extend(std::iter::repeat_n(*slot, GROUP));
    *slot = POINTER | g as Slot;
    g
}

/// Sets a slot covered by a shorter-or-equal prefix: a plain slot takes the value, a
/// pointer has its whole group (at `level` 2 or 3) filled instead.
fn fill(slot: &mut Slot, l2: &mut [Slot], l3: &mut [Slot], value: Slot, level: u8) {
    if *slot & POINTER == 0 {
        *slot = value;
        return;
    }
    let g = (*slot & !POINTER) as usize * GROUP;
    if level == 2 {
        for s in &mut l2[g..g + GROUP] {
            fill(s, &mut [], l3, value, 3);
        }
    } else {
        for s in &mut l3[g..g + GROUP] {
            *s = value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ifaces::Interface;
    use wire::MacAddr;

    fn table() -> RouteTable {
        let ifs = Interfaces::new(vec![
            Interface {
                port: 0,
                name: "in".into(),
                zone: "trust".into(),
                zone_id: 0,
                mac: MacAddr::ZERO,
                addr: [192, 168, 1, 254].into(),
                prefix_len: 24,
            },
            Interface {
                port: 1,
                name: "out".into(),
                zone: "untrust".into(),
                zone_id: 1,
                mac: MacAddr::ZERO,
                addr: [203, 0, 113, 2].into(),
                prefix_len: 24,
            },
        ]);
        RouteTable::new(
            &ifs,
            &[
                ([0, 0, 0, 0].into(), 0, Route { port: 1, via: Some([203, 0, 113, 1].into()) }),
                ([10, 0, 0, 0].into(), 8, Route { port: 0, via: Some([192, 168, 1, 1].into()) }),
                ([10, 1, 0, 0].into(), 16, Route { port: 1, via: Some([203, 0, 113, 9].into()) }),
            ],
        )
    }

    #[test]
    fn longest_prefix_wins() {
        let t = table();
        assert_eq!(t.lookup([192, 168, 1, 7].into()), Some(Route { port: 0, via: None }));
        assert_eq!(t.lookup([10, 2, 3, 4].into()).unwrap().via, Some([192, 168, 1, 1].into()));
        assert_eq!(t.lookup([10, 1, 3, 4].into()).unwrap().via, Some([203, 0, 113, 9].into()));
        assert_eq!(t.lookup([8, 8, 8, 8].into()).unwrap().port, 1);
        assert_eq!(t.entries().len(), 5);
    }

    fn via(last: u8) -> Route {
        Route { port: 0, via: Some([10, 0, 0, last].into()) }
    }

    /// The table against a linear longest-prefix scan, over prefixes of every length
    /// inserted in an order that makes longer ones land before shorter ones.
    #[test]
    fn agrees_with_a_linear_scan() {
        let statics: Vec<(Ipv4Addr, u8, Route)> = vec![
            ([10, 1, 2, 128].into(), 25, via(1)),
            ([10, 1, 2, 0].into(), 24, via(2)),
            ([10, 1, 0, 0].into(), 16, via(3)),
            ([10, 0, 0, 0].into(), 8, via(4)),
            ([10, 1, 2, 200].into(), 32, via(5)),
            ([10, 1, 128, 0].into(), 17, via(6)),
            ([0, 0, 0, 0].into(), 0, via(7)),
            ([172, 16, 0, 0].into(), 12, via(8)),
        ];
        let t = RouteTable::new(&Interfaces::default(), &statics);
        let linear = |d: u32| {
            statics
                .iter()
                .filter(|(n, l, _)| d & prefix_mask(*l) == u32::from(*n))
                .max_by_key(|(_, l, _)| *l)
                .map(|(_, _, r)| *r)
        };
        let probes = [
            [10, 1, 2, 200],
            [10, 1, 2, 201],
            [10, 1, 2, 129],
            [10, 1, 2, 1],
            [10, 1, 3, 1],
            [10, 1, 200, 1],
            [10, 2, 0, 1],
            [11, 0, 0, 1],
            [172, 20, 1, 1],
            [172, 32, 0, 1],
        ];
        for p in probes {
            let d = u32::from(Ipv4Addr::from(p));
            assert_eq!(t.lookup(p.into()), linear(d), "{:?}", p);
        }
        for d in (0..=u32::MAX).step_by(9_973) {
            assert_eq!(t.lookup(d.into()), linear(d));
        }
    }

    #[test]
    fn no_default_means_no_route() {
        let t = RouteTable::new(&Interfaces::default(), &[]);
        assert_eq!(t.lookup([1, 2, 3, 4].into()), None);
    }
}
