//! The operator's text: every line the CLI, the API's `text` and the event log print
//! about sessions, server-map entries and events is made here, from the facts the
//! dataplane copies out.
//!
//! Session lines are the reference appliance's, which operators' scripts parse:
//!
//! ```text
//! tcp VPN:public --> public 192.168.1.1:40001[1.1.1.2:2048] --> 1.1.1.1:80
//! ```
//!
//! the original source, its translation in brackets when NAT changed it, then the
//! destination (with its translation in brackets when that changed). ICMP echo shows the
//! identifier as the source port and 2048 (type 8, code 0) as the destination port.
use crate::health::Health;
use crate::views::{
    proto_name, AddressGroups, Interfaces, NatStatistics, Reset, ServerMap, SessionRow, SessionTable,
    Statistics, NAT_PROTOCOLS,
};
use dataplane::events::Event;
use dataplane::servermap::ServerMapEntry;
use dataplane::session::display::SessionView;
use dataplane::session::Kind;
use dataplane::stats::DropReason;
use std::fmt::Write;
use std::net::Ipv4Addr;
use wire::FlowKey;

/// `HH:MM:SS`, as the reference appliance prints times.
pub fn hms(secs: u64) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, (secs / 60) % 60, secs % 60)
}

/// A session's reference line.
pub fn session_line(v: &SessionView) -> String {
    let (o, t) = (&v.original, &v.translated);
    let icmp = o.proto == 1;
    let (dport, tdport) = if icmp { (2048, 2048) } else { (o.dport, t.dport) };
    let mut s = format!("{} VPN:public --> public {}:{}", v.kind.name(), o.src_addr(), o.sport);
    if t.src != o.src || t.sport != o.sport {
        let _ = write!(s, "[{}:{}]", Ipv4Addr::from(t.src), t.sport);
    }
    // The reference appliance marks a connection an ALG inspects with "+->".
    let arrow = if v.kind == Kind::Pptp { "+->" } else { "-->" };
    let _ = write!(s, " {arrow} {}:{}", o.dst_addr(), dport);
    if t.dst != o.dst || tdport != dport {
        let _ = write!(s, "[{}:{}]", Ipv4Addr::from(t.dst), tdport);
    }
    s
}

/// The line plus what `verbose` adds: state, counters per direction, times, owner.
pub fn session_verbose(r: &SessionRow) -> String {
    format!(
        "{}\n  State: {}  Owner: worker {}  Age: {}  Left-Time: {}\n  Packets: {} -> {} <-  Bytes: {} -> {} <-",
        r.line,
        r.state,
        r.worker,
        hms(r.age_seconds),
        hms(r.left_seconds),
        r.packets.original,
        r.packets.reply,
        r.bytes.original,
        r.bytes.reply
    )
}

/// A server-map entry's reference line, e.g.
/// `Type: ASPF, 1.1.1.1:0 -> 1.1.1.2:4096[192.168.1.1:7], Zone: --- Protocol: tcp(Appro: pptp-gre), Left-Time: 00:03:09 VPN: public -> public`.
/// A changed source shows its new address in brackets (the port stays), a changed
/// destination its new address and port.
pub fn server_map_line(e: &ServerMapEntry, left_secs: u64) -> String {
    let (k, t) = (&e.key, &e.translated);
    let mut src = format!("{}:{}", k.src_addr(), k.sport);
    if t.src != k.src {
        let _ = write!(src, "[{}]", Ipv4Addr::from(t.src));
    }
    let mut dst = format!("{}:{}", k.dst_addr(), k.dport);
    if t.dst != k.dst || t.dport != k.dport {
        let _ = write!(dst, "[{}:{}]", Ipv4Addr::from(t.dst), t.dport);
    }
    format!(
        "Type: ASPF, {src} -> {dst}, Zone: --- Protocol: tcp(Appro: {}), Left-Time: {} VPN: public -> public",
        e.app.name(),
        hms(left_secs)
    )
}

