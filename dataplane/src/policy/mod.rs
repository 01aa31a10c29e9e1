//! Zones and security policies: which new flows may pass.
//!
//! Every interface is in one zone. A rule names a source and a destination zone,
//! address sets, a protocol and destination ports, and an action; rules of a zone pair
//! are tried in order, the first match decides, and no match denies. The policy is
//! asked once per flow, for its first packet: replies and later packets of a session
//! pass on the session alone.
mod guard;

pub use guard::{Guards, PingAccess, ReversePath, ZoneGuard};

use std::net::Ipv4Addr;
use wire::ipv4::prefix_mask;
use wire::FlowKey;

pub type ZoneId = u8;

/// Zone names, each with a small id (its position).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Zones {
    names: Vec<String>,
}

impl Zones {
    /// Zones from the interfaces' zone names: sorted, each once.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Zones {
        let mut names: Vec<String> = names.into_iter().map(str::to_owned).collect();
        names.sort();
        names.dedup();
        Zones { names }
    }

    pub fn id(&self, name: &str) -> Option<ZoneId> {
        self.names.iter().position(|n| n == name).map(|p| p as ZoneId)
    }

    pub fn name(&self, id: ZoneId) -> &str {
        self.names.get(id as usize).map_or("?", String::as_str)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Address prefixes; empty means any address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddrSet(pub Vec<(Ipv4Addr, u8)>);

impl AddrSet {
    pub fn any() -> AddrSet {
        AddrSet(Vec::new())
    }

    pub fn contains(&self, ip: u32) -> bool {
        self.0.is_empty() || self.0.iter().any(|(net, len)| ip & prefix_mask(*len) == u32::from(*net))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Permit,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub from: ZoneId,
    pub to: ZoneId,
    pub source: AddrSet,
    pub destination: AddrSet,
    /// IP protocol number; `None` is any.
    pub protocol: Option<u8>,
    /// Destination port ranges (TCP and UDP only); empty is any.
    pub ports: Vec<(u16, u16)>,
    pub action: Action,
}

impl Rule {
    /// A rule that lets every flow from zone `from` to zone `to` through.
    pub fn permit_all(name: &str, from: ZoneId, to: ZoneId) -> Rule {
        Rule {
            name: name.into(),
            from,
            to,
            source: AddrSet::any(),
            destination: AddrSet::any(),
            protocol: None,
            ports: vec![],
            action: Action::Permit,
        }
    }

    fn matches(&self, key: &FlowKey) -> bool {
        self.source.contains(key.src)
            && self.destination.contains(key.dst)
            && self.protocol.is_none_or(|p| p == key.proto)
            && (self.ports.is_empty() || self.ports.iter().any(|(lo, hi)| (*lo..=*hi).contains(&key.dport)))
    }
}

/// The outcome for a new flow: the rule that decided, or the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Permit(usize),
    Deny(Option<usize>),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    rules: Vec<Rule>,
    /// Rule indices per (from, to), in order: a lookup walks only its zone pair.
    by_pair: Vec<Vec<usize>>,
    zones: usize,
}

impl Policy {
    pub fn new(zones: &Zones, rules: Vec<Rule>) -> Policy {
        let n = zones.len().max(1);
        let mut by_pair = vec![Vec::new(); n * n];
        for (i, r) in rules.iter().enumerate() {
            if let Some(list) = by_pair.get_mut(r.from as usize * n + r.to as usize) {
                list.push(i);
            }
        }
        Policy { rules, by_pair, zones: n }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// First matching rule of the zone pair; default deny.
    pub fn decide(&self, from: ZoneId, to: ZoneId, key: &FlowKey) -> Decision {
        let Some(list) = self.by_pair.get(from as usize * self.zones + to as usize) else {
            return Decision::Deny(None);
        };
        for &i in list {
            let rule = &self.rules[i];
            if rule.matches(key) {
                return match rule.action {
                    Action::Permit => Decision::Permit(i),
                    Action::Deny => Decision::Deny(Some(i)),
                };
            }
        }
        Decision::Deny(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zones() -> Zones {
        Zones::new(["untrust", "trust", "dmz", "trust"])
    }

    fn key(src: [u8; 4], dst: [u8; 4], proto: u8, dport: u16) -> FlowKey {
        FlowKey::new(src.into(), dst.into(), 40000, dport, proto)
    }

    fn policy() -> Policy {
        let z = zones();
        let (trust, untrust) = (z.id("trust").unwrap(), z.id("untrust").unwrap());
        Policy::new(
            &z,
            vec![
                Rule {
                    name: "no-telnet".into(),
                    from: trust,
                    to: untrust,
                    source: AddrSet::any(),
                    destination: AddrSet::any(),
                    protocol: Some(6),
                    ports: vec![(23, 23)],
                    action: Action::Deny,
                },
                Rule {
                    name: "lan-out".into(),
                    from: trust,
                    to: untrust,
                    source: AddrSet(vec![([192, 168, 1, 0].into(), 24)]),
                    destination: AddrSet::any(),
                    protocol: None,
                    ports: vec![],
                    action: Action::Permit,
                },
                Rule {
                    name: "pptp-only".into(),
                    from: trust,
                    to: z.id("dmz").unwrap(),
                    source: AddrSet::any(),
                    destination: AddrSet(vec![([10, 0, 0, 1].into(), 32)]),
                    protocol: Some(6),
                    ports: vec![(1723, 1723)],
                    action: Action::Permit,
                },
            ],
        )
    }

    #[test]
    fn zones_get_stable_ids() {
        let z = zones();
        assert_eq!(z.len(), 3);
        assert_eq!(z.name(z.id("trust").unwrap()), "trust");
        assert_eq!(z.id("nowhere"), None);
    }

    #[test]
    fn first_match_wins_and_default_denies() {
        let p = policy();
        let z = zones();
        let (trust, untrust, dmz) = (z.id("trust").unwrap(), z.id("untrust").unwrap(), z.id("dmz").unwrap());
        assert_eq!(
            p.decide(trust, untrust, &key([192, 168, 1, 5], [1, 1, 1, 1], 6, 23)),
            Decision::Deny(Some(0))
        );
        assert_eq!(
            p.decide(trust, untrust, &key([192, 168, 1, 5], [1, 1, 1, 1], 6, 80)),
            Decision::Permit(1)
        );
        assert_eq!(p.decide(trust, untrust, &key([10, 9, 9, 9], [1, 1, 1, 1], 17, 53)), Decision::Deny(None));
        assert_eq!(
            p.decide(untrust, trust, &key([1, 1, 1, 1], [192, 168, 1, 5], 6, 80)),
            Decision::Deny(None)
        );
        assert_eq!(p.decide(trust, dmz, &key([192, 168, 1, 5], [10, 0, 0, 1], 6, 1723)), Decision::Permit(2));
        assert_eq!(
            p.decide(trust, dmz, &key([192, 168, 1, 5], [10, 0, 0, 1], 6, 1724)),
            Decision::Deny(None)
        );
        assert_eq!(p.decide(trust, dmz, &key([192, 168, 1, 5], [10, 0, 0, 1], 47, 0)), Decision::Deny(None));
    }
}
