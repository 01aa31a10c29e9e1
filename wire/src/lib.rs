//! What ferrowall reads and writes on the wire, with no DPDK and no `unsafe`: zero-copy
//! packet views and their `Repr`s, checksums, the flow key a packet is found by, the
//! Toeplitz hash NICs spread flows with, and the [`frame::Frame`] buffer the per-packet
//! logic works on. It builds and tests with plain `cargo test -p wire`.
//!
//! # Views, in the style of smoltcp's `wire`
//!
//! Each protocol module offers a `XxxPacket<T: AsRef<[u8]>>` wrapper that
//! reads and writes header fields in place, at fixed byte offsets, without
//! copying the frame out of its mbuf.
//!
//! Each `XxxRepr` is the parsed, owned form of a header: `parse` from a checked view,
//! `emit` into a buffer of `buffer_len` bytes. Frames for tests are built from them
//! (feature `craft`).
//!
//! ```text
//!  mbuf data
//! +----------------+-----------------+---------------------+-------------+
//! | EthernetFrame  | Ipv4Packet      | Tcp/Udp/Icmpv4/Gre  | payload ... |
//! | 14 bytes       | header_len      | header              |             |
//! +----------------+-----------------+---------------------+-------------+
//!                   ^ EthernetFrame::payload()
//!                                     ^ Ipv4Packet::payload()
//! ```
//!
//! # Contract
//!
//! `new_unchecked` only wraps a buffer. `new_checked` runs `check_len`, which
//! validates every length and layout field that an accessor relies on, so
//! **once `new_checked` succeeds, no accessor panics**. A failed check
//! returns a [`ParseError`] whose variant is the drop reason to count.
//!
//! Setters can break that invariant (for example by enlarging a header-length
//! field); accessors that slice by such a field clamp to the buffer instead
//! of panicking, but the data they return is then meaningless, so re-check a
//! packet whose length fields were rewritten.
//!
//! # Choosing between `Bad*` and `Truncated`
//!
//! A length field below the protocol minimum is `*Bad*Len`; a length field
//! (or fixed header) reaching past the buffer is `*Truncated`. The views of
//! layer 4 expect a buffer holding exactly the L4 segment, as bounded by the
//! IPv4 total length.

#![forbid(unsafe_code)]

/// A view over a buffer holding one header: the struct and the constructors every view
/// has the same way. `new_checked` runs the view's own `check_len`.
macro_rules! view {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name<T: AsRef<[u8]>> {
            buffer: T,
        }

        impl<T: AsRef<[u8]>> $name<T> {
            /// Wraps a buffer without checking it; accessors may panic on a short one.
            #[inline]
            pub fn new_unchecked(buffer: T) -> Self {
                $name { buffer }
            }

            /// Wraps a buffer that `check_len` accepts; no accessor panics on it then.
            #[inline]
            pub fn new_checked(buffer: T) -> Result<Self, $crate::ParseError> {
                let view = Self::new_unchecked(buffer);
                view.check_len()?;
                Ok(view)
            }

            #[inline]
            pub fn into_inner(self) -> T {
                self.buffer
            }
        }
    };
}

pub mod arp;
mod be;
pub mod checksum;
#[cfg(any(test, feature = "craft"))]
pub mod craft;
pub mod ethernet;
pub mod flow;
pub mod frame;
pub mod gre;
pub mod icmp;
pub mod ipv4;
pub mod pptp;
pub mod tcp;
pub mod toeplitz;
pub mod udp;

pub use arp::{ArpOperation, ArpPacket, ArpRepr};
pub use checksum::ChecksumDelta;
pub use ethernet::{EtherType, EthernetFrame, MacAddr};
pub use flow::{FlowKey, L4Info};
pub use frame::{Frame, TestFrame};
pub use gre::GrePacket;
pub use icmp::Icmpv4Packet;
pub use ipv4::{IpProtocol, Ipv4Packet, Ipv4Repr};
pub use tcp::{TcpFlags, TcpPacket};
pub use toeplitz::{Toeplitz, SYMMETRIC_KEY};
pub use udp::UdpPacket;

