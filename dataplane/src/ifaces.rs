//! The appliance's interfaces: one per port, each in a zone with one IPv4 address.
use crate::dpdk::PortId;
use crate::packet::MacAddr;
use std::net::Ipv4Addr;

/// Largest port id ferrowall handles; DPDK's default `RTE_MAX_ETHPORTS` is 32.
pub const MAX_PORTS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub port: PortId,
    pub name: String,
    pub zone: String,
    pub mac: MacAddr,
    pub addr: Ipv4Addr,
    pub prefix_len: u8,
}

impl Interface {
    pub fn netmask(&self) -> u32 {
        prefix_mask(self.prefix_len)
    }

    /// Whether `ip` is on this interface's subnet.
    pub fn on_link(&self, ip: Ipv4Addr) -> bool {
        let m = self.netmask();
        u32::from(ip) & m == u32::from(self.addr) & m
    }

    /// The subnet's directed broadcast address.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) | !self.netmask())
    }
}

/// Network mask of a prefix length (0..=32).
pub fn prefix_mask(len: u8) -> u32 {
    match len {
        0 => 0,
        l if l >= 32 => u32::MAX,
        l => u32::MAX << (32 - l),
    }
}

/// Interfaces indexed by port id: the per-packet lookups are array reads.
#[derive(Debug, Clone, Default)]
pub struct Interfaces {
    by_port: Vec<Option<Interface>>,
}

impl Interfaces {
    pub fn new(list: Vec<Interface>) -> Interfaces {
        let mut by_port = vec![None; MAX_PORTS];
        for iface in list {
            let slot = iface.port as usize;
            if slot < MAX_PORTS {
                by_port[slot] = Some(iface);
            }
        }
        Interfaces { by_port }
    }

    #[inline]
    pub fn get(&self, port: PortId) -> Option<&Interface> {
        self.by_port.get(port as usize).and_then(Option::as_ref)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Interface> {
        self.by_port.iter().flatten()
    }

    /// The interface owning `ip` as its own address.
    #[inline]
    pub fn owner_of(&self, ip: Ipv4Addr) -> Option<&Interface> {
        self.iter().find(|i| i.addr == ip)
    }

    /// Whether `ip` is a broadcast address of any of our subnets.
    pub fn is_subnet_broadcast(&self, ip: Ipv4Addr) -> bool {
        self.iter().any(|i| i.prefix_len < 31 && i.broadcast() == ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(port: PortId, addr: [u8; 4], len: u8) -> Interface {
        Interface {
            port,
            name: format!("p{port}"),
            zone: "trust".into(),
            mac: MacAddr([2, 0, 0, 0, 0, port as u8]),
            addr: addr.into(),
            prefix_len: len,
        }
    }

    #[test]
    fn finds_by_port_and_address() {
        let ifs = Interfaces::new(vec![iface(0, [192, 168, 1, 254], 24), iface(1, [203, 0, 113, 2], 24)]);
        assert_eq!(ifs.get(1).unwrap().name, "p1");
        assert!(ifs.get(2).is_none());
        assert!(ifs.get(40).is_none());
        assert_eq!(ifs.owner_of([203, 0, 113, 2].into()).unwrap().port, 1);
        assert!(ifs.get(0).unwrap().on_link([192, 168, 1, 1].into()));
        assert!(!ifs.get(0).unwrap().on_link([192, 168, 2, 1].into()));
        assert!(ifs.is_subnet_broadcast([192, 168, 1, 255].into()));
        assert_eq!(prefix_mask(0), 0);
        assert_eq!(prefix_mask(32), u32::MAX);
    }
}
