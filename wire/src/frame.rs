//! The buffer the per-packet logic works on.
//!
//! Workers pass DPDK mbufs; scenario tests and fuzzers pass [`TestFrame`]s. Both give the
//! same operations with the same limits (128 bytes of headroom, 2048 of data room), so the
//! logic that runs on the cores is exactly the logic the tests drive.

/// A packet in a buffer that can grow at both ends within fixed room.
pub trait Frame {
    fn data(&self) -> &[u8];
    fn data_mut(&mut self) -> &mut [u8];
    /// Grows the front by `len` bytes (headroom); false if there is no room.
    fn prepend(&mut self, len: u16) -> bool;
    /// Removes `len` bytes from the front; false if the data is shorter.
    fn adj(&mut self, len: u16) -> bool;
    /// Grows the end by `len` bytes (tailroom); false if there is no room.
    fn append(&mut self, len: u16) -> bool;
    /// Cuts the data to `len` bytes; false if it is shorter already.
    fn truncate(&mut self, len: usize) -> bool;
    /// The RSS hash the NIC computed for this frame, if it did.
    fn rss_hash(&self) -> Option<u32> {
        None
    }
    /// The NIC's verdict on the IPv4 header checksum, if it checked it.
    fn ipv4_checksum_ok(&self) -> Option<bool> {
        None
    }
}

/// Headroom of a fresh buffer, as DPDK's `RTE_PKTMBUF_HEADROOM`.
pub const HEADROOM: usize = 128;
/// Data room after the headroom, as DPDK's default mbuf data room.
pub const DATA_ROOM: usize = 2048;

/// A heap buffer with mbuf semantics, for tests and tools that run without EAL.
#[derive(Clone)]
pub struct TestFrame {
    buf: Box<[u8; HEADROOM + DATA_ROOM]>,
    head: usize,
    len: usize,
    rss: Option<u32>,
    ipv4_checksum: Option<bool>,
}

impl TestFrame {
    /// A frame holding a copy of `bytes`, or `None` if they do not fit the data room.
    #[inline]
    pub fn new(bytes: &[u8]) -> Option<TestFrame> {
        if bytes.len() > DATA_ROOM {
            return None;
        }
        let mut buf = Box::new([0u8; HEADROOM + DATA_ROOM]);
        buf[HEADROOM..HEADROOM + bytes.len()].copy_from_slice(bytes);
        Some(TestFrame { buf, head: HEADROOM, len: bytes.len(), rss: None, ipv4_checksum: None })
    }

    #[inline]
    /// The frame as a NIC that hashed it to `hash` hands it over.
    pub fn with_rss_hash(mut self, hash: u32) -> TestFrame {
        self.rss = Some(hash);
        self
    }

    /// The frame as a NIC that checked its IPv4 header checksum hands it over.
    pub fn with_ipv4_checksum_verdict(mut self, ok: bool) -> TestFrame {
        self.ipv4_checksum = Some(ok);
        self
    }

    pub fn empty() -> TestFrame {
        TestFrame {
            buf: Box::new([0u8; HEADROOM + DATA_ROOM]),
            head: HEADROOM,
            len: 0,
            rss: None,
            ipv4_checksum: None,
        }
    }
}

impl std::fmt::Debug for TestFrame {
    #[inline]
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TestFrame({:02x?})", self.data())
    }
}

impl Frame for TestFrame {
    #[inline]
    fn ipv4_checksum_ok(&self) -> Option<bool> {
        self.ipv4_checksum
    }

    #[inline]
    fn rss_hash(&self) -> Option<u32> {
        self.rss
    }

    #[inline]
    fn data(&self) -> &[u8] {
        &self.buf[self.head..self.head + self.len]
    }

    #[inline]
    fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.head..self.head + self.len]
    }

    #[inline]
    fn prepend(&mut self, len: u16) -> bool {
        let len = len as usize;
        if len > self.head {
            return false;
        }
        self.head -= len;
        self.len += len;
        true
    }

    #[inline]
    fn adj(&mut self, len: u16) -> bool {
        let len = len as usize;
        if len > self.len {
            return false;
        }
        self.head += len;
        self.len -= len;
        true
    }

    #[inline]
    fn append(&mut self, len: u16) -> bool {
        let len = len as usize;
        if self.head + self.len + len > self.buf.len() {
            return false;
        }
        self.len += len;
        true
    }

    #[inline]
    fn truncate(&mut self, len: usize) -> bool {
        if len > self.len {
            return false;
        }
        self.len = len;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_shrinks_within_room() {
        let mut f = TestFrame::new(&[1, 2, 3]).unwrap();
        assert!(f.prepend(2));
        assert_eq!(f.data().len(), 5);
        assert!(f.adj(4));
        assert_eq!(f.data(), &[3]);
        assert!(!f.adj(2));
        assert!(!f.prepend((HEADROOM + 3) as u16));
        assert!(f.append(10));
        assert!(f.truncate(1));
        assert!(!f.truncate(2));
        assert!(TestFrame::new(&[0; DATA_ROOM + 1]).is_none());
    }
}
