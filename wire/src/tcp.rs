//! TCP segments (RFC 9293).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Source Port          |       Destination Port        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Sequence Number                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Acknowledgment Number                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Data |       |C|E|U|A|P|R|S|F|                               |
//! | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//! |       |       |R|E|G|K|H|T|N|N|                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Checksum            |         Urgent Pointer        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Options (Data Offset > 5)                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The buffer must be exactly the segment (the IPv4 payload): TCP has no
//! length field of its own, and the checksum covers every byte given.
//! Invariant after `new_checked`: `HEADER_LEN <= header_len <= buffer.len()`;
//! once `new_checked` succeeds, no accessor panics. A buffer shorter than
//! 20 bytes, or than the data offset, is [`ParseError::TcpTruncated`]; a
//! data offset below 5 is `TcpBadHeaderLen`.

use core::net::Ipv4Addr;
use core::ops::BitOr;

use crate::checksum;
use crate::{be, Field, ParseError};

mod field {
    use crate::Field;

    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const SEQ_NUM: Field = 4..8;
    pub const ACK_NUM: Field = 8..12;
    pub const DATA_OFF: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WIN_SIZE: Field = 14..16;
    pub const CHECKSUM: Field = 16..18;
    pub const URGENT: Field = 18..20;
}

/// Length of a TCP header without options.
///
/// Also available as an associated const of the view.
pub const HEADER_LEN: usize = field::URGENT.end;

const PROTO_TCP: u8 = 6;

/// The eight control bits of byte 13.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: TcpFlags = TcpFlags(0x01);
    pub const SYN: TcpFlags = TcpFlags(0x02);
    pub const RST: TcpFlags = TcpFlags(0x04);
    pub const PSH: TcpFlags = TcpFlags(0x08);
    pub const ACK: TcpFlags = TcpFlags(0x10);
    pub const URG: TcpFlags = TcpFlags(0x20);
    pub const ECE: TcpFlags = TcpFlags(0x40);
    pub const CWR: TcpFlags = TcpFlags(0x80);

    /// True if every bit of `other` is set in `self`.
    #[inline]
    pub fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    #[inline]
    pub fn bits(self) -> u8 {
        self.0
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;

    #[inline]
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

view! {
    /// A view of a TCP segment.
    TcpPacket
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// The minimum header length (no options).
    pub const HEADER_LEN: usize = self::HEADER_LEN;

    #[inline]
    pub fn check_len(&self) -> Result<(), ParseError> {
        let len = self.buffer.as_ref().len();
        if len < Self::HEADER_LEN {
            return Err(ParseError::TcpTruncated);
        }
        let header_len = usize::from(self.header_len());
        if header_len < Self::HEADER_LEN {
            return Err(ParseError::TcpBadHeaderLen);
        }
        if header_len > len {
            return Err(ParseError::TcpTruncated);
        }
        Ok(())
    }

    #[inline]
    fn read_u16(&self, f: Field) -> u16 {
        be::u16_at(self.buffer.as_ref(), f)
    }

    #[inline]
    fn read_u32(&self, f: Field) -> u32 {
        be::u32_at(self.buffer.as_ref(), f)
    }

    #[inline]
    pub fn src_port(&self) -> u16 {
        self.read_u16(field::SRC_PORT)
    }

    #[inline]
    pub fn dst_port(&self) -> u16 {
        self.read_u16(field::DST_PORT)
    }

    #[inline]
    pub fn seq_number(&self) -> u32 {
        self.read_u32(field::SEQ_NUM)
    }

    #[inline]
    pub fn ack_number(&self) -> u32 {
        self.read_u32(field::ACK_NUM)
    }

    /// Header length in bytes (data offset × 4), options included.
    #[inline]
    pub fn header_len(&self) -> u8 {
        (self.buffer.as_ref()[field::DATA_OFF] >> 4) * 4
    }

    #[inline]
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.buffer.as_ref()[field::FLAGS])
    }

    #[inline]
    pub fn window_len(&self) -> u16 {
        self.read_u16(field::WIN_SIZE)
    }

    #[inline]
    pub fn checksum(&self) -> u16 {
        self.read_u16(field::CHECKSUM)
    }

    #[inline]
    pub fn urgent_at(&self) -> u16 {
        self.read_u16(field::URGENT)
    }

    /// The options, between the fixed header and the payload.
    #[inline]
    pub fn options(&self) -> &[u8] {
        let start = Self::HEADER_LEN.min(self.payload_start());
        &self.buffer.as_ref()[start..self.payload_start()]
    }

    /// The window scale option's shift (RFC 7323), if the options carry one.
    #[inline]
    pub fn window_scale(&self) -> Option<u8> {
        let opts = self.options();
        let mut i = 0;
        while let Some(&kind) = opts.get(i) {
            match kind {
                0 => return None,
                1 => i += 1,
                _ => {
                    let len = usize::from(*opts.get(i + 1)?);
                    if len < 2 {
                        return None;
                    }
                    if kind == 3 && len == 3 {
                        return opts.get(i + 2).copied();
                    }
                    i += len;
                }
            }
        }
        None
    }

    /// Start of the payload, clamped so that a data offset rewritten by a
    /// setter cannot make the slicing accessors panic.
    #[inline]
    fn payload_start(&self) -> usize {
        let data = self.buffer.as_ref();
        usize::from(self.header_len()).min(data.len())
    }

    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.payload_start()..]
    }

    /// Checks the checksum over the pseudo header and the whole buffer.
    #[inline]
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        self.sum_with_pseudo_header(src, dst) == 0xffff
    }

    #[inline]
    fn sum_with_pseudo_header(&self, src: Ipv4Addr, dst: Ipv4Addr) -> u16 {
        let data = self.buffer.as_ref();
        // An IPv4 payload is below 64 KiB, so the length always fits.
        let len = data.len() as u16;
        checksum::fold(checksum::pseudo_header_sum(src, dst, PROTO_TCP, len) + checksum::sum(data))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    #[inline]
    fn write_u16(&mut self, f: Field, value: u16) {
        be::set_u16(self.buffer.as_mut(), f, value);
    }

    #[inline]
    fn write_u32(&mut self, f: Field, value: u32) {
        be::set_u32(self.buffer.as_mut(), f, value);
    }

    #[inline]
    pub fn set_src_port(&mut self, port: u16) {
        self.write_u16(field::SRC_PORT, port);
    }

    #[inline]
    pub fn set_dst_port(&mut self, port: u16) {
        self.write_u16(field::DST_PORT, port);
    }

    #[inline]
    pub fn set_seq_number(&mut self, seq: u32) {
        self.write_u32(field::SEQ_NUM, seq);
    }

    #[inline]
    pub fn set_ack_number(&mut self, ack: u32) {
        self.write_u32(field::ACK_NUM, ack);
    }

    /// Sets the header length in bytes; it is stored in 4-byte units and the
    /// reserved low nibble is cleared.
    #[inline]
    pub fn set_header_len(&mut self, len: u8) {
        self.buffer.as_mut()[field::DATA_OFF] = ((len / 4) & 0x0f) << 4;
    }

    #[inline]
    pub fn set_flags(&mut self, flags: TcpFlags) {
        self.buffer.as_mut()[field::FLAGS] = flags.bits();
    }

    #[inline]
    pub fn set_window_len(&mut self, window: u16) {
        self.write_u16(field::WIN_SIZE, window);
    }

    #[inline]
    pub fn set_checksum(&mut self, checksum: u16) {
        self.write_u16(field::CHECKSUM, checksum);
    }

    #[inline]
    pub fn set_urgent_at(&mut self, urgent: u16) {
        self.write_u16(field::URGENT, urgent);
    }

    #[inline]
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.payload_start();
        let start = Self::HEADER_LEN.min(end);
        &mut self.buffer.as_mut()[start..end]
    }

    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.payload_start();
        &mut self.buffer.as_mut()[start..]
    }

    /// Computes the checksum over the pseudo header and the whole buffer.
    #[inline]
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let csum = !self.sum_with_pseudo_header(src, dst);
        self.set_checksum(csum);
    }
}

