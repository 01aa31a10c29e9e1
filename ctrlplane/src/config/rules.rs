//! Checking `[[zone]]`, `[[policy]]`, `[[nat_pool]]`, `[[nat]]`, `[alg]` and `[timeouts]`
//! into a [`Ruleset`].
use super::fields::{is_name, parse_ip, parse_prefix, Check};
use super::load::{at, at_key, FieldPath};
use super::Config;
use dataplane::appliance::PortSpec;
use dataplane::nat::{NatPolicy, NatRules, Pool, Target};
use dataplane::policy::{
    Action, AddrSet, Guards, PingAccess, Policy, ReversePath, Rule, ZoneGuard, ZoneId, Zones,
};
use dataplane::ruleset::{AlgRules, Ruleset};
use dataplane::session::Timeouts;
use std::net::Ipv4Addr;
use wire::ipv4::prefix_mask;

/// Addresses in one pool at most (a /22): bitmaps of ports are allocated per address.
const MAX_POOL: usize = 1024;

pub(super) fn check(cfg: &Config, ports: &[PortSpec]) -> Check<Ruleset> {
    let zones = Zones::new(ports.iter().map(|p| p.zone.as_str()));
    let zone = |table: &str, i: usize, field: &str, name: &str| -> Check<ZoneId> {
        zones.id(name).ok_or_else(|| {
            let known: Vec<&str> = ports.iter().map(|p| p.zone.as_str()).collect();
            (at(table, i, field), format!("zone {name:?} has no port (zones: {})", known.join(", ")))
        })
    };
    let mut guards = Guards(vec![ZoneGuard::default(); zones.len()]);
    let mut named = Vec::new();
    for (i, z) in cfg.zones.iter().enumerate() {
        let id = zone("zone", i, "name", &z.name)?;
        if named.contains(&id) {
            return Err((at("zone", i, "name"), format!("zone {:?} is configured twice", z.name)));
        }
        named.push(id);
        let reverse_path = match z.reverse_path.as_str() {
            "strict" => ReversePath::Strict,
            "loose" => ReversePath::Loose,
            "off" => ReversePath::Off,
            other => {
                let msg = format!("{other:?} is not \"strict\", \"loose\" or \"off\"");
                return Err((at("zone", i, "reverse_path"), msg));
            }
        };
        let ping = match z.ping.as_str() {
            "interface" => PingAccess::Interface,
            "any" => PingAccess::Any,
            "none" => PingAccess::None,
            other => {
                let msg = format!("{other:?} is not \"interface\", \"any\" or \"none\"");
                return Err((at("zone", i, "ping"), msg));
            }
        };
        guards.0[usize::from(id)] = ZoneGuard { reverse_path, source_route: z.source_route, ping };
    }
    let mut rules = Vec::new();
    for (i, p) in cfg.policies.iter().enumerate() {
        if !is_name(&p.name) {
            return Err((at("policy", i, "name"), format!("{:?} is not a name", p.name)));
        }
        let protocol = parse_protocol(&p.protocol).map_err(|m| (at("policy", i, "protocol"), m))?;
        let port_ranges = parse_ports(&p.ports).map_err(|m| (at("policy", i, "ports"), m))?;
        if !port_ranges.is_empty() && !matches!(protocol, Some(6) | Some(17)) {
            return Err((at("policy", i, "ports"), "ports need protocol \"tcp\" or \"udp\"".into()));
        }
        rules.push(Rule {
            name: p.name.clone(),
            from: zone("policy", i, "from", &p.from)?,
            to: zone("policy", i, "to", &p.to)?,
            source: addr_set(&p.source).map_err(|m| (at("policy", i, "source"), m))?,
            destination: addr_set(&p.destination).map_err(|m| (at("policy", i, "destination"), m))?,
            protocol,
            ports: port_ranges,
            action: match p.action.as_str() {
                "permit" => Action::Permit,
                "deny" => Action::Deny,
                other => {
                    return Err((
                        at("policy", i, "action"),
                        format!("{other:?} is not \"permit\" or \"deny\""),
                    ))
                }
            },
        });
    }
    let pools = check_pools(cfg, ports)?;
    let mut policies = Vec::new();
    for (i, n) in cfg.nats.iter().enumerate() {
        let target = match &n.pool {
            None => Target::EasyIp,
            Some(name) => Target::Pool(
                pools
                    .iter()
                    .position(|p| &p.name == name)
                    .ok_or_else(|| (at("nat", i, "pool"), format!("no [[nat_pool]] is named {name:?}")))?,
            ),
        };
        policies.push(NatPolicy {
            name: n.name.clone(),
            from: zone("nat", i, "from", &n.from)?,
            to: zone("nat", i, "to", &n.to)?,
            source: addr_set(&n.source).map_err(|m| (at("nat", i, "source"), m))?,
            target,
        });
    }
    let mut alg = AlgRules::default();
    for (i, [a, b]) in cfg.alg.pptp.zones.iter().enumerate() {
        let path = || FieldPath::default().key("alg").key("pptp").key("zones").index(i);
        let id = |name: &str| {
            zones.id(name).ok_or_else(|| {
                let known: Vec<&str> = ports.iter().map(|p| p.zone.as_str()).collect();
                (path(), format!("zone {name:?} has no port (zones: {})", known.join(", ")))
            })
        };
        let (from, to) = (id(a)?, id(b)?);
        if from == to {
            return Err((path(), format!("a zone pair needs two zones, not {a:?} twice")));
        }
        alg.pptp.push((from, to));
    }
    let t = &cfg.timeouts;
    for (field, v) in [
        ("tcp", t.tcp),
        ("tcp_half_open", t.tcp_half_open),
        ("tcp_fin_rst", t.tcp_fin_rst),
        ("udp", t.udp),
        ("icmp", t.icmp),
        ("gre", t.gre),
        ("other", t.other),
    ] {
        if !(1..=86_400 * 7).contains(&v) {
            return Err((at_key("timeouts", field), format!("{v} s is not within 1 s..7 days")));
        }
    }
    let timeouts = Timeouts {
        tcp: t.tcp,
        tcp_half_open: t.tcp_half_open,
        tcp_fin_rst: t.tcp_fin_rst,
        udp: t.udp,
        icmp: t.icmp,
        gre: t.gre,
        other: t.other,
    };
    let policy = Policy::new(&zones, rules);
    Ok(Ruleset { zones, guards, policy, nat: NatRules { policies, pools }, alg, timeouts })
}

