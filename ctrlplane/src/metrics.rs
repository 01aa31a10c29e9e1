//! The Prometheus endpoint (`/metrics`, default 127.0.0.1:9469).
//!
//! Each scrape reads the cores' published counters (relaxed atomics, copied by the cores
//! every 10 ms), the ports' counters, and asks the slow path and the workers through
//! their inboxes for what only they know (ALG state, NAT numbers in use). The values
//! are put into a fresh registry of the `prometheus` crate and encoded: nothing is kept
//! between scrapes, and nothing on the packet path knows a scrape happened.
use crate::control::Control;
use crate::display::QUERY_TIMEOUT;
use crate::views::{busy_ratio, proto_name};
use anyhow::Context;
use dataplane::session::Kind;
use dataplane::stats::{CoreStats, DropReason};
use prometheus::{Encoder, GaugeVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use tiny_http::{Header, Response, Server};

pub struct MetricsServer {
    server: Arc<Server>,
    thread: JoinHandle<()>,
}

impl MetricsServer {
    pub fn start(control: Arc<Control>, addr: SocketAddr) -> anyhow::Result<MetricsServer> {
        let server = Arc::new(Server::http(addr).map_err(|e| anyhow::anyhow!("metrics on {addr}: {e}"))?);
        tracing::info!(%addr, "Prometheus metrics at /metrics");
        let s = server.clone();
        let thread = std::thread::Builder::new()
            .name("fw-metrics".into())
            .spawn(move || {
                for req in s.incoming_requests() {
                    let path = req.url().split('?').next().unwrap_or("").to_owned();
                    let response = if path == "/metrics" {
                        let header =
                            Header::from_bytes("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                                .expect("static header is valid");
                        Response::from_string(render(&control)).with_header(header)
                    } else {
                        Response::from_string("ferrowall: metrics are at /metrics\n").with_status_code(404)
                    };
                    let _ = req.respond(response);
                }
            })
            .context("starting the metrics thread")?;
        Ok(MetricsServer { server, thread })
    }

    pub fn stop(self) {
        self.server.unblock();
        let _ = self.thread.join();
    }
}

/// Registers and fills metrics in one registry.
struct Metrics {
    registry: Registry,
}

impl Metrics {
    fn counter(&self, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
        let v = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
        self.registry.register(Box::new(v.clone())).expect("registered once");
        v
    }

    fn gauge(&self, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
        let v = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
        self.registry.register(Box::new(v.clone())).expect("registered once");
        v
    }

    fn ratio(&self, name: &str, help: &str, labels: &[&str]) -> GaugeVec {
        let v = GaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
        self.registry.register(Box::new(v.clone())).expect("registered once");
        v
    }
}

fn as_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The metrics text for one scrape.
pub fn render(control: &Control) -> String {
    let m = Metrics { registry: Registry::new() };
    let a = control.appliance();
    ports(&m, a);
    cores(&m, &a.total_stats(), &a.worker_stats(), &a.slow_path_stats());
    m.gauge("ferrowall_mempool_mbufs_in_use", "Packet buffers (mbufs) taken from the pool.", &[])
        .with_label_values(&[])
        .set(i64::from(a.mbufs_in_use()));
    match a.nat_usage(QUERY_TIMEOUT) {
        Ok(usage) => {
            let g = m.gauge(
                "ferrowall_nat_ports_in_use",
                "NAT ports (TCP, UDP) and ICMP identifiers in use, per public address.",
                &["address", "protocol"],
            );
            for u in &usage {
                g.with_label_values(&[&u.public.to_string(), proto_name(u.proto)]).set(i64::from(u.in_use));
            }
        }
        Err(e) => tracing::warn!("metrics: NAT usage unavailable: {e}"),
    }
    match a.alg_status(QUERY_TIMEOUT) {
        Ok(alg) => {
            m.gauge("ferrowall_server_map_entries", "Server-map entries (expected PPTP GRE flows).", &[])
                .with_label_values(&[])
                .set(alg.server_map_entries as i64);
            m.gauge("ferrowall_pptp_connections", "PPTP control connections the ALG follows.", &[])
                .with_label_values(&[])
                .set(alg.connections as i64);
            m.gauge("ferrowall_pptp_calls", "PPTP calls (tunnels) the ALG follows.", &[])
                .with_label_values(&[])
                .set(alg.calls as i64);
            let ids = m.gauge(
                "ferrowall_pptp_call_ids_in_use",
                "Translated PPTP Call IDs in use, per public address.",
                &["address"],
            );
            for (addr, n) in &alg.call_ids {
                ids.with_label_values(&[&addr.to_string()]).set(i64::from(*n));
            }
            let msgs = m.counter(
                "ferrowall_alg_messages_total",
                "Control messages the ALG read, by type and direction.",
                &["alg", "type", "direction"],
            );
            for (d, dir) in ["client_to_server", "server_to_client"].iter().enumerate() {
                for t in dataplane::alg::pptp::MsgType::ALL {
                    msgs.with_label_values(&["pptp", t.name(), dir])
                        .inc_by(alg.counters.messages[d][t as usize]);
                }
            }
            m.counter(
                "ferrowall_alg_malformed_messages_total",
                "Malformed control messages (segment dropped).",
                &["alg"],
            )
            .with_label_values(&["pptp"])
            .inc_by(alg.counters.malformed);
            let refused = m.counter(
                "ferrowall_alg_refused_messages_total",
                "Control messages the ALG refused (the segment cut before them or dropped), by reason.",
                &["alg", "reason"],
            );
            for (reason, n) in alg.counters.refusals() {
                refused.with_label_values(&["pptp", reason.name()]).inc_by(n);
            }
        }
        Err(e) => tracing::warn!("metrics: ALG status unavailable: {e}"),
    }
    let mut out = Vec::new();
    let _ = TextEncoder::new().encode(&m.registry.gather(), &mut out);
    String::from_utf8(out).unwrap_or_default()
}

fn ports(m: &Metrics, a: &dataplane::Appliance) {
    let rx_p = m.counter("ferrowall_port_received_packets_total", "Packets received by a port.", &["port"]);
    let rx_b = m.counter("ferrowall_port_received_bytes_total", "Bytes received by a port.", &["port"]);
    let tx_p =
        m.counter("ferrowall_port_transmitted_packets_total", "Packets transmitted by a port.", &["port"]);
    let tx_b = m.counter("ferrowall_port_transmitted_bytes_total", "Bytes transmitted by a port.", &["port"]);
    let missed = m.counter(
        "ferrowall_port_missed_packets_total",
        "Packets the port dropped because its RX queues were full.",
        &["port"],
    );
    let no_buffer = m.counter(
        "ferrowall_port_rx_no_buffer_total",
        "Packets the port could not receive because the mbuf pool was empty.",
        &["port"],
    );
    let errors =
        m.counter("ferrowall_port_errors_total", "Port errors by direction.", &["port", "direction"]);
    let q_p = m.counter(
        "ferrowall_port_queue_packets_total",
        "Packets per port queue and direction (where the driver counts them).",
        &["port", "queue", "direction"],
    );
    let q_b = m.counter(
        "ferrowall_port_queue_bytes_total",
        "Bytes per port queue and direction (where the driver counts them).",
        &["port", "queue", "direction"],
    );
    let tx_queues = a.workers() + 1;
    for port in a.ports() {
        let name = a.interfaces().get(port.id()).map_or_else(|| port.id().to_string(), |i| i.name.clone());
        let st = port.stats();
        rx_p.with_label_values(&[&name]).inc_by(st.ipackets);
        rx_b.with_label_values(&[&name]).inc_by(st.ibytes);
        tx_p.with_label_values(&[&name]).inc_by(st.opackets);
        tx_b.with_label_values(&[&name]).inc_by(st.obytes);
        missed.with_label_values(&[&name]).inc_by(st.imissed);
        no_buffer.with_label_values(&[&name]).inc_by(st.rx_nombuf);
        errors.with_label_values(&[&name, "rx"]).inc_by(st.ierrors);
        errors.with_label_values(&[&name, "tx"]).inc_by(st.oerrors);
        let rx_queues = usize::from(port.rx_queue_count());
        for q in 0..dpdk::QUEUE_STATS {
            let qs = q.to_string();
            if q < rx_queues {
                q_p.with_label_values(&[&name, &qs, "rx"]).inc_by(st.q_ipackets[q]);
                q_b.with_label_values(&[&name, &qs, "rx"]).inc_by(st.q_ibytes[q]);
            }
            if q < tx_queues {
                q_p.with_label_values(&[&name, &qs, "tx"]).inc_by(st.q_opackets[q]);
                q_b.with_label_values(&[&name, &qs, "tx"]).inc_by(st.q_obytes[q]);
            }
        }
    }
}

fn cores(m: &Metrics, total: &CoreStats, workers: &[CoreStats], slow: &CoreStats) {
    let drops = m.counter("ferrowall_dropped_packets_total", "Packets dropped, by reason.", &["reason"]);
    for r in DropReason::all() {
        drops.with_label_values(&[r.name()]).inc_by(total.drops[r.index()]);
    }
    let sessions = m.gauge("ferrowall_sessions", "Live sessions by protocol.", &["protocol"]);
    for k in Kind::ALL {
        sessions.with_label_values(&[k.name()]).set(as_i64(total.sessions_live[k as usize]));
    }
    m.counter("ferrowall_sessions_created_total", "Sessions created.", &[])
        .with_label_values(&[])
        .inc_by(total.sessions_created);
    m.counter("ferrowall_sessions_removed_total", "Sessions removed (aged, reset, ended by the ALG).", &[])
        .with_label_values(&[])
        .inc_by(total.sessions_removed);
    let packets = m.counter(
        "ferrowall_core_packets_total",
        "Packets per core and what became of them.",
        &["core", "outcome"],
    );
    let handoffs = m.counter(
        "ferrowall_handoff_enqueued_packets_total",
        "Packets a worker passed to the owning worker's hand-off ring (full rings count as handoff_ring_full drops).",
        &["worker"],
    );
    let busy = m.ratio(
        "ferrowall_core_busy_ratio",
        "Share of a core's cycles spent in loop iterations that found work, since start.",
        &["core"],
    );
    let cycles = m.counter(
        "ferrowall_core_cycles_total",
        "TSC cycles of a core's poll loop, by state.",
        &["core", "state"],
    );
    let each = |core: String, s: &CoreStats| {
        for (outcome, n) in [
            ("received", s.rx_packets),
            ("transmitted", s.tx_packets),
            ("forwarded", s.forwarded),
            ("to_slow_path", s.to_slow_path),
            ("to_alg", s.to_alg),
            ("dropped", s.total_drops()),
        ] {
            packets.with_label_values(&[&core, outcome]).inc_by(n);
        }
        busy.with_label_values(&[&core]).set(busy_ratio(s));
        cycles.with_label_values(&[&core, "busy"]).inc_by(s.busy_cycles);
        cycles.with_label_values(&[&core, "idle"]).inc_by(s.cycles.saturating_sub(s.busy_cycles));
    };
    for (i, w) in workers.iter().enumerate() {
        each(format!("worker{i}"), w);
        handoffs.with_label_values(&[&i.to_string()]).inc_by(w.handoffs_out);
    }
    each("slow_path".into(), slow);
}
