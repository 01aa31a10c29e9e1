#!/usr/bin/env python3
"""Writes pcap files of synthetic traffic for benchmarks (no dependencies).

udp OUT --dst-mac MAC [--flows N] [--size 60] [--src 192.168.1.0/24-style base] [--dst ...]
    N distinct UDP flows, one frame each, `size` bytes without FCS (60 = 64 on the wire).
pptp-control OUTDIR --ports C1,S1,C2,S2,C3 [--call-id ID] [--public-port P]
    A PPTP control connection up to the client's Outgoing-Call-Request (handshake,
    SCCRQ, SCCRP, OCRQ), one pcap per step (c1 s1 c2 s2 c3), each addressed to its
    net_pcap port: what makes the ALG announce server map 1.
gre OUT --dst-mac MAC (--call-id ID | --call-ids FIRST-LAST) [--frames N] [--size 60]
    Enhanced GRE (PPTP data) from the server to the public address, key ID (or the keys
    in turn).
pptp-tunnels OUTDIR --tunnels N --ports C1,S1,C2,S2,C3,S3,SERVER_GRE,CLIENT_GRE
             [--public-ports FILE] [--call-ids FILE]
    N PPTP tunnels from one client, each on its own control connection, one pcap per
    step as pptp-control (c2 is the ACK carrying the SCCRQ, s3 the server's OCRP) and
    the GRE of every tunnel both ways (gre-down.pcap from the server, gre-up.pcap from
    the client). FILE: one number per line per tunnel, what probe runs learnt: the
    connections' NAT ports and the Call IDs the ALG translated the client's to.
mix OUTDIR --tunnels-dir DIR --in-port N --out-port N --dmz-port N [--flows N]
    An RFC 9411-style mix for the tunnels pptp-tunnels and its probes made in DIR, in
    IMIX sizes (60/590/1514 bytes, 7:4:1): mix-dmz.pcap, UDP flows from a DMZ (routed,
    not translated: NAT ports taken while the tunnels are set up would move the ones the
    probes learnt); mix-in.pcap, the tunnels' GRE to the server (80%) and SMTP SYNs no
    policy permits (20%); mix-out.pcap, the tunnels' GRE to the clients (80%) and UDP at
    the public address that no session expects (20%).
cat OUT [PCAP...]
    The frames of the PCAPs one after the other; without any, a pcap with none.
learn syn-port|call-id CAPTURE... [--order PORTS]
    What probe runs learn from the appliance's captures: the source port of every SYN
    it sent (its NAT ports, in order), or the Call ID of every Outgoing-Call-Request
    (the ALG's translation), in capture order or in the order of the NAT ports listed
    in the file PORTS (one per line; the OCRQ's source port tells its connection).
tcp OUTDIR --flows N --ports SYN,ACK,DATA
    N TCP connections from inside hosts: syn.pcap (each client's SYN), ack.pcap (its
    ACK of the server's SYN-ACK) and data.pcap (one 6-byte data segment each, in window
    for ever when replayed), each addressed to its net_pcap port.
tcp-reflect SENT OUT --dst-mac MAC
    The servers' SYN-ACKs to the SYNs the appliance sent (a probe run's capture): what
    ack.pcap and data.pcap expect, in the same order.
"""
import argparse
import ipaddress
import struct


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac(s: str) -> bytes:
    return bytes(int(x, 16) for x in s.split(":"))


def udp_frame(src_mac, dst_mac, src, dst, sport, dport, size):
    payload_len = max(0, size - 14 - 20 - 8)
    payload = bytes(payload_len)
    udp_len = 8 + payload_len
    pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    csum = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0x4000, 64, 17, 0, src.packed, dst.packed)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + udp


def ipv4(src, dst, proto, l4):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, 64, proto, 0, src.packed, dst.packed)
    return ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:] + l4


def tcp_segment(src_mac, dst_mac, src, dst, sport, dport, seq, ack, flags, payload):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 0x50, flags, 65535, 0, 0) + payload
    pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, 6, len(seg))
    seg = seg[:16] + struct.pack("!H", checksum(pseudo + seg)) + seg[18:]
    frame = dst_mac + src_mac + b"\x08\x00" + ipv4(src, dst, 6, seg)
    return frame + bytes(max(0, 60 - len(frame)))


