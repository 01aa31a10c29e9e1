//! The appliance's interfaces: one per port, each in a zone with one IPv4 address.
use std::net::Ipv4Addr;
use wire::ipv4::prefix_mask;
use wire::MacAddr;

/// A port's number, as the NIC layer numbers it (DPDK's port id): what routes, sessions
/// and verdicts name a port by, without depending on the NIC layer for a `u16`.
pub type PortId = u16;

/// Largest port id ferrowall handles; DPDK's default `RTE_MAX_ETHPORTS` is 32.
pub const MAX_PORTS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub port: PortId,
    pub name: String,
    pub zone: String,
    pub zone_id: crate::policy::ZoneId,
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

/// What a destination address is to the appliance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DstKind {
    /// One of our interface addresses.
    Local,
    /// The directed broadcast address of one of our subnets.
    Broadcast,
    Other,
}

/// Interfaces indexed by port id: the per-packet lookups are array reads and a scan of
/// the few configured interfaces.
#[derive(Debug, Clone, Default)]
pub struct Interfaces {
    list: Vec<Interface>,
    /// Position in `list` per port id, `NONE` where the port has no interface.
    by_port: [u8; MAX_PORTS],
    /// (address, directed broadcast) per interface, for `dst_kind`.
    addrs: Vec<(u32, Option<u32>)>,
}

const NONE: u8 = u8::MAX;

impl Interfaces {
    pub fn new(list: Vec<Interface>) -> Interfaces {
        let list: Vec<Interface> = list.into_iter().filter(|i| (i.port as usize) < MAX_PORTS).collect();
        let mut by_port = [NONE; MAX_PORTS];
        for (pos, iface) in list.iter().enumerate() {
            by_port[iface.port as usize] = pos as u8;
        }
        let addrs = list
            .iter()
            .map(|i| (u32::from(i.addr), (i.prefix_len < 31).then(|| u32::from(i.broadcast()))))
            .collect();
        Interfaces { list, by_port, addrs }
    }

    #[inline]
    pub fn get(&self, port: PortId) -> Option<&Interface> {
        let pos = *self.by_port.get(port as usize)?;
        self.list.get(pos as usize)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Interface> {
        self.list.iter()
    }

    /// The interface owning `ip` as its own address.
    pub fn owner_of(&self, ip: Ipv4Addr) -> Option<&Interface> {
        self.list.iter().find(|i| i.addr == ip)
    }

    /// Whether `ip` is ours, a broadcast of our subnets, or neither: one scan.
    #[inline]
    pub fn dst_kind(&self, ip: Ipv4Addr) -> DstKind {
        let ip = u32::from(ip);
        for &(addr, bcast) in &self.addrs {
            if ip == addr {
                return DstKind::Local;
            }
            if bcast == Some(ip) {
                return DstKind::Broadcast;
            }
        }
        DstKind::Other
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
            zone_id: 0,
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
        assert_eq!(ifs.dst_kind([192, 168, 1, 255].into()), DstKind::Broadcast);
        assert_eq!(ifs.dst_kind([203, 0, 113, 2].into()), DstKind::Local);
        assert_eq!(ifs.dst_kind([203, 0, 113, 3].into()), DstKind::Other);
        assert_eq!(prefix_mask(0), 0);
        assert_eq!(prefix_mask(32), u32::MAX);
    }
}
