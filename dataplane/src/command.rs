//! Messages to a worker, drained from its inbox between bursts.
//!
//! The inbox is a bounded lock-free queue (crossbeam's `ArrayQueue`): producers are the
//! slow path and the control plane, the consumer is the worker. Nothing here is per
//! packet; a full inbox is tolerated by design (see `slowpath::resolve`).
use crate::slowpath::NeighbourUpdate;
use crossbeam_queue::ArrayQueue;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Neighbour(NeighbourUpdate),
}

pub type Inbox = Arc<ArrayQueue<Command>>;

/// Commands a worker applies per loop iteration at most, so a flood of updates cannot
/// starve packet processing.
pub const INBOX_BATCH: usize = 64;

pub fn inbox(capacity: usize) -> Inbox {
    Arc::new(ArrayQueue::new(capacity.max(1)))
}
