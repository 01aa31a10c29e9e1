//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//!
//! The checksum is the one's complement of the one's complement sum of the
//! data taken as big-endian 16-bit words; an odd trailing byte is padded
//! with a zero byte on the right. TCP and UDP also cover a pseudo header:
//!
//! ```text
//!  0      7 8     15 16    23 24    31
//! +--------+--------+--------+--------+
//! |          source address           |
//! +--------+--------+--------+--------+
//! |        destination address        |
//! +--------+--------+--------+--------+
//! |  zero  |protocol|   L4 length     |
//! +--------+--------+--------+--------+
//! ```
//!
//! When a NAT rewrites a field, RFC 1624 eqn. 3 updates the checksum from
//! the old and new field values alone: `HC' = ~(~HC + ~m + m')`, which is
//! what [`update16`], [`update32`] and [`ChecksumDelta`] implement. Unlike
//! the RFC 1141 formula it agrees with a full recomputation even when the
//! result is zero, for any data holding a non-zero word (every real header
//! does: the IPv4 version, the TCP data offset, the UDP length).
//!
//! Nothing here indexes out of range or overflows, whatever the input.

use core::net::Ipv4Addr;

/// One's complement sum of `data` as big-endian 16-bit words.
///
/// The result is already folded into 16 bits (it is at most 0xFFFF), so
/// callers can add a handful of such sums in a `u32` without overflow.
#[inline]
pub fn sum(data: &[u8]) -> u32 {
    // The sum does not depend on byte order (RFC 1071 2(B)): native 32-bit words go
    // into a u64 (no overflow for any buffer that fits in memory), and the folded
    // 16-bit result is put in big-endian order once, at the end.
    let mut chunks = data.chunks_exact(4);
    let mut acc: u64 = 0;
    for w in &mut chunks {
        acc += u64::from(u32::from_ne_bytes([w[0], w[1], w[2], w[3]]));
    }
    let mut tail = [0u8; 4];
    let rest = chunks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    acc += u64::from(u32::from_ne_bytes(tail));
    u32::from(u16::from_be(fold64(acc) as u16))
}

/// End-around carries, without a loop: 2^32 and 2^16 are both 1 modulo 0xFFFF.
#[inline]
fn fold64(acc: u64) -> u32 {
    let a = (acc & 0xffff_ffff) + (acc >> 32); // < 2^33
    let a = (a & 0xffff) + (a >> 16); // <= 0x2FFFE
    fold32(a as u32)
}

#[inline]
fn fold32(x: u32) -> u32 {
    let a = (x & 0xffff) + (x >> 16); // <= 0x1FFFE
    (a & 0xffff) + (a >> 16) // <= 0xFFFF, and 0 only if x was
}

/// Folds the carries of a one's complement sum back into 16 bits.
///
/// Not complemented: the result is the sum itself, ready to be added to or
/// compared against (a valid packet folds to 0xFFFF).
#[inline]
pub fn fold(sum: u32) -> u16 {
    fold32(sum) as u16
}

/// The Internet checksum of `data`, ready to be stored in a header.
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    !fold(sum(data))
}

/// One's complement sum of the TCP/UDP pseudo header.
#[inline]
pub fn pseudo_header_sum(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u16) -> u32 {
    sum(&src.octets()) + sum(&dst.octets()) + u32::from(protocol) + u32::from(length)
}

/// RFC 1624 incremental update for a 16-bit field changed from `old` to `new`.
#[inline]
pub fn update16(csum: u16, old: u16, new: u16) -> u16 {
    let mut delta = ChecksumDelta::new();
    delta.add16(old, new);
    delta.apply(csum)
}

/// RFC 1624 incremental update for a 32-bit field (an address, a sequence
/// number) changed from `old` to `new`; the field must be 16-bit aligned
/// within the checksummed data.
#[inline]
pub fn update32(csum: u16, old: u32, new: u32) -> u16 {
    let mut delta = ChecksumDelta::new();
    delta.add32(old, new);
    delta.apply(csum)
}

/// An accumulated one's complement difference `sum(~m + m')` over several
/// field rewrites.
///
/// A NAT computes it once per flow (old and new address and port) and then
/// patches every packet of the flow with a single [`apply`](Self::apply),
/// including the IPv4 header and the L4 checksum, which both cover the
/// addresses.
///
/// Folded after every step, so it keeps in 16 bits (a session stores two per direction).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChecksumDelta(u16);

impl ChecksumDelta {
    /// An empty delta: applying it leaves a checksum unchanged.
    #[inline]
    pub fn new() -> Self {
        ChecksumDelta(0)
    }

    /// Records that a 16-bit field changed from `old` to `new`.
    #[inline]
    pub fn add16(&mut self, old: u16, new: u16) {
        self.0 = fold(u32::from(self.0) + u32::from(!old) + u32::from(new));
    }

