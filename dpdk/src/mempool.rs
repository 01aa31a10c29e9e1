//! Packet buffer pools.
use super::{DpdkError, Mbuf};
use std::ffi::CString;
use std::ptr::NonNull;

/// A pool of packet mbufs. DPDK's mempool is safe to use from any lcore.
pub struct Mempool(NonNull<dpdk_sys::rte_mempool>);

// SAFETY: rte_mempool operations are thread-safe (lock-free ring plus per-lcore caches);
// the pointer is valid for the life of the process (pools are never freed while ports use
// them).
unsafe impl Send for Mempool {}
// SAFETY: as above; shared references only allocate and query counts.
unsafe impl Sync for Mempool {}

impl Mempool {
    /// Creates a pool of `size` mbufs with the default data room, on `socket`.
    pub fn new(name: &str, size: u32, cache: u32, socket: i32) -> Result<Mempool, DpdkError> {
        let cname = CString::new(name).map_err(|_| DpdkError {
            call: "rte_pktmbuf_pool_create",
            errno: 22,
            message: "pool name contains NUL".into(),
        })?;
        // SAFETY: cname is a valid C string; the numeric arguments are checked by DPDK.
        let raw = unsafe {
            dpdk_sys::rte_pktmbuf_pool_create(
                cname.as_ptr(),
                size,
                cache,
                0,
                dpdk_sys::RTE_MBUF_DEFAULT_BUF_SIZE as u16,
                socket,
            )
        };
        NonNull::new(raw).map(Mempool).ok_or_else(|| DpdkError::from_code("rte_pktmbuf_pool_create", -1))
    }

    pub(crate) fn as_ptr(&self) -> *mut dpdk_sys::rte_mempool {
        self.0.as_ptr()
    }

    /// One empty mbuf, or `None` when the pool is exhausted.
    pub fn alloc(&self) -> Option<Mbuf> {
        // SAFETY: the pool pointer is valid; the returned mbuf (if any) is exclusively ours.
        let raw = unsafe { dpdk_sys::shim_rte_pktmbuf_alloc(self.as_ptr()) };
        // SAFETY: a non-NULL result is a freshly allocated mbuf with refcnt 1.
        NonNull::new(raw).map(|p| unsafe { Mbuf::from_raw(p) })
    }

    /// Mbufs currently allocated (in rings, queues, or being processed).
    pub fn in_use(&self) -> u32 {
        // SAFETY: the pointer came from a successful rte_pktmbuf_pool_create and is freed
        // only when the Mempool drops, which &self rules out here; the count is a racy
        // snapshot by design (the function only reads the per-lcore caches and the ring).
        unsafe { dpdk_sys::rte_mempool_in_use_count(self.as_ptr()) }
    }

    /// Mbufs free in the pool.
    pub fn available(&self) -> u32 {
        // SAFETY: as for in_use: a live pool (borrowed), a read-only count.
        unsafe { dpdk_sys::rte_mempool_avail_count(self.as_ptr()) }
    }
}
