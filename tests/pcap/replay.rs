//! Real PPTP captures (tests/pcaps, from other projects; see SOURCES.txt) replayed through
//! the appliance with the PNS inside and NAT on the way out.
//!
//! The test plays each capture's server as a real one behind the translation would
//! behave: it answers to the public address and port, and names the Call IDs the
//! server actually received (the translated ones) in its messages and GRE keys. Each
//! capture runs as recorded, with every packet duplicated, from its middle on, and played
//! by two clients at once with the same Call IDs to one server. Every packet must be
//! forwarded or counted, and nothing dropped once the capture's first connection opens;
//! when the last packet has passed, what the capture left open (and only that) must be
//! open: teardown by CDN, FIN or RST is seen before any timeout could explain it. The
//! two sides' views are then decoded by tshark, an independent dissector, and checked:
//! - outside, nothing shows an inside address, every client Call ID is replaced by one
//!   translated ID (the same in every message of the call, distinct between calls), GRE
//!   keeps the server's Call IDs, checksums are right;
//! - inside, every Peer Call ID and GRE key is the client's own again.
//!
//! Finally time runs on until every timeout has passed: no session, call, server-map
//! entry or translated Call ID may be left.
use dataplane::policy::{Action, AddrSet, Rule};
use dataplane::sim::{self, Sim, SimLimits};
use dataplane::stats::DropReason;
use ferrowall_tests::be16;
use pcap_file::pcap::{PcapPacket, PcapReader, PcapWriter};
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::DataLink;
use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use wire::craft::{self, L2, L3};
use wire::frame::Frame;
use wire::{checksum, MacAddr};

const PUBLIC: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 2);
const IN_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xa0]);
const OUT_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xb0]);
const HOST_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const INSIDE: u16 = 0;
const OUTSIDE: u16 = 1;

/// PPTP message types and where their Call ID fields are (RFC 2637), written out here
/// on purpose rather than taken from the ALG under test.
const OCRQ: u16 = 7;
const OCRP: u16 = 8;
const ICRQ: u16 = 9;
const ICRP: u16 = 10;
const ICCN: u16 = 11;
const CCRQ: u16 = 12;
const CDN: u16 = 13;
const WEN: u16 = 14;
const SLI: u16 = 15;

/// The client's own Call ID in a PNS -> PAC message.
fn pns_own_field(kind: u16) -> Option<usize> {
    matches!(kind, OCRQ | ICRP | CCRQ | CDN).then_some(12)
}

/// The client's Call ID in a PAC -> PNS message (the peer's, from the PAC's side).
fn pac_peer_field(kind: u16) -> Option<usize> {
    match kind {
        OCRP => Some(14),
        ICCN | WEN | SLI => Some(12),
        _ => None,
    }
}

/// The PAC's own Call ID in a PAC -> PNS message.
fn pac_own_field(kind: u16) -> Option<usize> {
    matches!(kind, OCRP | ICRQ | CDN).then_some(12)
}

/// The PAC's Call ID in a PNS -> PAC message (the peer's, from the PNS's side).
fn pns_peer_field(kind: u16) -> Option<usize> {
    match kind {
        ICRP => Some(14),
        SLI => Some(12),
        _ => None,
    }
}

/// The PAC's Call ID for the `copy`th client replaying a conversation: a real PAC gives
/// every call its own. Zero means "none" in some messages and stays.
fn pac_id(copy: usize, id: u16) -> u16 {
    if id == 0 {
        0
    } else {
        id ^ ((copy as u16) << 11)
    }
}

fn pcaps() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("pcaps")
}

/// An IPv4 packet from a capture.
#[derive(Clone)]
struct Ip {
    bytes: Vec<u8>,
}

