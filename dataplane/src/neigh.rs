//! The workers' copy of the neighbour (ARP) table.
//!
//! The slow path owns the authoritative table (resolution, aging, hold queues; see
//! `slowpath::resolve`) and sends each worker every change through its inbox. A worker
//! applies changes between bursts, so a lookup is a plain read of memory it owns. The map
//! is sized at start; inserts beyond the capacity are refused rather than reallocating.
use crate::bounded::BoundedMap;
use std::net::Ipv4Addr;
use wire::MacAddr;

pub type NeighbourCache = BoundedMap<Ipv4Addr, MacAddr>;

/// A change the workers' neighbour caches must apply, sent by the slow path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeighbourUpdate {
    Set { ip: Ipv4Addr, mac: MacAddr },
    Remove { ip: Ipv4Addr },
}
