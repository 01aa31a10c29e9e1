//! Software Toeplitz hashing (`rte_softrss`), so that every core computes the owner of a
//! flow exactly as an RSS-capable NIC would.

/// A 40-byte Toeplitz key, in the byte order NICs take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RssKey(pub [u8; 40]);

impl Default for RssKey {
    /// The symmetric-free key most Intel NICs default to (Microsoft's RSS verification key).
    fn default() -> Self {
        RssKey([
            0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
            0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
            0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
        ])
    }
}

/// Longest tuple the 40-byte key covers: 9 words need 4 * 9 + 4 = 40 key bytes.
pub const MAX_WORDS: usize = 9;

/// Toeplitz hash of `tuple` (host-order 32-bit words: addresses, then ports); words past
/// [`MAX_WORDS`] are ignored.
#[inline]
pub fn softrss(tuple: &mut [u32], key: &RssKey) -> u32 {
    let len = tuple.len().min(MAX_WORDS);
    // SAFETY: rte_softrss reads `len` words of the tuple and at most 4 * len + 4 <= 40 bytes
    // of the 40-byte key, because len <= MAX_WORDS.
    unsafe { dpdk_sys::shim_rte_softrss(tuple.as_mut_ptr(), len as u32, key.0.as_ptr()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::Toeplitz;

    #[test]
    fn agrees_with_the_table_driven_toeplitz() {
        let key = RssKey::default();
        let t = Toeplitz::new(&key.0);
        for i in 0..200u32 {
            let (s, d, sp, dp) = (i.wrapping_mul(2_654_435_761), !i << 3, (i * 7) as u16, (i * 13) as u16);
            let mut tuple = [s, d, (u32::from(sp) << 16) | u32::from(dp)];
            assert_eq!(t.hash_v4(s, d, sp, dp), softrss(&mut tuple, &key));
        }
    }
}
