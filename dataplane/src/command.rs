//! Messages to a worker, drained from its inbox between bursts.
//!
//! The inbox is a bounded lock-free queue (crossbeam's `ArrayQueue`): producers are the
//! slow path and the control plane, the consumer is the worker. Nothing here is per
//! packet; a full inbox is tolerated by design (see `slowpath::resolve`).
use crate::ruleset::Ruleset;
use crate::session::display::SessionView;
use crate::slowpath::NeighbourUpdate;
use crossbeam_queue::ArrayQueue;
use std::sync::mpsc::Sender;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum Command {
    Neighbour(NeighbourUpdate),
    /// A new ruleset (reload).
    Rules(Arc<Ruleset>),
    /// Up to `max` sessions from slot `from` on; the answer says where to go on.
    Sessions {
        from: u32,
        max: u32,
        reply: Sender<SessionChunk>,
    },
}

/// A part of a worker's session table.
#[derive(Debug, Clone)]
pub struct SessionChunk {
    pub worker: u16,
    pub sessions: Vec<SessionView>,
    /// The slot to ask from next, `None` at the end.
    pub next: Option<u32>,
}

pub type Inbox = Arc<ArrayQueue<Command>>;

/// Commands a worker applies per loop iteration at most, so a flood of updates cannot
/// starve packet processing.
pub const INBOX_BATCH: usize = 64;

pub fn inbox(capacity: usize) -> Inbox {
    Arc::new(ArrayQueue::new(capacity.max(1)))
}