/// An event as the log writes it.
pub fn event(e: &Event) -> String {
    let tuple = |o: &FlowKey, t: &FlowKey| {
        let mut s = format!("{}:{}", o.src_addr(), o.sport);
        if (t.src, t.sport) != (o.src, o.sport) {
            let _ = write!(s, "[{}:{}]", t.src_addr(), t.sport);
        }
        let _ = write!(s, " --> {}:{}", o.dst_addr(), o.dport);
        if (t.dst, t.dport) != (o.dst, o.dport) {
            let _ = write!(s, "[{}:{}]", t.dst_addr(), t.dport);
        }
        s
    };
    match e {
        Event::SessionOpened { worker, kind, original, translated } => {
            format!("session opened: {} {} (worker {worker})", kind.name(), tuple(original, translated))
        }
        Event::SessionClosed { worker, kind, original, translated, packets, bytes } => format!(
            "session closed: {} {} (worker {worker}) packets {} -> {} <- bytes {} -> {} <-",
            kind.name(),
            tuple(original, translated),
            packets[0],
            packets[1],
            bytes[0],
            bytes[1]
        ),
        Event::CallUp { client, public, server, client_call_id, translated, server_call_id } => format!(
            "pptp call up: {client}[{public}] --> {server}, client Call ID {client_call_id} as {translated}, server Call ID {server_call_id}"
        ),
        Event::CallDown { client, public, server, client_call_id, translated } => match client_call_id {
            Some(id) => format!("pptp call down: {client}[{public}] --> {server}, client Call ID {id} as {translated}"),
            None => format!("pptp call down: {client}[{public}] --> {server}, incoming call not answered"),
        },
    }
}

/// `display firewall session-table [verbose]`
pub fn session_table(v: &SessionTable, verbose: bool) -> String {
    let mut text = format!(" Current Total Sessions : {}\n", v.total);
    for r in &v.sessions {
        let line = if verbose { session_verbose(r) } else { r.line.clone() };
        let _ = writeln!(text, " {}", line.replace('\n', "\n "));
    }
    text
}

/// `reset firewall session-table`
pub fn reset(v: &Reset) -> String {
    format!(" {} session(s) reset\n", v.reset)
}

/// `display firewall server-map`
pub fn server_map(v: &ServerMap) -> String {
    let mut text = format!(" Current Total Server-map : {}\n", v.total);
    for e in &v.entries {
        let _ = writeln!(text, " {}", e.line);
    }
    text
}

/// `display nat address-group`
pub fn nat_address_group(v: &AddressGroups) -> String {
    let mut text = String::new();
    for g in &v.groups {
        let _ = writeln!(text, " Address-group: {}  ({} address(es))", g.name, g.addresses.len());
        for a in &g.addresses {
            let mut line = format!("  {:<16}", a.address.to_string());
            for proto in NAT_PROTOCOLS.map(proto_name) {
                if let Some(u) = a.in_use.get(proto) {
                    let _ = write!(line, " {proto}:{}/{}", u.in_use, u.size);
                }
            }
            let _ = writeln!(text, "{line}");
        }
    }
    text
}

/// `display nat statistics`
pub fn nat_statistics(v: &NatStatistics) -> String {
    let (p, alg) = (&v.ports_in_use, &v.pptp);
    let mut s = String::new();
    let _ = writeln!(
        s,
        " NAT ports in use: tcp {}  udp {}  icmp identifiers {}  PPTP Call IDs {}",
        p.tcp, p.udp, p.icmp, v.call_ids_in_use
    );
    let _ = writeln!(s, " Flows refused, no number left (nat_exhausted): {}", v.nat_exhausted);
    let _ = writeln!(
        s,
        " PPTP ALG: {} control connection(s), {} call(s), {} server-map entr{}",
        alg.connections,
        alg.calls,
        alg.server_map_entries,
        if alg.server_map_entries == 1 { "y" } else { "ies" }
    );
    for (direction, shown) in [("client_to_server", "client->server"), ("server_to_client", "server->client")]
    {
        let parts: Vec<String> = alg
            .messages
            .iter()
            .filter(|m| m.direction == direction)
            .map(|m| format!("{} {}", m.kind, m.count))
            .collect();
        if !parts.is_empty() {
            let _ = writeln!(s, "  messages {shown}: {}", parts.join(", "));
        }
    }
    let _ = writeln!(
        s,
        "  malformed {}  retransmitted {}  call limit {}  Call IDs exhausted {}  unknown calls {}",
        alg.malformed, alg.retransmissions, alg.call_limit, alg.call_ids_exhausted, alg.unknown_calls
    );
    // In the drop reasons' order, as the counters are kept.
    let refused: Vec<String> = dataplane::alg::pptp::PptpError::ALL
        .iter()
        .filter_map(|e| alg.refused.get(e.name()).filter(|n| **n > 0).map(|n| format!("{} {n}", e.name())))
        .collect();
    if !refused.is_empty() {
        let _ = writeln!(s, "  refused: {}", refused.join(", "));
    }
    s
}

