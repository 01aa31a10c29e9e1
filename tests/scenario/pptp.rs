//! The PPTP ALG in the whole appliance (workers, slow path, inboxes) without EAL: the
//! scenario of DESIGN.md with its addresses, checked field by field and line by line,
//! then the variations an operator meets.
use ctrlplane::render;
use dataplane::alg::pptp::MsgType;
use dataplane::policy::{Action, AddrSet, Rule};
use dataplane::ruleset::Ruleset;
use dataplane::session::Timeouts;
use dataplane::sim::{self, Sim, SimLimits};
use dataplane::stats::DropReason;
use ferrowall_tests::be16;
use std::net::Ipv4Addr;
use std::sync::Arc;
use wire::craft::{self, tcp_flags::*, L2, L3};
use wire::frame::{Frame, TestFrame};
use wire::FlowKey;
use wire::{GrePacket, Ipv4Packet, MacAddr, TcpPacket};

const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
const CLIENT2: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 2);
const PUBLIC: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 2);
const SERVER: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 1);
const IN_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xa0]);
const OUT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xb0]);
const CLIENT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const SERVER_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x99]);
const AAAA: u16 = 0x1234;
const CCCC: u16 = 0x0080;
const INSIDE: u16 = 0;
const OUTSIDE: u16 = 1;

#[derive(Clone, Copy)]
struct Setup {
    workers: u16,
    alg: bool,
    /// Only client -> server TCP 1723 allowed (DESIGN.md's refined policy).
    refined: bool,
}

const ONE: Setup = Setup { workers: 1, alg: true, refined: true };

fn lab(s: Setup) -> Sim {
    lab_with(s, SimLimits::default())
}

fn lab_with(s: Setup, limits: SimLimits) -> Sim {
    let (protocol, ports) = if s.refined { (Some(6), vec![(1723, 1723)]) } else { (None, vec![]) };
    let shared = sim::nat_lab(PUBLIC, (IN_MAC, OUT_MAC), s.workers, s.alg, |trust, untrust| {
        vec![Rule {
            name: "pptp-out".into(),
            from: trust,
            to: untrust,
            source: AddrSet(vec![([192, 168, 1, 0].into(), 24)]),
            destination: AddrSet(vec![(SERVER, 32)]),
            protocol,
            ports,
            action: Action::Permit,
        }]
    });
    let neighbours = [(CLIENT, CLIENT_MAC), (CLIENT2, CLIENT_MAC), (SERVER, SERVER_MAC)];
    Sim::new(shared, &neighbours, limits)
}

fn msg(kind: MsgType, id12: u16, id14: u16, result: u8) -> Vec<u8> {
    craft::pptp(kind, id12, id14, result)
}

/// The one frame the last step sent, if any.
fn sent_one(sim: &mut Sim) -> Option<(u16, TestFrame)> {
    let mut sent = sim.take_sent();
    assert!(sent.len() <= 1, "one frame in, at most one out: {sent:?}");
    sent.pop()
}

/// A frame's IPv4 addresses and, checked, its TCP ports and payload.
struct Seen {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
    payload: Vec<u8>,
}

fn tcp_seen(f: &TestFrame) -> Seen {
    let ip = Ipv4Packet::new_checked(&f.data()[14..]).unwrap();
    assert!(ip.verify_checksum(), "IPv4 checksum");
    let tcp = TcpPacket::new_checked(ip.payload()).unwrap();
    assert!(tcp.verify_checksum(ip.src_addr(), ip.dst_addr()), "TCP checksum after the ALG's rewrite");
    Seen {
        src: ip.src_addr(),
        dst: ip.dst_addr(),
        sport: tcp.src_port(),
        dport: tcp.dst_port(),
        payload: tcp.payload().to_vec(),
    }
}

fn gre_seen(f: &TestFrame) -> (Ipv4Addr, Ipv4Addr, u16) {
    let ip = Ipv4Packet::new_checked(&f.data()[14..]).unwrap();
    assert!(ip.verify_checksum(), "IPv4 checksum");
    let gre = GrePacket::new_checked(ip.payload()).unwrap();
    assert_eq!(&gre.into_inner()[12..], b"\xff\x03ppp", "GRE payload untouched");
    (ip.src_addr(), ip.dst_addr(), GrePacket::new_checked(ip.payload()).unwrap().call_id().unwrap())
}

/// One PPTP control connection, client side and server side.
struct Control {
    client: Ipv4Addr,
    port: u16,
    public_port: u16,
    seq: [u32; 2],
    rx_worker: u16,
}

impl Control {
    fn open(sim: &mut Sim, client: Ipv4Addr, port: u16) -> Control {
        let mut c = Control { client, port, public_port: 0, seq: [1000, 9000], rx_worker: 0 };
        let syn = c.send_to_server(sim, SYN, b"").expect("SYN forwarded");
        assert_eq!((syn.src, syn.dst, syn.dport), (PUBLIC, SERVER, 1723));
        c.public_port = syn.sport;
        c.seq[0] += 1;
        let syn_ack = c.send_to_client(sim, SYN | ACK, b"").expect("SYN-ACK forwarded");
        assert_eq!((syn_ack.dst, syn_ack.dport), (client, port));
        c.seq[1] += 1;
        c.send_to_server(sim, ACK, b"").expect("ACK forwarded");
        c
    }

