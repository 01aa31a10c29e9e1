//! The Toeplitz hash NICs use for RSS, in Rust, table-driven.
//!
//! Every core must compute the owner of a flow exactly as the NIC spreads it, so this is
//! the same function (`rte_softrss` computes it bit by bit; the `dpdk` crate's tests check both agree).
//! A 16 x 256 table of precomputed key windows turns the hash of 12 input bytes into 12
//! lookups and XORs.
//!
//! With [`SYMMETRIC_KEY`] (0x6d5a repeated) the hash of a tuple equals the hash of its
//! reverse, so both directions of a flow that is not translated land on one queue.

/// The symmetric Toeplitz key: `hash(src, dst, sp, dp) == hash(dst, src, dp, sp)`.
pub const SYMMETRIC_KEY: [u8; 40] = {
    let mut k = [0u8; 40];
    let mut i = 0;
    while i < 40 {
        k[i] = if i % 2 == 0 { 0x6d } else { 0x5a };
        i += 1;
    }
    k
};

/// Longest input hashed: IPv4 addresses and ports are 12 bytes.
const MAX_INPUT: usize = 16;

pub struct Toeplitz {
    key: [u8; 40],
    table: Box<[[u32; 256]; MAX_INPUT]>,
}

impl Toeplitz {
    pub fn new(key: &[u8; 40]) -> Toeplitz {
        let mut table = Box::new([[0u32; 256]; MAX_INPUT]);
        for (pos, row) in table.iter_mut().enumerate() {
            for (byte, slot) in row.iter_mut().enumerate() {
                *slot = (0..8)
                    .filter(|bit| byte & (0x80 >> bit) != 0)
                    .fold(0, |acc, bit| acc ^ window(key, pos * 8 + bit));
            }
        }
        Toeplitz { key: *key, table }
    }

    #[inline]
    pub fn key(&self) -> &[u8; 40] {
        &self.key
    }

    /// Hash of up to 16 input bytes (more are ignored).
    #[inline]
    pub fn hash(&self, input: &[u8]) -> u32 {
        input.iter().zip(self.table.iter()).fold(0, |acc, (b, row)| acc ^ row[*b as usize])
    }

    /// The RSS hash NICs compute for IPv4 with ports (source, destination, ports in
    /// network order).
    #[inline]
    pub fn hash_v4(&self, src: u32, dst: u32, sport: u16, dport: u16) -> u32 {
        let mut input = [0u8; 12];
        input[0..4].copy_from_slice(&src.to_be_bytes());
        input[4..8].copy_from_slice(&dst.to_be_bytes());
        input[8..10].copy_from_slice(&sport.to_be_bytes());
        input[10..12].copy_from_slice(&dport.to_be_bytes());
        self.hash(&input)
    }

    /// The RSS hash NICs compute for IPv4 without ports (ICMP, GRE, fragments): the
    /// two addresses.
    #[inline]
    pub fn hash_addrs(&self, src: u32, dst: u32) -> u32 {
        let mut input = [0u8; 8];
        input[0..4].copy_from_slice(&src.to_be_bytes());
        input[4..8].copy_from_slice(&dst.to_be_bytes());
        self.hash(&input)
    }

    /// What a destination port adds to [`Toeplitz::hash_v4`]: the hash is linear (XOR)
    /// in its input, so `hash_v4(s, d, sp, dp) == hash_v4(s, d, sp, 0) ^ dport_part(dp)`,
    /// which lets NAT try candidate ports with two lookups each.
    #[inline]
    pub fn dport_part(&self, dport: u16) -> u32 {
        let [hi, lo] = dport.to_be_bytes();
        self.table[10][usize::from(hi)] ^ self.table[11][usize::from(lo)]
    }
}

/// The 32 key bits starting at bit `start`.
#[inline]
fn window(key: &[u8; 40], start: usize) -> u32 {
    (0..32).fold(0u32, |acc, i| {
        let bit = start + i;
        let set = key.get(bit / 8).is_some_and(|b| b & (0x80 >> (bit % 8)) != 0);
        (acc << 1) | u32::from(set)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Microsoft's RSS verification key, the default of most Intel NICs.
    const VERIFICATION_KEY: [u8; 40] = [
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0,
        0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42,
        0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    ];

    /// Microsoft's RSS verification suite, IPv4 with TCP ports, default key.
    #[test]
    fn matches_the_published_verification_vectors() {
        let t = Toeplitz::new(&VERIFICATION_KEY);
        let v =
            |s: [u8; 4], d: [u8; 4], sp, dp| t.hash_v4(u32::from_be_bytes(s), u32::from_be_bytes(d), sp, dp);
        assert_eq!(v([66, 9, 149, 187], [161, 142, 100, 80], 2794, 1766), 0x51ccc178);
        assert_eq!(v([199, 92, 111, 2], [65, 69, 140, 83], 14230, 4739), 0xc626b0ea);
        assert_eq!(v([24, 19, 198, 95], [12, 22, 207, 184], 12898, 38024), 0x5c2b394a);
        let ip_only = |s: [u8; 4], d: [u8; 4]| {
            let mut b = [0u8; 8];
            b[..4].copy_from_slice(&s);
            b[4..].copy_from_slice(&d);
            t.hash(&b)
        };
        assert_eq!(ip_only([66, 9, 149, 187], [161, 142, 100, 80]), 0x323e8fc2);
    }

    #[test]
    fn symmetric_key_hashes_both_directions_alike() {
        let t = Toeplitz::new(&SYMMETRIC_KEY);
        for i in 0..1000u32 {
            let (s, d) = (i.wrapping_mul(2_654_435_761), i.wrapping_mul(40_503) ^ 0xc0a8_0001);
            let (sp, dp) = ((i * 31) as u16, (i * 17 + 5) as u16);
            assert_eq!(t.hash_v4(s, d, sp, dp), t.hash_v4(d, s, dp, sp));
        }
    }

    #[test]
    fn the_hash_is_linear_in_the_destination_port() {
        let t = Toeplitz::new(&VERIFICATION_KEY);
        for i in 0..500u32 {
            let (s, d, sp, dp) = (i.wrapping_mul(2_654_435_761), !i << 5, (i * 7) as u16, (i * 131) as u16);
            assert_eq!(t.hash_v4(s, d, sp, dp), t.hash_v4(s, d, sp, 0) ^ t.dport_part(dp));
        }
        let bytes = |s: u32, d: u32| [s.to_be_bytes(), d.to_be_bytes()].concat();
        assert_eq!(t.hash_addrs(0x4209_95bb, 0xa18e_6450), t.hash(&bytes(0x4209_95bb, 0xa18e_6450)));
        assert_eq!(t.hash_addrs(0x4209_95bb, 0xa18e_6450), 0x323e8fc2, "Microsoft's IPv4-only vector");
    }
}
