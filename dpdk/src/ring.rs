//! Single-producer single-consumer mbuf rings (`rte_ring`) for hand-off between lcores.
//!
//! Rings are created at start-up and live for the process: ports built over rings keep
//! raw pointers to them, so they are never freed.
use super::mbuf::{Mbuf, MbufBurst, BURST_SIZE};
use super::DpdkError;
use std::ffi::CString;
use std::ptr::NonNull;

/// The producer end. Stages packets and enqueues them a burst at a time.
pub struct RingTx {
    ring: NonNull<dpdk_sys::rte_ring>,
    staged: [*mut dpdk_sys::rte_mbuf; BURST_SIZE],
    len: usize,
}

/// The consumer end.
pub struct RingRx {
    ring: NonNull<dpdk_sys::rte_ring>,
}

// SAFETY: each end has exactly one owner (neither is Clone/Sync) and the ring was created
// single-producer/single-consumer, so moving an end to the lcore that uses it is sound.
// Staged pointers are mbufs owned by the RingTx.
unsafe impl Send for RingTx {}
// SAFETY: as for RingTx: the consumer end has one owner, the ring one consumer, and the
// mbufs it dequeues are owned by whoever holds the end.
unsafe impl Send for RingRx {}

/// Creates an SPSC ring of `size` slots (a power of two; one slot stays empty).
pub fn spsc_ring(name: &str, size: u32) -> Result<(RingTx, RingRx), DpdkError> {
    let cname = CString::new(name).map_err(|_| DpdkError {
        call: "rte_ring_create",
        errno: 22,
        message: "ring name contains NUL".into(),
    })?;
    let flags = dpdk_sys::RING_F_SP_ENQ | dpdk_sys::RING_F_SC_DEQ;
    // SAFETY: valid C string; size and flags are checked by DPDK.
    let raw = unsafe { dpdk_sys::rte_ring_create(cname.as_ptr(), size, -1, flags) };
    let ring = NonNull::new(raw).ok_or_else(|| DpdkError::from_code("rte_ring_create", -1))?;
    Ok((RingTx { ring, staged: [std::ptr::null_mut(); BURST_SIZE], len: 0 }, RingRx { ring }))
}

impl RingTx {
    pub(crate) fn as_ptr(&self) -> *mut dpdk_sys::rte_ring {
        self.ring.as_ptr()
    }

    /// Stages a packet; when the stage is full it is flushed first. Returns the number of
    /// packets that flush dropped because the ring was full.
    #[inline]
    pub fn push(&mut self, m: Mbuf) -> u32 {
        let dropped = if self.len == BURST_SIZE { self.flush() } else { 0 };
        self.staged[self.len] = m.into_raw();
        self.len += 1;
        dropped
    }

    /// Enqueues what is staged; what does not fit is freed and its count returned.
    pub fn flush(&mut self) -> u32 {
        if self.len == 0 {
            return 0;
        }
        // SAFETY: staged[..len] are mbufs we own; the ring takes the first n; we are the
        // only producer.
        let n = unsafe {
            dpdk_sys::shim_rte_ring_enqueue_burst(
                self.ring.as_ptr(),
                self.staged.as_ptr() as *const *mut _,
                self.len as u32,
            )
        } as usize;
        for &raw in &self.staged[n..self.len] {
            // SAFETY: not taken by the ring; still ours, freed once.
            unsafe { dpdk_sys::shim_rte_pktmbuf_free(raw) };
        }
        let dropped = (self.len - n) as u32;
        self.len = 0;
        dropped
    }

    /// Enqueues one packet now; gives it back if the ring is full.
    pub fn send(&mut self, m: Mbuf) -> Result<(), Mbuf> {
        let raw = m.into_raw();
        let objs = [raw as *mut std::os::raw::c_void];
        // SAFETY: one mbuf we own; we are the only producer.
        let n = unsafe { dpdk_sys::shim_rte_ring_enqueue_burst(self.ring.as_ptr(), objs.as_ptr(), 1) };
        if n == 1 {
            Ok(())
        } else {
            // SAFETY: the ring did not take it; ownership returns to us.
            Err(unsafe { Mbuf::from_raw(NonNull::new_unchecked(raw)) })
        }
    }
}

impl Drop for RingTx {
    fn drop(&mut self) {
        self.flush();
    }
}

impl RingRx {
    pub(crate) fn as_ptr(&self) -> *mut dpdk_sys::rte_ring {
        self.ring.as_ptr()
    }

    /// Dequeues up to `BURST_SIZE` packets into `burst`.
    #[inline]
    pub fn recv_burst(&mut self, burst: &mut MbufBurst) -> usize {
        let ring = self.ring.as_ptr();
        // SAFETY: we are the only consumer; the ring only ever holds valid mbufs whose
        // ownership passes to the burst.
        burst.fill_with(|pkts, n| unsafe {
            dpdk_sys::shim_rte_ring_dequeue_burst(ring, pkts as *mut *mut _, n as u32) as u16
        });
        burst.len()
    }

    /// Packets waiting.
    pub fn count(&self) -> u32 {
        // SAFETY: a racy but memory-safe read of the ring's indices.
        unsafe { dpdk_sys::shim_rte_ring_count(self.ring.as_ptr()) }
    }
}
