//! Ethernet II frames (IEEE 802.3, RFC 894 for IPv4 over Ethernet).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                  Destination MAC address                      |
//! +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                               |                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//! |                    Source MAC address                         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          EtherType            |  Payload ...
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The NIC has already stripped the preamble and FCS. The only invariant is
//! `buffer.len() >= HEADER_LEN`; once `new_checked` succeeds, no accessor
//! panics. The payload is everything after the header, including any
//! padding up to the 60-byte minimum frame: the IPv4 view trims it using
//! its total length.

use core::fmt;
use core::str::FromStr;

use crate::{be, ParseError};

mod field {
    use crate::Field;

    pub const DST: Field = 0..6;
    pub const SRC: Field = 6..12;
    pub const ETHERTYPE: Field = 12..14;
    pub const PAYLOAD: usize = 14;
}

/// Length of the Ethernet II header.
///
/// Also available as an associated const of the view.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// A 48-bit IEEE 802 MAC address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// Copies an address out of a 6-byte field.
    #[inline]
    fn from_field(bytes: &[u8]) -> MacAddr {
        let mut addr = [0; 6];
        addr.copy_from_slice(bytes);
        MacAddr(addr)
    }

    #[inline]
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// True for group addresses (I/G bit set), which includes broadcast.
    #[inline]
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }
}

impl fmt::Display for MacAddr {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// The text was not six colon-separated two-digit hex octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacAddrParseError;

impl fmt::Display for MacAddrParseError {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid MAC address, expected aa:bb:cc:dd:ee:ff")
    }
}

impl std::error::Error for MacAddrParseError {}

impl FromStr for MacAddr {
    type Err = MacAddrParseError;

    /// Parses `aa:bb:cc:dd:ee:ff` (either case). Exactly two digits per
    /// octet are required so that config typos are not silently accepted.
    #[inline]
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut addr = [0u8; 6];
        let mut parts = s.split(':');
        for octet in addr.iter_mut() {
            let part = parts.next().ok_or(MacAddrParseError)?;
            *octet = parse_octet(part)?;
        }
        match parts.next() {
            Some(_) => Err(MacAddrParseError),
            None => Ok(MacAddr(addr)),
        }
    }
}

#[inline]
fn parse_octet(part: &str) -> Result<u8, MacAddrParseError> {
    // from_str_radix alone would accept "+f" or "f".
    if part.len() != 2 || !part.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(MacAddrParseError);
    }
    u8::from_str_radix(part, 16).map_err(|_| MacAddrParseError)
}

/// The EtherType field; `Unknown` keeps the raw value for counters and
/// pass-through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EtherType {
    Ipv4,
    Arp,
    Vlan,
    Ipv6,
    Unknown(u16),
}

impl From<u16> for EtherType {
    #[inline]
    fn from(value: u16) -> Self {
        match value {
            0x0800 => EtherType::Ipv4,
            0x0806 => EtherType::Arp,
            0x8100 => EtherType::Vlan,
            0x86dd => EtherType::Ipv6,
            other => EtherType::Unknown(other),
        }
    }
}

impl From<EtherType> for u16 {
    #[inline]
    fn from(value: EtherType) -> Self {
        match value {
            EtherType::Ipv4 => 0x0800,
            EtherType::Arp => 0x0806,
            EtherType::Vlan => 0x8100,
            EtherType::Ipv6 => 0x86dd,
            EtherType::Unknown(other) => other,
        }
    }
}

view! {
    /// A view of an Ethernet II frame.
    EthernetFrame
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    pub const HEADER_LEN: usize = self::HEADER_LEN;

    #[inline]
    pub fn check_len(&self) -> Result<(), ParseError> {
        if self.buffer.as_ref().len() < Self::HEADER_LEN {
            return Err(ParseError::EthTruncated);
        }
        Ok(())
    }

    #[inline]
    pub fn dst_addr(&self) -> MacAddr {
        MacAddr::from_field(&self.buffer.as_ref()[field::DST])
    }

    #[inline]
    pub fn src_addr(&self) -> MacAddr {
        MacAddr::from_field(&self.buffer.as_ref()[field::SRC])
    }

    #[inline]
    pub fn ethertype(&self) -> EtherType {
        EtherType::from(be::u16_at(self.buffer.as_ref(), field::ETHERTYPE))
    }

    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    #[inline]
    pub fn set_dst_addr(&mut self, addr: MacAddr) {
        self.buffer.as_mut()[field::DST].copy_from_slice(&addr.0);
    }

    #[inline]
    pub fn set_src_addr(&mut self, addr: MacAddr) {
        self.buffer.as_mut()[field::SRC].copy_from_slice(&addr.0);
    }

    #[inline]
    pub fn set_ethertype(&mut self, ethertype: EtherType) {
        be::set_u16(self.buffer.as_mut(), field::ETHERTYPE, u16::from(ethertype));
    }

    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD..]
    }
}

/// An Ethernet II header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetRepr {
    pub src_addr: MacAddr,
    pub dst_addr: MacAddr,
    pub ethertype: EtherType,
}