impl Ip {
    fn src(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.bytes[12], self.bytes[13], self.bytes[14], self.bytes[15])
    }
    fn dst(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.bytes[16], self.bytes[17], self.bytes[18], self.bytes[19])
    }
    fn proto(&self) -> u8 {
        self.bytes[9]
    }
    fn ihl(&self) -> usize {
        usize::from(self.bytes[0] & 0x0f) * 4
    }
    fn l4(&self) -> &[u8] {
        &self.bytes[self.ihl()..]
    }
    fn ports(&self) -> (u16, u16) {
        let l4 = self.l4();
        (u16::from_be_bytes([l4[0], l4[1]]), u16::from_be_bytes([l4[2], l4[3]]))
    }
    fn tcp_payload_at(&self) -> usize {
        self.ihl() + usize::from(self.l4()[12] >> 4) * 4
    }
    /// The GRE v1 key's Call ID and where it is.
    fn gre_call_id(&self) -> Option<(usize, u16)> {
        let g = self.l4();
        if g.len() < 8 || g[1] & 0x07 != 1 || g[0] & 0x20 == 0 {
            return None;
        }
        let at = if g[0] & 0x80 != 0 { 8 } else { 4 } + 2;
        Some((self.ihl() + at, u16::from_be_bytes([g[at], g[at + 1]])))
    }
}

/// IPv4 packets of a capture, whatever its link type.
fn read_capture(path: &Path) -> Vec<Ip> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut frames: Vec<(DataLink, Vec<u8>)> = Vec::new();
    if data.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        let mut r = PcapNgReader::new(&data[..]).expect("pcapng header");
        let mut links = Vec::new();
        while let Some(block) = r.next_block() {
            match block.expect("pcapng block") {
                Block::InterfaceDescription(i) => links.push(i.linktype),
                Block::EnhancedPacket(p) => {
                    let link = links.get(p.interface_id as usize).copied().unwrap_or(DataLink::ETHERNET);
                    frames.push((link, p.data.to_vec()));
                }
                _ => {}
            }
        }
    } else {
        let mut r = PcapReader::new(&data[..]).expect("pcap header");
        let link = r.header().datalink;
        while let Some(p) = r.next_packet() {
            frames.push((link, p.expect("pcap packet").data.to_vec()));
        }
    }
    frames.into_iter().filter_map(|(link, f)| ipv4_of(link, &f)).collect()
}

fn ipv4_of(link: DataLink, f: &[u8]) -> Option<Ip> {
    let ip = match link {
        DataLink::ETHERNET => {
            let mut at = 12;
            while f.get(at..at + 2)? == [0x81, 0x00] {
                at += 4;
            }
            match f.get(at..at + 2)? {
                [0x08, 0x00] => &f[at + 2..],
                // IPv4 in IPv6 (next header 4), as zeek's capture carries it.
                [0x86, 0xdd] if *f.get(at + 2 + 6)? == 4 => f.get(at + 2 + 40..)?,
                _ => return None,
            }
        }
        // 802.11 data: the IPv4 packet follows an LLC/SNAP header.
        DataLink::IEEE802_11 => {
            let snap = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
            let at = f.windows(8).take(64).position(|w| w == snap)?;
            &f[at + 8..]
        }
        DataLink::LINUX_SLL => (f.get(14..16)? == [0x08, 0x00]).then(|| &f[16..])?,
        DataLink::RAW | DataLink::IPV4 => f,
        _ => return None,
    };
    if ip.len() < 20 || ip[0] >> 4 != 4 || ip[6] & 0x1f != 0 || ip[7] != 0 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let bytes = ip.get(..total)?.to_vec();
    let ihl = usize::from(bytes[0] & 0x0f) * 4;
    let min_l4 = match bytes[9] {
        6 => 20,
        47 => 4,
        _ => return None,
    };
    (bytes.len() >= ihl + min_l4).then_some(Ip { bytes })
}

/// PPTP conversations: (client, server) by the client's connection to port 1723, or
/// for GRE seen without one, by its first sender.
fn conversations(packets: &[Ip]) -> Vec<(Ipv4Addr, Ipv4Addr)> {
    let mut convs: Vec<(Ipv4Addr, Ipv4Addr)> = Vec::new();
    let mut add = |c, s| {
        if !convs.contains(&(c, s)) && !convs.contains(&(s, c)) {
            convs.push((c, s));
        }
    };
    for p in packets.iter().filter(|p| p.proto() == 6) {
        match p.ports() {
            (_, 1723) => add(p.src(), p.dst()),
            (1723, _) => add(p.dst(), p.src()),
            _ => {}
        }
    }
    for p in packets.iter().filter(|p| p.proto() == 47 && p.gre_call_id().is_some()) {
        add(p.src(), p.dst());
    }
    convs
}

