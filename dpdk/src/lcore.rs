//! Lcore launch and the per-lcore clock.
use super::{DpdkError, EalToken};
use std::os::raw::{c_int, c_void};

pub type LcoreId = u32;

/// Id of the calling lcore (`u32::MAX` on a non-EAL thread).
pub fn lcore_id() -> LcoreId {
    // SAFETY: reads the calling thread's per-lcore variable.
    unsafe { dpdk_sys::shim_rte_lcore_id() }
}

/// Time stamp counter: the loop clock. No syscall.
#[inline(always)]
pub fn tsc() -> u64 {
    // SAFETY: rdtsc has no preconditions.
    unsafe { dpdk_sys::shim_rte_rdtsc() }
}

/// TSC ticks per second, measured by the EAL at start-up.
pub fn tsc_hz(_eal: EalToken) -> u64 {
    // SAFETY: a plain query, valid once rte_eal_init has succeeded, which the token proves.
    unsafe { dpdk_sys::rte_get_tsc_hz() }
}

/// Spin-wait hint for poll loops.
#[inline(always)]
pub fn pause() {
    // SAFETY: the pause instruction has no preconditions.
    unsafe { dpdk_sys::shim_rte_pause() }
}

/// Asks the CPU to bring the cache line at `p` in; never faults, whatever `p` is.
#[inline(always)]
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetch is a hint: it never faults and reads nothing architecturally, so
    // any address, valid or not, is sound; SSE is part of the x86_64 baseline.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p as *const i8)
    };
}

type Job = Box<dyn FnOnce() -> i32 + Send + 'static>;

extern "C" fn trampoline(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the Box<Job> leaked by launch_on for exactly this call; it is
    // turned back into a Box once, here.
    let job: Box<Job> = unsafe { Box::from_raw(arg as *mut Job) };
    job()
}

/// Runs `f` on the given worker lcore; its return value comes back from [`wait_lcore`].
pub fn launch_on(
    _eal: EalToken,
    lcore: LcoreId,
    f: impl FnOnce() -> i32 + Send + 'static,
) -> Result<(), DpdkError> {
    let job: Box<Job> = Box::new(Box::new(f));
    let arg = Box::into_raw(job) as *mut c_void;
    // SAFETY: the EAL is initialised (the token); DPDK checks the lcore id and that it is
    // idle. trampoline matches lcore_function_t and takes ownership of `arg` exactly
    // once; if the launch fails, ownership is reclaimed below instead.
    let rc = unsafe { dpdk_sys::rte_eal_remote_launch(Some(trampoline), arg, lcore) };
    if rc != 0 {
        // SAFETY: the lcore did not start, so `arg` was not consumed.
        drop(unsafe { Box::from_raw(arg as *mut Job) });
        return Err(DpdkError::from_code("rte_eal_remote_launch", rc));
    }
    Ok(())
}

/// Waits for the job on `lcore` to finish and returns its value.
pub fn wait_lcore(_eal: EalToken, lcore: LcoreId) -> i32 {
    // SAFETY: the EAL is initialised (the token); DPDK checks the lcore id and returns at
    // once for an lcore that runs nothing.
    unsafe { dpdk_sys::rte_eal_wait_lcore(lcore) }
}
