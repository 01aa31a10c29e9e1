//! The owning mbuf handle and fixed-size bursts of them.
use std::ptr::NonNull;
use wire::Frame;

/// Packets per RX/TX burst.
pub const BURST_SIZE: usize = 32;

/// Owns one reference to one single-segment mbuf. `Drop` frees it.
///
/// Ports are configured without scatter, so every received mbuf has one segment; the
/// data views below cover that segment only.
pub struct Mbuf(NonNull<dpdk_sys::rte_mbuf>);

// SAFETY: an Mbuf is the sole owner of its reference; moving it to another lcore moves the
// ownership, and rte_pktmbuf_free may run on any lcore.
unsafe impl Send for Mbuf {}

impl Mbuf {
    /// Takes ownership of a raw mbuf.
    ///
    /// # Safety
    /// `raw` must be a valid mbuf whose reference the caller owns and gives up.
    pub unsafe fn from_raw(raw: NonNull<dpdk_sys::rte_mbuf>) -> Mbuf {
        Mbuf(raw)
    }

    /// Gives the reference to DPDK (TX queue, ring) without freeing it.
    pub fn into_raw(self) -> *mut dpdk_sys::rte_mbuf {
        let raw = self.0.as_ptr();
        std::mem::forget(self);
        raw
    }

    /// The mbuf header. Reading it in Rust instead of through the C shim lets the hot
    /// accessors inline: the shim is not part of LTO.
    #[inline(always)]
    fn header(&self) -> &dpdk_sys::rte_mbuf {
        // SAFETY: self.0 is a valid mbuf we own; the returned reference lives no longer
        // than &self, during which nothing else writes the header.
        unsafe { self.0.as_ref() }
    }

    /// Port the PMD received this packet on (or the one set with `set_port`).
    #[inline]
    pub fn port(&self) -> u16 {
        self.header().port
    }

    #[inline]
    pub fn set_port(&mut self, port: u16) {
        // SAFETY: self.0 is a valid mbuf we own exclusively (&mut self).
        unsafe { self.0.as_mut().port = port }
    }

    /// Number of segments; anything but 1 is refused by the dataplane.
    #[inline]
    pub fn segments(&self) -> u16 {
        self.header().nb_segs
    }

    /// The hash field as the PMD left it (meaningful when RTE_MBUF_F_RX_RSS_HASH is set).
    fn hash_field(&self) -> u32 {
        // SAFETY: self.0 is a valid mbuf we own.
        unsafe { dpdk_sys::shim_rte_pktmbuf_rss_hash(self.0.as_ptr()) }
    }

    /// Sets the RSS hash as a NIC would (device models in tests, software RSS).
    pub fn set_rss_hash(&mut self, hash: u32) {
        // SAFETY: self.0 is a valid mbuf we own exclusively (&mut self); the hash union's
        // rss member and ol_flags are plain data the PMD would write on receive.
        unsafe {
            let m = self.0.as_mut();
            m.__bindgen_anon_2.hash.rss = hash;
            m.ol_flags |= u64::from(dpdk_sys::RTE_MBUF_F_RX_RSS_HASH);
        }
    }

    /// Copies `bytes` into a freshly allocated mbuf's data area (tests, slow path).
    pub fn write_all(&mut self, bytes: &[u8]) -> bool {
        let Ok(len) = u16::try_from(bytes.len()) else {
            return false;
        };
        if !self.append(len) {
            return false;
        }
        let end = self.data().len();
        self.data_mut()[end - bytes.len()..].copy_from_slice(bytes);
        true
    }
}

impl Frame for Mbuf {
    #[inline]
    fn ipv4_checksum_ok(&self) -> Option<bool> {
        match self.header().ol_flags & u64::from(dpdk_sys::RTE_MBUF_F_RX_IP_CKSUM_MASK) {
            f if f == u64::from(dpdk_sys::RTE_MBUF_F_RX_IP_CKSUM_GOOD) => Some(true),
            f if f == u64::from(dpdk_sys::RTE_MBUF_F_RX_IP_CKSUM_BAD) => Some(false),
            _ => None,
        }
    }

    #[inline]
    fn rss_hash(&self) -> Option<u32> {
        (self.header().ol_flags & u64::from(dpdk_sys::RTE_MBUF_F_RX_RSS_HASH) != 0).then(|| self.hash_field())
    }

    #[inline]
    fn data(&self) -> &[u8] {
        let h = self.header();
        // SAFETY: buf_addr + data_off points at data_len initialised bytes of the first
        // (only) segment, inside the buffer this mbuf owns; the slice lives no longer than
        // &self.
        unsafe {
            let start = (h.buf_addr as *const u8).add(h.data_off as usize);
            std::slice::from_raw_parts(start, h.data_len as usize)
        }
    }

