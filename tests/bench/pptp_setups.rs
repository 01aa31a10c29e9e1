//! PPTP tunnel set-ups per second end to end, on a real EAL: every step of every
//! tunnel's control connection (handshake, SCCRQ, SCCRP, OCRQ, OCRP) enters a ring
//! port, crosses the worker (TCP tracking, NAT), the ALG ring and the slow path (the
//! ALG, its Call ID translation, the server-map entries sent to the worker's inbox) and
//! leaves by the other port, where this driver reads it to answer as the peer would.
//! Tunnels go in batches, a step of the whole batch at a time, as many clients at once.
//! At the end every tunnel's two server-map entries must be there, and nothing dropped.
//!
//! Usage: cargo bench -p ferrowall-tests --bench pptp_setups -- [TUNNELS] [BATCH]
//! (default 10,000 tunnels in batches of 256). The driver shares CPU 0 with the slow
//! path on a 2-core machine; the worker has CPU 1.
use dataplane::alg::pptp::MsgType;
use dataplane::appliance::Appliance;
use dpdk::{ring_port, Mbuf, MbufBurst, Mempool, RingRx, RingTx};
use ferrowall_tests::{be16, port_spec, pptp_out_rules, start_eal, tcp_of, test_config};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};
use wire::craft::{self, tcp_flags::*, L2, L3};
use wire::frame::Frame;
use wire::MacAddr;

const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
const PUBLIC: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 2);
const SERVER: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 1);
const CLIENT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const SERVER_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x99]);
const WAIT: Duration = Duration::from_secs(10);
const CLIENT_ISN: u32 = 1000;
const SERVER_ISN: u32 = 9000;

struct Side {
    rx: RingTx,
    /// The port's TX queues: the worker's and the slow path's (which transmits what the
    /// ALG forwards).
    tx: Vec<RingRx>,
    mac: MacAddr,
}

struct Driver {
    pool: Mempool,
    inside: Side,
    outside: Side,
    burst: MbufBurst,
}

impl Driver {
    /// Injects `frames` into one side and returns, in arrival order, as many frames
    /// from the other side (the appliance forwards each step of each tunnel once).
    fn step(&mut self, up: bool, frames: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let (from, to) =
            if up { (&mut self.inside, &mut self.outside) } else { (&mut self.outside, &mut self.inside) };
        for f in frames {
            let mut m: Mbuf = self.pool.alloc().expect("the driver's pool has room");
            assert!(m.write_all(f), "frame fits an mbuf");
            assert!(from.rx.send(m).is_ok(), "RX ring full");
        }
        let mut got = Vec::with_capacity(frames.len());
        let start = Instant::now();
        while got.len() < frames.len() {
            assert!(start.elapsed() < WAIT, "{} of {} frames came out", got.len(), frames.len());
            let before = got.len();
            for q in to.tx.iter_mut() {
                q.recv_burst(&mut self.burst);
                for m in self.burst.by_ref() {
                    got.push(m.data().to_vec());
                }
            }
            if got.len() == before {
                std::thread::yield_now();
            }
        }
        got
    }
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let tunnels = args.first().copied().unwrap_or(10_000).min(60_000);
    let batch = args.get(1).copied().unwrap_or(256).clamp(1, 512);
    let eal = start_eal("fwbench-pptp", 2);
    let pool = Mempool::new("bench_inject", 8191, 256, -1).expect("pool");
    let (in_id, in_rx, in_tx) = ring_port("bench_in", 1, 2, 1024).expect("ring port");
    let (out_id, out_rx, out_tx) = ring_port("bench_out", 1, 2, 1024).expect("ring port");
    let rules = pptp_out_rules(SERVER);
    let mut cfg = test_config(
        1,
        vec![
            port_spec(in_id, "inside", "trust", [192, 168, 1, 254].into()),
            port_spec(out_id, "outside", "untrust", PUBLIC),
        ],
        rules,
    );
    cfg.static_neighbours = vec![(SERVER, SERVER_MAC), (CLIENT, CLIENT_MAC)];
    cfg.worker_idle_sleep = Duration::ZERO;
    cfg.mbufs = 16383;
    cfg.sessions_per_worker = tunnels * 3 + 1024;
    cfg.alg.connections = tunnels + 16;
    cfg.limits.server_map_entries = tunnels * 2 + 16;
    cfg.limits.half_open_sessions = tunnels + 1024;
    cfg.inbox_size = 8192;
    let app = Appliance::start(&eal, &cfg).expect("appliance starts");
    let mac = |id| app.interfaces().get(id).expect("port").mac;
    let mut d = Driver {
        pool,
        inside: Side { rx: in_rx.into_iter().next().unwrap(), tx: in_tx, mac: mac(in_id) },
        outside: Side { rx: out_rx.into_iter().next().unwrap(), tx: out_tx, mac: mac(out_id) },
        burst: MbufBurst::default(),
    };
    let (up_l2, down_l2) =
        (L2 { src: CLIENT_MAC, dst: d.inside.mac }, L2 { src: SERVER_MAC, dst: d.outside.mac });
    let up_l3 = L3 { src: CLIENT, dst: SERVER, ttl: 64 };
    let down_l3 = L3 { src: SERVER, dst: PUBLIC, ttl: 64 };