# A server's ISN in the tcp benchmark follows from its client's, so that the SYN-ACKs
# reflected from a capture and the ACKs written beforehand agree without a mapping.
SERVER_ISN_OFFSET = 0x10000000


def tcp_client(i):
    """Flow i's client address, port and ISN (a server: 198.51.100.1-7 port 80)."""
    src = ipaddress.IPv4Address("192.168.1.1") + (i % 200)
    return src, 1024 + (i // 200) % 60000, (i * 2654435761 + 1000) % 2**32


# The symmetric RSS key ferrowall programs (0x6d5a repeated) and its 128-entry
# redirection table (entry i: worker i % workers), as wire::toeplitz and the owner map.
SYMMETRIC_KEY = bytes([0x6D, 0x5A] * 20)


def toeplitz(data, key=SYMMETRIC_KEY):
    k, bits = int.from_bytes(key, "big"), len(key) * 8
    h = 0
    for i, byte in enumerate(data):
        for b in range(8):
            if byte & (0x80 >> b):
                h ^= (k >> (bits - 32 - (i * 8 + b))) & 0xFFFFFFFF
    return h


def rss_queue(src, dst, sport, dport, queues):
    h = toeplitz(src.packed + dst.packed + struct.pack("!HH", sport, dport))
    return (h & 127) % queues


def read_pcap(path):
    data = open(path, "rb").read()
    at = 24
    while at + 16 <= len(data):
        n = struct.unpack("<I", data[at + 8:at + 12])[0]
        yield data[at + 16:at + 16 + n]
        at += 16 + n


def sent_tcp(paths):
    """(source port, flags, payload) of every TCP segment in captures."""
    for path in paths:
        for f in read_pcap(path):
            if len(f) < 34 or f[23] != 6:
                continue
            tcp = f[14 + (f[14] & 15) * 4:]
            yield struct.unpack("!H", tcp[0:2])[0], tcp[13], tcp[(tcp[12] >> 4) * 4:]


def learn(a):
    if a.what == "syn-port":
        ports = [port for port, flags, _ in sent_tcp(a.captures) if flags == 0x02]
        if not ports:
            raise SystemExit("learn: no SYN in what the appliance sent")
        print("\n".join(map(str, ports)))
        return
    ids = [(port, struct.unpack("!H", p[12:14])[0]) for port, _, p in sent_tcp(a.captures)
           if p[4:8] == b"\x1a\x2b\x3c\x4d" and len(p) >= 14 and p[9] == 7]
    if a.order:
        by_port = dict(ids)
        order = [int(x) for x in open(a.order).read().split()]
        missing = [p for p in order if p not in by_port]
        if missing:
            raise SystemExit(f"learn: no OCRQ left for {len(missing)} of {len(order)} connections")
        ids = [(p, by_port[p]) for p in order]
    if not ids:
        raise SystemExit("learn: no OCRQ in what the appliance sent")
    print("\n".join(str(i) for _, i in ids))


def write_steps(outdir, steps):
    for name, frames in steps.items():
        write_pcap(f"{outdir}/{name}.pcap", frames)


def pptp_message(kind, length, body=b""):
    m = struct.pack("!HHIHH", length, 1, 0x1A2B3C4D, kind, 0) + body
    return m + bytes(length - len(m))


def ocrq(call_id):
    m = struct.pack("!HHIHH", 168, 1, 0x1A2B3C4D, 7, 0) + struct.pack("!HH", call_id, 1)
    return m + bytes(168 - len(m))


def ocrp(call_id, peer_call_id):
    body = struct.pack("!HHBBHIHHI", call_id, peer_call_id, 1, 0, 0, 64000, 64, 0, 0)
    return pptp_message(8, 32, body)


def gre_frame(src_mac, dst_mac, src, dst, call_id, seq, size):
    ppp = bytes(max(0, size - 14 - 20 - 12))
    gre = struct.pack("!BBHHHI", 0x30, 0x01, 0x880B, len(ppp), call_id, seq) + ppp
    return dst_mac + src_mac + b"\x08\x00" + ipv4(src, dst, 47, gre)


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(frame), len(frame)))
            f.write(frame)


