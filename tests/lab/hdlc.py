"""PPP in asynchronous HDLC framing (RFC 1662), as pptp and pptpd exchange it with pppd,
and the LCP echo that the lab's peers use to carry data through a tunnel."""
import struct

FLAG, ESC = 0x7E, 0x7D
LCP = 0xC021
ECHO_REQUEST, ECHO_REPLY = 9, 10


def _fcs_table():
    table = []
    for b in range(256):
        v = b
        for _ in range(8):
            v = (v >> 1) ^ 0x8408 if v & 1 else v >> 1
        table.append(v)
    return table


FCS_TABLE = _fcs_table()
GOOD_FCS = 0xF0B8


def fcs16(data, fcs=0xFFFF):
    for b in data:
        fcs = (fcs >> 8) ^ FCS_TABLE[(fcs ^ b) & 0xFF]
    return fcs


def encode(protocol, info):
    """One PPP frame: address, control, protocol, information, FCS; escaped and flagged."""
    body = bytes([0xFF, 0x03]) + struct.pack("!H", protocol) + info
    body += struct.pack("<H", fcs16(body) ^ 0xFFFF)
    out = bytearray([FLAG])
    for b in body:
        if b < 0x20 or b in (FLAG, ESC):
            out += bytes([ESC, b ^ 0x20])
        else:
            out.append(b)
    out.append(FLAG)
    return bytes(out)


class Decoder:
    """Feeds bytes, yields (protocol, information) of frames with a good FCS."""

    def __init__(self):
        self.buf = bytearray()
        self.bad = 0

    def feed(self, data):
        frames = []
        for b in data:
            if b == FLAG:
                if self.buf:
                    frame = self._unescape(bytes(self.buf))
                    self.buf.clear()
                    if len(frame) >= 4 and fcs16(frame) == GOOD_FCS:
                        frame = frame[:-2]
                        if frame[:2] == b"\xff\x03":
                            frame = frame[2:]
                        if len(frame) >= 2:
                            frames.append((struct.unpack("!H", frame[:2])[0], frame[2:]))
                    else:
                        self.bad += 1
            else:
                self.buf.append(b)
        return frames

    @staticmethod
    def _unescape(data):
        out, esc = bytearray(), False
        for b in data:
            if esc:
                out.append(b ^ 0x20)
                esc = False
            elif b == ESC:
                esc = True
            else:
                out.append(b)
        return bytes(out)


def lcp_echo(code, ident, data=b""):
    """An LCP Echo-Request or -Reply (magic number 0)."""
    return struct.pack("!BBHI", code, ident, 8 + len(data), 0) + data
