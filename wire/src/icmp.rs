//! ICMP for IPv4 (RFC 792).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Type      |     Code      |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Identifier (echo)           |    Sequence Number (echo)     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Data: echo payload, or for errors the quoted IP header      |
//! |     and at least the first 8 bytes of its payload ...           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The second word means identifier/sequence only for echo messages; for
//! errors it is unused or type specific, and `data()` holds the offending
//! datagram's IP header plus at least 8 bytes of it, which is where a
//! firewall finds the ports of the flow the error belongs to. The quoted
//! datagram is usually cut short, so its IPv4 total length will exceed what
//! is quoted and `Ipv4Packet::new_checked` will refuse it as truncated.
//!
//! Invariant after `new_checked`: `buffer.len() >= HEADER_LEN`; once
//! `new_checked` succeeds, no accessor panics. The buffer must be exactly
//! the ICMP message (the IPv4 payload), since the checksum covers all of it.

use crate::checksum;
use crate::{be, Field, ParseError};

mod field {
    use crate::Field;

    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Field = 2..4;
    pub const ECHO_IDENT: Field = 4..6;
    pub const ECHO_SEQ: Field = 6..8;
    pub const DATA: usize = 8;
}

/// Length of the ICMP header, up to the data.
///
/// Also available as an associated const of the view.
pub const HEADER_LEN: usize = field::DATA;

pub const ECHO_REPLY: u8 = 0;
pub const DEST_UNREACHABLE: u8 = 3;
pub const SOURCE_QUENCH: u8 = 4;
pub const REDIRECT: u8 = 5;
pub const ECHO_REQUEST: u8 = 8;
pub const TIME_EXCEEDED: u8 = 11;
pub const PARAM_PROBLEM: u8 = 12;

view! {
    /// A view of an ICMPv4 message.
    Icmpv4Packet
}

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    pub const HEADER_LEN: usize = self::HEADER_LEN;

    #[inline]
    pub fn check_len(&self) -> Result<(), ParseError> {
        if self.buffer.as_ref().len() < Self::HEADER_LEN {
            return Err(ParseError::IcmpTruncated);
        }
        Ok(())
    }

    #[inline]
    fn read_u16(&self, f: Field) -> u16 {
        be::u16_at(self.buffer.as_ref(), f)
    }

    #[inline]
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    #[inline]
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    #[inline]
    pub fn checksum(&self) -> u16 {
        self.read_u16(field::CHECKSUM)
    }

    /// Meaningful only when [`is_echo`](Self::is_echo).
    #[inline]
    pub fn echo_ident(&self) -> u16 {
        self.read_u16(field::ECHO_IDENT)
    }

    /// Meaningful only when [`is_echo`](Self::is_echo).
    #[inline]
    pub fn echo_seq(&self) -> u16 {
        self.read_u16(field::ECHO_SEQ)
    }

    /// Echo request or reply: the identifier plays the role of a port.
    #[inline]
    pub fn is_echo(&self) -> bool {
        matches!(self.msg_type(), ECHO_REQUEST | ECHO_REPLY)
    }

    /// An error message quoting another datagram, which a stateful firewall
    /// must match against the quoted flow rather than as a flow of its own.
    #[inline]
    pub fn is_error(&self) -> bool {
        matches!(self.msg_type(), DEST_UNREACHABLE | SOURCE_QUENCH | REDIRECT | TIME_EXCEEDED | PARAM_PROBLEM)
    }

    /// Everything after the 8-byte header.
    #[inline]
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[field::DATA..]
    }

    #[inline]
    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(self.buffer.as_ref()) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
    #[inline]
    fn write_u16(&mut self, f: Field, value: u16) {
        be::set_u16(self.buffer.as_mut(), f, value);
    }

    #[inline]
    pub fn set_msg_type(&mut self, msg_type: u8) {
        self.buffer.as_mut()[field::TYPE] = msg_type;
    }

    #[inline]
    pub fn set_code(&mut self, code: u8) {
        self.buffer.as_mut()[field::CODE] = code;
    }

    #[inline]
    pub fn set_checksum(&mut self, checksum: u16) {
        self.write_u16(field::CHECKSUM, checksum);
    }

    #[inline]
    pub fn set_echo_ident(&mut self, ident: u16) {
        self.write_u16(field::ECHO_IDENT, ident);
    }

    #[inline]
    pub fn set_echo_seq(&mut self, seq: u16) {
        self.write_u16(field::ECHO_SEQ, seq);
    }

    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::DATA..]
    }

    /// Recomputes the checksum over the whole buffer.
    #[inline]
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let csum = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(csum);
    }
}

/// An ICMP message header: type, code and the four bytes after the checksum
/// (identifier and sequence number in echo messages, unused or the next-hop MTU in
/// errors). The data after it is the caller's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv4Repr {
    pub msg_type: u8,
    pub code: u8,
    pub rest: u32,
}

impl Icmpv4Repr {
    /// An echo request or reply.
    #[inline]
    pub const fn echo(request: bool, ident: u16, seq: u16) -> Icmpv4Repr {
        let msg_type = if request { ECHO_REQUEST } else { ECHO_REPLY };
        Icmpv4Repr { msg_type, code: 0, rest: (ident as u32) << 16 | seq as u32 }
    }

    /// Checks the length; the checksum is the caller's to verify.
    #[inline]
    pub fn parse<T: AsRef<[u8]>>(packet: &Icmpv4Packet<T>) -> Result<Icmpv4Repr, ParseError> {
        packet.check_len()?;
        let rest = u32::from(packet.echo_ident()) << 16 | u32::from(packet.echo_seq());
        Ok(Icmpv4Repr { msg_type: packet.msg_type(), code: packet.code(), rest })
    }

