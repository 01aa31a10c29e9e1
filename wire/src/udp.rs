//! UDP datagrams (RFC 768).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Source Port          |       Destination Port        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |            Length             |           Checksum            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                          Payload ...                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Invariant after `new_checked`: `HEADER_LEN <= len <= buffer.len()`; once
//! `new_checked` succeeds, no accessor panics. A buffer shorter than 8
//! bytes, or than the length field, is [`ParseError::UdpTruncated`]; a
//! length field below 8 is `UdpBadLen`. Bytes past `len` are not part of
//! the datagram: the payload and the checksum stop at `len`.
//!
//! A checksum of 0 means the sender computed none; a computed checksum of 0
//! is therefore transmitted as 0xFFFF, its other one's complement form.

use core::net::Ipv4Addr;

use crate::checksum;
use crate::{be, Field, ParseError};

mod field {
    use crate::Field;

    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;
    pub const PAYLOAD: usize = 8;
}

/// Length of the UDP header.
///
/// Also available as an associated const of the view.
pub const HEADER_LEN: usize = field::PAYLOAD;

const PROTO_UDP: u8 = 17;

view! {
    /// A view of a UDP datagram.
    UdpPacket
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    pub const HEADER_LEN: usize = self::HEADER_LEN;

    #[inline]
    pub fn check_len(&self) -> Result<(), ParseError> {
        let buf_len = self.buffer.as_ref().len();
        if buf_len < Self::HEADER_LEN {
            return Err(ParseError::UdpTruncated);
        }
        let len = usize::from(self.len());
        if len < Self::HEADER_LEN {
            return Err(ParseError::UdpBadLen);
        }
        if len > buf_len {
            return Err(ParseError::UdpTruncated);
        }
        Ok(())
    }

    #[inline]
    fn read_u16(&self, f: Field) -> u16 {
        be::u16_at(self.buffer.as_ref(), f)
    }

    #[inline]
    pub fn src_port(&self) -> u16 {
        self.read_u16(field::SRC_PORT)
    }

    #[inline]
    pub fn dst_port(&self) -> u16 {
        self.read_u16(field::DST_PORT)
    }

    /// The length field: header plus payload, in bytes.
    // Named after the RFC field, not a container size: a datagram is never
    // empty, so `is_empty` would mean nothing.
    #[allow(clippy::len_without_is_empty)]
    #[inline]
    pub fn len(&self) -> u16 {
        self.read_u16(field::LENGTH)
    }

    #[inline]
    pub fn checksum(&self) -> u16 {
        self.read_u16(field::CHECKSUM)
    }

    /// The datagram bytes `0..len`, clamped so that a length rewritten by a
    /// setter cannot make the slicing accessors panic.
    #[inline]
    fn datagram_end(&self) -> usize {
        usize::from(self.len()).min(self.buffer.as_ref().len())
    }

    #[inline]
    fn payload_range(&self) -> Field {
        let end = self.datagram_end();
        Self::HEADER_LEN.min(end)..end
    }

    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.payload_range()]
    }

    /// True if the checksum is absent (0) or correct over the pseudo header
    /// and `len` bytes.
    #[inline]
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        self.checksum() == 0 || self.sum_with_pseudo_header(src, dst) == 0xffff
    }

    #[inline]
    fn sum_with_pseudo_header(&self, src: Ipv4Addr, dst: Ipv4Addr) -> u16 {
        let datagram = &self.buffer.as_ref()[..self.datagram_end()];
        let pseudo = checksum::pseudo_header_sum(src, dst, PROTO_UDP, self.len());
        checksum::fold(pseudo + checksum::sum(datagram))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    #[inline]
    fn write_u16(&mut self, f: Field, value: u16) {
        be::set_u16(self.buffer.as_mut(), f, value);
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
    pub fn set_len(&mut self, len: u16) {
        self.write_u16(field::LENGTH, len);
    }

    #[inline]
    pub fn set_checksum(&mut self, checksum: u16) {
        self.write_u16(field::CHECKSUM, checksum);
    }

    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.payload_range();
        &mut self.buffer.as_mut()[range]
    }

    /// Computes the checksum over the pseudo header and `len` bytes, writing
    /// 0xFFFF for a computed 0 so that it does not read as "no checksum".
    #[inline]
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let csum = match !self.sum_with_pseudo_header(src, dst) {
            0 => 0xffff,
            csum => csum,
        };
        self.set_checksum(csum);
    }
}

/// A UDP header; the length and checksum follow from the payload and addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpRepr {
    pub src_port: u16,
    pub dst_port: u16,
}

impl UdpRepr {
    /// Checks the length; the checksum is the caller's to verify (`verify_checksum`).
    #[inline]
    pub fn parse<T: AsRef<[u8]>>(packet: &UdpPacket<T>) -> Result<UdpRepr, ParseError> {
        packet.check_len()?;
        Ok(UdpRepr { src_port: packet.src_port(), dst_port: packet.dst_port() })
    }

    #[inline]
    pub const fn buffer_len(&self, payload_len: usize) -> usize {
        HEADER_LEN + payload_len
    }

