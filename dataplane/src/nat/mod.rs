//! Source NAT (NAPT): which flows are translated, to which public address, and the
//! ports, ICMP identifiers and Call IDs each worker hands out.
//!
//! A NAT policy names a zone pair and source addresses, and translates to an address
//! pool or to the egress interface's own address (easy-IP). Within a pool, an inside host
//! always gets the same public address (a hash of its address picks it), so the
//! connections and tunnels of one host share one public address, as PPTP's control
//! connection and its GRE must. Each worker allocates from its own slice of the port
//! space (`flow::owner`), so replies reach it without any shared table.
pub mod icmp_error;
mod ports;

pub use ports::{PortAllocator, PortError, CALL_ID_SPACE, NAT_SPACES};

use crate::ifaces::Interfaces;
use crate::policy::{AddrSet, ZoneId};
use std::net::Ipv4Addr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    pub name: String,
    pub addrs: Vec<Ipv4Addr>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The egress interface's address.
    EasyIp,
    /// Index into the pools.
    Pool(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatPolicy {
    pub name: String,
    pub from: ZoneId,
    pub to: ZoneId,
    pub source: AddrSet,
    pub target: Target,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NatRules {
    pub policies: Vec<NatPolicy>,
    pub pools: Vec<Pool>,
}

impl NatRules {
    /// The public address for a new flow from `src` between these zones leaving by
    /// `egress_addr`, if a NAT policy applies (first match).
    pub fn public_for(&self, from: ZoneId, to: ZoneId, src: u32, egress_addr: Ipv4Addr) -> Option<Ipv4Addr> {
        let p = self.policies.iter().find(|p| p.from == from && p.to == to && p.source.contains(src))?;
        match &p.target {
            Target::EasyIp => Some(egress_addr),
            Target::Pool(i) => {
                let addrs = &self.pools.get(*i)?.addrs;
                let pick = (src.wrapping_mul(0x9e37_79b9) >> 16) as usize % addrs.len().max(1);
                addrs.get(pick).copied()
            }
        }
    }

    /// Every address NAT may translate to: pool addresses, and the addresses of the
    /// interfaces in the destination zones of easy-IP policies.
    pub fn public_addrs(&self, ifaces: &Interfaces) -> Vec<Ipv4Addr> {
        let mut v: Vec<Ipv4Addr> = self.pools.iter().flat_map(|p| p.addrs.iter().copied()).collect();
        for p in self.policies.iter().filter(|p| p.target == Target::EasyIp) {
            v.extend(ifaces.iter().filter(|i| i.zone_id == p.to).map(|i| i.addr));
        }
        v.sort();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ifaces::Interface;
    use wire::MacAddr;

    fn rules() -> NatRules {
        NatRules {
            policies: vec![
                NatPolicy {
                    name: "lab".into(),
                    from: 0,
                    to: 1,
                    source: AddrSet(vec![([192, 168, 2, 0].into(), 24)]),
                    target: Target::Pool(0),
                },
                NatPolicy {
                    name: "lan".into(),
                    from: 0,
                    to: 1,
                    source: AddrSet::any(),
                    target: Target::EasyIp,
                },
            ],
            pools: vec![Pool {
                name: "p".into(),
                addrs: vec![[198, 51, 100, 10].into(), [198, 51, 100, 11].into(), [198, 51, 100, 12].into()],
            }],
        }
    }

    #[test]
    fn pool_address_is_stable_per_host_and_spread() {
        let r = rules();
        let egress = Ipv4Addr::new(203, 0, 113, 2);
        let mut seen = std::collections::HashSet::new();
        for h in 1..=60u32 {
            let src = u32::from(Ipv4Addr::new(192, 168, 2, 0)) + h;
            let a = r.public_for(0, 1, src, egress).unwrap();
            assert_eq!(Some(a), r.public_for(0, 1, src, egress), "same host, same address");
            seen.insert(a);
        }
        assert_eq!(seen.len(), 3);
        assert_eq!(r.public_for(0, 1, u32::from(Ipv4Addr::new(192, 168, 1, 1)), egress), Some(egress));
        assert_eq!(r.public_for(1, 0, 1, egress), None);
    }

    #[test]
    fn public_addresses_include_easy_ip_interfaces() {
        let iface = |port, zone_id, addr: [u8; 4]| Interface {
            port,
            name: format!("p{port}"),
            zone: String::new(),
            zone_id,
            mac: MacAddr::ZERO,
            addr: addr.into(),
            prefix_len: 24,
        };
        let ifs = Interfaces::new(vec![iface(0, 0, [192, 168, 1, 254]), iface(1, 1, [203, 0, 113, 2])]);
        let addrs = rules().public_addrs(&ifs);
        assert_eq!(addrs.len(), 4);
        assert!(addrs.contains(&Ipv4Addr::new(203, 0, 113, 2)));
        assert!(!addrs.contains(&Ipv4Addr::new(192, 168, 1, 254)));
    }
}
