//! Safe wrappers over DPDK: with `dpdk-sys`, the only crate of ferrowall allowed to use
//! `unsafe`. An mbuf is a [`wire::Frame`], so the per-packet logic never sees DPDK.
//!
//! Ownership model, in the shape capsule and firecracker taught:
//! - [`Mbuf`] owns one mbuf reference; dropping it frees the mbuf, `into_raw` hands it to
//!   DPDK (TX, rings).
//! - [`RxQueue`] / [`TxQueue`] are neither `Clone` nor `Sync`: one lcore owns each, so the
//!   lock-free PMD burst functions are never called concurrently on one queue.
//! - [`RingTx`] / [`RingRx`] are the two ends of a single-producer single-consumer
//!   `rte_ring`; each end has exactly one owner.
//!
//! Start-up calls return [`DpdkError`] with the call name and `rte_errno`; hot-path calls
//! return counts and never fail otherwise.
#![allow(unsafe_code)]
mod eal;
mod lcore;
mod mbuf;
mod mempool;
mod port;
mod ring;
mod rss;

pub use eal::{Eal, EalArgs, EalToken};
pub use lcore::{launch_on, lcore_id, pause, prefetch, tsc, tsc_hz, wait_lcore, LcoreId};
pub use mbuf::{Mbuf, MbufBurst, BURST_SIZE};
pub use mempool::Mempool;
pub use port::{
    port_by_name, ring_port, EthStats, Flushed, Port, PortConfig, PortId, Queues, RssPlan, RssState, RxQueue,
    TxBuffer, TxQueue, QUEUE_STATS,
};
pub use ring::{spsc_ring, RingRx, RingTx};
pub use rss::{softrss, RssKey};

use std::ffi::CStr;

/// A DPDK call failed during start-up or shutdown.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{call} failed: {message} (errno {errno})")]
pub struct DpdkError {
    pub call: &'static str,
    pub errno: i32,
    pub message: String,
}

impl DpdkError {
    /// Builds the error from a negative return code, or from `rte_errno` when the call
    /// signals failure some other way (NULL, -1).
    pub(crate) fn from_code(call: &'static str, code: i32) -> Self {
        let errno = if code < -1 { -code } else { errno() };
        // SAFETY: rte_strerror returns a pointer to a static or thread-local NUL-terminated
        // string for any errno value; it is only read before the next DPDK call here.
        let message = unsafe { CStr::from_ptr(dpdk_sys::rte_strerror(errno)) }.to_string_lossy().into_owned();
        DpdkError { call, errno, message }
    }
}

fn errno() -> i32 {
    // SAFETY: shim_rte_errno reads the calling thread's per-lcore rte_errno variable.
    unsafe { dpdk_sys::shim_rte_errno() }
}
