#!/usr/bin/python3
"""What pptpd runs instead of pppd in the lab (no kernel PPP here): it gets the tunnel's
PPP stream on a pty as stdin/stdout, answers every LCP Echo-Request with an Echo-Reply,
and ignores the rest. pptpctrl passes on nothing from the tunnel until this side has
written, so it starts with an Echo-Request of its own."""
import os
import sys
import termios
import tty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hdlc  # noqa: E402


def main():
    try:
        tty.setraw(0)
        attrs = termios.tcgetattr(0)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(0, termios.TCSANOW, attrs)
    except termios.error:
        pass
    os.write(1, hdlc.encode(hdlc.LCP, hdlc.lcp_echo(hdlc.ECHO_REQUEST, 0, b"hello")))
    decoder = hdlc.Decoder()
    while True:
        try:
            data = os.read(0, 65536)
        except OSError:
            return 0
        if not data:
            return 0
        for protocol, info in decoder.feed(data):
            if protocol == hdlc.LCP and len(info) >= 8 and info[0] == hdlc.ECHO_REQUEST:
                reply = bytes([hdlc.ECHO_REPLY]) + info[1:]
                os.write(1, hdlc.encode(hdlc.LCP, reply))


if __name__ == "__main__":
    sys.exit(main())
