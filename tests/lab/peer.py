#!/usr/bin/env python3
"""Traffic peers for the lab.

tcp-serve ADDR PORT [CONNS]  accept CONNS connections (default 1); print each peer's
                             address; answer with the SHA-256 of what was received
tcp-send ADDR PORT BYTES     send BYTES random bytes, half-close, check the digest
tcp-stream ADDR PORT STOP    send random bytes until the file STOP exists, printing
                             "sent N" as it goes; half-close, check the digest
udp-serve ADDR PORT [COUNT]  answer COUNT datagrams (default 1) with "seen ADDR:PORT"
udp-send ADDR PORT [TRIES]   send a datagram, print the answer; up to TRIES sends (default
                             1) if none comes within a second (exit 1 without an answer)
syn ADDR PORT COUNT          send exactly COUNT TCP SYNs (a raw socket: the kernel's TCP,
                             which retransmits as it sees fit, is not involved)
"""
import hashlib
import os
import socket
import sys

TIMEOUT = 20


def tcp_serve(addr, port, conns=1):
    with socket.create_server((addr, int(port))) as srv:
        srv.settimeout(TIMEOUT)
        print("listening", flush=True)
        for _ in range(int(conns)):
            conn, peer = srv.accept()
            print(f"peer {peer[0]}:{peer[1]}", flush=True)
            with conn:
                conn.settimeout(TIMEOUT)
                h = hashlib.sha256()
                while chunk := conn.recv(65536):
                    h.update(chunk)
                conn.sendall(h.digest())
    return 0


def tcp_send(addr, port, nbytes):
    data = os.urandom(int(nbytes))
    with socket.create_connection((addr, int(port)), timeout=TIMEOUT) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        digest = b""
        while len(digest) < 32 and (chunk := s.recv(64)):
            digest += chunk
    ok = digest == hashlib.sha256(data).digest()
    print(f"sent {len(data)} bytes, digest {'matches' if ok else 'DIFFERS'}")
    return 0 if ok else 1


def tcp_stream(addr, port, stop):
    """Keeps a transfer running (about 1 MB/s) until STOP exists: a test can change
    things underneath it and see it carry on."""
    import time
    h, sent = hashlib.sha256(), 0
    with socket.create_connection((addr, int(port)), timeout=TIMEOUT) as s:
        while not os.path.exists(stop):
            chunk = os.urandom(16384)
            s.sendall(chunk)
            h.update(chunk)
            sent += len(chunk)
            print(f"sent {sent}", flush=True)
            time.sleep(0.015)
        s.shutdown(socket.SHUT_WR)
        digest = b""
        while len(digest) < 32 and (chunk := s.recv(64)):
            digest += chunk
    ok = digest == h.digest()
    print(f"done: sent {sent} bytes, digest {'matches' if ok else 'DIFFERS'}", flush=True)
    return 0 if ok else 1


def udp_serve(addr, port, count=1):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((addr, int(port)))
        s.settimeout(TIMEOUT)
        for _ in range(int(count)):
            _, peer = s.recvfrom(2048)
            print(f"peer {peer[0]}:{peer[1]}", flush=True)
            s.sendto(f"seen {peer[0]}:{peer[1]}".encode(), peer)
    return 0


def udp_send(addr, port, tries=1):
    """Sends until answered, at most TRIES times (a datagram may be lost, as UDP allows)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3 if int(tries) == 1 else 1)
        for attempt in range(1, int(tries) + 1):
            s.sendto(b"hello", (addr, int(port)))
            try:
                answer, _ = s.recvfrom(2048)
            except socket.timeout:
                continue
            print(answer.decode() + (f" (try {attempt})" if attempt > 1 else ""))
            return 0
    print("no answer")
    return 1


def syn(addr, port, count):
    import random
    import struct
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((addr, int(port)))
        src = probe.getsockname()[0]
    sport = random.randint(20000, 60000)
    header = struct.pack("!HHIIBBHHH", sport, int(port), random.getrandbits(32), 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(addr) + struct.pack("!BBH", 0, 6, len(header))
    total = sum(struct.unpack("!%dH" % ((len(pseudo) + len(header)) // 2), pseudo + header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    segment = header[:16] + struct.pack("!H", ~total & 0xFFFF) + header[18:]
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP) as s:
        for _ in range(int(count)):
            s.sendto(segment, (addr, 0))
    print(f"sent {count} SYNs from {src}:{sport}")
    return 0


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    commands = {
        "tcp-serve": tcp_serve,
        "tcp-send": tcp_send,
        "tcp-stream": tcp_stream,
        "udp-serve": udp_serve,
        "udp-send": udp_send,
        "syn": syn,
    }
    sys.exit(commands[cmd](*args))