    let start = Instant::now();
    for first in (0..tunnels).step_by(batch) {
        let ids: Vec<usize> = (first..(first + batch).min(tunnels)).collect();
        let cport = |t: usize| 1024 + t as u16;
        let up = |t: usize, seq: u32, ack: u32, flags: u8, payload: &[u8]| {
            craft::tcp(up_l2, up_l3, cport(t), 1723, seq, ack, flags, payload)
        };
        let c = CLIENT_ISN;
        let s = SERVER_ISN;
        let syns: Vec<_> = ids.iter().map(|&t| up(t, c, 0, SYN, b"")).collect();
        let pports: Vec<u16> = d.step(true, &syns).iter().map(|f| tcp_of(f).2).collect();
        let down = |i: usize, seq: u32, ack: u32, flags: u8, payload: &[u8]| {
            craft::tcp(down_l2, down_l3, 1723, pports[i], seq, ack, flags, payload)
        };
        let synacks: Vec<_> = (0..ids.len()).map(|i| down(i, s, c + 1, SYN | ACK, b"")).collect();
        d.step(false, &synacks);
        let sccrq = craft::pptp(MsgType::Sccrq, 0, 0, 0);
        let acks: Vec<_> = ids.iter().map(|&t| up(t, c + 1, s + 1, ACK | PSH, &sccrq)).collect();
        d.step(true, &acks);
        let sccrp = craft::pptp(MsgType::Sccrp, 0, 0, 1);
        let replies: Vec<_> = (0..ids.len()).map(|i| down(i, s + 1, c + 157, ACK | PSH, &sccrp)).collect();
        d.step(false, &replies);
        let ocrqs: Vec<_> = ids
            .iter()
            .map(|&t| up(t, c + 157, s + 157, ACK | PSH, &craft::pptp(MsgType::Ocrq, 1 + t as u16, 1, 0)))
            .collect();
        // The translated Call IDs, by the connection's NAT port (the slow path may
        // interleave the batch's segments differently from the order they came in).
        let translated: std::collections::HashMap<u16, u16> = d
            .step(true, &ocrqs)
            .iter()
            .map(|f| {
                let (_, _, pport, _, payload) = tcp_of(f);
                (pport, be16(&payload, 12))
            })
            .collect();
        let ocrps: Vec<_> = ids
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                let peer = translated[&pports[i]];
                down(i, s + 157, c + 325, ACK | PSH, &craft::pptp(MsgType::Ocrp, 1 + t as u16, peer, 1))
            })
            .collect();
        d.step(false, &ocrps);
    }
    let elapsed = start.elapsed();
    let entries = wait_for_entries(&app, tunnels * 2);
    let settled = start.elapsed();
    let total = app.stop().expect("stop");
    println!(
        "pptp_setups: {tunnels} tunnels in batches of {batch}, each SYN to OCRP through the worker, the ALG ring and the slow path: {:.0} set-ups/s ({:.1} us each), {:.0}/s until all {entries} server-map entries were in the worker; dropped {}",
        tunnels as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / tunnels as f64,
        tunnels as f64 / settled.as_secs_f64(),
        total.total_drops()
    );
    assert_eq!(total.total_drops(), 0, "{total:?}");
}

fn wait_for_entries(app: &Appliance, want: usize) -> usize {
    let start = Instant::now();
    loop {
        let n = app.server_map(WAIT).expect("server map").len();
        if n >= want || start.elapsed() > WAIT {
            return n;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
