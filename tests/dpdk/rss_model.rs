//! RSS that agrees with ownership, without a NIC: a device model spreads every frame
//! over a ring port's RX queues exactly as an RSS NIC programmed with the port's plan
//! would (`rte_softrss` with its key over addresses and ports for TCP and UDP, over the
//! addresses alone for the rest, then its redirection table), and the established
//! traffic of NATed UDP and TCP flows and of a PPTP tunnel (control connection and GRE,
//! both ways) must reach its owner without crossing between workers: hand-offs at most 1%
//! of what the workers receive.
use dataplane::alg::pptp::MsgType;
use dataplane::appliance::Appliance;
use dataplane::policy::{Action, AddrSet, Rule};
use dataplane::ruleset::Ruleset;
use dataplane::sim;
use dpdk::{ring_port, softrss, Mbuf, Mempool, RingRx, RingTx, RssKey, RssPlan};
use ferrowall_tests::{be16, collect_any, port_spec, start_eal, test_config, wait_for};
use std::net::Ipv4Addr;
use std::time::Duration;
use wire::craft::{self, tcp_flags::*, L2, L3};
use wire::frame::Frame;
use wire::{IpProtocol, Ipv4Packet, MacAddr, TcpPacket, UdpPacket};

const PUBLIC: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 2);
const SERVER: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 1);
const CLIENT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const SERVER_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x99]);
const CLIENTS: u8 = 8;
const UDP_FLOWS: u16 = 32;
const TCP_FLOWS: u16 = 8;
const ROUNDS: usize = 10;
const WAIT: Duration = Duration::from_secs(3);

fn client(i: u16) -> Ipv4Addr {
    Ipv4Addr::new(192, 168, 1, 1 + (i % u16::from(CLIENTS)) as u8)
}

fn rules() -> Ruleset {
    sim::nat_lab_rules(true, |trust, untrust| {
        vec![Rule {
            name: "out".into(),
            from: trust,
            to: untrust,
            source: AddrSet::any(),
            destination: AddrSet::any(),
            protocol: None,
            ports: vec![],
            action: Action::Permit,
        }]
    })
}

/// The NIC: which RX queue a frame lands in.
struct Nic {
    key: RssKey,
    table: Vec<u16>,
}

impl Nic {
    fn of(plan: &RssPlan) -> Nic {
        Nic { key: RssKey(plan.key), table: plan.table.clone() }
    }

    /// The RX queue and the hash a NIC gives the frame.
    fn spread(&self, frame: &[u8]) -> (usize, u32) {
        let ip = Ipv4Packet::new_checked(&frame[14..]).unwrap();
        let (s, d) = (u32::from(ip.src_addr()), u32::from(ip.dst_addr()));
        let ports = match ip.next_header() {
            IpProtocol::Tcp if !ip.is_fragment() => {
                let t = TcpPacket::new_checked(ip.payload()).unwrap();
                Some((t.src_port(), t.dst_port()))
            }
            IpProtocol::Udp if !ip.is_fragment() => {
                let u = UdpPacket::new_checked(ip.payload()).unwrap();
                Some((u.src_port(), u.dst_port()))
            }
            _ => None,
        };
        let hash = match ports {
            Some((sp, dp)) => softrss(&mut [s, d, u32::from(sp) << 16 | u32::from(dp)], &self.key),
            None => softrss(&mut [s, d], &self.key),
        };
        (usize::from(self.table[hash as usize & (self.table.len() - 1)]), hash)
    }

    /// Puts the frame where the NIC would, with its hash in the mbuf as the NIC leaves it.
    fn receive(&self, pool: &Mempool, queues: &mut [RingTx], frame: &[u8]) {
        let (q, hash) = self.spread(frame);
        let mut m: Mbuf = pool.alloc().expect("test pool has room");
        assert!(m.write_all(frame));
        m.set_rss_hash(hash);
        assert_eq!(m.rss_hash(), Some(hash));
        assert!(queues[q].send(m).is_ok(), "RX ring full");
    }
}

struct Wires {
    pool: Mempool,
    in_rx: Vec<RingTx>,
    in_tx: Vec<RingRx>,
    out_rx: Vec<RingTx>,
    out_tx: Vec<RingRx>,
    in_mac: MacAddr,
    out_mac: MacAddr,
    inside: Nic,
    outside: Nic,
    injected: u64,
}