    /// Records that a 16-bit aligned 32-bit field changed from `old` to `new`.
    #[inline]
    pub fn add32(&mut self, old: u32, new: u32) {
        self.add16((old >> 16) as u16, (new >> 16) as u16);
        self.add16(old as u16, new as u16);
    }

    /// What decrementing a non-zero TTL (or any 16-bit word's high byte) by one does:
    /// `~m + (m - 0x100)` is `0xFFFF - 0x100` whatever `m` is.
    pub const TTL_DOWN: ChecksumDelta = ChecksumDelta(0xfeff);

    /// Applies both sets of changes, with one fold.
    #[inline]
    pub fn apply_plus(self, other: ChecksumDelta, csum: u16) -> u16 {
        !fold(u32::from(!csum) + u32::from(self.0) + u32::from(other.0))
    }

    /// Applies the recorded changes to a stored checksum.
    #[inline]
    pub fn apply(self, csum: u16) -> u16 {
        !fold(u32::from(!csum) + u32::from(self.0))
    }

    /// Like [`apply`](Self::apply) for a UDP checksum, where zero means the
    /// sender did not compute one (RFC 768), so there is nothing to update,
    /// and a computed zero must be sent as 0xFFFF.
    #[inline]
    pub fn apply_udp(self, csum: u16) -> u16 {
        if csum == 0 {
            return 0;
        }
        match self.apply(csum) {
            0 => 0xffff,
            updated => updated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc1071_example() {
        // The worked example of RFC 1071 section 3.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&data)), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn odd_length_pads_right() {
        assert_eq!(sum(&[0x12]), 0x1200);
        assert_eq!(sum(&[0x00, 0x01, 0x12]), 0x1201);
        assert_eq!(sum(&[]), 0);
    }

    #[test]
    fn fold_carries() {
        assert_eq!(fold(0x0001_ffff), 0x0001);
        assert_eq!(fold(0xffff_ffff), 0xffff);
        assert_eq!(fold(0), 0);
    }

    /// RFC 1071's definition word by word, to hold the fast sum to.
    fn sum_by_words(data: &[u8]) -> u32 {
        let mut acc: u64 = 0;
        for w in data.chunks(2) {
            acc += u64::from(u16::from_be_bytes([w[0], w.get(1).copied().unwrap_or(0)]));
        }
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc as u32
    }

    proptest! {
        #[test]
        fn sum_is_rfc1071s(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(sum(&data), sum_by_words(&data));
        }

        #[test]
        fn ttl_down_is_what_a_decrement_does(ttl in 1u8..=255, proto in any::<u8>(), csum in any::<u16>()) {
            let mut d = ChecksumDelta::new();
            d.add16(u16::from_be_bytes([ttl, proto]), u16::from_be_bytes([ttl - 1, proto]));
            prop_assert_eq!(d.apply(csum), ChecksumDelta::TTL_DOWN.apply(csum));
        }

        #[test]
        fn apply_plus_is_one_apply_then_the_other(a in any::<u16>(), b in any::<u16>(), c in any::<u16>()) {
            let (a, b) = (ChecksumDelta(a), ChecksumDelta(b));
            prop_assert_eq!(a.apply_plus(b, c), b.apply(a.apply(c)));
        }

        #[test]
        fn fold_is_end_around_carry(x in any::<u32>()) {
            let mut a = u64::from(x);
            while a > 0xffff {
                a = (a & 0xffff) + (a >> 16);
            }
            prop_assert_eq!(u64::from(fold(x)), a);
        }
    }

    #[test]
    fn sum_of_large_buffer_does_not_overflow() {
        let data = vec![0xff; 1 << 20];
        assert_eq!(sum(&data), 0xffff);
    }

    #[test]
    fn pseudo_header() {
        let src = Ipv4Addr::new(192, 168, 0, 1);
        let dst = Ipv4Addr::new(10, 0, 0, 2);
        let expected = 0xc0a8 + 0x0001 + 0x0a00 + 0x0002 + 6 + 40;
        assert_eq!(pseudo_header_sum(src, dst, 6, 40), expected);
    }

    #[test]
    fn rfc1624_example() {
        // RFC 1624 section 4: HC = 0xDD2F, m 0x5555 -> 0x3285, HC' = 0x0000.
        assert_eq!(update16(0xdd2f, 0x5555, 0x3285), 0x0000);
    }

    #[test]
    fn udp_zero_checksum_stays_disabled() {
        let mut delta = ChecksumDelta::new();
        delta.add16(0x1234, 0x4321);
        assert_eq!(delta.apply_udp(0), 0);
    }

    #[test]
    fn udp_computed_zero_becomes_ffff() {
        // The same numbers as the RFC 1624 example, whose result is zero.
        let mut delta = ChecksumDelta::new();
        delta.add16(0x5555, 0x3285);
        assert_eq!(delta.apply(0xdd2f), 0);
        assert_eq!(delta.apply_udp(0xdd2f), 0xffff);
    }

    #[test]
    fn empty_delta_is_identity() {
        for csum in [0x0000, 0x0001, 0x1234, 0xfffe] {
            assert_eq!(ChecksumDelta::new().apply(csum), csum);
        }
    }

    /// Offset of the checksum field in the generated buffers.
    const CSUM: usize = 2;

    /// A buffer laid out like an IPv4 header: a fixed non-zero first word
    /// (as version/IHL always is) rules out the all-zero data for which
    /// RFC 1624 yields the other representation of zero, and the checksum
    /// at `CSUM` is filled in.
    fn header(words: Vec<u16>) -> Vec<u8> {
        let mut buf = vec![0x45, 0x00, 0x00, 0x00];
        for w in words {
            buf.extend_from_slice(&w.to_be_bytes());
        }
        let csum = checksum(&buf);
        buf[CSUM..CSUM + 2].copy_from_slice(&csum.to_be_bytes());
        buf
    }

    fn stored(buf: &[u8]) -> u16 {
        u16::from_be_bytes([buf[CSUM], buf[CSUM + 1]])
    }

    fn recomputed(buf: &[u8]) -> u16 {
        let mut copy = buf.to_vec();
        copy[CSUM..CSUM + 2].fill(0);
        checksum(&copy)
    }

    /// Rewrites the 16-bit word at `off` and returns the old value.
    fn rewrite16(buf: &mut [u8], off: usize, new: u16) -> u16 {
        let old = u16::from_be_bytes([buf[off], buf[off + 1]]);
        buf[off..off + 2].copy_from_slice(&new.to_be_bytes());
        old
    }

    fn rewrite32(buf: &mut [u8], off: usize, new: u32) -> u32 {
        let old = u32::from_be_bytes([buf[off], buf[off + 1], buf[off + 2], buf[off + 3]]);
        buf[off..off + 4].copy_from_slice(&new.to_be_bytes());
        old
    }

    /// Picks a 16-bit aligned word offset after the checksum field with
    /// room for `width` bytes.
    fn offset(buf: &[u8], pick: usize, width: usize) -> usize {
        let slots = (buf.len() - 4 - width) / 2 + 1;
        4 + 2 * (pick % slots)
    }

    proptest! {
        #[test]
        fn update16_matches_recompute(
            words in prop::collection::vec(any::<u16>(), 1..40),
            pick in any::<usize>(),
            new in any::<u16>(),
        ) {
            let mut buf = header(words);
            let off = offset(&buf, pick, 2);
            let old = rewrite16(&mut buf, off, new);
            prop_assert_eq!(update16(stored(&buf), old, new), recomputed(&buf));
        }

        #[test]
        fn update32_matches_recompute(
            words in prop::collection::vec(any::<u16>(), 2..40),
            pick in any::<usize>(),
            new in any::<u32>(),
        ) {
            let mut buf = header(words);
            let off = offset(&buf, pick, 4);
            let old = rewrite32(&mut buf, off, new);
            prop_assert_eq!(update32(stored(&buf), old, new), recomputed(&buf));
        }

        /// A delta built from several rewrites on one packet patches another
        /// packet that had the same old values but different other bytes.
        #[test]
        fn delta_matches_recompute(
            words in prop::collection::vec(any::<u16>(), 4..40),
            other in prop::collection::vec(any::<u16>(), 4..40),
            changes in prop::collection::vec((any::<usize>(), any::<u32>(), any::<bool>()), 1..6),
        ) {
            let mut first = header(words);
            let before = first.clone();
            let mut delta = ChecksumDelta::new();
            let mut rewrites = Vec::new();
            for (pick, new, wide) in changes {
                let width = if wide { 4 } else { 2 };
                let off = offset(&first, pick, width);
                if wide {
                    delta.add32(rewrite32(&mut first, off, new), new);
                } else {
                    delta.add16(rewrite16(&mut first, off, new as u16), new as u16);
                }
                rewrites.push((off, width, new));
            }
            prop_assert_eq!(delta.apply(stored(&first)), recomputed(&first));

            // Same flow, different packet: the rewritten fields start with
            // the first packet's original bytes, everything else differs.
            let mut second = header(other);
            second.resize(second.len().max(first.len()), 0x5a);
            for &(off, width, _) in &rewrites {
                second[off..off + width].copy_from_slice(&before[off..off + width]);
            }
            let csum = recomputed(&second);
            second[CSUM..CSUM + 2].copy_from_slice(&csum.to_be_bytes());
            for &(off, width, new) in &rewrites {
                if width == 4 {
                    rewrite32(&mut second, off, new);
                } else {
                    rewrite16(&mut second, off, new as u16);
                }
            }
            prop_assert_eq!(delta.apply(stored(&second)), recomputed(&second));
        }
    }
}
