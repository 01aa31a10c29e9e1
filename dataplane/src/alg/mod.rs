//! Application-level gateways: protocols whose control messages carry what NAT must
//! translate and what the firewall must expect. They run on the slow-path core.
pub mod pptp;