    fn send_to_server(&mut self, sim: &mut Sim, flags: u8, payload: &[u8]) -> Option<Seen> {
        let l3 = L3 { src: self.client, dst: SERVER, ttl: 64 };
        let f = craft::tcp(
            L2 { src: CLIENT_MAC, dst: IN_MAC },
            l3,
            self.port,
            1723,
            self.seq[0],
            self.seq[1],
            flags,
            payload,
        );
        self.seq[0] += payload.len() as u32;
        sim.receive(INSIDE, self.rx_worker, &f);
        let (port, f) = sent_one(sim)?;
        assert_eq!(port, OUTSIDE);
        Some(tcp_seen(&f))
    }

    fn send_to_client(&mut self, sim: &mut Sim, flags: u8, payload: &[u8]) -> Option<Seen> {
        let l3 = L3 { src: SERVER, dst: PUBLIC, ttl: 64 };
        let f = craft::tcp(
            L2 { src: SERVER_MAC, dst: OUT_MAC },
            l3,
            1723,
            self.public_port,
            self.seq[1],
            self.seq[0],
            flags,
            payload,
        );
        self.seq[1] += payload.len() as u32;
        sim.receive(OUTSIDE, self.rx_worker, &f);
        let (port, f) = sent_one(sim)?;
        assert_eq!(port, INSIDE);
        Some(tcp_seen(&f))
    }

    /// A PNS -> PAC message: what the server receives.
    fn pns(&mut self, sim: &mut Sim, m: Vec<u8>) -> Vec<u8> {
        let seen = self.send_to_server(sim, ACK | PSH, &m).expect("control segment forwarded");
        assert_eq!(seen.payload.len(), m.len());
        seen.payload
    }

    /// A PAC -> PNS message: what the client receives.
    fn pac(&mut self, sim: &mut Sim, m: Vec<u8>) -> Vec<u8> {
        let seen = self.send_to_client(sim, ACK | PSH, &m).expect("control segment forwarded");
        assert_eq!(seen.dst, self.client);
        seen.payload
    }

    /// Start-Control-Connection both ways.
    fn start(&mut self, sim: &mut Sim) {
        self.pns(sim, msg(MsgType::Sccrq, 0, 0, 0));
        self.pac(sim, msg(MsgType::Sccrp, 0, 0, 1));
    }

    /// Start-Control-Connection both ways (first time), then an outgoing call: the
    /// translated Call ID the server saw.
    fn call(&mut self, sim: &mut Sim, own: u16, server_id: u16) -> u16 {
        if self.seq[0] == 1001 {
            self.start(sim);
        }
        let x = be16(&self.pns(sim, msg(MsgType::Ocrq, own, 7, 0)), 12);
        let ocrp = self.pac(sim, msg(MsgType::Ocrp, server_id, x, 1));
        assert_eq!((be16(&ocrp, 12), be16(&ocrp, 14)), (server_id, own), "OCRP's peer Call ID restored");
        x
    }
}

fn gre_from_server(sim: &mut Sim, key: u16, rx_worker: u16) -> Option<(Ipv4Addr, Ipv4Addr, u16)> {
    let l3 = L3 { src: SERVER, dst: PUBLIC, ttl: 64 };
    let f = craft::gre_v1(L2 { src: SERVER_MAC, dst: OUT_MAC }, l3, key, 1, b"\xff\x03ppp");
    sim.receive(OUTSIDE, rx_worker, &f);
    sent_one(sim).map(|(port, f)| {
        assert_eq!(port, INSIDE);
        gre_seen(&f)
    })
}

fn gre_from_client(
    sim: &mut Sim,
    client: Ipv4Addr,
    key: u16,
    rx_worker: u16,
) -> Option<(Ipv4Addr, Ipv4Addr, u16)> {
    let l3 = L3 { src: client, dst: SERVER, ttl: 64 };
    let f = craft::gre_v1(L2 { src: CLIENT_MAC, dst: IN_MAC }, l3, key, 1, b"\xff\x03ppp");
    sim.receive(INSIDE, rx_worker, &f);
    sent_one(sim).map(|(port, f)| {
        assert_eq!(port, OUTSIDE);
        gre_seen(&f)
    })
}

fn session_lines(sim: &Sim) -> Vec<String> {
    let mut v: Vec<String> = sim.sessions().iter().map(render::session_line).collect();
    v.sort();
    v
}

fn server_map_lines(sim: &Sim) -> Vec<String> {
    sim.server_map().iter().map(|e| render::server_map_line(&e.entry, e.left_secs)).collect()
}