    /// Writes the header and `payload` and fills the checksum.
    ///
    /// # Panics
    ///
    /// If the buffer is shorter than [`Self::buffer_len`] or that exceeds 65,535:
    /// sized by the caller, never by input.
    #[inline]
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut UdpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        payload: &[u8],
    ) {
        let len = u16::try_from(self.buffer_len(payload.len())).expect("UDP datagram over 65,535 bytes");
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len(len);
        packet.payload_mut()[..payload.len()].copy_from_slice(payload);
        packet.fill_checksum(src, dst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);
    const DST: Ipv4Addr = Ipv4Addr::new(8, 8, 8, 8);

    #[rustfmt::skip]
    static DATAGRAM: [u8; 12] = [
        // source port 53000, destination port 53
        0xcf, 0x08, 0x00, 0x35,
        // length 12, checksum
        0x00, 0x0c, 0xc1, 0x38,
        // payload
        0xde, 0xad, 0xbe, 0xef,
    ];

    #[test]
    fn deconstruct() {
        let packet = UdpPacket::new_checked(&DATAGRAM[..]).unwrap();
        assert_eq!(packet.src_port(), 53000);
        assert_eq!(packet.dst_port(), 53);
        assert_eq!(packet.len(), 12);
        assert_eq!(packet.checksum(), 0xc138);
        assert_eq!(packet.payload(), &[0xde, 0xad, 0xbe, 0xef]);
        assert!(packet.verify_checksum(SRC, DST));
        assert!(!packet.verify_checksum(SRC, Ipv4Addr::new(8, 8, 4, 4)));
    }

    #[test]
    fn construct() {
        let mut buf = [0xa5u8; 12];
        let mut packet = UdpPacket::new_unchecked(&mut buf[..]);
        packet.set_src_port(53000);
        packet.set_dst_port(53);
        packet.set_len(12);
        packet.payload_mut().copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        packet.fill_checksum(SRC, DST);
        assert_eq!(buf, DATAGRAM);
    }

    #[test]
    fn zero_checksum_means_none() {
        let mut buf = DATAGRAM;
        buf[6..8].fill(0);
        let packet = UdpPacket::new_checked(&buf[..]).unwrap();
        assert!(packet.verify_checksum(SRC, Ipv4Addr::UNSPECIFIED));
    }

    #[test]
    fn computed_zero_is_sent_as_ffff() {
        // Ports chosen so the sum over pseudo header and datagram is 0xFFFF.
        let mut buf = [0u8; 8];
        let mut packet = UdpPacket::new_unchecked(&mut buf[..]);
        packet.set_len(8);
        let src = Ipv4Addr::new(0, 0, 0, 0);
        let dst = Ipv4Addr::new(0, 0, 0, 0);
        // pseudo: proto 17 + len 8; header: len 8. Fill the rest in a port.
        packet.set_src_port(0xffff - 17 - 8 - 8);
        packet.fill_checksum(src, dst);
        assert_eq!(packet.checksum(), 0xffff);
        assert!(packet.verify_checksum(src, dst));
    }

    #[test]
    fn trailing_bytes_are_ignored() {
        let mut buf = [0u8; 20];
        buf[..12].copy_from_slice(&DATAGRAM);
        let packet = UdpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(packet.payload(), &[0xde, 0xad, 0xbe, 0xef]);
        assert!(packet.verify_checksum(SRC, DST));
    }

    #[test]
    fn truncated() {
        for len in 0..8 {
            let err = UdpPacket::new_checked(&DATAGRAM[..len]).unwrap_err();
            assert_eq!(err, ParseError::UdpTruncated);
        }
        // The length field (12) claims more than the buffer holds.
        let err = UdpPacket::new_checked(&DATAGRAM[..11]).unwrap_err();
        assert_eq!(err, ParseError::UdpTruncated);
    }

    #[test]
    fn bad_len() {
        for len in [0u16, 7] {
            let mut buf = DATAGRAM;
            buf[4..6].copy_from_slice(&len.to_be_bytes());
            let err = UdpPacket::new_checked(&buf[..]).unwrap_err();
            assert_eq!(err, ParseError::UdpBadLen);
        }
    }

    #[test]
    fn setters_breaking_invariant_do_not_panic() {
        let mut buf = DATAGRAM;
        let mut packet = UdpPacket::new_checked(&mut buf[..]).unwrap();
        packet.set_len(0xffff);
        assert_eq!(packet.payload().len(), 4);
        packet.set_len(3);
        assert!(packet.payload_mut().is_empty());
        packet.fill_checksum(SRC, DST);
    }

    #[test]
    fn repr_round_trips() {
        let (src, dst) = (Ipv4Addr::new(192, 168, 1, 2), Ipv4Addr::new(8, 8, 8, 8));
        let repr = UdpRepr { src_port: 5353, dst_port: 53 };
        let mut packet = UdpPacket::new_unchecked(vec![0u8; repr.buffer_len(3)]);
        repr.emit(&mut packet, src, dst, b"abc");
        assert_eq!((packet.len(), packet.payload()), (11, &b"abc"[..]));
        assert_eq!(UdpRepr::parse(&packet), Ok(repr));
        assert!(packet.verify_checksum(src, dst));
        assert!(!packet.verify_checksum(src, Ipv4Addr::new(8, 8, 4, 4)));
    }
}
