//! ferrowall's packet side.
//!
//! Modules follow a packet's path: [`dpdk`] receives it into a [`frame::Frame`],
//! [`packet`] views its headers, [`pipeline`] decides its fate on a worker
//! ([`ifaces`], [`route`], [`neigh`]), [`slowpath`] handles what workers pass on, and
//! [`worker`] / [`appliance`] run it all on DPDK lcores. [`stats`] counts every outcome.
pub mod alg;
pub mod appliance;
pub mod bounded;
pub mod clock;
pub mod command;
pub mod craft;
pub mod dpdk;
pub mod events;
pub mod flow;
pub mod fragment;
pub mod frame;
pub mod ifaces;
pub mod nat;
pub mod neigh;
pub mod nexthop;
pub mod packet;
pub mod pipeline;
pub mod policy;
pub mod published;
pub mod route;
pub mod ruleset;
pub mod servermap;
pub mod session;
pub mod sim;
pub mod slowpath;
pub mod stats;
pub mod worker;

pub use appliance::{Appliance, ApplianceConfig, PortSpec, StartError};