impl Wires {
    /// `client` -> server through the inside NIC; what leaves outside.
    fn up(&mut self, client: Ipv4Addr, frame: impl Fn(L2, L3) -> Vec<u8>) -> Vec<u8> {
        let f = frame(L2 { src: CLIENT_MAC, dst: self.in_mac }, L3 { src: client, dst: SERVER, ttl: 64 });
        self.inside.receive(&self.pool, &mut self.in_rx, &f);
        self.injected += 1;
        let mut got = collect_any(&mut self.out_tx, 1, WAIT);
        assert_eq!(got.len(), 1, "one frame out");
        got.remove(0)
    }

    /// Server -> public address through the outside NIC; what reaches the client.
    fn down(&mut self, frame: impl Fn(L2, L3) -> Vec<u8>) -> Vec<u8> {
        let f = frame(L2 { src: SERVER_MAC, dst: self.out_mac }, L3 { src: SERVER, dst: PUBLIC, ttl: 64 });
        self.outside.receive(&self.pool, &mut self.out_rx, &f);
        self.injected += 1;
        let mut got = collect_any(&mut self.in_tx, 1, WAIT);
        assert_eq!(got.len(), 1, "one frame in");
        got.remove(0)
    }
}

fn source_port(f: &[u8]) -> u16 {
    let ip = Ipv4Packet::new_checked(&f[14..]).unwrap();
    u16::from_be_bytes([ip.payload()[0], ip.payload()[1]])
}

/// A TCP connection through NAT: its numbers on both sides.
struct Tcp {
    client: Ipv4Addr,
    cport: u16,
    nat_port: u16,
    dport: u16,
    cseq: u32,
    sseq: u32,
}

impl Tcp {
    fn open(w: &mut Wires, client: Ipv4Addr, cport: u16, dport: u16) -> Tcp {
        let (cseq, sseq) = (1000u32, 9000u32);
        let syn = w.up(client, |l2, l3| craft::tcp(l2, l3, cport, dport, cseq, 0, SYN, b""));
        let mut c = Tcp { client, cport, nat_port: source_port(&syn), dport, cseq: cseq + 1, sseq };
        c.down(w, SYN | ACK, b"");
        c.sseq += 1;
        c.up(w, ACK, b"");
        c
    }

    fn up(&mut self, w: &mut Wires, flags: u8, payload: &[u8]) -> Vec<u8> {
        let (cport, dport, seq, ack) = (self.cport, self.dport, self.cseq, self.sseq);
        let out = w.up(self.client, |l2, l3| craft::tcp(l2, l3, cport, dport, seq, ack, flags, payload));
        self.cseq += payload.len() as u32;
        out
    }

    fn down(&mut self, w: &mut Wires, flags: u8, payload: &[u8]) -> Vec<u8> {
        let (dport, nat, seq, ack) = (self.dport, self.nat_port, self.sseq, self.cseq);
        let got = w.down(|l2, l3| craft::tcp(l2, l3, dport, nat, seq, ack, flags, payload));
        self.sseq += payload.len() as u32;
        got
    }
}

fn tcp_payload(f: &[u8]) -> Vec<u8> {
    let ip = Ipv4Packet::new_checked(&f[14..]).unwrap();
    TcpPacket::new_checked(ip.payload()).unwrap().payload().to_vec()
}