/// Nothing of the ALG left anywhere: no call, no entry, no tunnel session.
fn assert_clean(sim: &Sim) {
    let alg = sim.slow.pptp().unwrap();
    assert_eq!(alg.calls(), 0, "calls left");
    assert!(sim.server_map().is_empty(), "server map left: {:?}", server_map_lines(sim));
    assert_eq!(sim.installed_entries(), 0, "entries left in workers");
    assert!(!session_lines(sim).iter().any(|l| l.starts_with("pptp-gre")), "{:?}", session_lines(sim));
    assert_eq!(alg.call_ids_in_use(PUBLIC), 0, "translated Call IDs not given back");
}

#[test]
fn the_design_scenario_step_by_step() {
    let mut sim = lab(ONE);
    // 1. The handshake creates the control session.
    let mut c = Control::open(&mut sim, CLIENT, 40000);
    let y = c.public_port;
    assert_eq!(
        session_lines(&sim),
        [format!("pptp VPN:public --> public 192.168.1.1:40000[1.1.1.2:{y}] +-> 1.1.1.1:1723")]
    );
    let sccrq = msg(MsgType::Sccrq, 0, 0, 0);
    assert_eq!(c.pns(&mut sim, sccrq.clone()), sccrq, "SCCRQ passes unchanged");
    c.pac(&mut sim, msg(MsgType::Sccrp, 0, 0, 1));
    assert!(sim.server_map().is_empty());

    // 2. OCRQ: aaaa becomes bbbb, and server map 1 appears.
    let ocrq = msg(MsgType::Ocrq, AAAA, 7, 0);
    let out = c.pns(&mut sim, ocrq.clone());
    let bbbb = be16(&out, 12);
    assert_ne!(bbbb, AAAA);
    assert!(sim.workers[0].ports().in_use(PUBLIC, 47) == 0, "Call IDs come from the ALG's own allocator");
    assert_eq!(out[..12], ocrq[..12]);
    assert_eq!(out[14..], ocrq[14..], "only the Call ID changes");
    assert_eq!(
        server_map_lines(&sim),
        [format!("Type: ASPF, 1.1.1.1:0 -> 1.1.1.2:{bbbb}[192.168.1.1:{AAAA}], Zone: --- Protocol: tcp(Appro: pptp-gre), Left-Time: 00:10:00 VPN: public -> public")]
    );

    // 3. OCRP: the peer Call ID bbbb goes back to aaaa; server map 2 appears.
    sim.advance_secs(5);
    let ocrp = c.pac(&mut sim, msg(MsgType::Ocrp, CCCC, bbbb, 1));
    assert_eq!((be16(&ocrp, 12), be16(&ocrp, 14)), (CCCC, AAAA));
    let mut lines = server_map_lines(&sim);
    lines.sort();
    let mut want = vec![
        format!("Type: ASPF, 1.1.1.1:0 -> 1.1.1.2:{bbbb}[192.168.1.1:{AAAA}], Zone: --- Protocol: tcp(Appro: pptp-gre), Left-Time: 00:10:00 VPN: public -> public"),
        format!("Type: ASPF, 192.168.1.1:0[1.1.1.2] -> 1.1.1.1:{CCCC}, Zone: --- Protocol: tcp(Appro: pptp-gre), Left-Time: 00:10:00 VPN: public -> public"),
    ];
    want.sort();
    assert_eq!(lines, want);
    assert_eq!(sim.installed_entries(), 2);

    // 4. Data: two pptp-gre sessions, neither allowed by the (refined) policy.
    assert_eq!(gre_from_server(&mut sim, bbbb, 0), Some((SERVER, CLIENT, AAAA)));
    assert_eq!(gre_from_client(&mut sim, CLIENT, CCCC, 0), Some((PUBLIC, SERVER, CCCC)));
    assert_eq!(
        gre_from_server(&mut sim, bbbb, 0),
        Some((SERVER, CLIENT, AAAA)),
        "the session carries the rest"
    );
    let mut want = vec![
        format!("pptp VPN:public --> public 192.168.1.1:40000[1.1.1.2:{y}] +-> 1.1.1.1:1723"),
        format!("pptp-gre VPN:public --> public 1.1.1.1:0 --> 1.1.1.2:{bbbb}[192.168.1.1:{AAAA}]"),
        format!("pptp-gre VPN:public --> public 192.168.1.1:0[1.1.1.2:0] --> 1.1.1.1:{CCCC}"),
    ];
    want.sort();
    assert_eq!(session_lines(&sim), want);
    assert_eq!(sim.wire.stats.total_drops(), 0, "{:?}", sim.wire.stats);

    // Left-Time counts down while the connection is silent, and control traffic renews it.
    sim.advance_secs(189);
    assert!(server_map_lines(&sim)[0].contains("Left-Time: 00:06:51"));
    c.pns(&mut sim, msg(MsgType::EchoRq, 0, 0, 0));
    assert!(server_map_lines(&sim)[0].contains("Left-Time: 00:10:00"));

    // Teardown by CCRQ and CDN.
    let ccrq = c.pns(&mut sim, msg(MsgType::Ccrq, AAAA, 0, 0));
    assert_eq!(be16(&ccrq, 12), bbbb, "CCRQ names the translated call");
    let cdn = c.pac(&mut sim, msg(MsgType::Cdn, CCCC, 0, 3));
    assert_eq!(be16(&cdn, 12), CCCC, "CDN carries the PAC's own Call ID, untouched");
    assert_clean(&sim);
    assert_eq!(gre_from_server(&mut sim, bbbb, 0), None);
    assert_eq!(sim.drops(DropReason::GreNoSession), 1, "GRE after the call is dropped");
}