def pptp_tunnels(a):
    cl, sv, pub = (ipaddress.IPv4Address(x) for x in (a.client, a.server, a.public))
    sm = mac(a.src_mac)
    dm = [mac(f"02:70:63:61:70:{int(p):02x}") for p in a.ports.split(",")]
    n = a.tunnels
    lines = lambda path: [int(x) for x in open(path).read().split()] if path else None
    pports, ids = lines(a.public_ports), lines(a.call_ids)
    for name, got in (("--public-ports", pports), ("--call-ids", ids)):
        if got is not None and len(got) != n:
            raise SystemExit(f"pptp-tunnels: {name} has {len(got)} lines for {n} tunnels")
    sccrq = pptp_message(1, 156, struct.pack("!H", 0x0100))
    sccrp = pptp_message(2, 156, struct.pack("!HBB", 0x0100, 1, 0))
    steps = {k: [] for k in ("c1", "s1", "c2", "s2", "c3", "s3", "gre-down", "gre-up")}
    for i in range(n):
        cport = 1024 + i
        seg = lambda d, src, dst, sp, dp, seq, ack, flags, payload=b"": tcp_segment(sm, d, src, dst, sp, dp, seq, ack,
                                                                                    flags, payload)
        steps["c1"].append(seg(dm[0], cl, sv, cport, 1723, 1000, 0, 0x02))
        steps["c2"].append(seg(dm[2], cl, sv, cport, 1723, 1001, 5001, 0x18, sccrq))
        steps["c3"].append(seg(dm[4], cl, sv, cport, 1723, 1157, 5157, 0x18, ocrq(1 + i)))
        if pports:
            pp = pports[i]
            steps["s1"].append(seg(dm[1], sv, pub, 1723, pp, 5000, 1001, 0x12))
            steps["s2"].append(seg(dm[3], sv, pub, 1723, pp, 5001, 1157, 0x18, sccrp))
            if ids:
                steps["s3"].append(seg(dm[5], sv, pub, 1723, pp, 5157, 1325, 0x18, ocrp(1 + i, ids[i])))
                steps["gre-down"].append(gre_frame(sm, dm[6], sv, pub, ids[i], 1, 60))
                steps["gre-up"].append(gre_frame(sm, dm[7], cl, sv, 1 + i, 1, 60))
    write_steps(a.outdir, steps)


