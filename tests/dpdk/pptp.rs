//! The PPTP ALG on a real EAL with two workers and the slow path on their own lcores:
//! control segments cross the ALG ring with their metadata in the mbuf headroom, the
//! slow path transmits them on its own TX queue, server-map entries reach the owning
//! workers' inboxes, and GRE opens its sessions through them. DESIGN.md's addresses.
use dataplane::alg::pptp::MsgType;
use dataplane::appliance::Appliance;
use dataplane::session::Kind;
use dpdk::{ring_port, Mempool, RingRx, RingTx};
use ferrowall_tests::{
    be16, collect_any, inject, port_spec, pptp_out_rules, start_eal, tcp_of, test_config, wait_for,
};
use std::net::Ipv4Addr;
use std::time::Duration;
use wire::craft::{self, tcp_flags::*, L2, L3};
use wire::{GrePacket, Ipv4Packet, MacAddr};

const WORKERS: usize = 2;
const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
const PUBLIC: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 2);
const SERVER: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 1);
const CLIENT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const SERVER_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x99]);
const AAAA: u16 = 0x1234;
const CCCC: u16 = 0x0080;
const WAIT: Duration = Duration::from_secs(3);

fn gre_of(f: &[u8]) -> (Ipv4Addr, Ipv4Addr, u16) {
    let ip = Ipv4Packet::new_checked(&f[14..]).unwrap();
    assert!(ip.verify_checksum());
    let g = GrePacket::new_checked(ip.payload()).unwrap();
    (ip.src_addr(), ip.dst_addr(), g.call_id().unwrap())
}

struct Wires {
    pool: Mempool,
    in_rx: Vec<RingTx>,
    in_tx: Vec<RingRx>,
    out_rx: Vec<RingTx>,
    out_tx: Vec<RingRx>,
    in_mac: MacAddr,
    out_mac: MacAddr,
}

impl Wires {
    /// Client -> server on RX queue `q`; what leaves outside (any TX queue).
    fn up(&mut self, q: usize, frame: impl Fn(L2, L3) -> Vec<u8>) -> Vec<u8> {
        let f = frame(L2 { src: CLIENT_MAC, dst: self.in_mac }, L3 { src: CLIENT, dst: SERVER, ttl: 64 });
        inject(&self.pool, &mut self.in_rx[q], &f);
        let mut got = collect_any(&mut self.out_tx, 1, WAIT);
        assert_eq!(got.len(), 1, "one frame out");
        got.remove(0)
    }

    /// Server -> public address on RX queue `q`; what reaches the client.
    fn down(&mut self, q: usize, frame: impl Fn(L2, L3) -> Vec<u8>) -> Vec<u8> {
        let f = frame(L2 { src: SERVER_MAC, dst: self.out_mac }, L3 { src: SERVER, dst: PUBLIC, ttl: 64 });
        inject(&self.pool, &mut self.out_rx[q], &f);
        let mut got = collect_any(&mut self.in_tx, 1, WAIT);
        assert_eq!(got.len(), 1, "one frame in");
        got.remove(0)
    }
}

/// Waits until the slow path shows `done`, then until the workers have applied what it
/// sent them on the way (server-map entries travel on to the workers' inboxes).
fn settle(app: &Appliance, what: &str, mut done: impl FnMut() -> bool) {
    wait_for(what, WAIT, &mut done);
    app.sync(WAIT).expect("the workers answer");
}