/// A byte range of a header field; module-private `field` tables use it.
type Field = core::ops::Range<usize>;

macro_rules! parse_errors {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// Why a packet could not be viewed; each variant is one drop reason.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ParseError {
            $($(#[$doc])* $variant,)*
        }

        impl ParseError {
            /// Every variant, in `index()` order, so counter tables can be sized and
            /// labelled without repeating the list.
            pub const ALL: &'static [ParseError] = &[$(ParseError::$variant,)*];

            /// Stable snake_case name, used as the drop-reason label in metrics.
            #[inline]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ParseError::$variant => $name,)*
                }
            }
        }
    };
}

parse_errors! {
    EthTruncated => "eth_truncated",
    ArpTruncated => "arp_truncated",
    /// Not Ethernet/IPv4 hardware and protocol types or address lengths.
    ArpUnsupported => "arp_unsupported",
    Ipv4Truncated => "ipv4_truncated",
    Ipv4BadVersion => "ipv4_bad_version",
    Ipv4BadHeaderLen => "ipv4_bad_header_len",
    Ipv4BadTotalLen => "ipv4_bad_total_len",
    /// An option whose length is under two or runs past the header.
    Ipv4BadOptions => "ipv4_bad_options",
    IcmpTruncated => "icmp_truncated",
    TcpTruncated => "tcp_truncated",
    TcpBadHeaderLen => "tcp_bad_header_len",
    UdpTruncated => "udp_truncated",
    UdpBadLen => "udp_bad_len",
    GreTruncated => "gre_truncated",
    /// A GRE version, flag combination or protocol this firewall does not forward
    /// (routing, strict source route, recursion, unknown versions).
    GreUnsupported => "gre_unsupported",
}

impl ParseError {
    /// Position in [`ParseError::ALL`], for indexing a counter array.
    #[inline]
    pub fn index(self) -> usize {
        // The enum has no explicit discriminants and ALL follows declaration order, so
        // the discriminant is the index.
        self as usize
    }
}

impl core::fmt::Display for ParseError {
    #[inline]
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for ParseError {}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;
    use proptest::prelude::*;

    #[test]
    fn index_matches_all_order() {
        for (i, e) in ParseError::ALL.iter().enumerate() {
            assert_eq!(e.index(), i);
        }
    }

