//! GRE: version 0 (RFC 2784 with the key and sequence extensions of
//! RFC 2890) and the enhanced version 1 used by PPTP (RFC 2637).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |C|R|K|S|s|Recur|A| Flags | Ver |         Protocol Type         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |      Checksum (C, v0)         |       Reserved1 (C, v0)       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Key (K): v0 a 32-bit key; v1 payload length | call ID      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                   Sequence Number (S)                         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                Acknowledgment Number (A, v1)                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Each optional word is present only when its flag is set, in the order
//! drawn, so field offsets depend on the flags and every optional accessor
//! returns an `Option`.
//!
//! What `check_len` accepts, and so the invariant after `new_checked`:
//!
//! * version 0: only the C, K and S flags may be set. Routing (R, from
//!   RFC 1701), strict source route, recursion control and the other
//!   reserved bits make it [`ParseError::GreUnsupported`]. This is stricter
//!   than RFC 2784, which tells receivers to ignore bits 6-12: a firewall
//!   should not forward headers it cannot fully interpret.
//! * version 1: K must be set, S and A are optional, everything else is
//!   clear, and the protocol is PPP (0x880B); otherwise `GreUnsupported`.
//! * any other version is `GreUnsupported`.
//! * `buffer.len() >= header_len()`, else [`ParseError::GreTruncated`].
//!
//! Once `new_checked` succeeds, no accessor panics; the optional-field
//! accessors bounds-check anyway, so even an unchecked view cannot panic
//! through them. The buffer is the IPv4 payload; `payload()` is everything
//! after the header (for PPTP, the PPP frame, whose length the v1 payload
//! length field should repeat).

use crate::checksum;
use crate::{be, Field, ParseError};

mod field {
    use crate::Field;

    pub const FLAGS_VERSION: Field = 0..2;
    pub const PROTOCOL: Field = 2..4;
    /// Where the first optional word would start.
    pub const OPTIONAL: usize = 4;
}

/// Length of a GRE header without optional words.
///
/// Also available as an associated const of the view.
pub const MIN_HEADER_LEN: usize = field::OPTIONAL;

const FLAG_C: u16 = 0x8000;
const FLAG_K: u16 = 0x2000;
const FLAG_S: u16 = 0x1000;
const FLAG_A: u16 = 0x0080;
const VERSION_MASK: u16 = 0x0007;

/// Bits a version 0 header may have set; the rest are R, s, Recur and
/// reserved flags.
const V0_ALLOWED: u16 = FLAG_C | FLAG_K | FLAG_S | VERSION_MASK;
/// Bits a version 1 header may have set (K is also required).
const V1_ALLOWED: u16 = FLAG_K | FLAG_S | FLAG_A | VERSION_MASK;

/// Protocol type of PPTP's enhanced GRE: a PPP frame follows.
pub const PROTO_PPP: u16 = 0x880b;

view! {
    /// A view of a GRE packet, version 0 or 1.
    ///
    /// Without a check, the fixed-field accessors may panic on a buffer shorter than
    /// `MIN_HEADER_LEN`; the optional-field ones never do.
    GrePacket
}

impl<T: AsRef<[u8]>> GrePacket<T> {
    /// The header length without any optional word.
    pub const MIN_HEADER_LEN: usize = self::MIN_HEADER_LEN;

    /// Validates version, flags and protocol, then the length (see the
    /// module doc for the exact rules).
    #[inline]
    pub fn check_len(&self) -> Result<(), ParseError> {
        if self.buffer.as_ref().len() < Self::MIN_HEADER_LEN {
            return Err(ParseError::GreTruncated);
        }
        if !self.is_supported() {
            return Err(ParseError::GreUnsupported);
        }
        if self.buffer.as_ref().len() < self.header_len() {
            return Err(ParseError::GreTruncated);
        }
        Ok(())
    }

    #[inline]
    fn is_supported(&self) -> bool {
        let flags = self.flags_version();
        match self.version() {
            0 => flags & !V0_ALLOWED == 0,
            1 => flags & !V1_ALLOWED == 0 && flags & FLAG_K != 0 && self.protocol_type() == PROTO_PPP,
            _ => false,
        }
    }