fn lab(servers: &[Ipv4Addr]) -> Sim {
    // The refined policy: only the control connection is allowed.
    let shared = sim::nat_lab(PUBLIC, (IN_MAC, OUT_MAC), 2, true, |trust, untrust| {
        vec![Rule {
            name: "pptp-out".into(),
            from: trust,
            to: untrust,
            source: AddrSet::any(),
            destination: AddrSet::any(),
            protocol: Some(6),
            ports: vec![(1723, 1723)],
            action: Action::Permit,
        }]
    });
    let mut neighbours: Vec<_> = servers.iter().map(|&s| (s, HOST_MAC)).collect();
    neighbours.extend((0..32).map(|i| (client_addr(i), HOST_MAC)));
    Sim::new(shared, &neighbours, SimLimits::default())
}

fn client_addr(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(192, 168, 1, 10 + i as u8)
}

fn server_addr(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(1, 1, 1, 10 + i as u8)
}

/// What a frame that left the appliance should show, by the harness's own bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A client's message to the server: its own Call ID `orig` was in it.
    ClientCallId {
        client: usize,
        orig: u16,
    },
    /// A server's message to the client: the Peer Call ID must be `orig` again.
    PeerCallId {
        orig: u16,
    },
    /// The client's GRE to the server: the key stays the server's `key`.
    GreToServer {
        key: u16,
    },
    /// The server's GRE to the client: the key must be the client's `orig` again.
    GreToClient {
        orig: u16,
    },
    Other,
}

struct Player {
    sim: Sim,
    convs: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// Clients playing each conversation's client side, all with the capture's Call IDs,
    /// all talking to the conversation's one server.
    copies: usize,
    /// The public port of each client connection, learned from what left.
    public_port: HashMap<(usize, u16), u16>,
    /// Each client's Call IDs as the server received them.
    call_ids: HashMap<(usize, u16), u16>,
    /// Frames sent out, with what they should show, in order, per side.
    outside: Vec<(Vec<u8>, Expect)>,
    inside: Vec<(Vec<u8>, Expect)>,
}

impl Player {
    fn new(convs: Vec<(Ipv4Addr, Ipv4Addr)>, copies: usize) -> Player {
        let servers: Vec<_> = (0..convs.len()).map(server_addr).collect();
        Player {
            sim: lab(&servers),
            convs,
            copies,
            public_port: HashMap::new(),
            call_ids: HashMap::new(),
            outside: Vec::new(),
            inside: Vec::new(),
        }
    }

    fn play(&mut self, p: &Ip) {
        let Some((i, from_client)) = self.convs.iter().enumerate().find_map(|(i, &(c, s))| {
            (p.src() == c && p.dst() == s)
                .then_some((i, true))
                .or((p.src() == s && p.dst() == c).then_some((i, false)))
        }) else {
            return;
        };
        if p.proto() == 6 && p.ports().0 != 1723 && p.ports().1 != 1723 {
            return;
        }
        for copy in 0..self.copies {
            let client = i * self.copies + copy;
            if from_client {
                self.play_client(client, i, copy, p);
            } else {
                self.play_server(client, i, copy, p);
            }
        }
    }

    fn play_client(&mut self, c: usize, i: usize, copy: usize, p: &Ip) {
        let mut ip = p.bytes.clone();
        ip[12..16].copy_from_slice(&client_addr(c).octets());
        ip[16..20].copy_from_slice(&server_addr(i).octets());
        let mut expect = Vec::new();
        if p.proto() == 6 {
            let base = p.tcp_payload_at();
            for (at, kind) in messages(&ip[base..]) {
                if let Some(f) = pns_own_field(kind) {
                    let at = base + at + f;
                    expect.push((at, Expect::ClientCallId { client: c, orig: be16(&ip, at) }));
                }
                if let Some(f) = pns_peer_field(kind) {
                    let at = base + at + f;
                    let id = pac_id(copy, be16(&ip, at));
                    ip[at..at + 2].copy_from_slice(&id.to_be_bytes());
                }
            }
        }
        if let Some((at, key)) = p.gre_call_id() {
            ip[at..at + 2].copy_from_slice(&pac_id(copy, key).to_be_bytes());
        }
        let gre = p.gre_call_id().map(|(_, key)| Expect::GreToServer { key: pac_id(copy, key) });
        let Some(out) = self.send(INSIDE, ip) else { return };
        if p.proto() == 6 {
            let (sport, _) = Ip { bytes: out.clone() }.ports();
            self.public_port.insert((c, p.ports().0), sport);
        }
        for &(at, e) in &expect {
            if let Expect::ClientCallId { orig, .. } = e {
                self.call_ids.insert((c, orig), be16(&out, at));
            }
        }
        let e = expect.first().map(|e| e.1).or(gre).unwrap_or(Expect::Other);
        self.outside.push((out, e));
    }

