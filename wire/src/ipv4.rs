//! IPv4 packets (RFC 791).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version|  IHL  |   DSCP/ECN    |          Total Length         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Identification        |Flags|      Fragment Offset    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Time to Live |    Protocol   |         Header Checksum       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       Source Address                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Destination Address                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Options (IHL > 5)                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Invariant after `new_checked`: `buffer.len() >= HEADER_LEN`, version is
//! 4, and `HEADER_LEN <= header_len <= total_len <= buffer.len()`. The
//! buffer may be longer than `total_len` (Ethernet pads short frames to 60
//! bytes), so [`Ipv4Packet::payload`] is `header_len..total_len`, never the
//! tail of the buffer. Once `new_checked` succeeds, no accessor panics.
//!
//! Checks run in this order, each failure naming its drop reason: fewer
//! than 20 bytes is [`ParseError::Ipv4Truncated`]; a version other than 4 is
//! `Ipv4BadVersion`; an IHL below 5 is `Ipv4BadHeaderLen`; a total length
//! shorter than the header is `Ipv4BadTotalLen`; a total length beyond the
//! buffer is `Ipv4Truncated`. A total length of 0, as large-receive
//! offloads may leave, is rejected like any other short total length.

use core::net::Ipv4Addr;

use crate::checksum;
use crate::{be, Field, ParseError};

mod field {
    use crate::Field;

    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const LENGTH: Field = 2..4;
    pub const IDENT: Field = 4..6;
    pub const FLG_OFF: Field = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Field = 10..12;
    pub const SRC_ADDR: Field = 12..16;
    pub const DST_ADDR: Field = 16..20;
}

/// Length of an IPv4 header without options.
///
/// Also available as an associated const of the view.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const FRAG_OFFSET_MASK: u16 = 0x1fff;