fn check_pools(cfg: &Config, ports: &[PortSpec]) -> Check<Vec<Pool>> {
    let mut pools: Vec<Pool> = Vec::new();
    for (i, p) in cfg.nat_pools.iter().enumerate() {
        if !is_name(&p.name) || pools.iter().any(|q| q.name == p.name) {
            return Err((at("nat_pool", i, "name"), format!("{:?} is not a new name", p.name)));
        }
        let mut addrs = Vec::new();
        for a in &p.addresses {
            addrs.extend(expand(a).map_err(|m| (at("nat_pool", i, "addresses"), m))?);
            if addrs.len() > MAX_POOL {
                return Err((at("nat_pool", i, "addresses"), format!("more than {MAX_POOL} addresses")));
            }
        }
        if addrs.is_empty() {
            return Err((at("nat_pool", i, "addresses"), "no address".into()));
        }
        if let Some(a) = addrs.iter().find(|a| ports.iter().any(|p| p.addr == **a)) {
            return Err((at("nat_pool", i, "addresses"), format!("{a} is an interface address")));
        }
        if let Some(a) = addrs.iter().find(|a| pools.iter().any(|q| q.addrs.contains(a))) {
            return Err((at("nat_pool", i, "addresses"), format!("{a} is in another pool")));
        }
        pools.push(Pool { name: p.name.clone(), addrs });
    }
    Ok(pools)
}