#[test]
fn gre_before_its_entry_and_unknown_gre_are_dropped() {
    let mut sim = lab(ONE);
    assert_eq!(gre_from_server(&mut sim, 0x4444, 0), None);
    assert_eq!(sim.drops(DropReason::GreNoSession), 1);
    let mut c = Control::open(&mut sim, CLIENT, 40000);
    c.pns(&mut sim, msg(MsgType::Sccrq, 0, 0, 0));
    c.pac(&mut sim, msg(MsgType::Sccrp, 0, 0, 1));
    let x = be16(&c.pns(&mut sim, msg(MsgType::Ocrq, AAAA, 7, 0)), 12);
    // Before the OCRP, the client's GRE has no entry, and the refined policy denies it.
    assert_eq!(gre_from_client(&mut sim, CLIENT, CCCC, 0), None);
    assert_eq!(sim.drops(DropReason::PolicyDeny), 1);
    c.pac(&mut sim, msg(MsgType::Ocrp, CCCC, x, 1));
    assert!(gre_from_client(&mut sim, CLIENT, CCCC, 0).is_some());
    // A key nobody announced.
    assert_eq!(gre_from_server(&mut sim, x.wrapping_add(1), 0), None);
    assert_eq!(sim.drops(DropReason::GreNoSession), 2);
}

#[test]
fn two_clients_with_the_same_call_id() {
    let mut sim = lab(ONE);
    let mut a = Control::open(&mut sim, CLIENT, 40000);
    let mut b = Control::open(&mut sim, CLIENT2, 40000);
    let xa = a.call(&mut sim, AAAA, 0x0100);
    let xb = b.call(&mut sim, AAAA, 0x0200);
    assert_ne!(xa, xb, "distinct translated Call IDs on the one public address");
    assert_eq!(gre_from_server(&mut sim, xa, 0), Some((SERVER, CLIENT, AAAA)));
    assert_eq!(gre_from_server(&mut sim, xb, 0), Some((SERVER, CLIENT2, AAAA)));
    assert_eq!(gre_from_client(&mut sim, CLIENT, 0x0100, 0), Some((PUBLIC, SERVER, 0x0100)));
    assert_eq!(gre_from_client(&mut sim, CLIENT2, 0x0200, 0), Some((PUBLIC, SERVER, 0x0200)));
    assert_eq!(sim.sessions().len(), 6);
    assert_eq!(sim.wire.stats.total_drops(), 0);
}

#[test]
fn two_calls_on_one_control_connection() {
    let mut sim = lab(ONE);
    let mut c = Control::open(&mut sim, CLIENT, 40000);
    let x1 = c.call(&mut sim, 1, 0x0100);
    let x2 = c.call(&mut sim, 2, 0x0200);
    assert_ne!(x1, x2);
    assert_eq!(sim.server_map().len(), 4);
    assert_eq!(gre_from_server(&mut sim, x1, 0), Some((SERVER, CLIENT, 1)));
    assert_eq!(gre_from_server(&mut sim, x2, 0), Some((SERVER, CLIENT, 2)));
    assert_eq!(gre_from_client(&mut sim, CLIENT, 0x0200, 0), Some((PUBLIC, SERVER, 0x0200)));
    // The server ends the first call; the second goes on.
    c.pac(&mut sim, msg(MsgType::Cdn, 0x0100, 0, 3));
    assert_eq!(sim.server_map().len(), 2);
    assert_eq!(gre_from_server(&mut sim, x1, 0), None);
    assert_eq!(gre_from_server(&mut sim, x2, 0), Some((SERVER, CLIENT, 2)));
}