    fn play_server(&mut self, c: usize, i: usize, copy: usize, p: &Ip) {
        let mut ip = p.bytes.clone();
        ip[12..16].copy_from_slice(&server_addr(i).octets());
        ip[16..20].copy_from_slice(&PUBLIC.octets());
        let mut expect = Expect::Other;
        if p.proto() == 6 {
            // The server talks to the public port of the connection.
            let Some(&port) = self.public_port.get(&(c, p.ports().1)) else { return };
            let ihl = p.ihl();
            ip[ihl + 2..ihl + 4].copy_from_slice(&port.to_be_bytes());
            let base = p.tcp_payload_at();
            for (at, kind) in messages(&ip[base..]) {
                if let Some(f) = pac_own_field(kind) {
                    let at = base + at + f;
                    let id = pac_id(copy, be16(&ip, at));
                    ip[at..at + 2].copy_from_slice(&id.to_be_bytes());
                }
                if let Some(f) = pac_peer_field(kind) {
                    let at = base + at + f;
                    let orig = be16(&ip, at);
                    if let Some(&x) = self.call_ids.get(&(c, orig)) {
                        ip[at..at + 2].copy_from_slice(&x.to_be_bytes());
                        expect = Expect::PeerCallId { orig };
                    }
                }
            }
        } else if let Some((at, orig)) = p.gre_call_id() {
            let x = self.call_ids.get(&(c, orig)).copied().unwrap_or(orig);
            ip[at..at + 2].copy_from_slice(&x.to_be_bytes());
            expect = Expect::GreToClient { orig };
        }
        if let Some(out) = self.send(OUTSIDE, ip) {
            self.inside.push((out, expect));
        }
    }

    /// Fixes the checksums, sends the packet in, and returns the IPv4 packet that left.
    fn send(&mut self, port: u16, mut ip: Vec<u8>) -> Option<Vec<u8>> {
        ip[8] = 64;
        fix_checksums(&mut ip);
        let l2 = if port == INSIDE {
            L2 { src: HOST_MAC, dst: IN_MAC }
        } else {
            L2 { src: HOST_MAC, dst: OUT_MAC }
        };
        let l3 = L3 { src: Ipv4Addr::UNSPECIFIED, dst: Ipv4Addr::UNSPECIFIED, ttl: 64 };
        let mut frame = craft::ethernet_ipv4(l2, l3, 0, &[]);
        frame.truncate(14);
        frame.extend_from_slice(&ip);
        self.sim.receive(port, 0, &frame);
        let mut sent = self.sim.take_sent();
        assert!(sent.len() <= 1);
        let (out_port, f) = sent.pop()?;
        assert_ne!(out_port, port, "left where it came in");
        Some(f.data()[14..].to_vec())
    }
}

/// PPTP control messages that start in this payload at message boundaries: (offset,
/// type). Stops at anything that does not look like one.
fn messages(payload: &[u8]) -> Vec<(usize, u16)> {
    let mut out = Vec::new();
    let mut at = 0;
    while payload.len() >= at + 16 && be16(payload, at + 4) == 0x1a2b && be16(payload, at + 6) == 0x3c4d {
        let len = usize::from(be16(payload, at));
        out.push((at, be16(payload, at + 8)));
        if len < 12 {
            break;
        }
        at += len;
    }
    out
}

fn fix_checksums(ip: &mut [u8]) {
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    ip[10..12].fill(0);
    let c = checksum::checksum(&ip[..ihl]);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    if ip[9] == 6 {
        let (src, dst) =
            (Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]), Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]));
        let seg = &mut ip[ihl..];
        seg[16..18].fill(0);
        let sum = checksum::pseudo_header_sum(src, dst, 6, seg.len() as u16) + checksum::sum(seg);
        let c = !checksum::fold(sum);
        seg[16..18].copy_from_slice(&c.to_be_bytes());
    }
}

