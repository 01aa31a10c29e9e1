//! Static IPv4 routes with longest-prefix match.
//!
//! One hash map per prefix length in use, probed from the longest: a lookup costs at most
//! one probe per distinct length (a handful on a firewall), with no tree walk. Connected
//! routes come from the interfaces; the table is immutable once built and shared by all
//! cores behind an `Arc`.
use crate::dpdk::PortId;
use crate::ifaces::{prefix_mask, Interfaces};
use rustc_hash::FxHashMap;
use std::net::Ipv4Addr;

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

#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    /// (prefix length, network -> route), longest prefix first.
    levels: Vec<(u8, FxHashMap<u32, Route>)>,
}

impl RouteTable {
    /// Connected routes for every interface, then `statics` (a static route to the same
    /// prefix replaces the connected one).
    pub fn new(ifaces: &Interfaces, statics: &[(Ipv4Addr, u8, Route)]) -> RouteTable {
        let mut t = RouteTable::default();
        for i in ifaces.iter() {
            t.insert(i.addr, i.prefix_len, Route { port: i.port, via: None });
        }
        for &(net, len, route) in statics {
            t.insert(net, len, route);
        }
        t
    }

    fn insert(&mut self, net: Ipv4Addr, len: u8, route: Route) {
        let len = len.min(32);
        let key = u32::from(net) & prefix_mask(len);
        let pos = match self.levels.iter().position(|(l, _)| *l <= len) {
            Some(p) if self.levels[p].0 == len => p,
            Some(p) => {
                self.levels.insert(p, (len, FxHashMap::default()));
                p
            }
            None => {
                self.levels.push((len, FxHashMap::default()));
                self.levels.len() - 1
            }
        };
        self.levels[pos].1.insert(key, route);
    }

    #[inline]
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<Route> {
        let d = u32::from(dst);
        self.levels.iter().find_map(|(len, map)| map.get(&(d & prefix_mask(*len))).copied())
    }

    /// (network, length, route) for display.
    pub fn entries(&self) -> Vec<(Ipv4Addr, u8, Route)> {
        let mut v: Vec<_> = self
            .levels
            .iter()
            .flat_map(|(len, m)| m.iter().map(|(net, r)| (Ipv4Addr::from(*net), *len, *r)))
            .collect();
        v.sort_by_key(|(n, l, _)| (std::cmp::Reverse(*l), u32::from(*n)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ifaces::Interface;
    use crate::packet::MacAddr;

    fn table() -> RouteTable {
        let ifs = Interfaces::new(vec![
            Interface {
                port: 0,
                name: "in".into(),
                zone: "trust".into(),
                mac: MacAddr::ZERO,
                addr: [192, 168, 1, 254].into(),
                prefix_len: 24,
            },
            Interface {
                port: 1,
                name: "out".into(),
                zone: "untrust".into(),
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

    #[test]
    fn no_default_means_no_route() {
        let t = RouteTable::new(&Interfaces::default(), &[]);
        assert_eq!(t.lookup([1, 2, 3, 4].into()), None);
    }
}