#[test]
fn an_incoming_call() {
    let mut sim = lab(ONE);
    let mut c = Control::open(&mut sim, CLIENT, 40000);
    c.pns(&mut sim, msg(MsgType::Sccrq, 0, 0, 0));
    c.pac(&mut sim, msg(MsgType::Sccrp, 0, 0, 1));
    // The PAC announces a call with its own ID; the PNS answers with its own.
    let icrq = c.pac(&mut sim, msg(MsgType::Icrq, CCCC, 1, 0));
    assert_eq!(be16(&icrq, 12), CCCC);
    let icrp = c.pns(&mut sim, msg(MsgType::Icrp, AAAA, CCCC, 1));
    let x = be16(&icrp, 12);
    assert_ne!(x, AAAA);
    assert_eq!(be16(&icrp, 14), CCCC, "the PAC's ID passes");
    let iccn = c.pac(&mut sim, msg(MsgType::Iccn, x, 0, 0));
    assert_eq!(be16(&iccn, 12), AAAA, "ICCN's peer Call ID restored");
    assert_eq!(sim.server_map().len(), 2);
    assert_eq!(gre_from_server(&mut sim, x, 0), Some((SERVER, CLIENT, AAAA)));
    assert_eq!(gre_from_client(&mut sim, CLIENT, CCCC, 0), Some((PUBLIC, SERVER, CCCC)));
    // SLI from the PNS names the PAC's call; WEN from the PAC names ours.
    assert_eq!(be16(&c.pns(&mut sim, msg(MsgType::Sli, CCCC, 0, 0)), 12), CCCC);
    assert_eq!(be16(&c.pac(&mut sim, msg(MsgType::Wen, x, 0, 0)), 12), AAAA);
    c.pns(&mut sim, msg(MsgType::StopCcrq, 0, 0, 0));
    assert_clean(&sim);
}

fn one_tunnel(sim: &mut Sim) -> (Control, u16) {
    let mut c = Control::open(sim, CLIENT, 40000);
    let x = c.call(sim, AAAA, CCCC);
    assert!(gre_from_server(sim, x, 0).is_some());
    assert!(gre_from_client(sim, CLIENT, CCCC, 0).is_some());
    (c, x)
}

#[test]
fn a_ccrq_the_server_never_answers_ends_the_call_after_10_s() {
    let mut sim = lab(ONE);
    let (mut c, x) = one_tunnel(&mut sim);
    c.pns(&mut sim, msg(MsgType::Ccrq, AAAA, 0, 0));
    sim.advance_secs(9);
    assert_eq!(sim.server_map().len(), 2, "waiting for the PAC's CDN");
    assert!(gre_from_server(&mut sim, x, 0).is_some());
    sim.advance_secs(1);
    assert_clean(&sim);
    assert_eq!(sim.slow.pptp().unwrap().connections(), 1, "the control connection stays");
}

#[test]
fn a_cdn_from_the_client_ends_its_call() {
    let mut sim = lab(ONE);
    let (mut c, x) = one_tunnel(&mut sim);
    let cdn = c.pns(&mut sim, msg(MsgType::Cdn, AAAA, 0, 3));
    assert_eq!(be16(&cdn, 12), x, "the server hears of the translated call");
    assert_clean(&sim);
}

#[test]
fn teardown_by_fin() {
    let mut sim = lab(ONE);
    let (mut c, _) = one_tunnel(&mut sim);
    c.send_to_server(&mut sim, FIN | ACK, b"");
    assert_eq!(sim.server_map().len(), 2, "one FIN half-closes");
    c.send_to_client(&mut sim, FIN | ACK, b"");
    assert_clean(&sim);
    assert_eq!(sim.slow.pptp().unwrap().connections(), 0);
}

#[test]
fn teardown_by_rst() {
    let mut sim = lab(ONE);
    let (mut c, _) = one_tunnel(&mut sim);
    c.send_to_client(&mut sim, RST | ACK, b"");
    assert_clean(&sim);
    assert_eq!(sim.slow.pptp().unwrap().connections(), 0);
}

#[test]
fn teardown_by_aging() {
    let mut sim = lab(ONE);
    let (_c, x) = one_tunnel(&mut sim);
    sim.advance_secs(599);
    assert_eq!(sim.server_map().len(), 2);
    assert!(gre_from_server(&mut sim, x, 0).is_some(), "GRE alone does not keep the control state");
    sim.advance_secs(1);
    assert_clean(&sim);
    assert_eq!(sim.slow.pptp().unwrap().connections(), 0);
}

#[test]
fn teardown_when_the_control_session_expires() {
    let mut sim = lab(ONE);
    let (mut c, _) = one_tunnel(&mut sim);
    // Echoes keep the ALG's state alive; the TCP session's own timeout is shorter here.
    let t = Timeouts { tcp: 100, ..Timeouts::default() };
    for p in &mut sim.workers {
        let rules = Ruleset { timeouts: t, ..Ruleset::clone(p.rules()) };
        p.set_rules(Arc::new(rules));
    }
    c.pns(&mut sim, msg(MsgType::EchoRq, 0, 0, 0));
    sim.advance_secs(101);
    assert_clean(&sim);
    assert_eq!(sim.slow.pptp().unwrap().connections(), 0);
}

#[test]
fn with_the_alg_off_pptp_breaks_as_under_plain_napt() {
    let mut sim = lab(Setup { alg: false, ..ONE });
    let mut c = Control::open(&mut sim, CLIENT, 40000);
    assert!(session_lines(&sim)[0].starts_with("tcp "));
    let out = c.pns(&mut sim, msg(MsgType::Ocrq, AAAA, 7, 0));
    assert_eq!(be16(&out, 12), AAAA, "Call ID untranslated");
    c.pac(&mut sim, msg(MsgType::Ocrp, CCCC, AAAA, 1));
    assert!(sim.server_map().is_empty());
    assert_eq!(gre_from_server(&mut sim, AAAA, 0), None);
    assert_eq!(sim.drops(DropReason::GreNoSession), 1);
    assert_eq!(sim.wire.stats.to_alg, 0);
}

