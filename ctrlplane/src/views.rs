//! What `display` shows, as typed views: each is built once from the appliance,
//! serialized as the API's JSON (`#[derive(Serialize)]`, the schema in docs/api.md) and
//! rendered to the reference appliance's text by [`crate::render`], so the two never
//! disagree.
use crate::render;
use dataplane::alg::pptp::{MsgType, ServerMapView};
use dataplane::appliance::QueryError;
use dataplane::command::{AlgStatus, NatUsage};
use dataplane::nat::Target;
use dataplane::ruleset::Ruleset;
use dataplane::session::display::SessionView;
use dataplane::session::SessionFilter;
use dataplane::stats::{CoreStats, DropReason};
use dataplane::Appliance;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;
use wire::FlowKey;

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

/// A NAT number space's protocol word.
pub fn proto_name(p: u8) -> &'static str {
    match p {
        6 => "tcp",
        17 => "udp",
        1 => "icmp",
        47 => "gre",
        _ => "ip",
    }
}

#[derive(Debug, Serialize)]
pub struct SessionTable {
    pub total: usize,
    pub sessions: Vec<SessionRow>,
}

#[derive(Debug, Serialize)]
pub struct SessionRow {
    pub protocol: &'static str,
    pub original: Tuple,
    pub translated: Tuple,
    pub state: &'static str,
    pub worker: u16,
    pub packets: PerDirection,
    pub bytes: PerDirection,
    pub age_seconds: u64,
    pub left_seconds: u64,
    /// The reference line, as the text display prints it.
    pub line: String,
}

#[derive(Debug, Serialize)]
pub struct Tuple {
    pub src: Ipv4Addr,
    pub sport: u16,
    pub dst: Ipv4Addr,
    pub dport: u16,
}

impl From<&FlowKey> for Tuple {
    fn from(k: &FlowKey) -> Tuple {
        Tuple { src: k.src_addr(), sport: k.sport, dst: k.dst_addr(), dport: k.dport }
    }
}

#[derive(Debug, Serialize)]
pub struct PerDirection {
    pub original: u64,
    pub reply: u64,
}

