//! The server map: expected flows an ALG announced, keyed like their first packet.
//!
//! A packet that misses the session table but matches an entry opens a session with the
//! entry's translation and application, without asking the security policy (the
//! control connection that negotiated it was permitted). The slow path keeps the
//! authoritative list with ages (for display and expiry) and installs each entry in the
//! worker that owns its flow; a worker's copy is a bounded map it alone reads.
use crate::bounded::BoundedMap;
use crate::session::App;
use wire::FlowKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerMapEntry {
    /// The key of the expected flow's packets as they arrive.
    pub key: FlowKey,
    /// What those packets become.
    pub translated: FlowKey,
    pub app: App,
}

/// What the slow path tells the worker that owns an entry's flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerMapChange {
    Install(ServerMapEntry),
    /// Removes the entry and ends the session opened through it.
    Remove(FlowKey),
}

/// A worker's entries, keyed like the expected flow's first packet.
pub type ServerMap = BoundedMap<FlowKey, ServerMapEntry>;