/// One tshark line per frame: ip.src, ip.dst, message type, call id, peer call id, GRE
/// call id, IPv4 and TCP checksum status.
fn tshark(frames: &[(Vec<u8>, Expect)], dir: &Path, name: &str) -> Vec<Vec<String>> {
    let path = dir.join(name);
    let file = std::fs::File::create(&path).unwrap();
    let mut w = PcapWriter::new(file).unwrap();
    for (i, (ip, _)) in frames.iter().enumerate() {
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0];
        f.extend_from_slice(ip);
        w.write_packet(&PcapPacket::new(Duration::from_millis(i as u64), f.len() as u32, &f)).unwrap();
    }
    drop(w);
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&path)
        .args([
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "tcp.check_checksum:TRUE",
            "-T",
            "fields",
            "-E",
            "occurrence=f",
        ])
        .args(["-e", "ip.src", "-e", "ip.dst", "-e", "pptp.control_message_type", "-e", "pptp.call_id"])
        .args(["-e", "pptp.peer_call_id", "-e", "gre.key.call_id", "-e", "ip.checksum.status"])
        .args(["-e", "tcp.checksum.status"])
        .output()
        .expect("tshark runs (scripts/setup.sh installs it)");
    assert!(out.status.success(), "tshark: {}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Vec<String>> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect();
    assert_eq!(lines.len(), frames.len(), "tshark read every frame of {name}");
    lines
}

fn num(field: &str) -> Option<u16> {
    field.split(',').next().filter(|s| !s.is_empty()).and_then(|s| s.parse().ok())
}

#[derive(Debug, Default)]
struct Report {
    outside: usize,
    inside: usize,
    translated_calls: usize,
    pptp_checked: usize,
    gre_checked: usize,
}

/// Checks both sides' frames with tshark.
fn check(player: &Player, dir: &Path) -> Report {
    let mut r = Report { outside: player.outside.len(), inside: player.inside.len(), ..Report::default() };
    let out = tshark(&player.outside, dir, "outside.pcap");
    let mut xlat: HashMap<(usize, u16), HashSet<u16>> = HashMap::new();
    for (line, (_, expect)) in out.iter().zip(&player.outside) {
        assert_eq!(line[0], PUBLIC.to_string(), "outside, every source is the public address: {line:?}");
        assert_ne!(line[6], "0", "IPv4 checksum outside: {line:?}");
        assert_ne!(line[7], "0", "TCP checksum outside: {line:?}");
        match *expect {
            Expect::ClientCallId { client, orig } => {
                // tshark leaves retransmitted segments undecoded: check what it decodes.
                if let Some(id) = num(&line[3]) {
                    xlat.entry((client, orig)).or_default().insert(id);
                    r.pptp_checked += 1;
                }
            }
            Expect::GreToServer { key } => {
                assert_eq!(num(&line[5]), Some(key), "the server's Call ID passes: {line:?}");
                r.gre_checked += 1;
            }
            _ => {}
        }
    }
    for ((client, orig), ids) in &xlat {
        assert_eq!(ids.len(), 1, "client {client}'s Call ID {orig} became one ID, not {ids:?}");
    }
    let all: Vec<u16> = xlat.values().flat_map(|s| s.iter().copied()).collect();
    let distinct: HashSet<u16> = all.iter().copied().collect();
    assert_eq!(distinct.len(), all.len(), "distinct calls, distinct translated IDs: {xlat:?}");
    r.translated_calls = xlat.len();

    let inside = tshark(&player.inside, dir, "inside.pcap");
    for (line, (_, expect)) in inside.iter().zip(&player.inside) {
        assert!(line[1].starts_with("192.168.1."), "inside, every destination is a client: {line:?}");
        assert_ne!(line[6], "0", "IPv4 checksum inside: {line:?}");
        assert_ne!(line[7], "0", "TCP checksum inside: {line:?}");
        match *expect {
            Expect::PeerCallId { orig } => {
                let kind = num(&line[2]);
                if kind.is_some() {
                    let peer =
                        if kind == Some(OCRP) { num(&line[4]) } else { num(&line[3]).or(num(&line[4])) };
                    assert_eq!(peer, Some(orig), "the client's own Call ID comes back: {line:?}");
                    r.pptp_checked += 1;
                }
            }
            Expect::GreToClient { orig } => {
                assert_eq!(
                    num(&line[5]),
                    Some(orig),
                    "GRE reaches the client with its own Call ID: {line:?}"
                );
                r.gre_checked += 1;
            }
            _ => {}
        }
    }
    r
}

