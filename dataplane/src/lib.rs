//! ferrowall's packet side.
//!
//! Modules follow a packet's path: the `dpdk` crate receives it into a
//! [`wire::Frame`], `wire` views its headers, [`pipeline`] decides its fate on a worker
//! ([`ifaces`], [`route`], [`neigh`]), [`slowpath`] handles what workers pass on, and
//! [`worker`] / [`appliance`] run it all on DPDK lcores. [`stats`] counts every outcome.
#![forbid(unsafe_code)]

pub mod alg;
pub mod appliance;
pub mod bounded;
pub mod clock;
pub mod command;
pub mod events;
pub mod fragment;
pub mod ifaces;
pub mod nat;
pub mod neigh;
pub mod nexthop;
pub mod owner;
pub mod pipeline;
pub mod policy;
pub mod published;
pub mod route;
pub mod ruleset;
pub mod servermap;
pub mod session;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
pub mod slowpath;
pub mod stats;
pub mod worker;

pub use appliance::{Appliance, ApplianceConfig, PortSpec, StartError};