impl From<[u64; 2]> for PerDirection {
    fn from(v: [u64; 2]) -> PerDirection {
        PerDirection { original: v[0], reply: v[1] }
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

#[derive(Debug, Serialize)]
pub struct Reset {
    pub reset: usize,
}

/// `reset firewall session-table [filters]`
pub fn reset(a: &Appliance, filter: &SessionFilter) -> Result<Shown, QueryError> {
    let view = Reset { reset: a.reset_sessions(*filter, QUERY_TIMEOUT)? };
    Ok(Shown::of(&view, render::reset(&view)))
}

#[derive(Debug, Serialize)]
pub struct ServerMap {
    pub total: usize,
    pub entries: Vec<ServerMapRow>,
}

#[derive(Debug, Serialize)]
pub struct ServerMapRow {
    /// Always "aspf": entries an ALG announced.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub application: &'static str,
    /// The expected flow's packets as they arrive.
    #[serde(rename = "match")]
    pub matches: GreEnds,
    pub translated: GreEnds,
    /// The worker the entry is installed in.
    pub owner: u16,
    pub left_seconds: u64,
    pub line: String,
}

#[derive(Debug, Serialize)]
pub struct GreEnds {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub call_id: u16,
}

impl From<&FlowKey> for GreEnds {
    fn from(k: &FlowKey) -> GreEnds {
        GreEnds { src: k.src_addr(), dst: k.dst_addr(), call_id: k.dport }
    }
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

#[derive(Debug, Serialize)]
pub struct AddressGroups {
    pub groups: Vec<AddressGroup>,
}

#[derive(Debug, Serialize)]
pub struct AddressGroup {
    pub name: String,
    pub addresses: Vec<GroupAddress>,
}

#[derive(Debug, Serialize)]
pub struct GroupAddress {
    pub address: Ipv4Addr,
    /// By protocol word (tcp, udp, icmp, gre): numbers in use of the slice size.
    pub in_use: BTreeMap<&'static str, Usage>,
}

#[derive(Debug, Serialize)]
pub struct Usage {
    pub in_use: u32,
    pub size: u32,
}

/// Protocols of the NAT number spaces, in display order (GRE: translated Call IDs).
pub const NAT_PROTOCOLS: [u8; 4] = [6, 17, 1, 47];

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

#[derive(Debug, Serialize)]
pub struct NatStatistics {
    pub ports_in_use: PortsInUse,
    pub call_ids_in_use: u32,
    pub nat_exhausted: u64,
    pub pptp: AlgView,
}

#[derive(Debug, Serialize)]
pub struct PortsInUse {
    pub tcp: u32,
    pub udp: u32,
    pub icmp: u32,
}

#[derive(Debug, Serialize)]
pub struct AlgView {
    pub connections: usize,
    pub calls: usize,
    pub server_map_entries: usize,
    /// Message counts seen, those above zero.
    pub messages: Vec<MessageCount>,
    pub malformed: u64,
    pub retransmissions: u64,
    pub call_limit: u64,
    pub call_ids_exhausted: u64,
    pub unknown_calls: u64,
    /// Segments cut or dropped, by drop reason (every reason, zeros included).
    pub refused: BTreeMap<&'static str, u64>,
}

#[derive(Debug, Serialize)]
pub struct MessageCount {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// "client_to_server" or "server_to_client".
    pub direction: &'static str,
    pub count: u64,
}

impl From<&AlgStatus> for AlgView {
    fn from(alg: &AlgStatus) -> AlgView {
        let c = &alg.counters;
        let mut messages = Vec::new();
        for (d, direction) in ["client_to_server", "server_to_client"].into_iter().enumerate() {
            for t in MsgType::ALL {
                let count = c.messages[d][t as usize];
                if count > 0 {
                    messages.push(MessageCount { kind: t.name(), direction, count });
                }
            }
        }
        AlgView {
            connections: alg.connections,
            calls: alg.calls,
            server_map_entries: alg.server_map_entries,
            messages,
            malformed: c.malformed,
            retransmissions: c.retransmissions,
            call_limit: c.call_limit,
            call_ids_exhausted: c.call_ids_exhausted,
            unknown_calls: c.unknown_call,
            refused: c.refusals().map(|(r, n)| (r.name(), n)).collect(),
        }
    }
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

#[derive(Debug, Serialize)]
pub struct Interfaces {
    pub interfaces: Vec<InterfaceRow>,
}

#[derive(Debug, Serialize)]
pub struct InterfaceRow {
    pub name: String,
    pub port: u16,
    pub driver: String,
    pub zone: String,
    /// ADDRESS/LENGTH.
    pub address: String,
    pub mac: String,
    pub rx: RxCounters,
    pub tx: TxCounters,
}

#[derive(Debug, Serialize)]
pub struct RxCounters {
    pub packets: u64,
    pub bytes: u64,
    pub missed: u64,
    pub errors: u64,
    pub no_buffer: u64,
}

#[derive(Debug, Serialize)]
pub struct TxCounters {
    pub packets: u64,
    pub bytes: u64,
    pub errors: u64,
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

#[derive(Debug, Serialize)]
pub struct Statistics {
    pub received: u64,
    pub transmitted: u64,
    pub forwarded: u64,
    pub local_replies: u64,
    pub to_slow_path: u64,
    pub to_alg: u64,
    pub dropped: u64,
    /// By drop reason, every reason (zeros included).
    pub drops: BTreeMap<&'static str, u64>,
    pub sessions: SessionCounts,
    pub handoffs: Handoffs,
    pub workers: Vec<CoreRow>,
    pub slow_path: CoreRow,
    pub mbufs_in_use: u32,
}

#[derive(Debug, Serialize)]
pub struct SessionCounts {
    pub live: u64,
    pub created: u64,
    pub removed: u64,
}

#[derive(Debug, Serialize)]
pub struct Handoffs {
    pub out: u64,
    #[serde(rename = "in")]
    pub into: u64,
}

#[derive(Debug, Serialize)]
pub struct CoreRow {
    pub rx: u64,
    pub tx: u64,
    pub busy_ratio: f64,
}

impl From<&CoreStats> for CoreRow {
    fn from(s: &CoreStats) -> CoreRow {
        CoreRow { rx: s.rx_packets, tx: s.tx_packets, busy_ratio: busy_ratio(s) }
    }
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

/// Cycles spent on iterations that found work, over all cycles.
pub fn busy_ratio(s: &CoreStats) -> f64 {
    if s.cycles == 0 {
        0.0
    } else {
        s.busy_cycles as f64 / s.cycles as f64
    }
}
