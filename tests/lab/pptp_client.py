#!/usr/bin/env python3
"""Drives a real PPTP client (Debian's pptp-linux) without kernel PPP, from inside a
client namespace: pptp runs with --nolaunchpppd and speaks the tunnel's PPP stream
(async HDLC) on its fd 0, one end of a socketpair this driver holds. The driver sends LCP
Echo-Requests through the tunnel (the server side answers them), and reports how long
the tunnel took to carry data and how many echo round trips per second it carried.

pptp_client.py SERVER LOCAL [--call-id HEX] [--echoes N] [--hold SECONDS] [--timeout S]

--call-id makes pptp pick that first Call ID (it reads two bytes of /dev/random; a file
holding them is bind-mounted over it in a private mount namespace, which also gives the
client its own /run, so its own /run/pptp). Prints one line:
  up 1.104 s, echoes 200/200, 9521 round trips/s
and exits 0 if every echo came back.
"""
import argparse
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hdlc  # noqa: E402


class Tunnel:
    def __init__(self, server, local, call_id, log):
        self.mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.decoder = hdlc.Decoder()
        self.tmp = tempfile.mkdtemp(prefix="pptp-client-")
        # A private /run: the client's own call manager socket, and nothing left on the host.
        mounts = "mount -t tmpfs tmpfs /run && mkdir /run/pptp"
        if call_id is not None:
            random_file = os.path.join(self.tmp, "random")
            with open(random_file, "wb") as f:
                # pptp reads the two bytes into a host-order (little-endian) u16.
                f.write(call_id.to_bytes(2, "little") * 512)
            mounts += f" && mount --bind {random_file} /dev/random"
        command = f"{mounts} && exec pptp {server} --nolaunchpppd --localbind {local} --nohostroute --loglevel 1"
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", command],
            stdin=theirs.fileno(),
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        theirs.close()
        self.next_id = 0

    def send_echo(self, data):
        self.next_id = (self.next_id + 1) % 256
        self.mine.sendall(hdlc.encode(hdlc.LCP, hdlc.lcp_echo(hdlc.ECHO_REQUEST, self.next_id, data)))
        return self.next_id

    def replies(self, timeout):
        """Echo-Reply ids that arrive within `timeout`."""
        ready, _, _ = select.select([self.mine], [], [], timeout)
        if not ready:
            return []
        data = self.mine.recv(65536)
        if not data:
            raise EOFError("pptp closed the PPP stream")
        return [
            info[1]
            for protocol, info in self.decoder.feed(data)
            if protocol == hdlc.LCP and len(info) >= 8 and info[0] == hdlc.ECHO_REPLY
        ]

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.mine.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server")
    ap.add_argument("local")
    ap.add_argument("--call-id", type=lambda s: int(s, 16))
    ap.add_argument("--echoes", type=int, default=200)
    ap.add_argument("--hold", type=float, default=0)
    ap.add_argument("--timeout", type=float, default=15)
    ap.add_argument("--log", default="/dev/null")
    a = ap.parse_args()
    with open(a.log, "ab") as log:
        t = Tunnel(a.server, a.local, a.call_id, log)
    start = time.time()
    up = None
    try:
        # The tunnel carries data once an echo makes the round trip.
        while up is None and time.time() - start < a.timeout:
            ident = t.send_echo(b"setup")
            deadline = time.time() + 0.1
            while time.time() < deadline and up is None:
                if ident in t.replies(max(0.0, deadline - time.time())):
                    up = time.time() - start
        if up is None:
            print(f"no tunnel within {a.timeout:.0f} s")
            return 1
        answered = 0
        begin = time.time()
        for _ in range(a.echoes):
            ident = t.send_echo(os.urandom(32))
            deadline = time.time() + 1
            while time.time() < deadline:
                if ident in t.replies(max(0.0, deadline - time.time())):
                    answered += 1
                    break
        rate = answered / max(time.time() - begin, 1e-9)
        print(f"up {up:.3f} s, echoes {answered}/{a.echoes}, {rate:.0f} round trips/s", flush=True)
        end = time.time() + a.hold
        while time.time() < end:
            t.replies(min(0.5, max(0.0, end - time.time())))
        return 0 if answered == a.echoes else 1
    except EOFError as e:
        print(f"tunnel failed: {e}")
        return 1
    finally:
        t.close()


if __name__ == "__main__":
    sys.exit(main())
