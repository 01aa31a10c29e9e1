//! Raw FFI bindings to DPDK 22.11 as shipped by Debian (`libdpdk-dev`).
//!
//! Two parts, both generated or trivially thin:
//! - bindgen output for the exported API (EAL, ethdev, mbuf, mempool, ring, lcore);
//! - `shim_*` functions from `src/shim.c`, one-line wrappers that give DPDK's
//!   `static inline` functions (burst RX/TX, mbuf data helpers, ring bursts, lcore id,
//!   TSC, errno, soft RSS) a linkable symbol.
//!
//! There is no logic here. Every safe abstraction lives in the `dpdk` crate.
#![allow(non_upper_case_globals, non_camel_case_types, non_snake_case, dead_code)]
#![allow(clippy::all)]
#![allow(rustdoc::all)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