/// The IPv4 protocol number of the next header.
/// Network mask of a prefix length (0..=32).
#[inline]
pub fn prefix_mask(len: u8) -> u32 {
    match len {
        0 => 0,
        l if l >= 32 => u32::MAX,
        l => u32::MAX << (32 - l),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpProtocol {
    Icmp,
    Tcp,
    Udp,
    Gre,
    Unknown(u8),
}

impl From<u8> for IpProtocol {
    #[inline]
    fn from(value: u8) -> Self {
        match value {
            1 => IpProtocol::Icmp,
            6 => IpProtocol::Tcp,
            17 => IpProtocol::Udp,
            47 => IpProtocol::Gre,
            other => IpProtocol::Unknown(other),
        }
    }
}

impl From<IpProtocol> for u8 {
    #[inline]
    fn from(value: IpProtocol) -> Self {
        match value {
            IpProtocol::Icmp => 1,
            IpProtocol::Tcp => 6,
            IpProtocol::Udp => 17,
            IpProtocol::Gre => 47,
            IpProtocol::Unknown(other) => other,
        }
    }
}

view! {
    /// A view of an IPv4 packet.
    Ipv4Packet
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// The minimum header length (no options).
    pub const HEADER_LEN: usize = self::HEADER_LEN;

    #[inline]
    pub fn check_len(&self) -> Result<(), ParseError> {
        let len = self.buffer.as_ref().len();
        if len < Self::HEADER_LEN {
            return Err(ParseError::Ipv4Truncated);
        }
        if self.version() != 4 {
            return Err(ParseError::Ipv4BadVersion);
        }
        let header_len = usize::from(self.header_len());
        if header_len < Self::HEADER_LEN {
            return Err(ParseError::Ipv4BadHeaderLen);
        }
        let total_len = usize::from(self.total_len());
        if total_len < header_len {
            return Err(ParseError::Ipv4BadTotalLen);
        }
        if total_len > len {
            return Err(ParseError::Ipv4Truncated);
        }
        Ok(())
    }

    #[inline]
    fn read_u16(&self, f: Field) -> u16 {
        be::u16_at(self.buffer.as_ref(), f)
    }

    #[inline]
    fn read_addr(&self, f: Field) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[f];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes (IHL × 4), options included.
    #[inline]
    pub fn header_len(&self) -> u8 {
        (self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    #[inline]
    pub fn dscp_ecn(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN]
    }

    #[inline]
    pub fn total_len(&self) -> u16 {
        self.read_u16(field::LENGTH)
    }

    #[inline]
    pub fn ident(&self) -> u16 {
        self.read_u16(field::IDENT)
    }

    #[inline]
    pub fn dont_frag(&self) -> bool {
        self.read_u16(field::FLG_OFF) & FLAG_DF != 0
    }

    #[inline]
    pub fn more_frags(&self) -> bool {
        self.read_u16(field::FLG_OFF) & FLAG_MF != 0
    }

    /// Fragment offset in bytes (the field counts 8-byte units).
    #[inline]
    pub fn frag_offset(&self) -> u16 {
        (self.read_u16(field::FLG_OFF) & FRAG_OFFSET_MASK) * 8
    }

    /// True for any fragment, first one included: only the first carries
    /// the L4 header, so ports cannot be trusted on the others.
    #[inline]
    pub fn is_fragment(&self) -> bool {
        self.more_frags() || self.frag_offset() != 0
    }

    #[inline]
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    #[inline]
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::PROTOCOL])
    }

    #[inline]
    pub fn checksum(&self) -> u16 {
        self.read_u16(field::CHECKSUM)
    }

    #[inline]
    pub fn src_addr(&self) -> Ipv4Addr {
        self.read_addr(field::SRC_ADDR)
    }

    #[inline]
    pub fn dst_addr(&self) -> Ipv4Addr {
        self.read_addr(field::DST_ADDR)
    }

    /// The header bytes, clamped so that a header length rewritten by a
    /// setter cannot make this panic.
    #[inline]
    fn header(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        let end = usize::from(self.header_len()).min(data.len());
        &data[..end]
    }

    /// Header and payload bounds, clamped to the buffer (see `header`).
    #[inline]
    fn payload_range(&self) -> Field {
        let len = self.buffer.as_ref().len();
        let end = usize::from(self.total_len()).min(len);
        let start = usize::from(self.header_len()).min(end);
        start..end
    }

    #[inline]
    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(self.header()) == 0
    }

    /// The options, between the fixed header and the payload.
    #[inline]
    pub fn options(&self) -> &[u8] {
        let header = self.header();
        header.get(Self::HEADER_LEN..).unwrap_or_default()
    }

    /// Reads the options (RFC 791): whether they carry a source route (loose or
    /// strict), or an error if they are malformed (a length that runs past the header
    /// or is shorter than two).
    #[inline]
    pub fn source_routed(&self) -> Result<bool, ParseError> {
        let opts = self.options();
        let (mut i, mut routed) = (0, false);
        while let Some(&kind) = opts.get(i) {
            match kind {
                0 => break,
                1 => i += 1,
                _ => {
                    let len = usize::from(*opts.get(i + 1).ok_or(ParseError::Ipv4BadOptions)?);
                    if len < 2 || i + len > opts.len() {
                        return Err(ParseError::Ipv4BadOptions);
                    }
                    routed |= matches!(kind, 131 | 137);
                    i += len;
                }
            }
        }
        Ok(routed)
    }

    /// `header_len..total_len`: Ethernet padding after `total_len` is excluded.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        let range = self.payload_range();
        &self.buffer.as_ref()[range]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    #[inline]
    fn write_u16(&mut self, f: Field, value: u16) {
        be::set_u16(self.buffer.as_mut(), f, value);
    }

    #[inline]
    fn write_flag(&mut self, flag: u16, on: bool) {
        let raw = self.read_u16(field::FLG_OFF);
        let raw = if on { raw | flag } else { raw & !flag };
        self.write_u16(field::FLG_OFF, raw);
    }

    #[inline]
    pub fn set_version(&mut self, version: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0x0f) | (version << 4);
    }

    /// Sets the header length in bytes; it is stored in 4-byte units, so
    /// the low two bits are dropped.
    #[inline]
    pub fn set_header_len(&mut self, len: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0xf0) | ((len / 4) & 0x0f);
    }

    #[inline]
    pub fn set_dscp_ecn(&mut self, value: u8) {
        self.buffer.as_mut()[field::DSCP_ECN] = value;
    }

    #[inline]
    pub fn set_total_len(&mut self, len: u16) {
        self.write_u16(field::LENGTH, len);
    }

    #[inline]
    pub fn set_ident(&mut self, ident: u16) {
        self.write_u16(field::IDENT, ident);
    }

    #[inline]
    pub fn set_dont_frag(&mut self, on: bool) {
        self.write_flag(FLAG_DF, on);
    }

    #[inline]
    pub fn set_more_frags(&mut self, on: bool) {
        self.write_flag(FLAG_MF, on);
    }

    /// Sets the fragment offset in bytes; it is stored in 8-byte units, so
    /// the low three bits are dropped.
    #[inline]
    pub fn set_frag_offset(&mut self, offset: u16) {
        let raw = self.read_u16(field::FLG_OFF) & !FRAG_OFFSET_MASK;
        self.write_u16(field::FLG_OFF, raw | (offset / 8));
    }

    #[inline]
    pub fn set_ttl(&mut self, ttl: u8) {
        self.buffer.as_mut()[field::TTL] = ttl;
    }

    #[inline]
    pub fn set_next_header(&mut self, protocol: IpProtocol) {
        self.buffer.as_mut()[field::PROTOCOL] = protocol.into();
    }

    #[inline]
    pub fn set_checksum(&mut self, checksum: u16) {
        self.write_u16(field::CHECKSUM, checksum);
    }

    #[inline]
    pub fn set_src_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&addr.octets());
    }

    #[inline]
    pub fn set_dst_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&addr.octets());
    }

    /// Recomputes the header checksum over `header_len` bytes.
    #[inline]
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let csum = checksum::checksum(self.header());
        self.set_checksum(csum);
    }

    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.payload_range();
        &mut self.buffer.as_mut()[range]
    }
}