/// A TCP header without options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq_number: u32,
    pub ack_number: u32,
    pub flags: TcpFlags,
    pub window_len: u16,
}

impl TcpRepr {
    /// Checks the layout; options are not represented, the checksum is the caller's.
    #[inline]
    pub fn parse<T: AsRef<[u8]>>(packet: &TcpPacket<T>) -> Result<TcpRepr, ParseError> {
        packet.check_len()?;
        Ok(TcpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            seq_number: packet.seq_number(),
            ack_number: packet.ack_number(),
            flags: packet.flags(),
            window_len: packet.window_len(),
        })
    }

    #[inline]
    pub const fn buffer_len(&self, payload_len: usize) -> usize {
        HEADER_LEN + payload_len
    }

    /// Writes a 20-byte header and `payload`, urgent pointer 0, checksum filled.
    ///
    /// # Panics
    ///
    /// If the buffer is shorter than [`Self::buffer_len`]: sized by the caller.
    #[inline]
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut TcpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        payload: &[u8],
    ) {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_seq_number(self.seq_number);
        packet.set_ack_number(self.ack_number);
        packet.set_header_len(HEADER_LEN as u8);
        packet.set_flags(self.flags);
        packet.set_window_len(self.window_len);
        packet.set_urgent_at(0);
        packet.payload_mut()[..payload.len()].copy_from_slice(payload);
        packet.fill_checksum(src, dst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    #[rustfmt::skip]
    static SEGMENT: [u8; 28] = [
        // source port 49152, destination port 80
        0xc0, 0x00, 0x00, 0x50,
        // sequence number
        0x01, 0x02, 0x03, 0x04,
        // acknowledgment number
        0x0a, 0x0b, 0x0c, 0x0d,
        // data offset 6, flags PSH|ACK, window 64240
        0x60, 0x18, 0xfa, 0xf0,
        // checksum, urgent pointer
        0x13, 0x45, 0x00, 0x00,
        // options: MSS 1460
        0x02, 0x04, 0x05, 0xb4,
        // payload
        0x47, 0x45, 0x54, 0x20,
    ];

    #[test]
    fn deconstruct() {
        let buf = SEGMENT;
        let packet = TcpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(packet.src_port(), 49152);
        assert_eq!(packet.dst_port(), 80);
        assert_eq!(packet.seq_number(), 0x0102_0304);
        assert_eq!(packet.ack_number(), 0x0a0b_0c0d);
        assert_eq!(packet.header_len(), 24);
        assert_eq!(packet.flags(), TcpFlags::PSH | TcpFlags::ACK);
        assert!(packet.flags().contains(TcpFlags::ACK));
        assert!(!packet.flags().contains(TcpFlags::SYN | TcpFlags::ACK));
        assert_eq!(packet.window_len(), 64240);
        assert_eq!(packet.checksum(), 0x1345);
        assert_eq!(packet.urgent_at(), 0);
        assert_eq!(packet.options(), &[0x02, 0x04, 0x05, 0xb4]);
        assert_eq!(packet.payload(), b"GET ");
        assert!(packet.verify_checksum(SRC, DST));
        assert!(!packet.verify_checksum(SRC, Ipv4Addr::new(10, 0, 0, 3)));
    }

    #[test]
    fn construct() {
        let mut buf = [0xa5u8; 28];
        let mut packet = TcpPacket::new_unchecked(&mut buf[..]);
        packet.set_src_port(49152);
        packet.set_dst_port(80);
        packet.set_seq_number(0x0102_0304);
        packet.set_ack_number(0x0a0b_0c0d);
        packet.set_header_len(24);
        packet.set_flags(TcpFlags::PSH | TcpFlags::ACK);
        packet.set_window_len(64240);
        packet.set_urgent_at(0);
        packet.options_mut().copy_from_slice(&[0x02, 0x04, 0x05, 0xb4]);
        packet.payload_mut().copy_from_slice(b"GET ");
        packet.fill_checksum(SRC, DST);
        assert_eq!(buf, SEGMENT);
    }

    #[test]
    fn truncated() {
        let buf = SEGMENT;
        for len in 0..24 {
            let err = TcpPacket::new_checked(&buf[..len]).unwrap_err();
            assert_eq!(err, ParseError::TcpTruncated, "len {len}");
        }
        let packet = TcpPacket::new_checked(&buf[..24]).unwrap();
        assert!(packet.payload().is_empty());
    }

    #[test]
    fn bad_header_len() {
        for data_off in [0x00, 0x40] {
            let mut buf = SEGMENT;
            buf[12] = data_off;
            let err = TcpPacket::new_checked(&buf[..]).unwrap_err();
            assert_eq!(err, ParseError::TcpBadHeaderLen);
        }
    }

    #[test]
    fn header_len_larger_than_buffer() {
        let mut buf = SEGMENT;
        buf[12] = 0xf0; // 60-byte header in a 28-byte segment
        let err = TcpPacket::new_checked(&buf[..]).unwrap_err();
        assert_eq!(err, ParseError::TcpTruncated);
    }

    #[test]
    fn setters_breaking_invariant_do_not_panic() {
        let mut buf = SEGMENT;
        let mut packet = TcpPacket::new_checked(&mut buf[..]).unwrap();
        packet.set_header_len(60);
        assert!(packet.payload().is_empty());
        assert_eq!(packet.options().len(), 8);
        assert!(packet.payload_mut().is_empty());
    }

    #[test]
    fn flags() {
        let syn_ack = TcpFlags::SYN | TcpFlags::ACK;
        assert_eq!(syn_ack.bits(), 0x12);
        assert!(syn_ack.contains(TcpFlags::SYN));
        assert!(!syn_ack.contains(TcpFlags::RST));
        assert!(syn_ack.contains(TcpFlags::default()));
        let all = [
            TcpFlags::FIN,
            TcpFlags::SYN,
            TcpFlags::RST,
            TcpFlags::PSH,
            TcpFlags::ACK,
            TcpFlags::URG,
            TcpFlags::ECE,
            TcpFlags::CWR,
        ];
        let combined = all.iter().fold(TcpFlags::default(), |acc, f| acc | *f);
        assert_eq!(combined.bits(), 0xff);
    }

    #[test]
    fn repr_round_trips() {
        let repr = TcpRepr {
            src_port: 40000,
            dst_port: 1723,
            seq_number: 0xdead_beef,
            ack_number: 7,
            flags: TcpFlags::PSH | TcpFlags::ACK,
            window_len: 512,
        };
        let mut packet = TcpPacket::new_unchecked(vec![0u8; repr.buffer_len(4)]);
        repr.emit(&mut packet, SRC, DST, b"pptp");
        assert_eq!((packet.header_len(), packet.payload()), (20, &b"pptp"[..]));
        assert_eq!(TcpRepr::parse(&packet), Ok(repr));
        assert!(packet.verify_checksum(SRC, DST));
    }
}