impl EthernetRepr {
    #[inline]
    pub fn parse<T: AsRef<[u8]>>(frame: &EthernetFrame<T>) -> Result<EthernetRepr, ParseError> {
        frame.check_len()?;
        Ok(EthernetRepr {
            src_addr: frame.src_addr(),
            dst_addr: frame.dst_addr(),
            ethertype: frame.ethertype(),
        })
    }

    #[inline]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header; the payload is the caller's (`payload_mut`).
    ///
    /// # Panics
    ///
    /// If the buffer is shorter than [`HEADER_LEN`]: sized by the caller, never by input.
    #[inline]
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut EthernetFrame<T>) {
        frame.set_dst_addr(self.dst_addr);
        frame.set_src_addr(self.src_addr);
        frame.set_ethertype(self.ethertype);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    static FRAME: [u8; 18] = [
        // destination
        0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e,
        // source
        0x02, 0x42, 0xac, 0x11, 0x00, 0x02,
        // ethertype IPv4
        0x08, 0x00,
        // payload
        0xaa, 0xbb, 0xcc, 0xdd,
    ];

    #[test]
    fn deconstruct() {
        let frame = EthernetFrame::new_checked(&FRAME[..]).unwrap();
        assert_eq!(frame.dst_addr(), MacAddr([0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e]));
        assert_eq!(frame.src_addr(), MacAddr([0x02, 0x42, 0xac, 0x11, 0x00, 0x02]));
        assert_eq!(frame.ethertype(), EtherType::Ipv4);
        assert_eq!(frame.payload(), &[0xaa, 0xbb, 0xcc, 0xdd]);
    }

    #[test]
    fn construct() {
        let mut buf = [0u8; 18];
        let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
        frame.set_dst_addr(MacAddr([0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e]));
        frame.set_src_addr(MacAddr([0x02, 0x42, 0xac, 0x11, 0x00, 0x02]));
        frame.set_ethertype(EtherType::Ipv4);
        frame.payload_mut().copy_from_slice(&[0xaa, 0xbb, 0xcc, 0xdd]);
        assert_eq!(buf, FRAME);
    }

    #[test]
    fn truncated() {
        for len in 0..EthernetFrame::<&[u8]>::HEADER_LEN {
            let err = EthernetFrame::new_checked(&FRAME[..len]).unwrap_err();
            assert_eq!(err, ParseError::EthTruncated);
        }
        let bare = EthernetFrame::new_checked(&FRAME[..14]).unwrap();
        assert!(bare.payload().is_empty());
    }

    #[test]
    fn ethertype_round_trip() {
        for raw in [0x0800, 0x0806, 0x8100, 0x86dd, 0x88cc] {
            assert_eq!(u16::from(EtherType::from(raw)), raw);
        }
        assert_eq!(EtherType::from(0x88cc), EtherType::Unknown(0x88cc));
    }

    #[test]
    fn mac_display_and_parse() {
        let mac = MacAddr([0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e]);
        assert_eq!(mac.to_string(), "00:1b:21:3c:4d:5e");
        assert_eq!("00:1B:21:3c:4d:5e".parse::<MacAddr>(), Ok(mac));
        assert_eq!(MacAddr::BROADCAST.to_string(), "ff:ff:ff:ff:ff:ff");
    }

    #[test]
    fn mac_parse_rejects_malformed() {
        for bad in [
            "",
            "00:1b:21:3c:4d",
            "00:1b:21:3c:4d:5e:6f",
            "0:1b:21:3c:4d:5e",
            "00:1b:21:3c:4d:5g",
            "+0:1b:21:3c:4d:5e",
            "00-1b-21-3c-4d-5e",
            "00:1b:21:3c:4d:5e:",
        ] {
            assert_eq!(bad.parse::<MacAddr>(), Err(MacAddrParseError), "{bad:?}");
        }
    }

    #[test]
    fn mac_classes() {
        assert!(MacAddr::BROADCAST.is_broadcast());
        assert!(MacAddr::BROADCAST.is_multicast());
        assert!(MacAddr([0x01, 0x00, 0x5e, 0, 0, 1]).is_multicast());
        assert!(!MacAddr([0x01, 0x00, 0x5e, 0, 0, 1]).is_broadcast());
        assert!(!MacAddr::ZERO.is_multicast());
    }

    #[test]
    fn repr_round_trips() {
        let repr = EthernetRepr {
            src_addr: MacAddr([2, 0, 0, 0, 0, 1]),
            dst_addr: MacAddr::BROADCAST,
            ethertype: EtherType::Arp,
        };
        let mut frame = EthernetFrame::new_unchecked([0u8; 20]);
        repr.emit(&mut frame);
        assert_eq!(EthernetRepr::parse(&frame), Ok(repr));
        assert_eq!(&frame.into_inner()[..14], &[255, 255, 255, 255, 255, 255, 2, 0, 0, 0, 0, 1, 8, 6]);
    }
}