#[test]
fn a_malformed_message_is_dropped_and_creates_nothing() {
    let mut sim = lab(ONE);
    let mut c = Control::open(&mut sim, CLIENT, 40000);
    let mut bad = msg(MsgType::Ocrq, AAAA, 7, 0);
    bad[4] ^= 0xff;
    assert!(c.send_to_server(&mut sim, ACK | PSH, &bad).is_none());
    assert_eq!(sim.drops(DropReason::PptpBadCookie), 1);
    let mut short = msg(MsgType::Ocrp, 1, 2, 1);
    short[1] = 30;
    assert!(c.send_to_client(&mut sim, ACK | PSH, &short).is_none());
    assert_eq!(sim.drops(DropReason::PptpBadLength), 1);
    assert_clean(&sim);
}

#[test]
fn a_message_split_across_segments_is_translated() {
    let mut sim = lab(ONE);
    let mut c = Control::open(&mut sim, CLIENT, 40000);
    c.start(&mut sim);
    let ocrq = msg(MsgType::Ocrq, AAAA, 7, 0);
    let first = c.send_to_server(&mut sim, ACK, &ocrq[..10]).unwrap().payload;
    assert_eq!(first, ocrq[..10]);
    let rest = c.send_to_server(&mut sim, ACK | PSH, &ocrq[10..]).unwrap().payload;
    let x = be16(&rest, 2);
    assert_ne!(x, AAAA);
    assert_eq!(rest[4..], ocrq[14..]);
    assert_eq!(sim.server_map().len(), 1);
    // Two messages in one segment.
    let mut both = msg(MsgType::EchoRq, 0, 0, 0);
    both.extend(msg(MsgType::Ocrp, CCCC, x, 1));
    let out = c.send_to_client(&mut sim, ACK | PSH, &both).unwrap().payload;
    assert_eq!(be16(&out, 16 + 14), AAAA);
    assert_eq!(sim.server_map().len(), 2);
    // A split that puts the Call ID at an odd offset: the checksum update must swap.
    let ocrq = msg(MsgType::Ocrq, 0x00ff, 8, 0);
    c.send_to_server(&mut sim, ACK, &ocrq[..11]).unwrap();
    let rest = c.send_to_server(&mut sim, ACK | PSH, &ocrq[11..]).unwrap().payload;
    assert_ne!(be16(&rest, 1), 0x00ff);
    assert_eq!(sim.server_map().len(), 3);
}

/// Two workers: the control connection and the server's GRE belong to the worker whose
/// Call ID slice holds the translated ID; the client's GRE to the hash of its tuple.
#[test]
fn two_workers_own_the_tunnel_sessions_apart() {
    let mut sim = lab(Setup { workers: 2, ..ONE });
    let by_addrs =
        |src: Ipv4Addr, dst: Ipv4Addr, sim: &Sim| sim.workers[0].owners().by_addrs(src.into(), dst.into());
    let owner_of = |k: FlowKey, sim: &Sim| sim.workers[0].owners().owner(&k, false);
    // The NIC hashes GRE by its addresses: the server's GRE to the public address goes
    // to one worker, and a client's to the server, for one of these clients, to the other.
    let inbound = by_addrs(SERVER, PUBLIC, &sim);
    let client = [CLIENT, CLIENT2].into_iter().find(|&c| by_addrs(c, SERVER, &sim) != inbound).unwrap();
    let mut c = Control::open(&mut sim, client, 40000);
    // The control connection arrives on queue 1 here: hand-offs do the rest.
    c.rx_worker = 1;
    let server_id = 0x4242;
    let x = c.call(&mut sim, AAAA, server_id);
    assert_eq!(
        owner_of(FlowKey::new(SERVER, PUBLIC, 0, x, 47), &sim),
        inbound,
        "the Call ID steers to the NIC's queue"
    );
    assert_eq!(gre_from_server(&mut sim, x, inbound), Some((SERVER, client, AAAA)));
    let outbound = by_addrs(client, SERVER, &sim);
    assert_eq!(gre_from_client(&mut sim, client, server_id, outbound), Some((PUBLIC, SERVER, server_id)));
    let handoffs = sim.wire.stats.handoffs_out;
    assert_eq!(gre_from_server(&mut sim, x, inbound), Some((SERVER, client, AAAA)));
    assert_eq!(gre_from_client(&mut sim, client, server_id, outbound), Some((PUBLIC, SERVER, server_id)));
    assert_eq!(sim.wire.stats.handoffs_out, handoffs, "GRE that arrives where the NIC puts it stays there");
    assert_eq!(gre_from_client(&mut sim, client, server_id, inbound), Some((PUBLIC, SERVER, server_id)));
    assert_eq!(sim.wire.stats.handoffs_out, handoffs + 1, "and GRE on the wrong queue is handed off");
    let gre: Vec<_> =
        sim.sessions().into_iter().filter(|s| s.kind == dataplane::session::Kind::PptpGre).collect();
    assert_eq!(gre.len(), 2);
    assert_ne!(gre[0].worker, gre[1].worker, "the tunnel's two sessions live on different workers");
    assert_eq!(sim.wire.stats.total_drops(), 0);
    c.send_to_client(&mut sim, RST, b"");
    assert_clean(&sim);
}

