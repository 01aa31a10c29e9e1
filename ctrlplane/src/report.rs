//! Human-readable counters: what the appliance prints on request and at exit.
use dataplane::ifaces::Interfaces;
use dataplane::stats::{CoreStats, DropReason};
use dpdk::EthStats;
use std::fmt::Write;

/// Totals, drops by reason (non-zero only), per-core busy ratio.
pub fn counters(total: &CoreStats, per_worker: &[CoreStats], slow: &CoreStats) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "packets: rx {} tx {} forwarded {} local-replies {} to-slow-path {} to-alg {} dropped {}",
        total.rx_packets,
        total.tx_packets,
        total.forwarded,
        total.local_replies,
        total.to_slow_path,
        total.to_alg,
        total.total_drops()
    );
    for reason in DropReason::all() {
        let n = total.drops[reason.index()];
        if n > 0 {
            let _ = writeln!(s, "  drop {:<24} {n}", reason.name());
        }
    }
    for (i, w) in per_worker.iter().enumerate() {
        let _ = writeln!(
            s,
            "worker {i}: rx {} tx {} handed-off out {} in {} busy {:.1}%",
            w.rx_packets,
            w.tx_packets,
            w.handoffs_out,
            w.handoffs_in,
            busy_percent(w)
        );
    }
    let _ = writeln!(
        s,
        "slow path: rx {} tx {} busy {:.1}%",
        slow.rx_packets,
        slow.tx_packets,
        busy_percent(slow)
    );
    s
}

/// Packets per second between two snapshots of the totals.
pub fn rates(before: &CoreStats, after: &CoreStats, elapsed: std::time::Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let pps = |a: u64, b: u64| (b.saturating_sub(a)) as f64 / secs;
    format!(
        "rate: rx {:.0} pps, forwarded {:.0} pps, dropped {:.0} pps",
        pps(before.rx_packets, after.rx_packets),
        pps(before.forwarded, after.forwarded),
        pps(before.total_drops(), after.total_drops())
    )
}

fn busy_percent(s: &CoreStats) -> f64 {
    100.0 * crate::views::busy_ratio(s)
}

/// One line per interface with the PMD's counters.
pub fn interfaces(ifaces: &Interfaces, stats: &[(u16, EthStats)]) -> String {
    let mut s = String::new();
    for iface in ifaces.iter() {
        let st = stats.iter().find(|(p, _)| *p == iface.port).map(|(_, s)| *s).unwrap_or_default();
        let _ = writeln!(
            s,
            "{:<10} port {} zone {:<8} {}/{} {}  rx {} pkts {} B, tx {} pkts {} B, missed {} errors {}/{}",
            iface.name,
            iface.port,
            iface.zone,
            iface.addr,
            iface.prefix_len,
            iface.mac,
            st.ipackets,
            st.ibytes,
            st.opackets,
            st.obytes,
            st.imissed,
            st.ierrors,
            st.oerrors
        );
    }
    s
}