/// The fields of an option-less IPv4 header that a sender chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ipv4Repr {
    pub src_addr: Ipv4Addr,
    pub dst_addr: Ipv4Addr,
    pub next_header: IpProtocol,
    /// Length of the L4 payload; the header adds `HEADER_LEN`.
    pub payload_len: usize,
    pub ttl: u8,
}

impl Ipv4Repr {
    /// Largest payload that fits the 16-bit total length of a 20-byte header.
    pub const MAX_PAYLOAD_LEN: usize = u16::MAX as usize - HEADER_LEN;

    /// Re-runs `check_len`, so a packet made with `new_unchecked` is safe too.
    /// Options, DSCP and fragmentation fields are not represented.
    #[inline]
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv4Packet<T>) -> Result<Ipv4Repr, ParseError> {
        packet.check_len()?;
        Ok(Ipv4Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: usize::from(packet.total_len() - u16::from(packet.header_len())),
            ttl: packet.ttl(),
        })
    }

    /// Writes a 20-byte header: no options, DSCP/ECN 0, ident 0, DF set
    /// (the firewall never fragments what it originates), checksum filled.
    ///
    /// # Panics
    ///
    /// If the buffer is shorter than `HEADER_LEN` or `payload_len` exceeds
    /// [`Self::MAX_PAYLOAD_LEN`]: both are sized by the caller, never by input.
    #[inline]
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Ipv4Packet<T>) {
        let total_len = self
            .payload_len
            .checked_add(HEADER_LEN)
            .and_then(|len| u16::try_from(len).ok())
            .expect("Ipv4Repr::payload_len exceeds MAX_PAYLOAD_LEN");
        packet.set_version(4);
        packet.set_header_len(HEADER_LEN as u8);
        packet.set_dscp_ecn(0);
        packet.set_total_len(total_len);
        packet.set_ident(0);
        // Clears MF and the offset along with setting DF.
        packet.write_u16(field::FLG_OFF, FLAG_DF);
        packet.set_ttl(self.ttl);
        packet.set_next_header(self.next_header);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    static PACKET: [u8; 28] = [
        // version 4, IHL 5, DSCP/ECN 0, total length 28
        0x45, 0x00, 0x00, 0x1c,
        // ident 0x1234, flags DF, offset 0
        0x12, 0x34, 0x40, 0x00,
        // ttl 64, protocol ICMP, checksum
        0x40, 0x01, 0x56, 0xeb,
        // source 192.168.1.10
        0xc0, 0xa8, 0x01, 0x0a,
        // destination 8.8.8.8
        0x08, 0x08, 0x08, 0x08,
        // payload: ICMP echo request header
        0x08, 0x00, 0xf7, 0xfe, 0x00, 0x01, 0x00, 0x00,
    ];

    #[test]
    fn deconstruct() {
        let packet = Ipv4Packet::new_checked(&PACKET[..]).unwrap();
        assert_eq!(packet.version(), 4);
        assert_eq!(packet.header_len(), 20);
        assert_eq!(packet.dscp_ecn(), 0);
        assert_eq!(packet.total_len(), 28);
        assert_eq!(packet.ident(), 0x1234);
        assert!(packet.dont_frag());
        assert!(!packet.more_frags());
        assert_eq!(packet.frag_offset(), 0);
        assert!(!packet.is_fragment());
        assert_eq!(packet.ttl(), 64);
        assert_eq!(packet.next_header(), IpProtocol::Icmp);
        assert_eq!(packet.checksum(), 0x56eb);
        assert_eq!(packet.src_addr(), Ipv4Addr::new(192, 168, 1, 10));
        assert_eq!(packet.dst_addr(), Ipv4Addr::new(8, 8, 8, 8));
        assert!(packet.verify_checksum());
        assert_eq!(packet.payload(), &PACKET[20..]);
    }

    #[test]
    fn construct() {
        // Zeroed: the reserved flag bit has no setter, by design.
        let mut buf = [0u8; 28];
        let mut packet = Ipv4Packet::new_unchecked(&mut buf[..]);
        packet.set_version(4);
        packet.set_header_len(20);
        packet.set_dscp_ecn(0);
        packet.set_total_len(28);
        packet.set_ident(0x1234);
        packet.set_dont_frag(true);
        packet.set_more_frags(false);
        packet.set_frag_offset(0);
        packet.set_ttl(64);
        packet.set_next_header(IpProtocol::Icmp);
        packet.set_src_addr(Ipv4Addr::new(192, 168, 1, 10));
        packet.set_dst_addr(Ipv4Addr::new(8, 8, 8, 8));
        packet.fill_checksum();
        packet.payload_mut().copy_from_slice(&PACKET[20..]);
        assert_eq!(buf, PACKET);
    }

    #[test]
    fn bad_checksum_detected() {
        let mut buf = PACKET;
        buf[8] = 63; // TTL decremented without fixing the checksum
        assert!(!Ipv4Packet::new_checked(&buf[..]).unwrap().verify_checksum());
    }

    #[test]
    fn repr_emit_and_parse() {
        let repr = Ipv4Repr {
            src_addr: Ipv4Addr::new(10, 0, 0, 1),
            dst_addr: Ipv4Addr::new(10, 0, 0, 2),
            next_header: IpProtocol::Udp,
            payload_len: 8,
            ttl: 64,
        };
        let mut buf = [0xffu8; 28];
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
        #[rustfmt::skip]
        let expected_header = [
            // version/IHL, DSCP, total length 28
            0x45, 0x00, 0x00, 0x1c,
            // ident 0, DF
            0x00, 0x00, 0x40, 0x00,
            // ttl, UDP, checksum
            0x40, 0x11, 0x26, 0xcf,
            // source, destination
            0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
        ];
        assert_eq!(buf[..20], expected_header);
        let packet = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert!(packet.verify_checksum());
        assert_eq!(Ipv4Repr::parse(&packet), Ok(repr));
    }

    fn repr_with_payload_len(payload_len: usize) -> Ipv4Repr {
        Ipv4Repr {
            src_addr: Ipv4Addr::new(10, 0, 0, 1),
            dst_addr: Ipv4Addr::new(10, 0, 0, 2),
            next_header: IpProtocol::Tcp,
            payload_len,
            ttl: 1,
        }
    }

    #[test]
    fn repr_emit_largest_payload() {
        let mut buf = [0u8; 20];
        let repr = repr_with_payload_len(Ipv4Repr::MAX_PAYLOAD_LEN);
        let mut packet = Ipv4Packet::new_unchecked(&mut buf[..]);
        repr.emit(&mut packet);
        assert_eq!(packet.total_len(), u16::MAX);
    }

    #[test]
    #[should_panic(expected = "MAX_PAYLOAD_LEN")]
    fn repr_emit_rejects_oversized_payload() {
        let mut buf = [0u8; 20];
        let repr = repr_with_payload_len(usize::MAX);
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
    }

    #[test]
    fn ethernet_padding_is_not_payload() {
        let mut buf = [0u8; 46];
        buf[..28].copy_from_slice(&PACKET);
        let packet = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(packet.payload(), &PACKET[20..]);
    }

    #[test]
    fn options_are_skipped() {
        #[rustfmt::skip]
        let mut buf = [
            // IHL 6, total length 28
            0x46, 0x00, 0x00, 0x1c,
            0x00, 0x00, 0x00, 0x00,
            // ttl, UDP, checksum (filled below)
            0x40, 0x11, 0x00, 0x00,
            0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
            // router alert option
            0x94, 0x04, 0x00, 0x00,
            // payload
            0xde, 0xad, 0xbe, 0xef,
        ];
        let mut packet = Ipv4Packet::new_checked(&mut buf[..]).unwrap();
        packet.fill_checksum();
        assert!(packet.verify_checksum());
        assert_eq!(packet.header_len(), 24);
        assert_eq!(packet.payload(), &[0xde, 0xad, 0xbe, 0xef]);
    }

    #[test]
    fn fragments() {
        let mut buf = PACKET;
        let mut packet = Ipv4Packet::new_unchecked(&mut buf[..]);
        packet.set_more_frags(true);
        assert!(packet.is_fragment());
        assert!(packet.dont_frag());
        packet.set_more_frags(false);
        packet.set_dont_frag(false);
        packet.set_frag_offset(1480);
        assert_eq!(packet.frag_offset(), 1480);
        assert!(packet.is_fragment());
        assert_eq!(&buf[6..8], &[0x00, 0xb9]);
    }

    #[test]
    fn truncated() {
        for len in 0..20 {
            let err = Ipv4Packet::new_checked(&PACKET[..len]).unwrap_err();
            assert_eq!(err, ParseError::Ipv4Truncated);
        }
        // Header present, but total length (28) claims more than the buffer.
        let err = Ipv4Packet::new_checked(&PACKET[..27]).unwrap_err();
        assert_eq!(err, ParseError::Ipv4Truncated);
    }

    #[test]
    fn bad_version() {
        let mut buf = PACKET;
        buf[0] = 0x65;
        let err = Ipv4Packet::new_checked(&buf[..]).unwrap_err();
        assert_eq!(err, ParseError::Ipv4BadVersion);
    }

    #[test]
    fn bad_header_len() {
        for ver_ihl in [0x40, 0x44] {
            let mut buf = PACKET;
            buf[0] = ver_ihl;
            let err = Ipv4Packet::new_checked(&buf[..]).unwrap_err();
            assert_eq!(err, ParseError::Ipv4BadHeaderLen);
        }
    }

    #[test]
    fn header_len_larger_than_buffer() {
        // IHL 15 (60 bytes) in a 28-byte packet whose total length says 28.
        let mut buf = PACKET;
        buf[0] = 0x4f;
        let err = Ipv4Packet::new_checked(&buf[..]).unwrap_err();
        assert_eq!(err, ParseError::Ipv4BadTotalLen);
        // Same, with a total length that agrees with the IHL: truncated.
        buf[2..4].copy_from_slice(&60u16.to_be_bytes());
        let err = Ipv4Packet::new_checked(&buf[..]).unwrap_err();
        assert_eq!(err, ParseError::Ipv4Truncated);
    }

    #[test]
    fn bad_total_len() {
        let mut buf = PACKET;
        buf[2..4].copy_from_slice(&19u16.to_be_bytes());
        let err = Ipv4Packet::new_checked(&buf[..]).unwrap_err();
        assert_eq!(err, ParseError::Ipv4BadTotalLen);
    }

    #[test]
    fn setters_breaking_invariant_do_not_panic() {
        let mut buf = PACKET;
        let mut packet = Ipv4Packet::new_checked(&mut buf[..]).unwrap();
        packet.set_header_len(60);
        packet.set_total_len(0xffff);
        assert!(packet.payload().is_empty());
        packet.fill_checksum();
        assert!(packet.verify_checksum());
        assert_eq!(packet.check_len(), Err(ParseError::Ipv4Truncated));
    }

    #[test]
    fn protocol_round_trip() {
        for raw in 0..=255u8 {
            assert_eq!(u8::from(IpProtocol::from(raw)), raw);
        }
        assert_eq!(IpProtocol::from(47), IpProtocol::Gre);
    }
}
