#!/usr/bin/env python3
"""Writes pcap files of synthetic traffic for benchmarks (no dependencies).

udp OUT --dst-mac MAC [--flows N] [--size 60] [--src 192.168.1.0/24-style base] [--dst ...]
    N distinct UDP flows, one frame each, `size` bytes without FCS (60 = 64 on the wire).
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
    a = ap.parse_args()
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