#[test]
fn many_call_ids_rewritten_in_one_segment_keep_the_checksum_right() {
    let mut sim = lab(ONE);
    let mut c = Control::open(&mut sim, CLIENT, 40000);
    c.start(&mut sim);
    let xlat: Vec<u16> =
        (0..12u16).map(|i| be16(&c.pns(&mut sim, msg(MsgType::Ocrq, 100 + i, 7, 0)), 12)).collect();
    // Twelve Call-Clear-Requests in one segment: twelve Call IDs change in it (pns
    // checks the TCP checksum of what leaves).
    let burst: Vec<u8> = (0..12u16).flat_map(|i| msg(MsgType::Ccrq, 100 + i, 0, 0)).collect();
    let out = c.pns(&mut sim, burst);
    let seen: Vec<u16> = (0..12).map(|i| be16(&out, i * 16 + 12)).collect();
    assert_eq!(seen, xlat);
}

#[test]
fn retransmitted_control_segments_are_rewritten_alike() {
    let mut sim = lab(ONE);
    let mut c = Control::open(&mut sim, CLIENT, 40000);
    c.start(&mut sim);
    let ocrq = msg(MsgType::Ocrq, AAAA, 7, 0);
    let first = c.pns(&mut sim, ocrq.clone());
    c.seq[0] -= ocrq.len() as u32;
    let again = c.pns(&mut sim, ocrq);
    assert_eq!(first, again);
    assert_eq!(sim.server_map().len(), 1);
    assert_eq!(sim.slow.pptp().unwrap().calls(), 1);
}

#[test]
fn resetting_the_control_session_clears_the_alg() {
    let mut sim = lab(ONE);
    let _ = one_tunnel(&mut sim);
    let f = dataplane::session::SessionFilter {
        protocol: Some(dataplane::session::Kind::Pptp),
        ..Default::default()
    };
    let removed: usize = sim.workers.iter_mut().map(|p| p.reset(&f, 0, 1024).removed).sum();
    assert_eq!(removed, 1);
    sim.advance_ms(0);
    assert_clean(&sim);
    assert_eq!(sim.slow.pptp().unwrap().connections(), 0);
    assert_eq!(sim.workers[0].sessions().live_by_kind().iter().sum::<u32>(), 0);
}

#[test]
fn the_event_log_tells_calls_and_sessions() {
    let mut sim = lab(ONE);
    let log = sim.enable_events(true);
    let (mut c, x) = one_tunnel(&mut sim);
    c.send_to_client(&mut sim, RST | ACK, b"");
    let lines: Vec<String> = std::iter::from_fn(|| log.pop()).map(|e| render::event(&e)).collect();
    let y = c.public_port;
    let want = [
        format!("session opened: pptp 192.168.1.1:40000[1.1.1.2:{y}] --> 1.1.1.1:1723 (worker 0)"),
        format!("pptp call up: 192.168.1.1[1.1.1.2] --> 1.1.1.1, client Call ID {AAAA} as {x}, server Call ID {CCCC}"),
        format!("session opened: pptp-gre 1.1.1.1:0 --> 1.1.1.2:{x}[192.168.1.1:{AAAA}] (worker 0)"),
        format!("session opened: pptp-gre 192.168.1.1:0[1.1.1.2:0] --> 1.1.1.1:{CCCC} (worker 0)"),
        format!("pptp call down: 192.168.1.1[1.1.1.2] --> 1.1.1.1, client Call ID {AAAA} as {x}"),
    ];
    for w in &want {
        assert!(lines.contains(w), "missing {w:?} in {lines:#?}");
    }
    assert_eq!(lines.iter().filter(|l| l.starts_with("session closed: pptp-gre")).count(), 2, "{lines:#?}");
    assert_eq!(log.lost(), 0);
}

mod robustness {
    //! Damaged control streams and stray GRE through the whole appliance: nothing may
    //! panic, every frame is either sent on or counted as dropped, and once every timeout
    //! has passed no state is left.
    use super::*;
    use proptest::prelude::*;

    /// The ALG's seed in these runs: its first translated Call ID is then known (from an
    /// undamaged run), so the server's replies name it and the call really connects.
    const SEED: u64 = 2637;

