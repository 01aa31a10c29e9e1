//! ARP for IPv4 over Ethernet (RFC 826).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |      Hardware type (1)        |    Protocol type (0x0800)     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  HW len (6)   | Proto len (4) |          Operation            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Sender hardware address (6)                   |
//! +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                               |  Sender protocol address (4)  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//! |                               |                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//! |                 Target hardware address (6)                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                  Target protocol address (4)                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The address fields sit at fixed offsets only for 6-byte hardware and
//! 4-byte protocol addresses, so `check_len` rejects every other
//! combination as [`ParseError::ArpUnsupported`] instead of mis-reading it.
//! Invariant after `new_checked`: `buffer.len() >= PACKET_LEN` and the
//! packet is Ethernet/IPv4; once `new_checked` succeeds, no accessor panics.
//! Bytes past `PACKET_LEN` (Ethernet padding) are ignored.

use core::net::Ipv4Addr;

use crate::{be, Field, MacAddr, ParseError};

mod field {
    use crate::Field;

    pub const HTYPE: Field = 0..2;
    pub const PTYPE: Field = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Field = 6..8;
    pub const SHA: Field = 8..14;
    pub const SPA: Field = 14..18;
    pub const THA: Field = 18..24;
    pub const TPA: Field = 24..28;
}

/// Length of an Ethernet/IPv4 ARP packet.
///
/// Also available as an associated const of the view.
pub const PACKET_LEN: usize = field::TPA.end;

const HTYPE_ETHERNET: u16 = 1;
const PTYPE_IPV4: u16 = 0x0800;

/// The ARP opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArpOperation {
    Request,
    Reply,
    Unknown(u16),
}

impl From<u16> for ArpOperation {
    #[inline]
    fn from(value: u16) -> Self {
        match value {
            1 => ArpOperation::Request,
            2 => ArpOperation::Reply,
            other => ArpOperation::Unknown(other),
        }
    }
}

impl From<ArpOperation> for u16 {
    #[inline]
    fn from(value: ArpOperation) -> Self {
        match value {
            ArpOperation::Request => 1,
            ArpOperation::Reply => 2,
            ArpOperation::Unknown(other) => other,
        }
    }
}

