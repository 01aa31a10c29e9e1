//! A session as the control plane reads it (`display firewall session-table`, the API):
//! a copy of its facts, made by the worker that owns it. The control plane renders it.
use super::{Kind, Session, SessionId, SessionTable};
use crate::clock::Millis;
use wire::FlowKey;

/// A snapshot of one session, for display and the management API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    pub id: SessionId,
    pub worker: u16,
    pub kind: Kind,
    pub original: FlowKey,
    /// The original direction as it leaves the appliance.
    pub translated: FlowKey,
    pub state: &'static str,
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    pub age_secs: u64,
    pub remaining_secs: u64,
}

impl SessionView {
    pub fn new(table: &SessionTable, id: SessionId, s: &Session, worker: u16, now: Millis) -> SessionView {
        SessionView {
            id,
            worker,
            kind: Kind::of(s),
            original: s.keys[0],
            translated: s.keys[1].reversed(),
            state: s.tcp.map_or("active", |t| t.state.name()),
            packets: s.packets,
            bytes: s.bytes,
            age_secs: now.saturating_sub(s.created()) / 1000,
            remaining_secs: table.remaining_ms(s, now).div_ceil(1000),
        }
    }
}
