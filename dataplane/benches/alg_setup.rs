//! Tunnel set-ups per second the slow path sustains: OCRQ + OCRP pairs through
//! `SlowPath::handle_alg`, each installing two server-map entries (sent to a worker
//! inbox, as on the cores), and teardowns (CDN, then the control connection's end).
//!
//! The frames arrive as a worker hands them over (translated, addressed, with the ALG
//! metadata in front); only the slow path's work is timed, not the building of frames.
//! Usage: cargo bench -p dataplane --bench alg_setup [-- TUNNELS ROUNDS]
use crossbeam_queue::ArrayQueue;
use dataplane::alg::meta::AlgMeta;
use dataplane::alg::pptp::{AlgLimits, MsgType};
use dataplane::clock::Millis;
use dataplane::command::{Command, SlowCommand};
use dataplane::ifaces::PortId;
use dataplane::ifaces::{Interface, Interfaces};
use dataplane::neigh::NeighbourUpdate;
use dataplane::owner::OwnerMap;
use dataplane::route::RouteTable;
use dataplane::servermap::ServerMapChange;
use dataplane::session::Dir;
use dataplane::slowpath::{NeighbourLimits, SlowOutput, SlowPath};
use dataplane::stats::DropReason;
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wire::craft::{self, tcp_flags::*, L2, L3};
use wire::frame::{Frame, TestFrame};
use wire::FlowKey;
use wire::MacAddr;

const PUBLIC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);
const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
const MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);

/// The slow path's effects as on the cores: frames to a TX buffer (here, kept for the
/// bench to read), server-map changes into a worker's bounded inbox.
struct Out {
    inbox: Arc<ArrayQueue<Command>>,
    sent: Vec<TestFrame>,
    lost: u64,
}

impl SlowOutput<TestFrame> for Out {
    fn transmit(&mut self, _port: PortId, frame: TestFrame) {
        self.sent.push(frame);
    }
    fn discard(&mut self, _frame: TestFrame, reason: DropReason) {
        panic!("dropped: {}", reason.name());
    }
    fn notify(&mut self, _update: NeighbourUpdate) {}
    fn server_map(&mut self, _worker: u16, change: ServerMapChange) {
        if self.inbox.push(Command::ServerMap(change)).is_err() {
            self.lost += 1;
        }
    }
    fn alloc(&mut self) -> Option<TestFrame> {
        None
    }
    fn count_drop(&mut self, reason: DropReason) {
        panic!("dropped: {}", reason.name());
    }
}

fn client_of(t: usize) -> (Ipv4Addr, u16) {
    (Ipv4Addr::new(10, (t >> 16) as u8, (t >> 8) as u8, t as u8), 40_000 + (t % 20_000) as u16)
}

/// A control segment as the owning worker hands it over.
fn segment(t: usize, dir: Dir, seq: u32, payload: &[u8]) -> TestFrame {
    let (client, cport) = client_of(t);
    let l2 = L2 { src: MAC, dst: MAC };
    let bytes = match dir {
        Dir::Original => {
            craft::tcp(l2, L3 { src: PUBLIC, dst: SERVER, ttl: 63 }, 1024, 1723, seq, 1, ACK | PSH, payload)
        }
        Dir::Reply => {
            craft::tcp(l2, L3 { src: SERVER, dst: client, ttl: 63 }, 1723, cport, seq, 1, ACK | PSH, payload)
        }
    };
    let mut f = TestFrame::new(&bytes).expect("fits");
    let meta =
        AlgMeta { control: FlowKey::new(client, SERVER, cport, 1723, 6), public: PUBLIC, dir, out: Some(1) };
    assert!(meta.push(&mut f));
    f
}

