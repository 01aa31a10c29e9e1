//! The control plane's client of the running appliance: what it asks the workers and the
//! slow path through their inboxes (sessions, server map, ALG status, NAT usage, resets,
//! a barrier), and what a reload publishes to every core (rules, ALG limits).
use super::Appliance;
use crate::alg::pptp::{AlgLimits, ServerMapView};
use crate::command::{AlgStatus, Command, NatUsage, SlowCommand};
use crate::ruleset::Ruleset;
use crate::session::display::SessionView;
use crate::session::SessionFilter;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// Sessions asked of a worker per message: small enough that answering never stalls
/// its loop for long.
const SESSION_CHUNK: u32 = 256;
/// Slots a worker scans per reset message.
const RESET_CHUNK: u32 = 4096;

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("worker {0} did not answer within {1:?}")]
    Timeout(usize, Duration),
    #[error("worker {0}'s inbox is full")]
    InboxFull(usize),
    #[error("the slow path did not answer within {0:?}")]
    SlowTimeout(Duration),
    #[error("the slow path's inbox is full")]
    SlowInboxFull,
}

impl Appliance {
    /// Every worker's sessions, fetched in chunks through the inboxes while traffic flows.
    pub fn sessions(&self, timeout: Duration) -> Result<Vec<SessionView>, QueryError> {
        let mut all = Vec::new();
        for (w, inbox) in self.inboxes.iter().enumerate() {
            let mut from = 0;
            loop {
                let (tx, rx) = mpsc::channel();
                inbox
                    .push(Command::Sessions { from, max: SESSION_CHUNK, reply: tx })
                    .map_err(|_| QueryError::InboxFull(w))?;
                let chunk = rx.recv_timeout(timeout).map_err(|_| QueryError::Timeout(w, timeout))?;
                all.extend(chunk.sessions);
                match chunk.next {
                    Some(n) => from = n,
                    None => break,
                }
            }
        }
        Ok(all)
    }

    /// The server map, as the slow path keeps it.
    pub fn server_map(&self, timeout: Duration) -> Result<Vec<ServerMapView>, QueryError> {
        self.ask_slow_path(|reply| SlowCommand::ServerMap { reply }, timeout)
    }

    /// The PPTP ALG's state sizes and counters.
    pub fn alg_status(&self, timeout: Duration) -> Result<AlgStatus, QueryError> {
        self.ask_slow_path(|reply| SlowCommand::AlgStatus { reply }, timeout)
    }

    /// Sends the slow path a question and waits for its answer.
    fn ask_slow_path<T>(
        &self,
        question: impl FnOnce(mpsc::Sender<T>) -> SlowCommand,
        timeout: Duration,
    ) -> Result<T, QueryError> {
        let (tx, rx) = mpsc::channel();
        self.slow_inbox.push(question(tx)).map_err(|_| QueryError::SlowInboxFull)?;
        rx.recv_timeout(timeout).map_err(|_| QueryError::SlowTimeout(timeout))
    }

    /// Ends the sessions `filter` covers on every worker, in chunks while traffic flows;
    /// returns how many ended.
    pub fn reset_sessions(&self, filter: SessionFilter, timeout: Duration) -> Result<usize, QueryError> {
        let mut removed = 0;
        for (w, inbox) in self.inboxes.iter().enumerate() {
            let mut from = 0;
            loop {
                let (tx, rx) = mpsc::channel();
                inbox
                    .push(Command::Reset { filter, from, max: RESET_CHUNK, reply: tx })
                    .map_err(|_| QueryError::InboxFull(w))?;
                let chunk = rx.recv_timeout(timeout).map_err(|_| QueryError::Timeout(w, timeout))?;
                removed += chunk.removed;
                match chunk.next {
                    Some(n) => from = n,
                    None => break,
                }
            }
        }
        Ok(removed)
    }

    /// NAT numbers in use per public address and protocol, summed over the workers;
    /// `size` is the numbers all workers together can hand out.
    pub fn nat_usage(&self, timeout: Duration) -> Result<Vec<NatUsage>, QueryError> {
        let mut total: Vec<NatUsage> = Vec::new();
        for (w, inbox) in self.inboxes.iter().enumerate() {
            let (tx, rx) = mpsc::channel();
            inbox.push(Command::NatUsage { reply: tx }).map_err(|_| QueryError::InboxFull(w))?;
            for u in rx.recv_timeout(timeout).map_err(|_| QueryError::Timeout(w, timeout))? {
                match total.iter_mut().find(|t| (t.public, t.proto) == (u.public, u.proto)) {
                    Some(t) => {
                        t.in_use += u.in_use;
                        t.size += u.size;
                    }
                    None => total.push(u),
                }
            }
        }
        total.sort_by_key(|u| (u.public, u.proto));
        Ok(total)
    }

    /// New ALG limits and server-map timeout (reload).
    pub fn set_alg_limits(&self, limits: AlgLimits) {
        self.alg_limits.publish(Arc::new(limits));
    }

    /// A new ruleset for every worker (reload): one store, so no worker can be left on
    /// the old rules while another runs the new; each takes it at its next poll loop.
    pub fn set_rules(&self, rules: Arc<Ruleset>) {
        self.rules.publish(rules);
    }

    /// Returns once every worker has applied every command queued to it, and every ruleset
    /// published, before the call: neighbour and server-map updates the slow path sent
    /// before something the caller saw it do, or a reload.
    pub fn sync(&self, timeout: Duration) -> Result<(), QueryError> {
        let mut waiting = Vec::new();
        for (w, inbox) in self.inboxes.iter().enumerate() {
            let (tx, rx) = mpsc::channel();
            inbox.push(Command::Sync { reply: tx }).map_err(|_| QueryError::InboxFull(w))?;
            waiting.push(rx);
        }
        for (w, rx) in waiting.into_iter().enumerate() {
            rx.recv_timeout(timeout).map_err(|_| QueryError::Timeout(w, timeout))?;
        }
        Ok(())
    }
}