    fn seeded(workers: u16) -> Sim {
        let mut sim = lab(Setup { workers, ..ONE });
        let owners = Arc::new(dataplane::owner::OwnerMap::new(workers, &[PUBLIC]));
        sim.slow.enable_pptp(dataplane::alg::pptp::PptpAlg::with_seed(
            owners,
            &[PUBLIC],
            Default::default(),
            SEED,
        ));
        sim
    }

    /// The translated Call ID of the conversation's call, undamaged.
    fn translated(workers: u16) -> u16 {
        let mut sim = seeded(workers);
        let mut c = Control::open(&mut sim, CLIENT, 40000);
        c.start(&mut sim);
        be16(&c.pns(&mut sim, msg(MsgType::Ocrq, AAAA, 7, 0)), 12)
    }

    /// A plausible conversation: handshake messages, a call (the server naming the
    /// client's translated Call ID `x`), its data, its end.
    fn conversation(x: u16) -> Vec<(bool, Vec<u8>)> {
        vec![
            (true, msg(MsgType::Sccrq, 0, 0, 0)),
            (false, msg(MsgType::Sccrp, 0, 0, 1)),
            (true, msg(MsgType::Ocrq, AAAA, 7, 0)),
            (false, msg(MsgType::Ocrp, CCCC, x, 1)),
            (true, msg(MsgType::Sli, CCCC, 0, 0)),
            (false, msg(MsgType::Icrq, 0x0101, 1, 0)),
            (true, msg(MsgType::Icrp, 0x2222, 0x0101, 1)),
            (false, msg(MsgType::Iccn, x, 0, 0)),
            (true, msg(MsgType::Ccrq, AAAA, 0, 0)),
            (false, msg(MsgType::Cdn, CCCC, 0, 3)),
            (true, msg(MsgType::StopCcrq, 0, 0, 0)),
        ]
    }

    /// The property below is only worth something if its undamaged conversation sets a
    /// call up for real: it does, with both server-map entries.
    #[test]
    fn the_undamaged_conversation_connects_its_call() {
        for workers in [1, 2] {
            let x = translated(workers);
            let mut sim = seeded(workers);
            let mut c = Control::open(&mut sim, CLIENT, 40000);
            for (up, m) in conversation(x).into_iter().take(4) {
                if up {
                    c.pns(&mut sim, m);
                } else {
                    c.pac(&mut sim, m);
                }
            }
            assert_eq!(sim.server_map().len(), 2, "{workers} worker(s)");
            assert_eq!(gre_from_server(&mut sim, x, 0).map(|g| g.1), Some(CLIENT));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn damaged_streams_never_panic_and_leave_nothing(
            flips in proptest::collection::vec((0usize..2000, any::<u8>()), 0..12),
            cuts in proptest::collection::vec(1usize..200, 0..6),
            gre_keys in proptest::collection::vec(any::<u16>(), 0..8),
            workers in 1u16..3,
        ) {
            let x = translated(workers);
            let mut sim = seeded(workers);
            let mut c = Control::open(&mut sim, CLIENT, 40000);
            // The conversation as one byte stream per direction, damaged, cut anywhere.
            let mut stream: Vec<(bool, u8)> = conversation(x)
                .into_iter()
                .flat_map(|(up, m)| m.into_iter().map(move |b| (up, b)))
                .collect();
            let len = stream.len().max(1);
            for (at, v) in &flips {
                if let Some(b) = stream.get_mut(*at % len) {
                    b.1 ^= v | 1;
                }
            }
            let mut cut_points: Vec<usize> = cuts.iter().map(|c| c % stream.len().max(1)).collect();
            cut_points.sort();
            let mut start = 0;
            while start < stream.len() {
                let up = stream[start].0;
                let mut end = start;
                while end < stream.len() && stream[end].0 == up && !(end > start && cut_points.contains(&end)) {
                    end += 1;
                }
                let bytes: Vec<u8> = stream[start..end].iter().map(|(_, b)| *b).collect();
                if up {
                    c.send_to_server(&mut sim, ACK | PSH, &bytes);
                } else {
                    c.send_to_client(&mut sim, ACK | PSH, &bytes);
                }
                start = end;
            }
            for key in &gre_keys {
                let _ = gre_from_server(&mut sim, *key, 0);
                let _ = gre_from_client(&mut sim, CLIENT, *key, workers - 1);
            }
            let s = &sim.wire.stats;
            prop_assert_eq!(s.rx_packets, s.tx_packets + s.total_drops(), "every frame sent on or dropped");
            sim.advance_secs(3600);
            let alg = sim.slow.pptp().unwrap();
            prop_assert_eq!(alg.connections(), 0);
            prop_assert_eq!(alg.calls(), 0);
            prop_assert_eq!(sim.installed_entries(), 0);
            prop_assert!(sim.server_map().is_empty());
            prop_assert_eq!(sim.sessions().len(), 0);
            prop_assert_eq!(alg.call_ids_in_use(PUBLIC), 0);
        }
    }
}

#[path = "pptp_hostile.rs"]
mod hostile;
