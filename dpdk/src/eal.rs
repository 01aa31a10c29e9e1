//! Environment Abstraction Layer start-up.
use super::DpdkError;
use std::ffi::CString;
use std::os::raw::c_char;
use std::sync::atomic::{AtomicBool, Ordering};

/// EAL arguments as DPDK's command line would take them (without the program name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EalArgs(pub Vec<String>);

/// Proof that the EAL is initialised; DPDK allows that once per process.
#[derive(Debug)]
pub struct Eal {
    _private: (),
}

/// A copy of that proof, for the calls that need an initialised EAL (launching and
/// waiting for lcores, the TSC frequency) made by whoever outlives the borrow of [`Eal`]:
/// made only by [`Eal::token`], and the EAL is never torn down, so it stays true.
#[derive(Debug, Clone, Copy)]
pub struct EalToken {
    _private: (),
}

static STARTED: AtomicBool = AtomicBool::new(false);

impl Eal {
    pub fn token(&self) -> EalToken {
        EalToken { _private: () }
    }

    /// Initialises the EAL. The calling thread becomes the main lcore.
    pub fn init(args: &EalArgs) -> Result<Eal, DpdkError> {
        if STARTED.swap(true, Ordering::SeqCst) {
            return Err(DpdkError {
                call: "rte_eal_init",
                errno: 114,
                message: "EAL already initialised in this process".into(),
            });
        }
        let mut owned: Vec<CString> = Vec::with_capacity(args.0.len() + 1);
        owned.push(CString::new("ferrowall").expect("no NUL in literal"));
        for arg in &args.0 {
            owned.push(CString::new(arg.as_str()).map_err(|_| DpdkError {
                call: "rte_eal_init",
                errno: 22,
                message: format!("EAL argument {arg:?} contains a NUL byte"),
            })?);
        }
        // rte_eal_init may permute argv, so it gets its own pointer array; the strings stay
        // alive in `owned` for the whole process (DPDK keeps some of the pointers).
        let mut argv: Vec<*mut c_char> = owned.iter().map(|s| s.as_ptr() as *mut c_char).collect();
        let argc = argv.len() as i32;
        // SAFETY: argv holds argc valid NUL-terminated strings; they are leaked below so any
        // pointer DPDK keeps stays valid; STARTED guarantees a single call per process.
        let rc = unsafe { dpdk_sys::rte_eal_init(argc, argv.as_mut_ptr()) };
        std::mem::forget(owned);
        std::mem::forget(argv);
        if rc < 0 {
            STARTED.store(false, Ordering::SeqCst);
            return Err(DpdkError::from_code("rte_eal_init", rc));
        }
        Ok(Eal { _private: () })
    }

    /// Number of enabled lcores, the main one included.
    pub fn lcore_count(&self) -> u32 {
        // SAFETY: plain query of EAL state, valid after rte_eal_init.
        unsafe { dpdk_sys::rte_lcore_count() }
    }

    /// Enabled lcore ids other than the main one, in order.
    pub fn worker_lcores(&self) -> Vec<u32> {
        let mut ids = Vec::new();
        // SAFETY: iterating lcores with rte_get_next_lcore is valid after rte_eal_init;
        // RTE_MAX_LCORE terminates the walk.
        let mut id = unsafe { dpdk_sys::rte_get_next_lcore(u32::MAX, 1, 0) };
        while id < dpdk_sys::RTE_MAX_LCORE {
            ids.push(id);
            // SAFETY: as above: EAL is initialised (this method needs &Eal) and `id` is an
            // lcore id the previous call returned, below RTE_MAX_LCORE.
            id = unsafe { dpdk_sys::rte_get_next_lcore(id, 1, 0) };
        }
        ids
    }

    /// Number of ethdev ports DPDK probed (PCI devices and `--vdev`s).
    pub fn port_count(&self) -> u16 {
        // SAFETY: plain query of EAL state, valid after rte_eal_init.
        unsafe { dpdk_sys::rte_eth_dev_count_avail() }
    }
}
