//! What `display` shows, as typed values: their serialization is the API's JSON
//! (`#[derive(Serialize)]`, the schema in docs/api.md), [`crate::render`] makes the
//! reference appliance's text of them, and [`crate::display`] builds them from the
//! appliance, once per display, so the two forms never disagree.
use dataplane::alg::pptp::MsgType;
use dataplane::command::AlgStatus;
use dataplane::stats::CoreStats;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use wire::FlowKey;

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

#[derive(Debug, Serialize)]
pub struct Reset {
    pub reset: usize,
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
    /// Whether the NIC spreads packets as the workers' ownership is computed.
    pub rss: String,
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

/// Cycles spent on iterations that found work, over all cycles.
pub fn busy_ratio(s: &CoreStats) -> f64 {
    if s.cycles == 0 {
        0.0
    } else {
        s.busy_cycles as f64 / s.cycles as f64
    }
}