def mix(a):
    """Each pcap is a loop of 100-frame rounds; the shares are per round."""
    sm = mac(a.src_mac)
    din, dout, ddmz = (mac(f"02:70:63:61:70:{p:02x}") for p in (a.in_port, a.out_port, a.dmz_port))
    ids = [int(x) for x in open(f"{a.tunnels_dir}/ids.txt").read().split()]
    client, server, public = (ipaddress.IPv4Address(x) for x in ("192.168.1.1", "198.51.100.7", "203.0.113.2"))
    imix = [60] * 7 + [590] * 4 + [1514]
    rounds = max(a.flows // 100, len(ids) // 80, 1)
    inside, outside, dmz = [], [], []
    for r in range(rounds):
        for k in range(100):
            n = r * 100 + k
            i = n % a.flows
            dmz.append(udp_frame(sm, ddmz, ipaddress.IPv4Address("10.0.9.1") + (i % 200),
                                 ipaddress.IPv4Address("198.18.0.1") + (i % 7), 1024 + (i // 200) % 60000, 53,
                                 imix[n % len(imix)]))
            t = (r * 80 + k) % len(ids)
            if k < 80:  # the tunnels' GRE, both ways (the server's Call ID: tunnel + 1)
                inside.append(gre_frame(sm, din, client, server, t + 1, r, imix[n % len(imix)]))
                outside.append(gre_frame(sm, dout, server, public, ids[t], r, imix[(n + 5) % len(imix)]))
            else:  # denied: SMTP out, which no policy permits; UDP at the public address
                src = ipaddress.IPv4Address("192.168.1.1") + (k % 200)
                inside.append(tcp_segment(sm, din, src, ipaddress.IPv4Address("198.18.0.25"), 2000 + r % 60000, 25,
                                          r * 7919, 0, 0x02, b""))
                outside.append(udp_frame(sm, dout, ipaddress.IPv4Address("198.18.1.1") + k, public, 5000 + k,
                                         30000 + r % 30000, 60))
    write_pcap(f"{a.outdir}/mix-in.pcap", inside)
    write_pcap(f"{a.outdir}/mix-out.pcap", outside)
    write_pcap(f"{a.outdir}/mix-dmz.pcap", dmz)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("udp")
    u.add_argument("out")
    u.add_argument("--dst-mac", required=True)
    u.add_argument("--src-mac", default="02:00:00:00:01:01")
    u.add_argument("--flows", type=int, default=1)
    u.add_argument("--size", type=int, default=60)
    u.add_argument("--src", default="192.168.1.1")
    u.add_argument("--dst", default="198.51.100.1")
    u.add_argument("--queues", type=int, default=1,
                   help="write OUT.qN.pcap per RX queue instead of OUT")
    u.add_argument("--split", choices=["rss", "flows"], default="rss",
                   help="rss: each flow to the queue a NIC programmed by ferrowall picks "
                        "(symmetric key, its table); flows: flow i to queue i %% queues, as a "
                        "NIC hashing otherwise would scatter them")
    c = sub.add_parser("pptp-control",
                       help="a PPTP control connection up to its OCRQ, one pcap per step: "
                            "c1 SYN, s1 SYN-ACK, c2 ACK+SCCRQ, s2 SCCRP, c3 OCRQ; each "
                            "addressed to the net_pcap port given for it (MAC 02:70:63:61:70:NN)")
    c.add_argument("outdir")
    c.add_argument("--ports", required=True, help="net_pcap port numbers of c1,s1,c2,s2,c3")
    c.add_argument("--src-mac", default="02:00:00:00:01:01")
    c.add_argument("--call-id", type=int, default=0x1234)
    c.add_argument("--client", default="192.168.1.1")
    c.add_argument("--server", default="198.51.100.7")
    c.add_argument("--public", default="203.0.113.2", help="the client's address after NAT")
    c.add_argument("--public-port", type=int, default=40000, help="its port after NAT")
    f = sub.add_parser("flood", help="attack traffic: syn (many inside hosts to many "
                       "servers), gre (random keys at the NAT addresses), frag (non-first "
                       "fragments at the NAT addresses)")
    f.add_argument("kind", choices=["syn", "gre", "frag"])
    f.add_argument("out")
    f.add_argument("--dst-mac", required=True)
    f.add_argument("--src-mac", default="02:00:00:00:01:01")
    f.add_argument("--frames", type=int, default=32768)
    e = sub.add_parser("pptp-echo-flood", help="Echo-Requests on the pptp-control "
                       "connection, one after another in its byte stream")
    e.add_argument("out")
    e.add_argument("--dst-mac", required=True)
    e.add_argument("--src-mac", default="02:00:00:00:01:01")
    e.add_argument("--frames", type=int, default=1024)
    e.add_argument("--client", default="192.168.1.1")
    e.add_argument("--server", default="198.51.100.7")
    g = sub.add_parser("gre")
    g.add_argument("out")
    g.add_argument("--dst-mac", required=True)
    g.add_argument("--src-mac", default="02:00:00:00:01:01")
    g.add_argument("--call-id", type=int, help="the one key of every frame")
    g.add_argument("--call-ids", help="keys in turn, FIRST-LAST")
    g.add_argument("--frames", type=int, default=1024)
    g.add_argument("--size", type=int, default=60)
    g.add_argument("--server", default="198.51.100.7")
    g.add_argument("--public", default="203.0.113.2")
    pt = sub.add_parser("pptp-tunnels")
    pt.add_argument("outdir")
    pt.add_argument("--tunnels", type=int, default=1)
    pt.add_argument("--ports", required=True)
    pt.add_argument("--public-ports", help="the NAT port of each control connection, a line each")
    pt.add_argument("--call-ids", help="the translated Call ID of each tunnel, a line each")
    pt.add_argument("--src-mac", default="02:00:00:00:01:01")
    pt.add_argument("--client", default="192.168.1.1")
    pt.add_argument("--server", default="198.51.100.7")
    pt.add_argument("--public", default="203.0.113.2")
    mx = sub.add_parser("mix")
    mx.add_argument("outdir")
    mx.add_argument("--tunnels-dir", required=True)
    mx.add_argument("--in-port", type=int, required=True)
    mx.add_argument("--out-port", type=int, required=True)
    mx.add_argument("--dmz-port", type=int, required=True)
    mx.add_argument("--flows", type=int, default=1000)
    mx.add_argument("--src-mac", default="02:00:00:00:01:01")
    ct = sub.add_parser("cat")
    ct.add_argument("out")
    ct.add_argument("pcaps", nargs="*")
    le = sub.add_parser("learn")
    le.add_argument("what", choices=["syn-port", "call-id"])
    le.add_argument("captures", nargs="+")
    le.add_argument("--order")
    t = sub.add_parser("tcp")
    t.add_argument("outdir")
    t.add_argument("--flows", type=int, default=1)
    t.add_argument("--ports", required=True, help="net_pcap port numbers of syn,ack,data")
    t.add_argument("--src-mac", default="02:00:00:00:01:01")
    r = sub.add_parser("tcp-reflect")
    r.add_argument("sent")
    r.add_argument("out")
    r.add_argument("--dst-mac", required=True)
    r.add_argument("--src-mac", default="02:00:00:00:01:01")
    a = ap.parse_args()
    if a.cmd == "pptp-tunnels":
        pptp_tunnels(a)
        return
    if a.cmd == "cat":
        write_pcap(a.out, [f for path in a.pcaps for f in read_pcap(path)])
        return
    if a.cmd == "learn":
        learn(a)
        return
    if a.cmd == "mix":
        mix(a)
        return
    if a.cmd == "tcp":
        sm = mac(a.src_mac)
        dm = [mac(f"02:70:63:61:70:{int(p):02x}") for p in a.ports.split(",")]
        dst0 = ipaddress.IPv4Address("198.51.100.1")
        steps = {"syn": [], "ack": [], "data": []}
        for i in range(a.flows):
            src, sport, isn = tcp_client(i)
            dst = dst0 + (i % 7)
            ack = (isn + SERVER_ISN_OFFSET + 1) % 2**32
            steps["syn"].append(tcp_segment(sm, dm[0], src, dst, sport, 80, isn, 0, 0x02, b""))
            steps["ack"].append(tcp_segment(sm, dm[1], src, dst, sport, 80, (isn + 1) % 2**32, ack, 0x10, b""))
            steps["data"].append(tcp_segment(sm, dm[2], src, dst, sport, 80, (isn + 1) % 2**32, ack, 0x18, bytes(6)))
        write_steps(a.outdir, steps)
        return
    if a.cmd == "tcp-reflect":
        sm, dm = mac(a.src_mac), mac(a.dst_mac)
        frames = []
        for f in read_pcap(a.sent):
            ihl = (f[14] & 15) * 4
            if len(f) < 14 + ihl + 20 or f[23] != 6 or f[14 + ihl + 13] != 0x02:
                continue
            src, dst = ipaddress.IPv4Address(f[26:30]), ipaddress.IPv4Address(f[30:34])
            sport, dport, seq = struct.unpack("!HHI", f[14 + ihl:14 + ihl + 8])
            frames.append(tcp_segment(sm, dm, dst, src, dport, sport, (seq + SERVER_ISN_OFFSET) % 2**32,
                                      (seq + 1) % 2**32, 0x12, b""))
        if not frames:
            raise SystemExit(f"tcp-reflect: no SYN in {a.sent}")
        write_pcap(a.out, frames)
        return
    if a.cmd == "pptp-control":
        cl, sv = ipaddress.IPv4Address(a.client), ipaddress.IPv4Address(a.server)
        pub, pp = ipaddress.IPv4Address(a.public), a.public_port
        sm = mac(a.src_mac)
        ports = [int(p) for p in a.ports.split(",")]
        dm = [mac(f"02:70:63:61:70:{p:02x}") for p in ports]
        sccrq = pptp_message(1, 156, struct.pack("!H", 0x0100))
        sccrp = pptp_message(2, 156, struct.pack("!HBB", 0x0100, 1, 0))
        steps = {
            "c1": [tcp_segment(sm, dm[0], cl, sv, 40000, 1723, 1000, 0, 0x02, b"")],
            "s1": [tcp_segment(sm, dm[1], sv, pub, 1723, pp, 5000, 1001, 0x12, b"")],
            "c2": [tcp_segment(sm, dm[2], cl, sv, 40000, 1723, 1001, 5001, 0x10, b""),
                   tcp_segment(sm, dm[2], cl, sv, 40000, 1723, 1001, 5001, 0x18, sccrq)],
            "s2": [tcp_segment(sm, dm[3], sv, pub, 1723, pp, 5001, 1157, 0x18, sccrp)],
            "c3": [tcp_segment(sm, dm[4], cl, sv, 40000, 1723, 1157, 5157, 0x18, ocrq(a.call_id))],
        }
        write_steps(a.outdir, steps)
        return
    if a.cmd == "flood":
        sm, dm = mac(a.src_mac), mac(a.dst_mac)
        frames = []
        for i in range(a.frames):
            if a.kind == "syn":
                src = ipaddress.IPv4Address("192.168.2.1") + (i % 250)
                dst = ipaddress.IPv4Address("198.19.0.1") + (i * 7919 % 65000)
                frames.append(tcp_segment(sm, dm, src, dst, 1024 + i % 60000, 80, i * 2654435761 % 2**32, 0, 0x02, b""))
            else:
                src = ipaddress.IPv4Address("198.18.0.1") + (i % 200)
                dst = ipaddress.IPv4Address("198.51.100.10") + (i % 4)
                if a.kind == "gre":
                    frames.append(gre_frame(sm, dm, src, dst, (i * 40503) % 65536, i, 60))
                else:
                    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 48, i % 65536, 0x2000 | (1 + i % 100), 64, 17, 0,
                                     src.packed, dst.packed) + bytes(28)
                    ip = ip[:10] + struct.pack("!H", checksum(ip[:20])) + ip[12:]
                    frames.append(dm + sm + b"\x08\x00" + ip)
        write_pcap(a.out, frames)
        return
    if a.cmd == "pptp-echo-flood":
        cl, sv = ipaddress.IPv4Address(a.client), ipaddress.IPv4Address(a.server)
        sm, dm = mac(a.src_mac), mac(a.dst_mac)
        # After SCCRQ (156 bytes) and OCRQ (168) from ISN 1000.
        first = 1000 + 1 + 156 + 168
        echo = lambda i: pptp_message(5, 16, struct.pack("!I", i))
        write_pcap(a.out, [tcp_segment(sm, dm, cl, sv, 40000, 1723, first + 16 * i, 5157, 0x18, echo(i))
                           for i in range(a.frames)])
        return
    if a.cmd == "gre":
        s, p = ipaddress.IPv4Address(a.server), ipaddress.IPv4Address(a.public)
        if a.call_ids:
            first, last = (int(x) for x in a.call_ids.split("-"))
            ids = list(range(first, last + 1))
        elif a.call_id is not None:
            ids = [a.call_id]
        else:
            ap.error("gre: --call-id or --call-ids")
        frames = max(a.frames, len(ids))
        write_pcap(a.out, [gre_frame(mac(a.src_mac), mac(a.dst_mac), s, p, ids[i % len(ids)], i, a.size)
                           for i in range(frames)])
        return
    src0, dst0 = ipaddress.IPv4Address(a.src), ipaddress.IPv4Address(a.dst)
    paths = [a.out] if a.queues == 1 else [f"{a.out}.q{q}.pcap" for q in range(a.queues)]
    files = [open(p, "wb") for p in paths]
    counts = [0] * len(files)
    for f in files:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i in range(a.flows):
        # Spread flows over source hosts (/24) and ports, as many clients would.
        src = src0 + (i % 200)
        sport = 1024 + (i // 200) % 60000
        dst = dst0 + (i % 7)
        frame = udp_frame(mac(a.src_mac), mac(a.dst_mac), src, dst, sport, 53, a.size)
        q = 0 if a.queues == 1 else rss_queue(src, dst, sport, 53, a.queues) if a.split == "rss" else i % a.queues
        n = counts[q]
        counts[q] += 1
        files[q].write(struct.pack("<IIII", n // 1000000, n % 1000000, len(frame), len(frame)))
        files[q].write(frame)
    for f in files:
        f.close()


if __name__ == "__main__":
    main()
