//! Application-level gateways: protocols whose control messages carry what NAT must
//! translate and what the firewall must expect. They run on the slow-path core; workers
//! hand them control segments with an [`meta::AlgMeta`] in front.
pub mod meta;
pub mod pptp;
