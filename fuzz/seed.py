#!/usr/bin/python3
"""Seeds the fuzz corpora from the real captures in tests/pcaps (and a few made-up PPTP
conversations). Deterministic: run again, same files. Usage: fuzz/seed.py"""
import os, random, struct, sys
from scapy.all import rdpcap, PcapNgReader, Ether, IP, raw

ROOT = os.path.dirname(os.path.abspath(__file__))
PCAPS = os.path.join(ROOT, "..", "tests", "pcaps")
out = lambda target, name, data: open(os.path.join(ROOT, "corpus", target, name), "wb").write(data)

def frames(path):
    try:
        pkts = rdpcap(path)
    except Exception:
        return []
    res = []
    for p in pkts:
        ip = p.getlayer(IP)
        if ip is None:
            continue
        res.append(raw(ip))
    return res

ETH = bytes.fromhex("0200000000a0" "020000000001" "0800")
for name in sorted(os.listdir(PCAPS)):
    if name.endswith(".txt"):
        continue
    ips = frames(os.path.join(PCAPS, name))
    base = os.path.splitext(name)[0]
    for i, ip in enumerate(ips[:20]):
        out("packet_views", f"{base}-{i}", ETH + ip)
    # The pipeline: a step per frame, as raw frames (template 7), the client inside
    # (frames from 192.168.x, 10.x or the first source seen), the rest outside.
    steps = b"\x00"
    first_src = ips[0][12:16] if ips else b""
    for ip in ips[:60]:
        inside = ip[12:16] == first_src
        steps += bytes([0 if inside else 1]) + b"\x00\x00" + b"\x00\x00\x00\x00" + b"\x07"
        steps += struct.pack(">H", len(ip)) + ip
    if ips:
        out("pipeline", base, steps)

rng = random.Random(2637)
# PPTP: a start, a call each way, teardown; then random variations.
conv = bytes([0, 0, 7, 3, 3, 3, 3, 6])
conv += bytes([0, 7]) + b"\x00\x07\x00\x01\x00"            # OCRQ client 0
conv += bytes([2 | 4, 8]) + b"\x00\x80\x00\x00\x01" + b"\x00\x00"  # OCRP naming the seen ID
conv += bytes([0, 12]) + b"\x00\x07\x00\x00\x00"           # CCRQ
conv += bytes([2, 13]) + b"\x00\x80\x00\x00\x03"           # CDN
steps = b"".join(bytes([s, rng.randrange(64), 0]) for s in [0, 2, 0, 2, 0, 2, 0, 2, 0, 2] * 4)
out("pptp_stream", "conversation", conv + steps)
for i in range(24):
    out("pptp_stream", f"random-{i}", bytes(rng.randrange(256) for _ in range(rng.randrange(64, 600))))
for i in range(8):
    out("pipeline", f"random-{i}", bytes(rng.randrange(256) for _ in range(rng.randrange(64, 900))))