    #[inline]
    fn data_mut(&mut self) -> &mut [u8] {
        let (addr, off, len) = {
            let h = self.header();
            (h.buf_addr as *mut u8, h.data_off as usize, h.data_len as usize)
        };
        // SAFETY: as for data(); &mut self guarantees no other view of the bytes exists.
        unsafe { std::slice::from_raw_parts_mut(addr.add(off), len) }
    }

    fn prepend(&mut self, len: u16) -> bool {
        // SAFETY: rte_pktmbuf_prepend checks the headroom and returns NULL if too small.
        !unsafe { dpdk_sys::shim_rte_pktmbuf_prepend(self.0.as_ptr(), len) }.is_null()
    }

    fn adj(&mut self, len: u16) -> bool {
        // SAFETY: rte_pktmbuf_adj checks the data length and returns NULL if too short.
        !unsafe { dpdk_sys::shim_rte_pktmbuf_adj(self.0.as_ptr(), len) }.is_null()
    }

    fn append(&mut self, len: u16) -> bool {
        // SAFETY: rte_pktmbuf_append checks the tailroom and returns NULL if too small.
        !unsafe { dpdk_sys::shim_rte_pktmbuf_append(self.0.as_ptr(), len) }.is_null()
    }

    fn truncate(&mut self, len: usize) -> bool {
        let cur = self.data().len();
        if len > cur {
            return false;
        }
        // SAFETY: trimming cur - len <= data_len bytes of the last (only) segment.
        unsafe { dpdk_sys::shim_rte_pktmbuf_trim(self.0.as_ptr(), (cur - len) as u16) == 0 }
    }
}

impl Drop for Mbuf {
    fn drop(&mut self) {
        // SAFETY: we own exactly one reference, released here once.
        unsafe { dpdk_sys::shim_rte_pktmbuf_free(self.0.as_ptr()) }
    }
}

/// A fixed array of received mbufs: no allocation per burst.
pub struct MbufBurst {
    pkts: [*mut dpdk_sys::rte_mbuf; BURST_SIZE],
    len: usize,
    next: usize,
}

impl Default for MbufBurst {
    fn default() -> Self {
        MbufBurst { pkts: [std::ptr::null_mut(); BURST_SIZE], len: 0, next: 0 }
    }
}

impl MbufBurst {
    pub fn len(&self) -> usize {
        self.len - self.next
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Storage for a burst call to fill; any mbufs still held are freed first.
    pub(crate) fn fill_with(&mut self, f: impl FnOnce(*mut *mut dpdk_sys::rte_mbuf, u16) -> u16) {
        self.clear();
        let n = f(self.pkts.as_mut_ptr(), BURST_SIZE as u16) as usize;
        self.len = n.min(BURST_SIZE);
        self.next = 0;
    }

    /// Prefetches the first cache line of the packet `ahead` positions from the cursor.
    #[inline]
    pub fn prefetch(&self, ahead: usize) {
        let i = self.next + ahead;
        if i < self.len {
            // SAFETY: pkts[..len] are valid mbufs we own, so reading their header is sound;
            // prefetching an address only hints the cache and never faults.
            unsafe {
                let m = &*self.pkts[i];
                let data = (m.buf_addr as *const u8).wrapping_add(m.data_off as usize);
                crate::prefetch(data);
            }
        }
    }

    /// The data of the packet `ahead` positions from the cursor, without taking it
    /// (to prepare lookups for the packets to come).
    #[inline]
    pub fn peek(&self, ahead: usize) -> Option<&[u8]> {
        let i = self.next + ahead;
        if i >= self.len {
            return None;
        }
        // SAFETY: pkts[i] (i < len) is a valid mbuf this burst owns and has not handed
        // out; the slice borrows the burst, so the mbuf cannot be taken or freed while
        // it lives.
        let m = unsafe { &*self.pkts[i] };
        // SAFETY: buf_addr + data_off points at data_len initialised bytes of the mbuf's
        // only segment.
        Some(unsafe {
            std::slice::from_raw_parts(
                (m.buf_addr as *const u8).add(m.data_off as usize),
                m.data_len as usize,
            )
        })
    }

    fn clear(&mut self) {
        while self.next < self.len {
            drop(self.take_next());
        }
        self.len = 0;
        self.next = 0;
    }

    fn take_next(&mut self) -> Mbuf {
        let raw = self.pkts[self.next];
        self.next += 1;
        // SAFETY: pkts[next] was written by a burst call as a valid, exclusively owned
        // mbuf and is handed out exactly once (next only grows).
        unsafe { Mbuf::from_raw(NonNull::new_unchecked(raw)) }
    }
}

impl Iterator for MbufBurst {
    type Item = Mbuf;
    fn next(&mut self) -> Option<Mbuf> {
        (self.next < self.len).then(|| self.take_next())
    }
}

impl Drop for MbufBurst {
    fn drop(&mut self) {
        self.clear();
    }
}
