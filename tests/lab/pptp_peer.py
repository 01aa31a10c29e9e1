#!/usr/bin/env python3
"""A minimal PPTP client and server for the lab (RFC 2637 control messages over real TCP,
enhanced GRE over raw IP sockets), to create PPTP sessions where kernel PPP is missing.

server ADDR [CALL_ID] [CALLS]  accept CALLS control connections (default 1): answer SCCRQ and
                        OCRQ (own Call IDs CALL_ID, CALL_ID+1, ...), then echo every GRE
                        packet back to its sender with the peer's Call ID as key, until
                        the client sends Stop-Control-Connection-Request
client SERVER LOCAL CALL_ID [PACKETS]  open a control connection from LOCAL, call out with
                        CALL_ID, send PACKETS GRE packets (default 20) to the server's Call
                        ID and count the echoes that come back with CALL_ID; print
                        "tunnel up: sent N, echoed M" (exit 1 if M < N); then hold the
                        control connection HOLD seconds (env, default 0) and stop it
"""
import os
import select
import socket
import struct
import sys
import time

COOKIE = 0x1A2B3C4D
TIMEOUT = 10


def message(kind, body):
    length = 12 + len(body)
    return struct.pack("!HHIHH", length, 1, COOKIE, kind, 0) + body


def sccrq():
    return message(1, struct.pack("!HHIIHH", 0x0100, 0, 1, 1, 1, 0) + b"lab".ljust(64, b"\0") + b"py".ljust(64, b"\0"))


def sccrp():
    return message(2, struct.pack("!HBBIIHH", 0x0100, 1, 0, 1, 1, 1, 0) + b"lab".ljust(64, b"\0") + b"py".ljust(64, b"\0"))


def ocrq(call_id, serial):
    body = struct.pack("!HHIIIIHHHH", call_id, serial, 300, 100000000, 3, 3, 64, 0, 0, 0)
    return message(7, body + bytes(128))


def ocrp(call_id, peer):
    return message(8, struct.pack("!HHBBHIHHI", call_id, peer, 1, 0, 0, 100000000, 64, 0, 0))


def stop_ccrq():
    return message(3, struct.pack("!BBH", 1, 0, 0))


def read_message(conn):
    head = b""
    while len(head) < 12:
        chunk = conn.recv(12 - len(head))
        if not chunk:
            return None, None
        head += chunk
    length, _, cookie, kind, _ = struct.unpack("!HHIHH", head)
    if cookie != COOKIE:
        raise ValueError("bad magic cookie")
    body = b""
    while len(body) < length - 12:
        chunk = conn.recv(length - 12 - len(body))
        if not chunk:
            return None, None
        body += chunk
    return kind, body


def gre(call_id, seq, payload):
    # K and S set, version 1, protocol PPP.
    return struct.pack("!BBHHHI", 0x30, 0x01, 0x880B, len(payload), call_id, seq) + payload


def parse_gre(packet):
    """(source, call id, payload) of a raw IPv4 packet carrying enhanced GRE."""
    ihl = (packet[0] & 0x0F) * 4
    src = socket.inet_ntoa(packet[12:16])
    g = packet[ihl:]
    if len(g) < 12 or g[1] & 0x07 != 1:
        return None
    length, call_id = struct.unpack("!HH", g[4:8])
    # Sequence number (S) and acknowledgment (A) follow the key when present.
    at = 8 + (4 if g[0] & 0x10 else 0) + (4 if g[1] & 0x80 else 0)
    return src, call_id, g[at:at + length]


def server(addr, first_call_id=128, calls=1):
    first_call_id, calls = int(first_call_id), int(calls)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
    raw.bind((addr, 0))
    with socket.create_server((addr, 1723)) as srv:
        srv.settimeout(60)
        conns, peers = [], {}
        for n in range(calls):
            conn, peer = srv.accept()
            conn.settimeout(TIMEOUT)
            print(f"control from {peer[0]}:{peer[1]}", flush=True)
            kind, _ = read_message(conn)
            assert kind == 1, f"expected SCCRQ, got {kind}"
            conn.sendall(sccrp())
            kind, body = read_message(conn)
            assert kind == 7, f"expected OCRQ, got {kind}"
            their = struct.unpack("!H", body[0:2])[0]
            mine = first_call_id + n
            conn.sendall(ocrp(mine, their))
            peers[mine] = (peer[0], their)
            print(f"call: their Call ID {their}, ours {mine}", flush=True)
            conns.append(conn)
        # Echo GRE until every client has stopped.
        open_conns = list(conns)
        while open_conns:
            ready, _, _ = select.select([raw] + open_conns, [], [], 60)
            if not ready:
                break
            for r in ready:
                if r is raw:
                    packet = raw.recv(65535)
                    parsed = parse_gre(packet)
                    if parsed and parsed[1] in peers and parsed[2]:
                        host, their = peers[parsed[1]]
                        raw.sendto(gre(their, 1, parsed[2]), (parsed[0], 0))
                else:
                    kind, _ = read_message(r)
                    if kind in (None, 3):
                        open_conns.remove(r)
                        r.close()
    return 0


def client(server_addr, local, call_id, packets=20):
    call_id, packets = int(call_id), int(packets)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
    raw.bind((local, 0))
    raw.settimeout(1)
    conn = socket.create_connection((server_addr, 1723), timeout=TIMEOUT, source_address=(local, 0))
    conn.sendall(sccrq())
    kind, _ = read_message(conn)
    assert kind == 2, f"expected SCCRP, got {kind}"
    conn.sendall(ocrq(call_id, 1))
    kind, body = read_message(conn)
    assert kind == 8, f"expected OCRP, got {kind}"
    theirs, peer = struct.unpack("!HH", body[0:4])
    assert peer == call_id, f"OCRP names Call ID {peer}, ours is {call_id}"
    echoed = 0
    deadline = time.time() + TIMEOUT
    for seq in range(packets):
        raw.sendto(gre(theirs, seq, b"\xff\x03" + os.urandom(30)), (server_addr, 0))
        while time.time() < deadline:
            try:
                parsed = parse_gre(raw.recv(65535))
            except socket.timeout:
                break
            if parsed and parsed[0] == server_addr and parsed[1] == call_id:
                echoed += 1
                break
    print(f"tunnel up: sent {packets}, echoed {echoed}", flush=True)
    time.sleep(float(os.environ.get("HOLD", "0")))
    conn.sendall(stop_ccrq())
    conn.close()
    return 0 if echoed == packets else 1


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    sys.exit({"server": server, "client": client}[cmd](*args))