/// `display interface`
pub fn interfaces(v: &Interfaces) -> String {
    let mut text = String::new();
    for i in &v.interfaces {
        let _ = writeln!(
            text,
            " {} (port {}, {}): zone {}, {}, MAC {}\n  input  {} packets, {} bytes, {} missed, {} errors, {} no buffer\n  output {} packets, {} bytes, {} errors\n  RSS {}",
            i.name, i.port, i.driver, i.zone, i.address, i.mac,
            i.rx.packets, i.rx.bytes, i.rx.missed, i.rx.errors, i.rx.no_buffer, i.tx.packets, i.tx.bytes, i.tx.errors,
            i.rss
        );
    }
    text
}

/// `display statistics [drop]`
pub fn statistics(v: &Statistics, drops_only: bool) -> String {
    let mut text = String::new();
    if !drops_only {
        let _ = writeln!(
            text,
            " Packets: received {}  transmitted {}  forwarded {}  local replies {}  to slow path {}  to ALG {}  dropped {}",
            v.received, v.transmitted, v.forwarded, v.local_replies, v.to_slow_path, v.to_alg, v.dropped
        );
        let _ = writeln!(
            text,
            " Sessions: {} live, {} created, {} removed; hand-offs {} out, {} in",
            v.sessions.live, v.sessions.created, v.sessions.removed, v.handoffs.out, v.handoffs.into
        );
        for (i, w) in v.workers.iter().enumerate() {
            let _ =
                writeln!(text, " worker {i}: rx {}  tx {}  busy {:.1}%", w.rx, w.tx, w.busy_ratio * 100.0);
        }
        let slow = &v.slow_path;
        let _ = writeln!(
            text,
            " slow path: rx {}  tx {}  busy {:.1}%",
            slow.rx,
            slow.tx,
            slow.busy_ratio * 100.0
        );
        let _ = writeln!(text, " mbufs in use: {}", v.mbufs_in_use);
    }
    let _ = writeln!(text, " Dropped packets by reason:");
    for r in DropReason::all() {
        let n = v.drops.get(r.name()).copied().unwrap_or(0);
        if n > 0 {
            let _ = writeln!(text, "  {:<24} {:>12}  {}", r.name(), n, r.help());
        }
    }
    text
}

