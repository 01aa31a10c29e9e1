#!/usr/bin/env python3
"""A minimal PPTP client and server for the lab (RFC 2637 control messages over real TCP,
enhanced GRE over raw IP sockets), to create PPTP sessions where kernel PPP is missing.

server ADDR [CALL_ID] [CONNECTIONS]  accept CONNECTIONS control connections (default 1):
                        answer SCCRQ and every OCRQ (own Call IDs CALL_ID, CALL_ID+1, ...),
                        echo every GRE packet back to its sender with the peer's Call ID
                        as key, until the clients send Stop-Control-Connection-Request
client SERVER LOCAL CALL_ID [PACKETS] [CALLS]  open a control connection from LOCAL, make
                        CALLS outgoing calls (default 1) with Call IDs CALL_ID, CALL_ID+1,
                        ..., send PACKETS GRE packets (default 20) through each and count
                        the echoes; print "tunnel up: sent N, echoed M" (or, with several
                        calls, the echoes per call; exit 1 if any is short); then hold the
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


def server(addr, first_call_id=128, connections=1):
    """Answers SCCRQ and every OCRQ on up to CONNECTIONS control connections, and echoes
    GRE, until every client has sent Stop-Control-Connection-Request (or closed)."""
    next_id, connections = int(first_call_id), int(connections)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
    raw.bind((addr, 0))
    with socket.create_server((addr, 1723)) as srv:
        peers, conns, accepted = {}, [], 0
        while accepted < connections or conns:
            waiting = [raw] + conns + ([srv] if accepted < connections else [])
            ready, _, _ = select.select(waiting, [], [], 60)
            if not ready:
                break
            for r in ready:
                if r is srv:
                    conn, peer = srv.accept()
                    conn.settimeout(TIMEOUT)
                    print(f"control from {peer[0]}:{peer[1]}", flush=True)
                    conns.append(conn)
                    accepted += 1
                elif r is raw:
                    parsed = parse_gre(raw.recv(65535))
                    if parsed and parsed[1] in peers and parsed[2]:
                        raw.sendto(gre(peers[parsed[1]], 1, parsed[2]), (parsed[0], 0))
                else:
                    kind, body = read_message(r)
                    if kind == 1:
                        r.sendall(sccrp())
                    elif kind == 7:
                        their = struct.unpack("!H", body[0:2])[0]
                        peers[next_id] = their
                        r.sendall(ocrp(next_id, their))
                        print(f"call: their Call ID {their}, ours {next_id}", flush=True)
                        next_id += 1
                    elif kind in (None, 3):
                        conns.remove(r)
                        r.close()
    return 0


def client(server_addr, local, call_id, packets=20, calls=1):
    """CALLS outgoing calls on one control connection (Call IDs CALL_ID, CALL_ID+1, ...),
    PACKETS GRE packets through each, the echoes counted per call."""
    call_id, packets, calls = int(call_id), int(packets), int(calls)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
    raw.bind((local, 0))
    raw.settimeout(1)
    conn = socket.create_connection((server_addr, 1723), timeout=TIMEOUT, source_address=(local, 0))
    conn.sendall(sccrq())
    kind, _ = read_message(conn)
    assert kind == 2, f"expected SCCRP, got {kind}"
    theirs = {}
    for k in range(calls):
        conn.sendall(ocrq(call_id + k, k + 1))
        kind, body = read_message(conn)
        assert kind == 8, f"expected OCRP, got {kind}"
        server_id, peer = struct.unpack("!HH", body[0:4])
        assert peer == call_id + k, f"OCRP names Call ID {peer}, ours is {call_id + k}"
        theirs[call_id + k] = server_id
    echoed = {mine: 0 for mine in theirs}
    deadline = time.time() + TIMEOUT
    for seq in range(packets):
        for mine, server_id in theirs.items():
            raw.sendto(gre(server_id, seq, b"\xff\x03" + os.urandom(30)), (server_addr, 0))
            while time.time() < deadline:
                try:
                    parsed = parse_gre(raw.recv(65535))
                except socket.timeout:
                    break
                if parsed and parsed[0] == server_addr and parsed[1] == mine:
                    echoed[mine] += 1
                    break
    total = sum(echoed.values())
    if calls == 1:
        print(f"tunnel up: sent {packets}, echoed {total}", flush=True)
    else:
        per_call = ", ".join(f"{n}" for n in echoed.values())
        print(f"{calls} calls on one connection: sent {packets} each, echoed {per_call}", flush=True)
    time.sleep(float(os.environ.get("HOLD", "0")))
    conn.sendall(stop_ccrq())
    conn.close()
    return 0 if total == packets * calls else 1


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    sys.exit({"server": server, "client": client}[cmd](*args))