    #[inline]
    fn read_u16(&self, f: Field) -> u16 {
        be::u16_at(self.buffer.as_ref(), f)
    }

    /// The 32-bit word at `offset`, or `None` past the end of the buffer.
    #[inline]
    fn word_at(&self, offset: usize) -> Option<u32> {
        let buf = self.buffer.as_ref();
        buf.get(offset..offset + 4).map(|_| be::u32_at(buf, offset..offset + 4))
    }

    /// The first 16 bits: flags and version, as on the wire.
    #[inline]
    pub fn flags_version(&self) -> u16 {
        self.read_u16(field::FLAGS_VERSION)
    }

    #[inline]
    fn flag(&self, flag: u16) -> bool {
        self.flags_version() & flag != 0
    }

    #[inline]
    pub fn version(&self) -> u8 {
        (self.flags_version() & VERSION_MASK) as u8
    }

    #[inline]
    pub fn has_checksum(&self) -> bool {
        self.flag(FLAG_C)
    }

    #[inline]
    pub fn has_key(&self) -> bool {
        self.flag(FLAG_K)
    }

    #[inline]
    pub fn has_seq(&self) -> bool {
        self.flag(FLAG_S)
    }

    /// The A flag exists only in version 1; in version 0 the bit is reserved.
    #[inline]
    pub fn has_ack(&self) -> bool {
        self.version() == 1 && self.flag(FLAG_A)
    }

    #[inline]
    pub fn protocol_type(&self) -> u16 {
        self.read_u16(field::PROTOCOL)
    }

    #[inline]
    fn key_offset(&self) -> usize {
        field::OPTIONAL + 4 * usize::from(self.has_checksum())
    }

    #[inline]
    fn seq_offset(&self) -> usize {
        self.key_offset() + 4 * usize::from(self.has_key())
    }

    #[inline]
    fn ack_offset(&self) -> usize {
        self.seq_offset() + 4 * usize::from(self.has_seq())
    }

    /// Header length in bytes, from the flags: 4 plus 4 per optional word.
    #[inline]
    pub fn header_len(&self) -> usize {
        self.ack_offset() + 4 * usize::from(self.has_ack())
    }

    /// The checksum word's upper half, when C is set (version 0 only).
    #[inline]
    pub fn checksum(&self) -> Option<u16> {
        let word = self.word_at(field::OPTIONAL).filter(|_| self.has_checksum())?;
        Some((word >> 16) as u16)
    }

    /// True when there is no checksum, or it is correct over the whole buffer.
    #[inline]
    pub fn verify_checksum(&self) -> bool {
        !self.has_checksum() || checksum::checksum(self.buffer.as_ref()) == 0
    }

    /// The whole key word; in version 1 it is payload length and call ID.
    #[inline]
    pub fn key(&self) -> Option<u32> {
        self.word_at(self.key_offset()).filter(|_| self.has_key())
    }

    #[inline]
    fn v1_key(&self) -> Option<u32> {
        self.key().filter(|_| self.version() == 1)
    }

    /// Version 1 only: the call ID, the peer's identifier of the PPTP session.
    #[inline]
    pub fn call_id(&self) -> Option<u16> {
        self.v1_key().map(|key| key as u16)
    }

    /// Version 1 only: the payload length the sender claims, not checked
    /// against the buffer (PPTP peers do not agree on padding).
    #[inline]
    pub fn payload_length_field(&self) -> Option<u16> {
        self.v1_key().map(|key| (key >> 16) as u16)
    }

    #[inline]
    pub fn seq_number(&self) -> Option<u32> {
        self.word_at(self.seq_offset()).filter(|_| self.has_seq())
    }

    #[inline]
    pub fn ack_number(&self) -> Option<u32> {
        self.word_at(self.ack_offset()).filter(|_| self.has_ack())
    }