/// `health`: a verdict, then a line per core and the inboxes.
pub fn health(h: &Health) -> String {
    let mut s = format!(" ferrowall: {}\n", if h.healthy { "healthy" } else { "UNHEALTHY" });
    for c in &h.cores {
        let state = if c.polls > 0 { "polling" } else { "STALLED" };
        let _ = writeln!(s, " {:<10} {state}, {} polls in {} ms", c.core, c.polls, h.window_ms);
    }
    match &h.inbox {
        None => s += " inboxes    every worker answered\n",
        Some(why) => {
            let _ = writeln!(s, " inboxes    NOT ANSWERED: {why}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::CoreHealth;
    use dataplane::session::App;

    fn view(proto: u8, original: FlowKey, translated: FlowKey) -> SessionView {
        SessionView {
            id: 0,
            worker: 0,
            kind: match proto {
                6 => Kind::Tcp,
                1 => Kind::Icmp,
                _ => Kind::Udp,
            },
            original,
            translated,
            state: "established",
            packets: [3, 2],
            bytes: [180, 120],
            age_secs: 75,
            remaining_secs: 1189,
        }
    }

    #[test]
    fn reference_session_lines() {
        let o = FlowKey::new([192, 168, 1, 1].into(), [1, 1, 1, 1].into(), 40001, 80, 6);
        let t = FlowKey { src: u32::from(Ipv4Addr::new(1, 1, 1, 2)), sport: 2048, ..o };
        let v = view(6, o, t);
        assert_eq!(
            session_line(&v),
            "tcp VPN:public --> public 192.168.1.1:40001[1.1.1.2:2048] --> 1.1.1.1:80"
        );
        assert_eq!(
            session_verbose(&SessionRow::from(&v)),
            "tcp VPN:public --> public 192.168.1.1:40001[1.1.1.2:2048] --> 1.1.1.1:80\n  State: established  Owner: worker 0  Age: 00:01:15  Left-Time: 00:19:49\n  Packets: 3 -> 2 <-  Bytes: 180 -> 120 <-"
        );
        assert_eq!(
            session_line(&view(17, o, o)),
            "udp VPN:public --> public 192.168.1.1:40001 --> 1.1.1.1:80"
        );
        let control = FlowKey { dport: 1723, ..o };
        let mut v = view(6, control, FlowKey { dport: 1723, ..t });
        v.kind = Kind::Pptp;
        assert_eq!(
            session_line(&v),
            "pptp VPN:public --> public 192.168.1.1:40001[1.1.1.2:2048] +-> 1.1.1.1:1723"
        );
        let ping = FlowKey::new([192, 168, 1, 1].into(), [1, 1, 1, 1].into(), 7, 7, 1);
        let ping_t = FlowKey { src: u32::from(Ipv4Addr::new(1, 1, 1, 2)), sport: 3000, dport: 3000, ..ping };
        assert_eq!(
            session_line(&view(1, ping, ping_t)),
            "icmp VPN:public --> public 192.168.1.1:7[1.1.1.2:3000] --> 1.1.1.1:2048"
        );
    }

    #[test]
    fn reference_server_map_lines() {
        let server: Ipv4Addr = [1, 1, 1, 1].into();
        let public: Ipv4Addr = [1, 1, 1, 2].into();
        let client: Ipv4Addr = [192, 168, 1, 1].into();
        let to_client = ServerMapEntry {
            key: FlowKey::new(server, public, 0, 0xbbbb, 47),
            translated: FlowKey::new(server, client, 0, 0xaaaa, 47),
            app: App::PptpGre,
        };
        assert_eq!(
            server_map_line(&to_client, 189),
            "Type: ASPF, 1.1.1.1:0 -> 1.1.1.2:48059[192.168.1.1:43690], Zone: --- Protocol: tcp(Appro: pptp-gre), Left-Time: 00:03:09 VPN: public -> public"
        );
        let to_server = ServerMapEntry {
            key: FlowKey::new(client, server, 0, 0xcccc, 47),
            translated: FlowKey::new(public, server, 0, 0xcccc, 47),
            app: App::PptpGre,
        };
        assert_eq!(
            server_map_line(&to_server, 189),
            "Type: ASPF, 192.168.1.1:0[1.1.1.2] -> 1.1.1.1:52428, Zone: --- Protocol: tcp(Appro: pptp-gre), Left-Time: 00:03:09 VPN: public -> public"
        );
    }

    #[test]
    fn event_lines() {
        let o = FlowKey::new([192, 168, 1, 1].into(), [1, 1, 1, 1].into(), 40001, 80, 17);
        let t = FlowKey { src: u32::from(Ipv4Addr::new(1, 1, 1, 2)), sport: 2048, ..o };
        let closed = Event::SessionClosed {
            worker: 1,
            kind: Kind::Udp,
            original: o,
            translated: t,
            packets: [2, 1],
            bytes: [90, 45],
        };
        assert_eq!(
            event(&closed),
            "session closed: udp 192.168.1.1:40001[1.1.1.2:2048] --> 1.1.1.1:80 (worker 1) packets 2 -> 1 <- bytes 90 -> 45 <-"
        );
        let (client, public, server) = ([192, 168, 1, 1].into(), [1, 1, 1, 2].into(), [1, 1, 1, 1].into());
        let down = Event::CallDown { client, public, server, client_call_id: None, translated: 4096 };
        assert_eq!(
            event(&down),
            "pptp call down: 192.168.1.1[1.1.1.2] --> 1.1.1.1, incoming call not answered"
        );
    }

    #[test]
    fn the_text_names_each_stalled_core() {
        let h = Health {
            healthy: false,
            cores: vec![
                CoreHealth { core: "worker 0".into(), polls: 0 },
                CoreHealth { core: "slow path".into(), polls: 12 },
            ],
            inbox: Some("worker 0 did not answer within 1s".into()),
            window_ms: 100,
        };
        let t = health(&h);
        assert!(t.starts_with(" ferrowall: UNHEALTHY\n"), "{t}");
        assert!(t.contains(" worker 0   STALLED, 0 polls in 100 ms\n"), "{t}");
        assert!(t.contains(" slow path  polling, 12 polls in 100 ms\n"), "{t}");
        assert!(t.contains("NOT ANSWERED: worker 0 did not answer"), "{t}");
    }
}
