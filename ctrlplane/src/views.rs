//! What `display` shows, in the reference appliance's text and as JSON: each view is
//! built once from the appliance and rendered both ways, so the two never disagree.
use dataplane::alg::pptp::ServerMapView;
use dataplane::appliance::QueryError;
use dataplane::command::{AlgStatus, NatUsage};
use dataplane::nat::Target;
use dataplane::ruleset::Ruleset;
use dataplane::session::display::SessionView;
use dataplane::session::SessionFilter;
use dataplane::stats::{CoreStats, DropReason};
use dataplane::Appliance;
use dpdk::EthStats;
use serde_json::{json, Value};
use std::fmt::Write;
use std::net::Ipv4Addr;
use std::time::Duration;

/// How long a display waits for a core to answer.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// A display, ready in both forms.
pub struct Shown {
    pub text: String,
    pub json: Value,
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

/// `display firewall session-table [verbose] [source IP] [destination IP] [protocol P]`
pub fn session_table(a: &Appliance, filter: &SessionFilter, verbose: bool) -> Result<Shown, QueryError> {
    let all = a.sessions(QUERY_TIMEOUT)?;
    let shown: Vec<&SessionView> =
        all.iter().filter(|s| filter.matches_parts(&s.original, &s.translated, s.kind)).collect();
    let mut text = String::new();
    let _ = writeln!(text, " Current Total Sessions : {}", shown.len());
    for s in &shown {
        let line = if verbose { s.verbose() } else { s.line() };
        let _ = writeln!(text, " {}", line.replace('\n', "\n "));
    }
    let rows: Vec<Value> = shown.iter().map(|s| session_json(s)).collect();
    Ok(Shown { text, json: json!({ "total": shown.len(), "sessions": rows }) })
}

fn session_json(s: &SessionView) -> Value {
    let key = |k: &wire::FlowKey| json!({ "src": k.src_addr().to_string(), "sport": k.sport, "dst": k.dst_addr().to_string(), "dport": k.dport });
    json!({
        "protocol": s.kind.name(),
        "original": key(&s.original),
        "translated": key(&s.translated),
        "state": s.state,
        "worker": s.worker,
        "packets": { "original": s.packets[0], "reply": s.packets[1] },
        "bytes": { "original": s.bytes[0], "reply": s.bytes[1] },
        "age_seconds": s.age_secs,
        "left_seconds": s.remaining_secs,
        "line": s.line(),
    })
}

/// `reset firewall session-table [filters]`
pub fn reset(a: &Appliance, filter: &SessionFilter) -> Result<Shown, QueryError> {
    let n = a.reset_sessions(*filter, QUERY_TIMEOUT)?;
    Ok(Shown { text: format!(" {n} session(s) reset\n"), json: json!({ "reset": n }) })
}

/// `display firewall server-map [aspf]`
pub fn server_map(a: &Appliance) -> Result<Shown, QueryError> {
    let entries = a.server_map(QUERY_TIMEOUT)?;
    let mut text = String::new();
    let _ = writeln!(text, " Current Total Server-map : {}", entries.len());
    for e in &entries {
        let _ = writeln!(text, " {}", e.entry.line(e.left_secs));
    }
    let rows: Vec<Value> = entries.iter().map(server_map_json).collect();
    Ok(Shown { text, json: json!({ "total": entries.len(), "entries": rows }) })
}

fn server_map_json(e: &ServerMapView) -> Value {
    let (k, t) = (&e.entry.key, &e.entry.translated);
    json!({
        "type": "aspf",
        "application": e.entry.app.name(),
        "match": { "src": k.src_addr().to_string(), "dst": k.dst_addr().to_string(), "call_id": k.dport },
        "translated": { "src": t.src_addr().to_string(), "dst": t.dst_addr().to_string(), "call_id": t.dport },
        "owner": e.owner,
        "left_seconds": e.left_secs,
        "line": e.entry.line(e.left_secs),
    })
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
    let mut text = String::new();
    let mut rows = Vec::new();
    for (name, addrs) in &groups {
        let _ = writeln!(text, " Address-group: {name}  ({} address(es))", addrs.len());
        let mut addr_rows = Vec::new();
        for addr in addrs {
            let mine: Vec<&NatUsage> = usage.iter().filter(|u| u.public == *addr).collect();
            let mut line = format!("  {addr:<16}");
            let mut used = serde_json::Map::new();
            let size = mine.first().map_or(0, |u| u.size);
            for proto in [6u8, 17, 1, 47] {
                let n = match proto {
                    47 => call_ids.iter().find(|(ip, _)| ip == addr).map_or(0, |(_, n)| *n),
                    _ => mine.iter().find(|u| u.proto == proto).map_or(0, |u| u.in_use),
                };
                let _ = write!(line, " {}:{n}/{size}", proto_name(proto));
                used.insert(proto_name(proto).into(), json!({ "in_use": n, "size": size }));
            }
            let _ = writeln!(text, "{line}");
            addr_rows.push(json!({ "address": addr.to_string(), "in_use": used }));
        }
        rows.push(json!({ "name": name, "addresses": addr_rows }));
    }
    Ok(Shown { text, json: json!({ "groups": rows }) })
}

/// `display nat statistics`
pub fn nat_statistics(a: &Appliance) -> Result<Shown, QueryError> {
    let usage = a.nat_usage(QUERY_TIMEOUT)?;
    let alg = a.alg_status(QUERY_TIMEOUT)?;
    let total = a.total_stats();
    let in_use = |p: u8| usage.iter().filter(|u| u.proto == p).map(|u| u.in_use).sum::<u32>();
    let call_ids: u32 = alg.call_ids.iter().map(|(_, n)| n).sum();
    let exhausted = total.drops[DropReason::NatExhausted.index()];
    let mut text = String::new();
    let _ = writeln!(
        text,
        " NAT ports in use: tcp {}  udp {}  icmp identifiers {}  PPTP Call IDs {}",
        in_use(6),
        in_use(17),
        in_use(1),
        call_ids
    );
    let _ = writeln!(text, " Flows refused, no number left (nat_exhausted): {exhausted}");
    let _ = writeln!(
        text,
        " PPTP ALG: {} control connection(s), {} call(s), {} server-map entr{}",
        alg.connections,
        alg.calls,
        alg.server_map_entries,
        if alg.server_map_entries == 1 { "y" } else { "ies" }
    );
    text.push_str(&alg_message_lines(&alg));
    let json = json!({
        "ports_in_use": { "tcp": in_use(6), "udp": in_use(17), "icmp": in_use(1) },
        "call_ids_in_use": call_ids,
        "nat_exhausted": exhausted,
        "pptp": alg_json(&alg),
    });
    Ok(Shown { text, json })
}

fn alg_message_lines(alg: &AlgStatus) -> String {
    let mut s = String::new();
    for (d, dir) in ["client->server", "server->client"].iter().enumerate() {
        let parts: Vec<String> = dataplane::alg::pptp::MsgType::ALL
            .iter()
            .filter(|t| alg.counters.messages[d][**t as usize] > 0)
            .map(|t| format!("{} {}", t.name(), alg.counters.messages[d][*t as usize]))
            .collect();
        if !parts.is_empty() {
            let _ = writeln!(s, "  messages {dir}: {}", parts.join(", "));
        }
    }
    let c = &alg.counters;
    let _ = writeln!(
        s,
        "  malformed {}  retransmitted {}  call limit {}  Call IDs exhausted {}  unknown calls {}",
        c.malformed, c.retransmissions, c.call_limit, c.call_ids_exhausted, c.unknown_call
    );
    let refused: Vec<String> =
        c.refusals().filter(|(_, n)| *n > 0).map(|(r, n)| format!("{} {n}", r.name())).collect();
    if !refused.is_empty() {
        let _ = writeln!(s, "  refused: {}", refused.join(", "));
    }
    s
}

fn alg_json(alg: &AlgStatus) -> Value {
    let mut messages = Vec::new();
    for (d, dir) in ["client_to_server", "server_to_client"].iter().enumerate() {
        for t in dataplane::alg::pptp::MsgType::ALL {
            let n = alg.counters.messages[d][t as usize];
            if n > 0 {
                messages.push(json!({ "type": t.name(), "direction": dir, "count": n }));
            }
        }
    }
    json!({
        "connections": alg.connections,
        "calls": alg.calls,
        "server_map_entries": alg.server_map_entries,
        "messages": messages,
        "malformed": alg.counters.malformed,
        "retransmissions": alg.counters.retransmissions,
        "call_limit": alg.counters.call_limit,
        "call_ids_exhausted": alg.counters.call_ids_exhausted,
        "unknown_calls": alg.counters.unknown_call,
        "refused": alg.counters.refusals().map(|(r, n)| (r.name().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
    })
}

/// `display interface`
pub fn interfaces(a: &Appliance) -> Shown {
    let mut text = String::new();
    let mut rows = Vec::new();
    for port in a.ports() {
        let Some(i) = a.interfaces().get(port.id()) else { continue };
        let st: EthStats = port.stats();
        let _ = writeln!(
            text,
            " {} (port {}, {}): zone {}, {}/{}, MAC {}\n  input  {} packets, {} bytes, {} missed, {} errors, {} no buffer\n  output {} packets, {} bytes, {} errors",
            i.name, port.id(), port.driver(), i.zone, i.addr, i.prefix_len, i.mac,
            st.ipackets, st.ibytes, st.imissed, st.ierrors, st.rx_nombuf, st.opackets, st.obytes, st.oerrors
        );
        rows.push(json!({
            "name": i.name, "port": port.id(), "driver": port.driver(), "zone": i.zone,
            "address": format!("{}/{}", i.addr, i.prefix_len), "mac": i.mac.to_string(),
            "rx": { "packets": st.ipackets, "bytes": st.ibytes, "missed": st.imissed, "errors": st.ierrors, "no_buffer": st.rx_nombuf },
            "tx": { "packets": st.opackets, "bytes": st.obytes, "errors": st.oerrors },
        }));
    }
    Shown { text, json: json!({ "interfaces": rows }) }
}

/// `display statistics [drop]`
pub fn statistics(a: &Appliance, drops_only: bool) -> Shown {
    let total = a.total_stats();
    let workers = a.worker_stats();
    let slow = a.slow_path_stats();
    let mut text = String::new();
    if !drops_only {
        let _ = writeln!(
            text,
            " Packets: received {}  transmitted {}  forwarded {}  local replies {}  to slow path {}  to ALG {}  dropped {}",
            total.rx_packets,
            total.tx_packets,
            total.forwarded,
            total.local_replies,
            total.to_slow_path,
            total.to_alg,
            total.total_drops()
        );
        let _ = writeln!(
            text,
            " Sessions: {} live, {} created, {} removed; hand-offs {} out, {} in",
            total.sessions_live.iter().sum::<u64>(),
            total.sessions_created,
            total.sessions_removed,
            total.handoffs_out,
            total.handoffs_in
        );
        for (i, w) in workers.iter().enumerate() {
            let _ = writeln!(
                text,
                " worker {i}: rx {}  tx {}  busy {:.1}%",
                w.rx_packets,
                w.tx_packets,
                busy_ratio(w) * 100.0
            );
        }
        let _ = writeln!(
            text,
            " slow path: rx {}  tx {}  busy {:.1}%",
            slow.rx_packets,
            slow.tx_packets,
            busy_ratio(&slow) * 100.0
        );
        let _ = writeln!(text, " mbufs in use: {}", a.mbufs_in_use());
    }
    let _ = writeln!(text, " Dropped packets by reason:");
    let mut drops = serde_json::Map::new();
    for r in DropReason::all() {
        let n = total.drops[r.index()];
        if n > 0 {
            let _ = writeln!(text, "  {:<24} {:>12}  {}", r.name(), n, r.help());
        }
        drops.insert(r.name().into(), json!(n));
    }
    let core = |s: &CoreStats| json!({ "rx": s.rx_packets, "tx": s.tx_packets, "busy_ratio": busy_ratio(s) });
    let json = json!({
        "received": total.rx_packets,
        "transmitted": total.tx_packets,
        "forwarded": total.forwarded,
        "local_replies": total.local_replies,
        "to_slow_path": total.to_slow_path,
        "to_alg": total.to_alg,
        "dropped": total.total_drops(),
        "drops": drops,
        "sessions": { "live": total.sessions_live.iter().sum::<u64>(), "created": total.sessions_created, "removed": total.sessions_removed },
        "handoffs": { "out": total.handoffs_out, "in": total.handoffs_in },
        "workers": workers.iter().map(core).collect::<Vec<_>>(),
        "slow_path": core(&slow),
        "mbufs_in_use": a.mbufs_in_use(),
    });
    Shown { text, json }
}

/// Cycles spent on iterations that found work, over all cycles.
pub fn busy_ratio(s: &CoreStats) -> f64 {
    if s.cycles == 0 {
        0.0
    } else {
        s.busy_cycles as f64 / s.cycles as f64
    }
}
