//! Session and ALG events for the operator's log, off the packet path.
//!
//! When the config turns them on, workers and the slow path put small fixed-size
//! records into a bounded lock-free queue (one push per session opened or closed, per
//! call set up or torn down, never per packet); the control plane drains it and writes
//! the log. A full queue loses the event and counts it: logging never slows forwarding.
use crate::session::{Kind, Session};
use crossbeam_queue::ArrayQueue;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use wire::FlowKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    SessionOpened {
        worker: u16,
        kind: Kind,
        original: FlowKey,
        /// The original direction as it leaves.
        translated: FlowKey,
    },
    SessionClosed {
        worker: u16,
        kind: Kind,
        original: FlowKey,
        translated: FlowKey,
        packets: [u64; 2],
        bytes: [u64; 2],
    },
    /// A PPTP call is up: both server-map entries are in place.
    CallUp {
        client: Ipv4Addr,
        public: Ipv4Addr,
        server: Ipv4Addr,
        client_call_id: u16,
        translated: u16,
        server_call_id: u16,
    },
    /// A PPTP call ended; its entries and tunnel sessions are gone.
    CallDown {
        client: Ipv4Addr,
        public: Ipv4Addr,
        server: Ipv4Addr,
        client_call_id: Option<u16>,
        translated: u16,
    },
}

/// The queue events go into; cheap to clone, shared by every core.
#[derive(Clone)]
pub struct EventLog {
    queue: Arc<ArrayQueue<Event>>,
    lost: Arc<AtomicU64>,
    /// Whether session events are wanted (ALG events always are, when the log exists).
    pub sessions: bool,
}

impl EventLog {
    pub fn new(capacity: usize, sessions: bool) -> EventLog {
        EventLog {
            queue: Arc::new(ArrayQueue::new(capacity.max(1))),
            lost: Arc::new(AtomicU64::new(0)),
            sessions,
        }
    }

    pub fn push(&self, e: Event) {
        if self.queue.push(e).is_err() {
            self.lost.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn pop(&self) -> Option<Event> {
        self.queue.pop()
    }

    /// Events lost to a full queue.
    pub fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    pub(crate) fn session_opened(&self, worker: u16, s: &Session) {
        if self.sessions {
            let (original, translated) = (s.keys[0], s.keys[1].reversed());
            self.push(Event::SessionOpened { worker, kind: Kind::of(s), original, translated });
        }
    }

    pub(crate) fn session_closed(&self, worker: u16, s: &Session) {
        if self.sessions {
            self.push(Event::SessionClosed {
                worker,
                kind: Kind::of(s),
                original: s.keys[0],
                translated: s.keys[1].reversed(),
                packets: s.packets,
                bytes: s.bytes,
            });
        }
    }
}
