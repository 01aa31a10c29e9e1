//! The displays: each asks the appliance once, builds its [`crate::views`] value, and
//! answers it in both forms, the JSON (its serialization) and the text
//! ([`crate::render`]).
use crate::render;
use crate::views::{
    proto_name, AddressGroup, AddressGroups, CoreRow, GroupAddress, Handoffs, InterfaceRow, Interfaces,
    NatStatistics, PortsInUse, Reset, RxCounters, ServerMap, ServerMapRow, SessionCounts, SessionRow,
    SessionTable, Statistics, TxCounters, Usage, NAT_PROTOCOLS,
};
use dataplane::alg::pptp::ServerMapView;
use dataplane::appliance::QueryError;
use dataplane::command::NatUsage;
use dataplane::nat::Target;
use dataplane::ruleset::Ruleset;
use dataplane::session::display::SessionView;
use dataplane::session::SessionFilter;
use dataplane::stats::DropReason;
use dataplane::Appliance;
use serde::Serialize;
use serde_json::Value;
use std::net::Ipv4Addr;
use std::time::Duration;

/// How long a display waits for a core to answer.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// A display, ready in both forms.
pub struct Shown {
    pub text: String,
    pub json: Value,
}

impl Shown {
    fn of<V: Serialize>(view: &V, text: String) -> Shown {
        // Views are plain data (numbers, strings, maps with string keys): serializing
        // one cannot fail.
        let json = serde_json::to_value(view).unwrap_or(Value::Null);
        Shown { text, json }
    }
}

impl From<&SessionView> for SessionRow {
    fn from(s: &SessionView) -> SessionRow {
        SessionRow {
            protocol: s.kind.name(),
            original: (&s.original).into(),
            translated: (&s.translated).into(),
            state: s.state,
            worker: s.worker,
            packets: s.packets.into(),
            bytes: s.bytes.into(),
            age_seconds: s.age_secs,
            left_seconds: s.remaining_secs,
            line: render::session_line(s),
        }
    }
}

/// `display firewall session-table [verbose] [source IP] [destination IP] [protocol P]`
pub fn session_table(a: &Appliance, filter: &SessionFilter, verbose: bool) -> Result<Shown, QueryError> {
    let all = a.sessions(QUERY_TIMEOUT)?;
    let sessions: Vec<SessionRow> = all
        .iter()
        .filter(|s| filter.matches_parts(&s.original, &s.translated, s.kind))
        .map(SessionRow::from)
        .collect();
    let view = SessionTable { total: sessions.len(), sessions };
    Ok(Shown::of(&view, render::session_table(&view, verbose)))
}

/// `reset firewall session-table [filters]`
pub fn reset(a: &Appliance, filter: &SessionFilter) -> Result<Shown, QueryError> {
    let view = Reset { reset: a.reset_sessions(*filter, QUERY_TIMEOUT)? };
    Ok(Shown::of(&view, render::reset(&view)))
}

impl From<&ServerMapView> for ServerMapRow {
    fn from(e: &ServerMapView) -> ServerMapRow {
        ServerMapRow {
            kind: "aspf",
            application: e.entry.app.name(),
            matches: (&e.entry.key).into(),
            translated: (&e.entry.translated).into(),
            owner: e.owner,
            left_seconds: e.left_secs,
            line: render::server_map_line(&e.entry, e.left_secs),
        }
    }
}

/// `display firewall server-map [aspf]`
pub fn server_map(a: &Appliance) -> Result<Shown, QueryError> {
    let entries: Vec<ServerMapRow> = a.server_map(QUERY_TIMEOUT)?.iter().map(ServerMapRow::from).collect();
    let view = ServerMap { total: entries.len(), entries };
    Ok(Shown::of(&view, render::server_map(&view)))
}