    #[test]
    fn names_are_unique_snake_case() {
        for (i, a) in ParseError::ALL.iter().enumerate() {
            let name = a.as_str();
            assert!(name.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'));
            assert_eq!(a.to_string(), name);
            for b in &ParseError::ALL[i + 1..] {
                assert_ne!(name, b.as_str());
            }
        }
        assert_eq!(ParseError::EthTruncated.as_str(), "eth_truncated");
    }

    /// A real PPTP data packet (outer IPv4, enhanced GRE, PPP, inner IPv4,
    /// UDP DNS query) walked layer by layer, with every checksum verified.
    #[rustfmt::skip]
    static PPTP_IPV4: [u8; 139] = [
        // outer IPv4: ver/ihl, tos, total len 139
        0x45, 0x00, 0x00, 0x8b,
        // ident, flags/frag
        0x8c, 0xaf, 0x00, 0x00,
        // ttl 64, proto 47 (GRE), checksum
        0x40, 0x2f, 0x75, 0xfe,
        // src 16.0.0.200, dst 192.52.166.154
        0x10, 0x00, 0x00, 0xc8, 0xc0, 0x34, 0xa6, 0x9a,
        // GRE flags K|S|A ver 1, protocol PPP
        0x30, 0x81, 0x88, 0x0b,
        // payload length 103, call id 0x1780
        0x00, 0x67, 0x17, 0x80,
        // sequence, acknowledgment
        0x00, 0x06, 0x8f, 0xb1, 0x00, 0x08, 0x3a, 0x76,
        // PPP address, control, protocol 0x0021 (IPv4)
        0xff, 0x03, 0x00, 0x21,
        // inner IPv4: total len 99, DF, ttl 60, UDP, checksum
        0x45, 0x00, 0x00, 0x63, 0x00, 0x00, 0x40, 0x00,
        0x3c, 0x11, 0x56, 0x67,
        // src 172.16.44.3, dst 8.8.8.8
        0xac, 0x10, 0x2c, 0x03, 0x08, 0x08, 0x08, 0x08,
        // UDP 40768 -> 53, len 79, checksum
        0x9f, 0x40, 0x00, 0x35, 0x00, 0x4f, 0x2d, 0x23,
        // DNS query for an AAAA record
        0xa6, 0x2c, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x35, 0x78, 0x71, 0x74,
        0x2d, 0x64, 0x65, 0x74, 0x65, 0x63, 0x74, 0x2d,
        0x6d, 0x6f, 0x64, 0x65, 0x32, 0x2d, 0x39, 0x37,
        0x37, 0x31, 0x32, 0x65, 0x38, 0x38, 0x2d, 0x31,
        0x36, 0x37, 0x61, 0x2d, 0x34, 0x35, 0x62, 0x39,
        0x2d, 0x39, 0x33, 0x65, 0x65, 0x2d, 0x39, 0x31,
        0x33, 0x31, 0x34, 0x30, 0x65, 0x37, 0x36, 0x36,
        0x37, 0x38, 0x00, 0x00, 0x1c, 0x00, 0x01,
    ];

    #[test]
    fn walk_real_pptp_packet() {
        let outer = Ipv4Packet::new_checked(&PPTP_IPV4[..]).unwrap();
        assert!(outer.verify_checksum());
        assert_eq!(outer.next_header(), IpProtocol::Gre);
        let gre = GrePacket::new_checked(outer.payload()).unwrap();
        assert_eq!(gre.call_id(), Some(0x1780));
        assert_eq!(usize::from(gre.payload_length_field().unwrap()), gre.payload().len());
        let ppp = gre.payload();
        assert_eq!(&ppp[..4], &[0xff, 0x03, 0x00, 0x21]);
        let inner = Ipv4Packet::new_checked(&ppp[4..]).unwrap();
        assert!(inner.verify_checksum());
        assert_eq!(inner.next_header(), IpProtocol::Udp);
        let udp = UdpPacket::new_checked(inner.payload()).unwrap();
        assert_eq!(udp.dst_port(), 53);
        assert!(udp.verify_checksum(inner.src_addr(), inner.dst_addr()));
    }

    // The contract under fuzzing: whenever `new_checked` accepts a buffer,
    // every accessor returns without panicking. Random bytes rarely pass
    // the checks, so the generators patch the fields the checks look at.

    fn exercise_ethernet(bytes: &[u8]) {
        if let Ok(p) = EthernetFrame::new_checked(bytes) {
            let _ = (p.dst_addr(), p.src_addr(), p.ethertype(), p.payload());
        }
    }

    fn exercise_arp(bytes: &[u8]) {
        if let Ok(p) = ArpPacket::new_checked(bytes) {
            let _ = (p.operation(), p.sender_hw_addr(), p.target_hw_addr(), p.payload());
            ArpRepr::parse(&p).unwrap();
        }
    }

    fn exercise_ipv4(bytes: &[u8]) {
        if let Ok(p) = Ipv4Packet::new_checked(bytes) {
            let _ = (p.dscp_ecn(), p.ident(), p.is_fragment(), p.ttl(), p.next_header());
            let _ = (p.checksum(), p.src_addr(), p.dst_addr(), p.verify_checksum());
            let expected = usize::from(p.total_len() - u16::from(p.header_len()));
            assert_eq!(p.payload().len(), expected);
            Ipv4Repr::parse(&p).unwrap();
        }
    }

    fn exercise_icmp(bytes: &[u8]) {
        if let Ok(p) = Icmpv4Packet::new_checked(bytes) {
            let _ = (p.msg_type(), p.code(), p.checksum(), p.echo_ident(), p.echo_seq());
            let _ = (p.is_echo(), p.is_error(), p.data(), p.verify_checksum());
        }
    }

    fn exercise_tcp(bytes: &[u8]) {
        let addr = Ipv4Addr::LOCALHOST;
        if let Ok(p) = TcpPacket::new_checked(bytes) {
            let _ = (p.src_port(), p.dst_port(), p.seq_number(), p.ack_number());
            let _ = (p.flags(), p.window_len(), p.checksum(), p.urgent_at(), p.options());
            let _ = (p.payload(), p.verify_checksum(addr, addr));
        }
    }

    fn exercise_udp(bytes: &[u8]) {
        let addr = Ipv4Addr::LOCALHOST;
        if let Ok(p) = UdpPacket::new_checked(bytes) {
            let _ = (p.src_port(), p.dst_port(), p.checksum(), p.verify_checksum(addr, addr));
            assert_eq!(p.payload().len(), usize::from(p.len()) - udp::HEADER_LEN);
        }
    }

    fn exercise_gre(bytes: &[u8]) {
        if let Ok(p) = GrePacket::new_checked(bytes) {
            let _ = (p.protocol_type(), p.key(), p.call_id(), p.payload_length_field());
            let _ = (p.seq_number(), p.ack_number(), p.checksum(), p.verify_checksum());
            assert_eq!(p.payload().len(), bytes.len() - p.header_len());
        }
    }

    fn exercise_all(bytes: &[u8]) {
        exercise_ethernet(bytes);
        exercise_arp(bytes);
        exercise_ipv4(bytes);
        exercise_icmp(bytes);
        exercise_tcp(bytes);
        exercise_udp(bytes);
        exercise_gre(bytes);
    }

    /// Overwrites the start of `bytes` with `prefix`, as far as it fits.
    fn patch(bytes: &mut [u8], at: usize, prefix: &[u8]) {
        for (dst, src) in bytes.iter_mut().skip(at).zip(prefix) {
            *dst = *src;
        }
    }

    proptest! {
        #[test]
        fn checked_views_never_panic(
            mut bytes in prop::collection::vec(any::<u8>(), 0..100),
            nibble in 0u8..16,
            len_pick in any::<u16>(),
            gre_flags in any::<u16>(),
            ppp in any::<bool>(),
        ) {
            exercise_all(&bytes);
            // Lengths around the buffer size hit both sides of each check.
            let near_len = len_pick % (bytes.len() as u16 + 8);

            let mut arp = bytes.clone();
            patch(&mut arp, 0, &[0x00, 0x01, 0x08, 0x00, 0x06, 0x04]);
            exercise_arp(&arp);

            let mut ipv4 = bytes.clone();
            patch(&mut ipv4, 0, &[0x40 | nibble, 0x00]);
            patch(&mut ipv4, 2, &near_len.to_be_bytes());
            exercise_ipv4(&ipv4);

            let mut tcp = bytes.clone();
            patch(&mut tcp, 12, &[nibble << 4]);
            exercise_tcp(&tcp);

            let mut udp = bytes.clone();
            patch(&mut udp, 4, &near_len.to_be_bytes());
            exercise_udp(&udp);

            // Keep only flag bits some version allows, so layouts vary.
            let flags = gre_flags & 0xb087;
            let protocol = if ppp { gre::PROTO_PPP } else { 0x0800 };
            patch(&mut bytes, 0, &flags.to_be_bytes());
            patch(&mut bytes, 2, &protocol.to_be_bytes());
            exercise_gre(&bytes);
        }
    }
}