/// One address, a range `a-b`, or a prefix (its host addresses).
fn expand(s: &str) -> Result<Vec<Ipv4Addr>, String> {
    if let Some((a, b)) = s.split_once('-') {
        let (a, b) = (u32::from(parse_ip(a)?), u32::from(parse_ip(b)?));
        if b < a || b - a >= MAX_POOL as u32 {
            return Err(format!("range {s:?} is empty or longer than {MAX_POOL}"));
        }
        return Ok((a..=b).map(Ipv4Addr::from).collect());
    }
    if s.contains('/') {
        let (net, len) = parse_prefix(s)?;
        if len < 22 {
            return Err(format!("prefix {s:?} is larger than a /22"));
        }
        let base = u32::from(net) & prefix_mask(len);
        let size = 1u32 << (32 - len);
        let hosts = if len >= 31 { base..base + size } else { base + 1..base + size - 1 };
        return Ok(hosts.map(Ipv4Addr::from).collect());
    }
    Ok(vec![parse_ip(s)?])
}

fn addr_set(list: &[String]) -> Result<AddrSet, String> {
    let mut v = Vec::new();
    for s in list {
        if s == "any" {
            return Ok(AddrSet::any());
        }
        let (net, len) = if s.contains('/') { parse_prefix(s)? } else { (parse_ip(s)?, 32) };
        let masked = Ipv4Addr::from(u32::from(net) & prefix_mask(len));
        if masked != net {
            return Err(format!("{s} has host bits set (did you mean {masked}/{len}?)"));
        }
        v.push((net, len));
    }
    Ok(AddrSet(v))
}

fn parse_protocol(s: &str) -> Result<Option<u8>, String> {
    Ok(match s {
        "any" => None,
        "tcp" => Some(6),
        "udp" => Some(17),
        "icmp" => Some(1),
        "gre" => Some(47),
        n => Some(
            n.parse().map_err(|_| format!("{n:?} is not tcp, udp, icmp, gre, any or a protocol number"))?,
        ),
    })
}

fn parse_ports(list: &[String]) -> Result<Vec<(u16, u16)>, String> {
    list.iter()
        .map(|s| {
            let (lo, hi) = s.split_once('-').unwrap_or((s, s));
            let p =
                |x: &str| x.trim().parse::<u16>().map_err(|_| format!("{s:?} is not a port or PORT-PORT"));
            let (lo, hi) = (p(lo)?, p(hi)?);
            if lo > hi {
                return Err(format!("{s:?}: the range is empty"));
            }
            Ok((lo, hi))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_pools() {
        assert_eq!(expand("198.51.100.1").unwrap().len(), 1);
        assert_eq!(expand("198.51.100.10-198.51.100.13").unwrap().len(), 4);
        assert_eq!(
            expand("198.51.100.0/30").unwrap(),
            [Ipv4Addr::new(198, 51, 100, 1), Ipv4Addr::new(198, 51, 100, 2)]
        );
        assert!(expand("198.51.100.9-198.51.100.1").is_err());
        assert!(expand("10.0.0.0/8").is_err());
    }

    #[test]
    fn parses_ports_and_protocols() {
        assert_eq!(parse_ports(&["80".into(), "1000-2000".into()]).unwrap(), [(80, 80), (1000, 2000)]);
        assert!(parse_ports(&["2000-1000".into()]).is_err());
        assert_eq!(parse_protocol("gre").unwrap(), Some(47));
        assert_eq!(parse_protocol("132").unwrap(), Some(132));
        assert!(parse_protocol("sctpx").is_err());
        assert!(addr_set(&["192.168.1.1/24".into()]).is_err());
        assert_eq!(addr_set(&["any".into()]).unwrap(), AddrSet::any());
    }
}