/// `display nat address-group`: pools and easy-IP addresses with the numbers in use.
pub fn nat_address_group(a: &Appliance, rules: &Ruleset) -> Result<Shown, QueryError> {
    let usage = a.nat_usage(QUERY_TIMEOUT)?;
    // Translated Call IDs are the ALG's, from the same worker slices as the ports.
    let call_ids = a.alg_status(QUERY_TIMEOUT)?.call_ids;
    let mut groups: Vec<(String, Vec<Ipv4Addr>)> =
        rules.nat.pools.iter().map(|p| (p.name.clone(), p.addrs.clone())).collect();
    for p in rules.nat.policies.iter().filter(|p| p.target == Target::EasyIp) {
        for i in a.interfaces().iter().filter(|i| i.zone_id == p.to) {
            let name = format!("easy-ip {}", i.name);
            if !groups.iter().any(|(n, _)| *n == name) {
                groups.push((name, vec![i.addr]));
            }
        }
    }
    let address = |addr: Ipv4Addr| {
        let mine: Vec<&NatUsage> = usage.iter().filter(|u| u.public == addr).collect();
        let size = mine.first().map_or(0, |u| u.size);
        let in_use = NAT_PROTOCOLS
            .iter()
            .map(|&proto| {
                let n = match proto {
                    47 => call_ids.iter().find(|(ip, _)| *ip == addr).map_or(0, |(_, n)| *n),
                    _ => mine.iter().find(|u| u.proto == proto).map_or(0, |u| u.in_use),
                };
                (proto_name(proto), Usage { in_use: n, size })
            })
            .collect();
        GroupAddress { address: addr, in_use }
    };
    let groups = groups
        .into_iter()
        .map(|(name, addrs)| AddressGroup { name, addresses: addrs.into_iter().map(address).collect() })
        .collect();
    let view = AddressGroups { groups };
    Ok(Shown::of(&view, render::nat_address_group(&view)))
}

/// `display nat statistics`
pub fn nat_statistics(a: &Appliance) -> Result<Shown, QueryError> {
    let usage = a.nat_usage(QUERY_TIMEOUT)?;
    let alg = a.alg_status(QUERY_TIMEOUT)?;
    let in_use = |p: u8| usage.iter().filter(|u| u.proto == p).map(|u| u.in_use).sum::<u32>();
    let view = NatStatistics {
        ports_in_use: PortsInUse { tcp: in_use(6), udp: in_use(17), icmp: in_use(1) },
        call_ids_in_use: alg.call_ids.iter().map(|(_, n)| n).sum(),
        nat_exhausted: a.total_stats().drops[DropReason::NatExhausted.index()],
        pptp: (&alg).into(),
    };
    Ok(Shown::of(&view, render::nat_statistics(&view)))
}

/// `display interface`
pub fn interfaces(a: &Appliance) -> Shown {
    let mut rows = Vec::new();
    for port in a.ports() {
        let Some(i) = a.interfaces().get(port.id()) else { continue };
        let st = port.stats();
        rows.push(InterfaceRow {
            name: i.name.clone(),
            port: port.id(),
            driver: port.driver().to_string(),
            zone: i.zone.clone(),
            address: format!("{}/{}", i.addr, i.prefix_len),
            mac: i.mac.to_string(),
            rss: port.rss().to_string(),
            rx: RxCounters {
                packets: st.ipackets,
                bytes: st.ibytes,
                missed: st.imissed,
                errors: st.ierrors,
                no_buffer: st.rx_nombuf,
            },
            tx: TxCounters { packets: st.opackets, bytes: st.obytes, errors: st.oerrors },
        });
    }
    let view = Interfaces { interfaces: rows };
    Shown::of(&view, render::interfaces(&view))
}

/// `display statistics [drop]`
pub fn statistics(a: &Appliance, drops_only: bool) -> Shown {
    let total = a.total_stats();
    let view = Statistics {
        received: total.rx_packets,
        transmitted: total.tx_packets,
        forwarded: total.forwarded,
        local_replies: total.local_replies,
        to_slow_path: total.to_slow_path,
        to_alg: total.to_alg,
        dropped: total.total_drops(),
        drops: DropReason::all().map(|r| (r.name(), total.drops[r.index()])).collect(),
        sessions: SessionCounts {
            live: total.sessions_live.iter().sum(),
            created: total.sessions_created,
            removed: total.sessions_removed,
        },
        handoffs: Handoffs { out: total.handoffs_out, into: total.handoffs_in },
        workers: a.worker_stats().iter().map(CoreRow::from).collect(),
        slow_path: (&a.slow_path_stats()).into(),
        mbufs_in_use: a.mbufs_in_use(),
    };
    Shown::of(&view, render::statistics(&view, drops_only))
}