    /// Everything after the header; empty if the header does not fit.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(self.header_len()..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> GrePacket<T> {
    #[inline]
    fn write_u16(&mut self, f: Field, value: u16) {
        be::set_u16(self.buffer.as_mut(), f, value);
    }

    /// Writes `value` at `offset` if `present` and it fits; returns whether
    /// it was written.
    #[inline]
    fn write_word(&mut self, present: bool, offset: usize, value: u32) -> bool {
        let slot = self.buffer.as_mut().get_mut(offset..offset + 4);
        match slot {
            Some(slot) if present => {
                slot.copy_from_slice(&value.to_be_bytes());
                true
            }
            _ => false,
        }
    }

    /// Sets the raw flags and version word. It decides where the optional
    /// fields are, so set it before writing them.
    #[inline]
    pub fn set_flags_version(&mut self, value: u16) {
        self.write_u16(field::FLAGS_VERSION, value);
    }

    #[inline]
    pub fn set_protocol_type(&mut self, protocol: u16) {
        self.write_u16(field::PROTOCOL, protocol);
    }

    /// Writes the whole key word; `false` (and no change) without K.
    #[inline]
    pub fn set_key(&mut self, key: u32) -> bool {
        let (present, offset) = (self.has_key(), self.key_offset());
        self.write_word(present, offset, key)
    }

    /// Version 1: rewrites the call ID, keeping the payload length, as a
    /// PPTP-aware NAT does; `false` (and no change) without a v1 key.
    #[inline]
    pub fn set_call_id(&mut self, call_id: u16) -> bool {
        match self.v1_key() {
            Some(key) => self.set_key((key & 0xffff_0000) | u32::from(call_id)),
            None => false,
        }
    }

    /// Version 1: sets the payload length half of the key word.
    #[inline]
    pub fn set_payload_length_field(&mut self, len: u16) -> bool {
        match self.v1_key() {
            Some(key) => self.set_key((u32::from(len) << 16) | (key & 0xffff)),
            None => false,
        }
    }

    #[inline]
    pub fn set_seq_number(&mut self, seq: u32) -> bool {
        let (present, offset) = (self.has_seq(), self.seq_offset());
        self.write_word(present, offset, seq)
    }

    #[inline]
    pub fn set_ack_number(&mut self, ack: u32) -> bool {
        let (present, offset) = (self.has_ack(), self.ack_offset());
        self.write_word(present, offset, ack)
    }

    /// Computes the checksum over the whole buffer when C is set, clearing
    /// Reserved1; `false` (and no change) without C.
    #[inline]
    pub fn fill_checksum(&mut self) -> bool {
        if !self.write_word(self.has_checksum(), field::OPTIONAL, 0) {
            return false;
        }
        let csum = checksum::checksum(self.buffer.as_ref());
        let offset = field::OPTIONAL;
        self.write_u16(offset..offset + 2, csum);
        true
    }

    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        self.buffer.as_mut().get_mut(start..).unwrap_or(&mut [])
    }
}

/// A GRE header: version 0 with any of checksum, key and sequence number, or PPTP's
/// version 1 (key required: payload length and Call ID; sequence and acknowledgment
/// numbers optional).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GreRepr {
    pub version: u8,
    pub protocol: u16,
    /// Version 0 only.
    pub checksum: bool,
    pub key: Option<u32>,
    pub seq_number: Option<u32>,
    /// Version 1 only.
    pub ack_number: Option<u32>,
}

impl GreRepr {
    /// PPTP's enhanced GRE to `call_id`, carrying `payload_len` bytes of PPP.
    #[inline]
    pub const fn pptp(
        call_id: u16,
        payload_len: u16,
        seq_number: Option<u32>,
        ack_number: Option<u32>,
    ) -> GreRepr {
        let key = (payload_len as u32) << 16 | call_id as u32;
        GreRepr { version: 1, protocol: PROTO_PPP, checksum: false, key: Some(key), seq_number, ack_number }
    }