#[test]
fn pptp_tunnel_across_two_workers() {
    let eal = start_eal("fwtest-pptp", WORKERS + 1);
    let pool = Mempool::new("test_inject", 4095, 0, -1).unwrap();
    let (in_id, in_rx, in_tx) = ring_port("pptp_in", WORKERS as u16, WORKERS as u16 + 1, 1024).unwrap();
    let (out_id, out_rx, out_tx) = ring_port("pptp_out", WORKERS as u16, WORKERS as u16 + 1, 1024).unwrap();
    let mut cfg = test_config(
        WORKERS,
        vec![
            port_spec(in_id, "inside", "trust", [192, 168, 1, 254].into()),
            port_spec(out_id, "outside", "untrust", PUBLIC),
        ],
        pptp_out_rules(SERVER),
    );
    cfg.static_neighbours = vec![(SERVER, SERVER_MAC), (CLIENT, CLIENT_MAC)];
    cfg.events = Some((1024, true));
    let app = Appliance::start(&eal, &cfg).expect("appliance starts");
    let in_mac = app.interfaces().get(in_id).unwrap().mac;
    let out_mac = app.interfaces().get(out_id).unwrap().mac;
    let mut w = Wires { pool, in_rx, in_tx, out_rx, out_tx, in_mac, out_mac };

    // The control connection, its packets spread over both queues each way.
    let (cport, mut cseq, mut sseq) = (40000, 1000u32, 9000u32);
    let up = |seq: u32, ack: u32, flags: u8, payload: Vec<u8>| {
        move |l2, l3| craft::tcp(l2, l3, cport, 1723, seq, ack, flags, &payload)
    };
    let (s, d, pport, dport, _) = tcp_of(&w.up(0, up(cseq, 0, SYN, vec![])));
    assert_eq!((s, d, dport), (PUBLIC, SERVER, 1723));
    cseq += 1;
    let down = |seq: u32, ack: u32, flags: u8, payload: Vec<u8>| {
        move |l2, l3| craft::tcp(l2, l3, 1723, pport, seq, ack, flags, &payload)
    };
    tcp_of(&w.down(1, down(sseq, cseq, SYN | ACK, vec![])));
    sseq += 1;
    tcp_of(&w.up(1, up(cseq, sseq, ACK, vec![])));

    let sccrq = craft::pptp(MsgType::Sccrq, 0, 0, 0);
    assert_eq!(tcp_of(&w.up(0, up(cseq, sseq, ACK | PSH, sccrq.clone()))).4, sccrq);
    cseq += 156;
    tcp_of(&w.down(0, down(sseq, cseq, ACK | PSH, craft::pptp(MsgType::Sccrp, 0, 0, 1))));
    sseq += 156;

    // OCRQ: the Call ID is translated on the slow path.
    let out = tcp_of(&w.up(1, up(cseq, sseq, ACK | PSH, craft::pptp(MsgType::Ocrq, AAAA, 7, 0)))).4;
    cseq += 168;
    let bbbb = be16(&out, 12);
    assert_ne!(bbbb, AAAA);
    let ocrp = tcp_of(&w.down(1, down(sseq, cseq, ACK | PSH, craft::pptp(MsgType::Ocrp, CCCC, bbbb, 1))));
    sseq += 32;
    assert_eq!((ocrp.1, be16(&ocrp.4, 12), be16(&ocrp.4, 14)), (CLIENT, CCCC, AAAA));

    settle(&app, "two server-map entries", || app.server_map(WAIT).unwrap().len() == 2);
    let mut lines: Vec<String> = app
        .server_map(WAIT)
        .unwrap()
        .iter()
        .map(|v| ctrlplane::render::server_map_line(&v.entry, v.left_secs))
        .collect();
    lines.sort();
    let left = |l: &str| l.split("Left-Time: ").nth(1).unwrap()[..8].to_owned();
    assert!(lines.iter().all(|l| left(l).starts_with("00:09:5") || left(l) == "00:10:00"), "{lines:?}");
    assert_eq!(
        lines.iter().map(|l| l.replace(&left(l), "hh:mm:ss")).collect::<Vec<_>>(),
        [
            format!("Type: ASPF, 1.1.1.1:0 -> 1.1.1.2:{bbbb}[192.168.1.1:{AAAA}], Zone: --- Protocol: tcp(Appro: pptp-gre), Left-Time: hh:mm:ss VPN: public -> public"),
            format!("Type: ASPF, 192.168.1.1:0[1.1.1.2] -> 1.1.1.1:{CCCC}, Zone: --- Protocol: tcp(Appro: pptp-gre), Left-Time: hh:mm:ss VPN: public -> public"),
        ]
    );

    // GRE both ways, on both queues: the owners open the pptp-gre sessions.
    let gre_down = |l2, l3| craft::gre_v1(l2, l3, bbbb, 1, b"\xff\x03ppp");
    let gre_up = |l2, l3| craft::gre_v1(l2, l3, CCCC, 1, b"\xff\x03ppp");
    for q in 0..WORKERS {
        assert_eq!(gre_of(&w.down(q, gre_down)), (SERVER, CLIENT, AAAA));
        assert_eq!(gre_of(&w.up(q, gre_up)), (PUBLIC, SERVER, CCCC));
    }
    let mut sessions: Vec<String> =
        app.sessions(WAIT).unwrap().iter().map(ctrlplane::render::session_line).collect();
    sessions.sort();
    assert_eq!(
        sessions,
        [
            format!("pptp VPN:public --> public 192.168.1.1:{cport}[1.1.1.2:{pport}] +-> 1.1.1.1:1723"),
            format!("pptp-gre VPN:public --> public 1.1.1.1:0 --> 1.1.1.2:{bbbb}[192.168.1.1:{AAAA}]"),
            format!("pptp-gre VPN:public --> public 192.168.1.1:0[1.1.1.2:0] --> 1.1.1.1:{CCCC}"),
        ]
    );

    // The server resets the connection: the call, its entries and tunnel sessions go.
    tcp_of(&w.down(0, down(sseq, cseq, RST | ACK, vec![])));
    settle(&app, "the server map to empty", || app.server_map(WAIT).unwrap().is_empty());
    let status = app.alg_status(WAIT).unwrap();
    assert_eq!((status.connections, status.calls), (0, 0));
    let sessions = app.sessions(WAIT).unwrap();
    assert!(sessions.iter().all(|s| s.kind != Kind::PptpGre), "{sessions:?}");
    assert_eq!(status.counters.messages[0][7], 1, "one OCRQ read");

    let total = app.stop().expect("stop");
    assert_eq!(
        total.to_alg, 8,
        "every control segment went through the ALG: SYN, SYN-ACK, ACK, SCCRQ, SCCRP, OCRQ, OCRP, RST"
    );
    assert_eq!(total.total_drops(), 0, "{total:?}");
    assert_eq!(total.commands_lost, 0);
    assert_eq!(total.rx_packets, total.tx_packets);
}