fn slow_path(connections: usize) -> SlowPath<TestFrame> {
    let ifaces = Arc::new(Interfaces::new(vec![
        Interface {
            port: 0,
            name: "inside".into(),
            zone: "trust".into(),
            zone_id: 0,
            mac: MAC,
            addr: Ipv4Addr::new(10, 255, 255, 254),
            prefix_len: 8,
        },
        Interface {
            port: 1,
            name: "outside".into(),
            zone: "untrust".into(),
            zone_id: 1,
            mac: MAC,
            addr: PUBLIC,
            prefix_len: 24,
        },
    ]));
    let routes = Arc::new(RouteTable::new(&ifaces, &[]));
    let owners = Arc::new(OwnerMap::new(1, &[PUBLIC]));
    let mut slow = SlowPath::new(ifaces, routes, &[], NeighbourLimits::default());
    let limits = AlgLimits { connections, ..AlgLimits::default() };
    // A fixed seed: every run translates to the same Call IDs.
    slow.enable_pptp(dataplane::alg::pptp::PptpAlg::with_seed(owners, &[PUBLIC], limits, 1));
    slow
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let tunnels = args.first().copied().unwrap_or(20_000);
    let rounds = args.get(1).copied().unwrap_or(5);
    let mut slow = slow_path(tunnels);
    let inbox = Arc::new(ArrayQueue::new(4 * tunnels));
    let mut out = Out { inbox: inbox.clone(), sent: Vec::with_capacity(2), lost: 0 };
    let now = Millis(0);
    // Each connection starts (untimed) before its call: SCCRQ and SCCRP, 156 bytes each.
    let start: Vec<[TestFrame; 2]> = (0..tunnels)
        .map(|t| {
            [
                segment(t, Dir::Original, 1, &craft::pptp(MsgType::Sccrq, 0, 0, 0)),
                segment(t, Dir::Reply, 1, &craft::pptp(MsgType::Sccrp, 0, 0, 1)),
            ]
        })
        .collect();
    const CALL_SEQ: u32 = 1 + 156;
    let ocrqs: Vec<TestFrame> = (0..tunnels)
        .map(|t| {
            segment(t, Dir::Original, CALL_SEQ, &craft::pptp(MsgType::Ocrq, (t % 65_000) as u16 + 1, 1, 0))
        })
        .collect();
    println!("PPTP tunnel set-ups on the slow path: {tunnels} tunnels per round, each on its own control connection");
    let mut setup_rates = Vec::new();
    let mut teardown_rates = Vec::new();
    for round in 1..=rounds {
        let mut spent = Duration::ZERO;
        let mut xlat = Vec::with_capacity(tunnels);
        for pair in &start {
            for f in pair {
                slow.handle_alg(f.clone(), 0, now, &mut out);
                black_box(out.sent.pop().expect("SCCRQ/SCCRP sent on"));
            }
        }
        for (t, ocrq) in ocrqs.iter().enumerate() {
            let f = ocrq.clone();
            let start = Instant::now();
            slow.handle_alg(f, 0, now, &mut out);
            spent += start.elapsed();
            let sent = out.sent.pop().expect("OCRQ sent on");
            let d = sent.data();
            let x = u16::from_be_bytes([d[14 + 20 + 20 + 12], d[14 + 20 + 20 + 13]]);
            xlat.push(x);
            let ocrp = segment(
                t,
                Dir::Reply,
                CALL_SEQ,
                &craft::pptp(MsgType::Ocrp, 0x4000 + (t % 1000) as u16, x, 1),
            );
            let start = Instant::now();
            slow.handle_alg(ocrp, 0, now, &mut out);
            spent += start.elapsed();
            black_box(out.sent.pop().expect("OCRP sent on"));
        }
        let installed = inbox.len();
        while inbox.pop().is_some() {}
        let setups = tunnels as f64 / spent.as_secs_f64();
        setup_rates.push(setups);

        // Teardown: the server's CDN ends each call, then the connection closes.
        let mut spent = Duration::ZERO;
        for t in 0..tunnels {
            let cdn = segment(
                t,
                Dir::Reply,
                CALL_SEQ + 32,
                &craft::pptp(MsgType::Cdn, 0x4000 + (t % 1000) as u16, 0, 3),
            );
            let (client, cport) = client_of(t);
            let start = Instant::now();
            slow.handle_alg(cdn, 0, now, &mut out);
            slow.command(
                SlowCommand::ControlClosed(FlowKey::new(client, SERVER, cport, 1723, 6)),
                now,
                &mut out,
            );
            spent += start.elapsed();
            black_box(out.sent.pop());
        }
        let removed = inbox.len();
        while inbox.pop().is_some() {}
        let teardowns = tunnels as f64 / spent.as_secs_f64();
        teardown_rates.push(teardowns);
        let alg = slow.pptp().expect("ALG");
        assert_eq!((alg.connections(), alg.calls()), (0, 0), "all state gone after the round");
        assert_eq!(installed, 2 * tunnels, "two entries installed per tunnel");
        assert_eq!(removed, 2 * tunnels, "two entries removed per tunnel");
        println!(
            "round {round}: set-ups {:>9.0}/s ({:.2} us each)  teardowns {:>9.0}/s  entries installed {installed}, removed {removed}",
            setups,
            1e6 / setups,
            teardowns
        );
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "median: set-ups {:.0}/s, teardowns {:.0}/s, lost inbox messages {}",
        median(&mut setup_rates),
        median(&mut teardown_rates),
        out.lost
    );
}