view! {
    /// A view of an Ethernet/IPv4 ARP packet.
    ArpPacket
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    pub const PACKET_LEN: usize = self::PACKET_LEN;

    /// Checks the length and that the packet is Ethernet/IPv4.
    ///
    /// The type fields are judged first, so a short packet of another
    /// hardware or protocol type counts as unsupported, not truncated.
    #[inline]
    pub fn check_len(&self) -> Result<(), ParseError> {
        let len = self.buffer.as_ref().len();
        if len < field::OPER.start {
            return Err(ParseError::ArpTruncated);
        }
        if !self.is_ethernet_ipv4() {
            return Err(ParseError::ArpUnsupported);
        }
        if len < Self::PACKET_LEN {
            return Err(ParseError::ArpTruncated);
        }
        Ok(())
    }

    #[inline]
    fn is_ethernet_ipv4(&self) -> bool {
        self.hardware_type() == HTYPE_ETHERNET
            && self.protocol_type() == PTYPE_IPV4
            && self.hardware_len() == 6
            && self.protocol_len() == 4
    }

    #[inline]
    fn read_u16(&self, f: Field) -> u16 {
        be::u16_at(self.buffer.as_ref(), f)
    }

    #[inline]
    fn read_ipv4(&self, f: Field) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[f];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    #[inline]
    pub fn hardware_type(&self) -> u16 {
        self.read_u16(field::HTYPE)
    }

    #[inline]
    pub fn protocol_type(&self) -> u16 {
        self.read_u16(field::PTYPE)
    }

    #[inline]
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    #[inline]
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    #[inline]
    pub fn operation(&self) -> ArpOperation {
        ArpOperation::from(self.read_u16(field::OPER))
    }

    #[inline]
    pub fn sender_hw_addr(&self) -> MacAddr {
        let mut addr = [0; 6];
        addr.copy_from_slice(&self.buffer.as_ref()[field::SHA]);
        MacAddr(addr)
    }

    #[inline]
    pub fn sender_proto_addr(&self) -> Ipv4Addr {
        self.read_ipv4(field::SPA)
    }

    #[inline]
    pub fn target_hw_addr(&self) -> MacAddr {
        let mut addr = [0; 6];
        addr.copy_from_slice(&self.buffer.as_ref()[field::THA]);
        MacAddr(addr)
    }

    #[inline]
    pub fn target_proto_addr(&self) -> Ipv4Addr {
        self.read_ipv4(field::TPA)
    }

    /// The bytes after the ARP body (usually Ethernet padding).
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[Self::PACKET_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    #[inline]
    fn write(&mut self, f: Field, bytes: &[u8]) {
        self.buffer.as_mut()[f].copy_from_slice(bytes);
    }

    #[inline]
    pub fn set_hardware_type(&mut self, value: u16) {
        be::set_u16(self.buffer.as_mut(), field::HTYPE, value);
    }

    #[inline]
    pub fn set_protocol_type(&mut self, value: u16) {
        be::set_u16(self.buffer.as_mut(), field::PTYPE, value);
    }

    #[inline]
    pub fn set_hardware_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::HLEN] = value;
    }

    #[inline]
    pub fn set_protocol_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::PLEN] = value;
    }

    #[inline]
    pub fn set_operation(&mut self, op: ArpOperation) {
        be::set_u16(self.buffer.as_mut(), field::OPER, u16::from(op));
    }

    #[inline]
    pub fn set_sender_hw_addr(&mut self, addr: MacAddr) {
        self.write(field::SHA, &addr.0);
    }

    #[inline]
    pub fn set_sender_proto_addr(&mut self, addr: Ipv4Addr) {
        self.write(field::SPA, &addr.octets());
    }

    #[inline]
    pub fn set_target_hw_addr(&mut self, addr: MacAddr) {
        self.write(field::THA, &addr.0);
    }

    #[inline]
    pub fn set_target_proto_addr(&mut self, addr: Ipv4Addr) {
        self.write(field::TPA, &addr.octets());
    }

    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[Self::PACKET_LEN..]
    }
}

/// The meaning of an Ethernet/IPv4 ARP packet, detached from its buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArpRepr {
    pub operation: ArpOperation,
    pub sender_hw_addr: MacAddr,
    pub sender_ip: Ipv4Addr,
    pub target_hw_addr: MacAddr,
    pub target_ip: Ipv4Addr,
}

impl ArpRepr {
    /// Re-runs `check_len`, so a packet made with `new_unchecked` is safe too.
    #[inline]
    pub fn parse<T: AsRef<[u8]>>(packet: &ArpPacket<T>) -> Result<ArpRepr, ParseError> {
        packet.check_len()?;
        Ok(ArpRepr {
            operation: packet.operation(),
            sender_hw_addr: packet.sender_hw_addr(),
            sender_ip: packet.sender_proto_addr(),
            target_hw_addr: packet.target_hw_addr(),
            target_ip: packet.target_proto_addr(),
        })
    }