/// Time runs past every timeout: nothing may be left.
fn assert_nothing_left(sim: &mut Sim, name: &str) {
    for _ in 0..130 {
        sim.advance_secs(60);
    }
    let alg = sim.slow.pptp().unwrap();
    assert_eq!(sim.sessions().len(), 0, "{name}: sessions left");
    assert_eq!(alg.connections(), 0, "{name}: ALG connections left");
    assert_eq!(alg.calls(), 0, "{name}: calls left");
    assert!(sim.server_map().is_empty(), "{name}: server map left");
    assert_eq!(sim.installed_entries(), 0, "{name}: worker entries left");
    assert_eq!(alg.call_ids_in_use(PUBLIC), 0, "{name}: translated Call IDs left");
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    AsRecorded,
    /// Every packet twice.
    Duplicated,
    /// From the capture's middle on: connections the ALG never saw open.
    FromTheMiddle,
    /// Two clients replay each conversation at once with the same Call IDs, to one server
    /// (which gives each call its own ID, as a PAC does): an ALG that does not translate
    /// sends the server the same Call ID twice, which the checks refuse.
    TwoClients,
}

/// What a capture leaves open when its last packet has passed, before any timeout: what
/// it set up and did not tear down (CDN, StopCCRQ, FIN, RST), as tshark reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Open {
    connections: usize,
    calls: usize,
}

fn is_syn_to_pptp(p: &Ip) -> bool {
    p.proto() == 6 && p.ports().1 == 1723 && p.l4()[13] & 0x12 == 0x02
}