    /// Checks the layout; the checksum (if any) is the caller's to verify.
    #[inline]
    pub fn parse<T: AsRef<[u8]>>(packet: &GrePacket<T>) -> Result<GreRepr, ParseError> {
        packet.check_len()?;
        Ok(GreRepr {
            version: packet.version(),
            protocol: packet.protocol_type(),
            checksum: packet.has_checksum(),
            key: packet.key(),
            seq_number: packet.seq_number(),
            ack_number: packet.ack_number(),
        })
    }

    #[inline]
    fn flags_version(&self) -> u16 {
        let flag = |on: bool, bit: u16| if on { bit } else { 0 };
        flag(self.checksum, FLAG_C)
            | flag(self.key.is_some(), FLAG_K)
            | flag(self.seq_number.is_some(), FLAG_S)
            | flag(self.ack_number.is_some(), FLAG_A)
            | (u16::from(self.version) & VERSION_MASK)
    }

    #[inline]
    pub fn header_len(&self) -> usize {
        let words = [self.checksum, self.key.is_some(), self.seq_number.is_some(), self.ack_number.is_some()];
        MIN_HEADER_LEN + 4 * words.iter().filter(|&&w| w).count()
    }

    #[inline]
    pub fn buffer_len(&self, payload_len: usize) -> usize {
        self.header_len() + payload_len
    }

    /// Writes the header and `payload`, the checksum (if any) over both.
    ///
    /// # Panics
    ///
    /// If the buffer is shorter than [`Self::buffer_len`]: sized by the caller.
    #[inline]
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut GrePacket<T>, payload: &[u8]) {
        packet.set_flags_version(self.flags_version());
        packet.set_protocol_type(self.protocol);
        // The flags were set from the same fields, so every word has its slot.
        if let Some(key) = self.key {
            packet.set_key(key);
        }
        if let Some(seq) = self.seq_number {
            packet.set_seq_number(seq);
        }
        if let Some(ack) = self.ack_number {
            packet.set_ack_number(ack);
        }
        packet.payload_mut()[..payload.len()].copy_from_slice(payload);
        packet.fill_checksum();
    }
}

