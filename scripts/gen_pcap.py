#!/usr/bin/env python3
"""Writes pcap files of synthetic traffic for benchmarks (no dependencies).

udp OUT --dst-mac MAC [--flows N] [--size 60] [--src 192.168.1.0/24-style base] [--dst ...]
    N distinct UDP flows, one frame each, `size` bytes without FCS (60 = 64 on the wire).
pptp-ocrq OUT --dst-mac MAC [--call-id ID]
    A PPTP client's SYN to port 1723 and its Outgoing-Call-Request: the control segments
    that make the ALG announce server map 1.
gre OUT --dst-mac MAC --call-id ID [--frames N] [--size 60]
    Enhanced GRE (PPTP data) from the server to the public address, key ID.
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


def tcp_frame(src_mac, dst_mac, src, dst, sport, dport, seq, flags, payload):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 0x50, flags, 65535, 0, 0) + payload
    pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, 6, len(seg))
    seg = seg[:16] + struct.pack("!H", checksum(pseudo + seg)) + seg[18:]
    frame = dst_mac + src_mac + b"\x08\x00" + ipv4(src, dst, 6, seg)
    return frame + bytes(max(0, 60 - len(frame)))


def ocrq(call_id):
    m = struct.pack("!HHIHH", 168, 1, 0x1A2B3C4D, 7, 0) + struct.pack("!HH", call_id, 1)
    return m + bytes(168 - len(m))


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
    o = sub.add_parser("pptp-ocrq")
    o.add_argument("out")
    o.add_argument("--dst-mac", required=True)
    o.add_argument("--src-mac", default="02:00:00:00:01:01")
    o.add_argument("--call-id", type=int, default=0x1234)
    o.add_argument("--client", default="192.168.1.1")
    o.add_argument("--server", default="198.51.100.7")
    g = sub.add_parser("gre")
    g.add_argument("out")
    g.add_argument("--dst-mac", required=True)
    g.add_argument("--src-mac", default="02:00:00:00:01:01")
    g.add_argument("--call-id", type=int, required=True)
    g.add_argument("--frames", type=int, default=1024)
    g.add_argument("--size", type=int, default=60)
    g.add_argument("--server", default="198.51.100.7")
    g.add_argument("--public", default="203.0.113.2")
    a = ap.parse_args()
    if a.cmd == "pptp-ocrq":
        c, s = ipaddress.IPv4Address(a.client), ipaddress.IPv4Address(a.server)
        sm, dm = mac(a.src_mac), mac(a.dst_mac)
        write_pcap(a.out, [
            tcp_frame(sm, dm, c, s, 40000, 1723, 1000, 0x02, b""),
            tcp_frame(sm, dm, c, s, 40000, 1723, 1001, 0x18, ocrq(a.call_id)),
        ])
        return
    if a.cmd == "gre":
        s, p = ipaddress.IPv4Address(a.server), ipaddress.IPv4Address(a.public)
        write_pcap(a.out, [gre_frame(mac(a.src_mac), mac(a.dst_mac), s, p, a.call_id, i, a.size)
                           for i in range(a.frames)])
        return
    src0, dst0 = ipaddress.IPv4Address(a.src), ipaddress.IPv4Address(a.dst)
    with open(a.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(a.flows):
            # Spread flows over source hosts (/24) and ports, as many clients would.
            src = src0 + (i % 200)
            sport = 1024 + (i // 200) % 60000
            frame = udp_frame(mac(a.src_mac), mac(a.dst_mac), src, dst0 + (i % 7), sport, 53, a.size)
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(frame), len(frame)))
            f.write(frame)


if __name__ == "__main__":
    main()