fn replay(name: &str, variant: Variant) -> (Report, Player, Open) {
    let packets = read_capture(&pcaps().join(name));
    let convs = conversations(&packets);
    assert!(!convs.is_empty(), "{name}: no PPTP in it");
    let copies = if variant == Variant::TwoClients { 2 } else { 1 };
    let mut player = Player::new(convs, copies);
    let start = match variant {
        Variant::FromTheMiddle => packets.len() / 2,
        _ => 0,
    };
    // Drops are allowed only before the capture's first connection opens (some start
    // in the middle of an earlier one).
    let mut drops_before_first_syn = None;
    for p in &packets[start..] {
        if drops_before_first_syn.is_none() && is_syn_to_pptp(p) {
            drops_before_first_syn = Some(player.sim.wire.stats.total_drops());
        }
        player.play(p);
        if let Variant::Duplicated = variant {
            player.play(p);
        }
        player.sim.advance_ms(1);
    }
    let stats = &player.sim.wire.stats;
    assert!(stats.rx_packets > 0, "{name} {variant:?}: the capture fed no packet");
    assert_eq!(
        stats.rx_packets,
        (player.outside.len() + player.inside.len()) as u64 + stats.total_drops(),
        "{name} {variant:?}: every packet forwarded or counted"
    );
    if variant != Variant::FromTheMiddle {
        let drops: Vec<String> = DropReason::all()
            .filter(|r| player.sim.drops(*r) > 0)
            .map(|r| format!("{}={}", r.name(), player.sim.drops(r)))
            .collect();
        assert_eq!(
            Some(stats.total_drops()),
            drops_before_first_syn,
            "{name} {variant:?}: dropped after the first connection opened: {drops:?}"
        );
    }
    let alg = player.sim.slow.pptp().unwrap();
    let open = Open { connections: alg.connections(), calls: alg.calls() };
    let tunnels = player
        .sim
        .sessions()
        .iter()
        .filter(|s| ctrlplane::render::session_line(s).starts_with("pptp-gre "))
        .count();
    assert_eq!(
        player.sim.server_map().len(),
        2 * open.calls,
        "{name} {variant:?}: two entries per open call"
    );
    assert_eq!(tunnels, 2 * open.calls, "{name} {variant:?}: two pptp-gre sessions per open call");
    let dir =
        std::env::temp_dir().join(format!("ferrowall-replay-{}-{name}-{variant:?}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = check(&player, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert_nothing_left(&mut player.sim, name);
    (report, player, open)
}

/// Replays a capture every way; `open` is what it leaves open as recorded.
fn replay_all_ways(name: &str, open: Open) -> Report {
    let (report, player, left) = replay(name, Variant::AsRecorded);
    println!(
        "{name}: {report:?}, {} dropped before its first connection",
        player.sim.wire.stats.total_drops()
    );
    assert!(report.outside > 0 && report.inside > 0, "{name}: traffic both ways");
    assert_eq!(left, open, "{name}: open when the capture ends");
    let (dup, _, left) = replay(name, Variant::Duplicated);
    assert_eq!(dup.translated_calls, report.translated_calls, "{name}: duplicates change nothing");
    assert_eq!(left, open, "{name}: duplicated, open when the capture ends");
    let (_, _, left) = replay(name, Variant::FromTheMiddle);
    assert_eq!(
        left,
        Open { connections: 0, calls: 0 },
        "{name}: connections opened before the middle stay unknown"
    );
    let (two, _, left) = replay(name, Variant::TwoClients);
    assert_eq!(two.translated_calls, 2 * report.translated_calls, "{name}: two clients, twice the calls");
    assert_eq!(
        left,
        Open { connections: 2 * open.connections, calls: 2 * open.calls },
        "{name}: two clients, open when the capture ends"
    );
    report
}

/// The capture ends with the call up (its last messages are Set-Link-Info, GRE flows).
const ONE_CALL_UP: Open = Open { connections: 1, calls: 1 };
/// The client sends Call-Clear-Request, closes with FIN, the server's Call-Disconnect-
/// Notify and the client's RST follow: nothing left, before any timeout.
const CLOSED_BY_CCRQ_AND_RST: Open = Open { connections: 0, calls: 0 };
/// Both sides close the control connection with FIN while the call is up: the call goes
/// with its connection.
const CLOSED_BY_FIN: Open = Open { connections: 0, calls: 0 };

#[test]
fn tcpdump_pptp_windows_nt_and_poptop() {
    let r = replay_all_ways("tcpdump_pptp.pcap", CLOSED_BY_FIN);
    assert_eq!(r.translated_calls, 1, "{r:?}");
    assert!(r.pptp_checked >= 2 && r.gre_checked >= 1, "{r:?}");
}

#[test]
fn ndpi_pptp_linux_client_cdn_with_call_id_0() {
    let r = replay_all_ways("ndpi_pptp.pcap", CLOSED_BY_CCRQ_AND_RST);
    assert!(r.translated_calls >= 1, "{r:?}");
}

#[test]
fn packetlife_negotiation_with_data_in_the_tunnel() {
    let r = replay_all_ways("packetlife_PPTP_negotiation.pcap", ONE_CALL_UP);
    assert_eq!(r.translated_calls, 1, "{r:?}");
    assert!(r.gre_checked >= 10, "GRE both ways: {r:?}");
}

#[test]
fn pptpcrack_starts_mid_session_then_a_full_one() {
    let r = replay_all_ways("pptpcrack_test.pcap", ONE_CALL_UP);
    assert!(r.translated_calls >= 1, "{r:?}");
    assert!(r.gre_checked >= 100, "{r:?}");
}

#[test]
fn sniffer_windows_10_and_pptpd_pcapng() {
    let r = replay_all_ways("sniffer_connect.pcapng", ONE_CALL_UP);
    assert_eq!(r.translated_calls, 1, "{r:?}");
    assert!(r.gre_checked >= 100, "{r:?}");
}

#[test]
fn asleap_802_11_with_duplicates() {
    let r = replay_all_ways("asleap_pptp.dump", ONE_CALL_UP);
    assert_eq!(r.translated_calls, 1, "{r:?}");
    assert!(r.gre_checked >= 10, "{r:?}");
}

/// GRE of calls no control connection announced: all of it dropped, nothing created.
#[test]
fn gre_without_a_control_connection_is_dropped() {
    for name in ["flowcontainer_pptp.pcap", "chapcrack_pptp.cap", "zeek_gre-pptp.pcap", "ndpi_gre.pcapng"] {
        let packets = read_capture(&pcaps().join(name));
        let mut player = Player::new(conversations(&packets), 1);
        for p in &packets {
            player.play(p);
        }
        assert!(player.outside.is_empty() && player.inside.is_empty(), "{name}: GRE got through");
        let s = &player.sim.wire.stats;
        assert!(s.rx_packets > 0, "{name}: the capture fed no packet, the check would prove nothing");
        assert_eq!(
            s.drops[DropReason::PolicyDeny.index()] + s.drops[DropReason::GreNoSession.index()],
            s.rx_packets,
            "{name}"
        );
        assert_nothing_left(&mut player.sim, name);
    }
}