/// The Call ID of an enhanced GRE packet (RFC 2637: version 1, the key present, PPP,
/// none of the flags version 1 does not allow) from its first 8 bytes, `len` being the
/// whole GRE packet's length: what [`GrePacket::new_checked`] then
/// [`GrePacket::call_id`] give for it, read at fixed offsets. `None` for anything else
/// (version 0 among it), which the full view decides.
#[inline]
pub fn enhanced_call_id(head: &[u8; 8], len: usize) -> Option<u16> {
    let flags = u16::from_be_bytes([head[0], head[1]]);
    let v1 = flags & !V1_ALLOWED == 0 && flags & VERSION_MASK == 1 && flags & FLAG_K != 0;
    if !v1 || u16::from_be_bytes([head[2], head[3]]) != PROTO_PPP {
        return None;
    }
    let header_len = 8 + 4 * usize::from(flags & FLAG_S != 0) + 4 * usize::from(flags & FLAG_A != 0);
    (len >= header_len).then(|| u16::from_be_bytes([head[6], head[7]]))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// The fixed-offset reader agrees with the full view on any bytes.
        #[test]
        fn enhanced_call_id_is_the_views(bytes in proptest::collection::vec(any::<u8>(), 8..40), v1 in any::<bool>(), k in any::<bool>()) {
            let mut b = bytes;
            if v1 {
                // Often the shape itself, so that both answers are exercised.
                b[0] = (b[0] & 0x10) | if k { 0x20 } else { 0 };
                b[1] = (b[1] & 0x80) | 1;
                b[2] = 0x88;
                b[3] = 0x0b;
            }
            let head: [u8; 8] = b[..8].try_into().unwrap();
            let view = GrePacket::new_checked(&b[..]).ok().filter(|g| g.version() == 1).and_then(|g| g.call_id());
            prop_assert_eq!(enhanced_call_id(&head, b.len()), view);
        }
    }

    use super::*;

    /// A captured PPTP data packet, from the outer IPv4 payload on.
    #[rustfmt::skip]
    static PPTP_DATA: [u8; 119] = [
        // flags K|S|A, version 1; protocol PPP
        0x30, 0x81, 0x88, 0x0b,
        // payload length 103, call ID 0x1780
        0x00, 0x67, 0x17, 0x80,
        // sequence number
        0x00, 0x06, 0x8f, 0xb1,
        // acknowledgment number
        0x00, 0x08, 0x3a, 0x76,
        // PPP: address, control, protocol IPv4
        0xff, 0x03, 0x00, 0x21,
        // IPv4 + UDP + DNS query, 99 bytes
        0x45, 0x00, 0x00, 0x63, 0x00, 0x00, 0x40, 0x00, 0x3c, 0x11, 0x56, 0x67,
        0xac, 0x10, 0x2c, 0x03, 0x08, 0x08, 0x08, 0x08, 0x9f, 0x40, 0x00, 0x35,
        0x00, 0x4f, 0x2d, 0x23, 0xa6, 0x2c, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x35, 0x78, 0x71, 0x74, 0x2d, 0x64, 0x65, 0x74,
        0x65, 0x63, 0x74, 0x2d, 0x6d, 0x6f, 0x64, 0x65, 0x32, 0x2d, 0x39, 0x37,
        0x37, 0x31, 0x32, 0x65, 0x38, 0x38, 0x2d, 0x31, 0x36, 0x37, 0x61, 0x2d,
        0x34, 0x35, 0x62, 0x39, 0x2d, 0x39, 0x33, 0x65, 0x65, 0x2d, 0x39, 0x31,
        0x33, 0x31, 0x34, 0x30, 0x65, 0x37, 0x36, 0x36, 0x37, 0x38, 0x00, 0x00,
        0x1c, 0x00, 0x01,
    ];

    /// The peer's bare acknowledgment of that packet.
    #[rustfmt::skip]
    static PPTP_ACK_ONLY: [u8; 12] = [
        // flags K|A, version 1; protocol PPP
        0x20, 0x81, 0x88, 0x0b,
        // payload length 0, call ID 0x4000
        0x00, 0x00, 0x40, 0x00,
        // acknowledgment number
        0x00, 0x06, 0x8f, 0xb1,
    ];

    /// Version 0 with a key, carrying IPv4.
    #[rustfmt::skip]
    static V0_KEYED: [u8; 12] = [
        // flags K, version 0; protocol IPv4
        0x20, 0x00, 0x08, 0x00,
        // key 1001
        0x00, 0x00, 0x03, 0xe9,
        // payload (start of an IPv4 header)
        0x45, 0x00, 0x00, 0x54,
    ];

    #[test]
    fn deconstruct_pptp_data() {
        let packet = GrePacket::new_checked(&PPTP_DATA[..]).unwrap();
        assert_eq!(packet.version(), 1);
        assert!(!packet.has_checksum());
        assert!(packet.has_key() && packet.has_seq() && packet.has_ack());
        assert_eq!(packet.protocol_type(), PROTO_PPP);
        assert_eq!(packet.key(), Some(0x0067_1780));
        assert_eq!(packet.call_id(), Some(0x1780));
        assert_eq!(packet.payload_length_field(), Some(103));
        assert_eq!(packet.seq_number(), Some(0x0006_8fb1));
        assert_eq!(packet.ack_number(), Some(0x0008_3a76));
        assert_eq!(packet.checksum(), None);
        assert!(packet.verify_checksum());
        assert_eq!(packet.header_len(), 16);
        assert_eq!(packet.payload(), &PPTP_DATA[16..]);
        assert_eq!(packet.payload().len(), 103);
    }

    #[test]
    fn deconstruct_pptp_ack_only() {
        let packet = GrePacket::new_checked(&PPTP_ACK_ONLY[..]).unwrap();
        assert_eq!(packet.version(), 1);
        assert!(packet.has_key() && packet.has_ack());
        assert!(!packet.has_seq());
        assert_eq!(packet.call_id(), Some(0x4000));
        assert_eq!(packet.payload_length_field(), Some(0));
        assert_eq!(packet.seq_number(), None);
        // Without S the acknowledgment moves up into the sequence slot.
        assert_eq!(packet.ack_number(), Some(0x0006_8fb1));
        assert_eq!(packet.header_len(), 12);
        assert!(packet.payload().is_empty());
    }

    #[test]
    fn deconstruct_v0_keyed() {
        let packet = GrePacket::new_checked(&V0_KEYED[..]).unwrap();
        assert_eq!(packet.version(), 0);
        assert_eq!(packet.protocol_type(), 0x0800);
        assert_eq!(packet.key(), Some(1001));
        // Call ID and payload length are version 1 notions.
        assert_eq!(packet.call_id(), None);
        assert_eq!(packet.payload_length_field(), None);
        assert_eq!(packet.seq_number(), None);
        assert_eq!(packet.ack_number(), None);
        assert_eq!(packet.header_len(), 8);
        assert_eq!(packet.payload(), &[0x45, 0x00, 0x00, 0x54]);
    }

    #[test]
    fn construct_pptp_data() {
        let mut buf = [0xa5u8; 119];
        let mut packet = GrePacket::new_unchecked(&mut buf[..]);
        packet.set_flags_version(0x3081);
        packet.set_protocol_type(PROTO_PPP);
        assert!(packet.set_key(0));
        assert!(packet.set_payload_length_field(103));
        assert!(packet.set_call_id(0x1780));
        assert!(packet.set_seq_number(0x0006_8fb1));
        assert!(packet.set_ack_number(0x0008_3a76));
        packet.payload_mut().copy_from_slice(&PPTP_DATA[16..]);
        assert_eq!(buf, PPTP_DATA);
    }

    #[test]
    fn construct_ack_only() {
        let mut buf = [0xa5u8; 12];
        let mut packet = GrePacket::new_unchecked(&mut buf[..]);
        packet.set_flags_version(0x2081);
        packet.set_protocol_type(PROTO_PPP);
        assert!(packet.set_key(0x0000_4000));
        assert!(!packet.set_seq_number(1), "no S flag, no sequence field");
        assert!(packet.set_ack_number(0x0006_8fb1));
        assert_eq!(buf, PPTP_ACK_ONLY);
    }

    #[test]
    fn construct_v0_keyed() {
        let mut buf = [0xa5u8; 12];
        let mut packet = GrePacket::new_unchecked(&mut buf[..]);
        packet.set_flags_version(0x2000);
        packet.set_protocol_type(0x0800);
        assert!(packet.set_key(1001));
        assert!(!packet.set_call_id(7), "v0 has no call ID");
        assert!(!packet.set_ack_number(7), "v0 has no acknowledgment");
        packet.payload_mut().copy_from_slice(&[0x45, 0x00, 0x00, 0x54]);
        assert_eq!(buf, V0_KEYED);
    }

    #[test]
    fn rewrite_call_id_keeps_payload_length() {
        let mut buf = PPTP_DATA;
        let mut packet = GrePacket::new_checked(&mut buf[..]).unwrap();
        assert!(packet.set_call_id(0xbeef));
        assert_eq!(packet.call_id(), Some(0xbeef));
        assert_eq!(packet.payload_length_field(), Some(103));
        assert_eq!(&buf[4..8], &[0x00, 0x67, 0xbe, 0xef]);
    }

    #[test]
    fn set_key_without_k_is_a_no_op() {
        let mut buf = [0x00, 0x00, 0x08, 0x00, 0xaa, 0xbb, 0xcc, 0xdd];
        let mut packet = GrePacket::new_checked(&mut buf[..]).unwrap();
        assert!(!packet.set_key(1));
        assert!(!packet.set_call_id(1));
        assert_eq!(buf[4..], [0xaa, 0xbb, 0xcc, 0xdd]);
    }

    #[test]
    fn v0_all_optional_fields() {
        #[rustfmt::skip]
        let mut buf = [
            // flags C|K|S, version 0; protocol IPv4
            0xb0, 0x00, 0x08, 0x00,
            // checksum (filled below), reserved1
            0x00, 0x00, 0x00, 0x00,
            // key
            0x00, 0x00, 0x00, 0x2a,
            // sequence number
            0x00, 0x00, 0x00, 0x07,
            // payload
            0x01, 0x02, 0x03,
        ];
        let mut packet = GrePacket::new_checked(&mut buf[..]).unwrap();
        assert!(packet.fill_checksum());
        assert!(packet.verify_checksum());
        assert_eq!(packet.checksum(), Some(0x43cc));
        assert_eq!(packet.key(), Some(42));
        assert_eq!(packet.seq_number(), Some(7));
        assert_eq!(packet.header_len(), 16);
        assert_eq!(packet.payload(), &[0x01, 0x02, 0x03]);
        buf[18] ^= 0xff;
        assert!(!GrePacket::new_checked(&buf[..]).unwrap().verify_checksum());
    }

    #[test]
    fn truncated() {
        for (bytes, header_len) in [(&PPTP_DATA[..], 16), (&PPTP_ACK_ONLY[..], 12), (&V0_KEYED[..], 8)] {
            for len in 0..header_len {
                let err = GrePacket::new_checked(&bytes[..len]).unwrap_err();
                assert_eq!(err, ParseError::GreTruncated, "len {len}");
            }
            assert!(GrePacket::new_checked(&bytes[..header_len]).is_ok());
        }
    }

    #[test]
    fn unsupported() {
        for (flags, protocol, why) in [
            (0x0002, 0x0800, "version 2"),
            (0x0007, 0x0800, "version 7"),
            (0x4000, 0x0800, "v0 routing"),
            (0x0800, 0x0800, "v0 strict source route"),
            (0x0100, 0x0800, "v0 recursion"),
            (0x0080, 0x0800, "v0 with the v1 A bit"),
            (0x0008, 0x0800, "v0 reserved flag"),
            (0x1081, PROTO_PPP, "v1 without K"),
            (0x3081, 0x0800, "v1 not PPP"),
            (0xb081, PROTO_PPP, "v1 with C"),
            (0x7081, PROTO_PPP, "v1 with R"),
            (0x3881, PROTO_PPP, "v1 with s"),
            (0x3089, PROTO_PPP, "v1 reserved flag"),
        ] {
            let mut buf = [0u8; 24];
            buf[0..2].copy_from_slice(&u16::to_be_bytes(flags));
            buf[2..4].copy_from_slice(&u16::to_be_bytes(protocol));
            let err = GrePacket::new_checked(&buf[..]).unwrap_err();
            assert_eq!(err, ParseError::GreUnsupported, "{why}");
        }
    }

    #[test]
    fn unchecked_short_buffer_does_not_panic_in_optional_accessors() {
        let packet = GrePacket::new_unchecked(&PPTP_DATA[..6]);
        assert_eq!(packet.key(), None);
        assert_eq!(packet.ack_number(), None);
        assert!(packet.payload().is_empty());
    }

    #[test]
    fn repr_round_trips_both_versions() {
        let v1 = GreRepr::pptp(0x4001, 3, Some(9), Some(8));
        let v0 = GreRepr {
            version: 0,
            protocol: 0x0800,
            checksum: true,
            key: Some(7),
            seq_number: None,
            ack_number: None,
        };
        for repr in [v1, v0, GreRepr::pptp(1, 3, None, None)] {
            let mut packet = GrePacket::new_unchecked(vec![0u8; repr.buffer_len(3)]);
            repr.emit(&mut packet, b"ppp");
            assert_eq!(packet.header_len(), repr.header_len(), "{repr:?}");
            assert_eq!(packet.payload(), b"ppp");
            assert_eq!(GreRepr::parse(&packet), Ok(repr));
            assert!(packet.verify_checksum());
        }
        let mut packet = GrePacket::new_unchecked(vec![0u8; v1.buffer_len(3)]);
        v1.emit(&mut packet, b"ppp");
        assert_eq!((packet.call_id(), packet.payload_length_field()), (Some(0x4001), Some(3)));
    }
}