/// Runs the model with `workers` workers; returns (handed off, received) over the
/// established phase.
pub fn run(workers: usize) -> (u64, u64) {
    let eal = start_eal(&format!("fwtest-rss{workers}"), workers + 1);
    let pool = Mempool::new("test_inject", 4095, 0, -1).unwrap();
    let (in_id, in_rx, in_tx) = ring_port("rss_in", workers as u16, workers as u16 + 1, 1024).unwrap();
    let (out_id, out_rx, out_tx) = ring_port("rss_out", workers as u16, workers as u16 + 1, 1024).unwrap();
    let mut cfg = test_config(
        workers,
        vec![
            port_spec(in_id, "inside", "trust", [192, 168, 1, 254].into()),
            port_spec(out_id, "outside", "untrust", PUBLIC),
        ],
        rules(),
    );
    cfg.static_neighbours = (0..u16::from(CLIENTS)).map(|i| (client(i), CLIENT_MAC)).collect();
    cfg.static_neighbours.push((SERVER, SERVER_MAC));
    let app = Appliance::start(&eal, &cfg).expect("appliance starts");
    let plan = |id| app.ports().iter().find(|p| p.id() == id).and_then(|p| p.rss_plan()).expect("a plan");
    let (inside, outside) = (Nic::of(plan(in_id)), Nic::of(plan(out_id)));
    for p in app.ports() {
        println!("port {}: RSS {}", p.id(), p.rss());
    }
    let in_mac = app.interfaces().get(in_id).unwrap().mac;
    let out_mac = app.interfaces().get(out_id).unwrap().mac;
    let mut w = Wires { pool, in_rx, in_tx, out_rx, out_tx, in_mac, out_mac, inside, outside, injected: 0 };
    // Counters reach the control plane every 10 ms: wait until they show every frame.
    let counted = |app: &Appliance, n: u64| {
        wait_for("every frame counted", WAIT, || app.total_stats().rx_packets == n);
        app.total_stats()
    };

    // Set-up: UDP flows, TCP connections, a PPTP control connection with one call.
    let udp: Vec<(Ipv4Addr, u16, u16)> = (0..UDP_FLOWS)
        .map(|i| {
            let (c, sport) = (client(i), 20_000 + i);
            let out = w.up(c, |l2, l3| craft::udp(l2, l3, sport, 53, b"query"));
            (c, sport, source_port(&out))
        })
        .collect();
    let mut tcp: Vec<Tcp> = (0..TCP_FLOWS).map(|i| Tcp::open(&mut w, client(i), 30_000 + i, 443)).collect();
    let mut ctl = Tcp::open(&mut w, client(0), 40_000, 1723);
    ctl.up(&mut w, ACK | PSH, &craft::pptp(MsgType::Sccrq, 0, 0, 0));
    ctl.down(&mut w, ACK | PSH, &craft::pptp(MsgType::Sccrp, 0, 0, 1));
    let (aaaa, cccc) = (0x1234, 0x0080);
    let bbbb = be16(&tcp_payload(&ctl.up(&mut w, ACK | PSH, &craft::pptp(MsgType::Ocrq, aaaa, 7, 0))), 12);
    ctl.down(&mut w, ACK | PSH, &craft::pptp(MsgType::Ocrp, cccc, bbbb, 1));
    wait_for("two server-map entries", WAIT, || app.server_map(WAIT).unwrap().len() == 2);
    app.sync(WAIT).expect("the workers answer");
    let gre_down = |l2, l3| craft::gre_v1(l2, l3, bbbb, 1, b"\xff\x03ppp");
    let gre_up = |l2, l3| craft::gre_v1(l2, l3, cccc, 1, b"\xff\x03ppp");
    w.down(gre_down);
    w.up(client(0), gre_up);

    // Established: every flow both ways, the tunnel's GRE and control echoes.
    let before = counted(&app, w.injected);
    for _ in 0..ROUNDS {
        for &(c, sport, nat) in &udp {
            w.up(c, |l2, l3| craft::udp(l2, l3, sport, 53, b"again"));
            w.down(|l2, l3| craft::udp(l2, l3, 53, nat, b"answer"));
        }
        for t in &mut tcp {
            t.up(&mut w, ACK | PSH, b"data");
            t.down(&mut w, ACK | PSH, b"more data");
        }
        for _ in 0..4 {
            w.down(gre_down);
            w.up(client(0), gre_up);
        }
        ctl.up(&mut w, ACK | PSH, &craft::pptp(MsgType::EchoRq, 0, 0, 0));
        ctl.down(&mut w, ACK | PSH, &craft::pptp(MsgType::EchoRp, 0, 0, 1));
    }
    let after = counted(&app, w.injected);
    let handed = after.handoffs_out - before.handoffs_out;
    let received = after.rx_packets - before.rx_packets;
    let sent = (ROUNDS * (2 * usize::from(UDP_FLOWS + TCP_FLOWS) + 8 + 2)) as u64;
    assert_eq!(received, sent, "every frame was received once");
    assert_eq!(after.total_drops(), 0, "nothing dropped");
    app.stop().expect("stop");
    (handed, received)
}
