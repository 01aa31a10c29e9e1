#!/usr/bin/env python3
"""TCP transfer check for the lab.

serve ADDR PORT [CONNS]  accept CONNS connections (default 1); answer each with the
                         SHA-256 of everything received, then exit
send ADDR PORT BYTES     send BYTES random bytes, half-close, check the digest; exit 0
                         if it matches
"""
import hashlib
import os
import socket
import sys

TIMEOUT = 20


def serve(addr, port, conns=1):
    with socket.create_server((addr, int(port))) as srv:
        srv.settimeout(TIMEOUT)
        print("listening", flush=True)
        for _ in range(int(conns)):
            conn, _ = srv.accept()
            with conn:
                conn.settimeout(TIMEOUT)
                h = hashlib.sha256()
                while chunk := conn.recv(65536):
                    h.update(chunk)
                conn.sendall(h.digest())


def send(addr, port, nbytes):
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


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    sys.exit(serve(*args) if cmd == "serve" else send(*args))
