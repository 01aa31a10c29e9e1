//! Messages to a worker or to the slow path, drained from their inboxes between bursts.
//!
//! An inbox is a bounded lock-free queue (crossbeam's `ArrayQueue`). A worker's producers
//! are the slow path and the control plane; the slow path's are the workers (events) and
//! the control plane (queries). Nothing here is per packet; a full inbox is tolerated by
//! design (see `slowpath::resolve`, and the ALG's aging).
use crate::alg::pptp::ServerMapView;
use crate::neigh::NeighbourUpdate;
use crate::servermap::ServerMapChange;
use crate::session::display::SessionView;
use crate::session::SessionFilter;
use crossbeam_queue::ArrayQueue;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use wire::FlowKey;

#[derive(Debug, Clone)]
pub enum Command {
    Neighbour(NeighbourUpdate),
    /// An expected flow announced or withdrawn by the ALG.
    ServerMap(ServerMapChange),
    /// Up to `max` sessions from slot `from` on; the answer says where to go on.
    Sessions {
        from: u32,
        max: u32,
        reply: Sender<SessionChunk>,
    },
    /// Ends the sessions the filter covers among up to `max` slots from `from`
    /// (`reset firewall session-table`): bounded work per loop iteration, like a display.
    Reset {
        filter: SessionFilter,
        from: u32,
        max: u32,
        reply: Sender<ResetChunk>,
    },
    /// Answered once everything queued before it is applied (`Appliance::sync`).
    Sync {
        reply: Sender<()>,
    },
    /// NAT numbers in use per public address and protocol.
    NatUsage {
        reply: Sender<Vec<NatUsage>>,
    },
}

/// What one reset step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetChunk {
    pub removed: usize,
    /// The slot to go on from, `None` at the end.
    pub next: Option<u32>,
}

/// One worker's use of one public address for one protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatUsage {
    pub public: std::net::Ipv4Addr,
    pub proto: u8,
    pub in_use: u32,
    /// Numbers in this worker's slice.
    pub size: u32,
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

/// Messages to the slow path.
#[derive(Debug, Clone)]
pub enum SlowCommand {
    /// A PPTP control session ended (FIN, RST, aging, reset): its ALG state goes.
    ControlClosed(FlowKey),
    /// The server map, for display.
    ServerMap { reply: Sender<Vec<ServerMapView>> },
    /// The ALG's counters and state sizes.
    AlgStatus { reply: Sender<AlgStatus> },
}

/// What `display` shows of the PPTP ALG.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlgStatus {
    pub connections: usize,
    pub calls: usize,
    pub server_map_entries: usize,
    /// Translated Call IDs in use per public address.
    pub call_ids: Vec<(std::net::Ipv4Addr, u32)>,
    pub counters: crate::alg::pptp::AlgCounters,
}

pub type SlowInbox = Arc<ArrayQueue<SlowCommand>>;

/// Commands a worker applies per loop iteration at most, so a flood of updates cannot
/// starve packet processing.
pub const INBOX_BATCH: usize = 64;

pub fn inbox(capacity: usize) -> Inbox {
    Arc::new(ArrayQueue::new(capacity.max(1)))
}