    /// Writes all `PACKET_LEN` bytes, type and length fields included.
    ///
    /// # Panics
    ///
    /// If the buffer is shorter than `ArpPacket::PACKET_LEN`: output buffers
    /// are sized by the caller, never by input.
    #[inline]
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut ArpPacket<T>) {
        packet.set_hardware_type(HTYPE_ETHERNET);
        packet.set_protocol_type(PTYPE_IPV4);
        packet.set_hardware_len(6);
        packet.set_protocol_len(4);
        packet.set_operation(self.operation);
        packet.set_sender_hw_addr(self.sender_hw_addr);
        packet.set_sender_proto_addr(self.sender_ip);
        packet.set_target_hw_addr(self.target_hw_addr);
        packet.set_target_proto_addr(self.target_ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    static REQUEST: [u8; 28] = [
        // hardware type Ethernet, protocol type IPv4
        0x00, 0x01, 0x08, 0x00,
        // hw len 6, proto len 4, operation request
        0x06, 0x04, 0x00, 0x01,
        // sender hw addr
        0x02, 0x42, 0xac, 0x11, 0x00, 0x02,
        // sender proto addr 172.17.0.2
        0xac, 0x11, 0x00, 0x02,
        // target hw addr (unknown)
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        // target proto addr 172.17.0.1
        0xac, 0x11, 0x00, 0x01,
    ];

    fn repr() -> ArpRepr {
        ArpRepr {
            operation: ArpOperation::Request,
            sender_hw_addr: MacAddr([0x02, 0x42, 0xac, 0x11, 0x00, 0x02]),
            sender_ip: Ipv4Addr::new(172, 17, 0, 2),
            target_hw_addr: MacAddr::ZERO,
            target_ip: Ipv4Addr::new(172, 17, 0, 1),
        }
    }

    #[test]
    fn deconstruct() {
        let packet = ArpPacket::new_checked(&REQUEST[..]).unwrap();
        assert_eq!(packet.hardware_type(), 1);
        assert_eq!(packet.protocol_type(), 0x0800);
        assert_eq!(packet.operation(), ArpOperation::Request);
        assert_eq!(packet.sender_hw_addr(), repr().sender_hw_addr);
        assert_eq!(packet.sender_proto_addr(), Ipv4Addr::new(172, 17, 0, 2));
        assert_eq!(packet.target_hw_addr(), MacAddr::ZERO);
        assert_eq!(packet.target_proto_addr(), Ipv4Addr::new(172, 17, 0, 1));
        assert!(packet.payload().is_empty());
        assert_eq!(ArpRepr::parse(&packet), Ok(repr()));
    }

    #[test]
    fn construct_with_setters() {
        let mut buf = [0u8; 28];
        let mut packet = ArpPacket::new_unchecked(&mut buf[..]);
        packet.set_hardware_type(1);
        packet.set_protocol_type(0x0800);
        packet.set_hardware_len(6);
        packet.set_protocol_len(4);
        packet.set_operation(ArpOperation::Request);
        packet.set_sender_hw_addr(MacAddr([0x02, 0x42, 0xac, 0x11, 0x00, 0x02]));
        packet.set_sender_proto_addr(Ipv4Addr::new(172, 17, 0, 2));
        packet.set_target_hw_addr(MacAddr::ZERO);
        packet.set_target_proto_addr(Ipv4Addr::new(172, 17, 0, 1));
        assert_eq!(buf, REQUEST);
    }

    #[test]
    fn emit() {
        // Garbage in the buffer proves emit writes every field.
        let mut buf = [0xa5u8; 28];
        repr().emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
        assert_eq!(buf, REQUEST);
    }

    #[test]
    fn padded_frame_is_accepted() {
        let mut buf = [0u8; 46];
        buf[..28].copy_from_slice(&REQUEST);
        let packet = ArpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(packet.payload().len(), 18);
        assert_eq!(ArpRepr::parse(&packet), Ok(repr()));
    }

    #[test]
    fn truncated() {
        for len in 0..28 {
            let err = ArpPacket::new_checked(&REQUEST[..len]).unwrap_err();
            assert_eq!(err, ParseError::ArpTruncated, "len {len}");
        }
        let unchecked = ArpPacket::new_unchecked(&REQUEST[..27]);
        assert_eq!(ArpRepr::parse(&unchecked), Err(ParseError::ArpTruncated));
    }

    #[test]
    fn unsupported_types_and_lengths() {
        // (offset, value): IEEE 802 hw type, IPv6 proto type, hw len 8, proto len 16
        for (offset, value) in [(1, 6), (2, 0x86), (4, 8), (5, 16)] {
            let mut buf = REQUEST;
            buf[offset] = value;
            let err = ArpPacket::new_checked(&buf[..]).unwrap_err();
            assert_eq!(err, ParseError::ArpUnsupported, "offset {offset}");
            // Even when short: the layout is unknown, so length means nothing.
            let err = ArpPacket::new_checked(&buf[..10]).unwrap_err();
            assert_eq!(err, ParseError::ArpUnsupported);
        }
    }

    #[test]
    fn operation_round_trip() {
        for raw in [1, 2, 3, 0xffff] {
            assert_eq!(u16::from(ArpOperation::from(raw)), raw);
        }
        assert_eq!(ArpOperation::from(2), ArpOperation::Reply);
    }
}