    #[inline]
    pub const fn buffer_len(&self, data_len: usize) -> usize {
        HEADER_LEN + data_len
    }

    /// Writes the header and `data`, checksum filled over both.
    ///
    /// # Panics
    ///
    /// If the buffer is shorter than [`Self::buffer_len`]: sized by the caller.
    #[inline]
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Icmpv4Packet<T>, data: &[u8]) {
        packet.set_msg_type(self.msg_type);
        packet.set_code(self.code);
        packet.set_echo_ident((self.rest >> 16) as u16);
        packet.set_echo_seq(self.rest as u16);
        packet.data_mut()[..data.len()].copy_from_slice(data);
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ipv4Packet;

    #[rustfmt::skip]
    static ECHO: [u8; 12] = [
        // type echo request, code 0, checksum
        0x08, 0x00, 0x21, 0x04,
        // identifier 0x1234, sequence 1
        0x12, 0x34, 0x00, 0x01,
        // data
        0x61, 0x62, 0x63, 0x64,
    ];

    #[test]
    fn deconstruct() {
        let packet = Icmpv4Packet::new_checked(&ECHO[..]).unwrap();
        assert_eq!(packet.msg_type(), ECHO_REQUEST);
        assert_eq!(packet.code(), 0);
        assert_eq!(packet.checksum(), 0x2104);
        assert_eq!(packet.echo_ident(), 0x1234);
        assert_eq!(packet.echo_seq(), 1);
        assert_eq!(packet.data(), b"abcd");
        assert!(packet.verify_checksum());
        assert!(packet.is_echo());
        assert!(!packet.is_error());
    }

    #[test]
    fn construct() {
        let mut buf = [0xa5u8; 12];
        let mut packet = Icmpv4Packet::new_unchecked(&mut buf[..]);
        packet.set_msg_type(ECHO_REQUEST);
        packet.set_code(0);
        packet.set_echo_ident(0x1234);
        packet.set_echo_seq(1);
        packet.data_mut().copy_from_slice(b"abcd");
        packet.fill_checksum();
        assert_eq!(buf, ECHO);
    }

    #[test]
    fn truncated() {
        for len in 0..8 {
            let err = Icmpv4Packet::new_checked(&ECHO[..len]).unwrap_err();
            assert_eq!(err, ParseError::IcmpTruncated);
        }
        let bare = Icmpv4Packet::new_checked(&ECHO[..8]).unwrap();
        assert!(bare.data().is_empty());
    }

    #[test]
    fn corrupted_checksum() {
        let mut buf = ECHO;
        buf[11] ^= 0x01;
        assert!(!Icmpv4Packet::new_checked(&buf[..]).unwrap().verify_checksum());
    }

    #[rustfmt::skip]
    static PORT_UNREACHABLE: [u8; 36] = [
        // type destination unreachable, code 3 (port), checksum
        0x03, 0x03, 0x00, 0x00,
        // unused
        0x00, 0x00, 0x00, 0x00,
        // quoted IPv4 header: total length 40 (more than is quoted), UDP
        0x45, 0x00, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00,
        0x40, 0x11, 0x00, 0x00,
        0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
        // first 8 bytes of the quoted UDP header: 5000 -> 53, len 20
        0x13, 0x88, 0x00, 0x35, 0x00, 0x14, 0x00, 0x00,
    ];

    #[test]
    fn error_quotes_datagram() {
        let mut buf = PORT_UNREACHABLE;
        Icmpv4Packet::new_unchecked(&mut buf[..]).fill_checksum();
        let packet = Icmpv4Packet::new_checked(&buf[..]).unwrap();
        assert!(packet.verify_checksum());
        assert!(packet.is_error());
        assert!(!packet.is_echo());
        let quoted = packet.data();
        assert_eq!(quoted.len(), 20 + 8);
        // The quote is cut short, as the module doc warns.
        let err = Ipv4Packet::new_checked(quoted).unwrap_err();
        assert_eq!(err, ParseError::Ipv4Truncated);
        assert_eq!(&quoted[20..24], &[0x13, 0x88, 0x00, 0x35]);
    }

    #[test]
    fn type_classes() {
        let mut buf = ECHO;
        for (msg_type, echo, error) in [
            (ECHO_REPLY, true, false),
            (DEST_UNREACHABLE, false, true),
            (SOURCE_QUENCH, false, true),
            (REDIRECT, false, true),
            (ECHO_REQUEST, true, false),
            (TIME_EXCEEDED, false, true),
            (PARAM_PROBLEM, false, true),
            (13, false, false),
        ] {
            buf[0] = msg_type;
            let packet = Icmpv4Packet::new_checked(&buf[..]).unwrap();
            assert_eq!((packet.is_echo(), packet.is_error()), (echo, error));
        }
    }

    #[test]
    fn repr_round_trips() {
        let repr = Icmpv4Repr::echo(true, 0x1234, 7);
        let mut packet = Icmpv4Packet::new_unchecked(vec![0u8; repr.buffer_len(4)]);
        repr.emit(&mut packet, b"ping");
        assert_eq!((packet.is_echo(), packet.echo_ident(), packet.echo_seq()), (true, 0x1234, 7));
        assert_eq!(Icmpv4Repr::parse(&packet), Ok(repr));
        assert!(packet.verify_checksum());
    }
}
