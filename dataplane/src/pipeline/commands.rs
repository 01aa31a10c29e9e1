//! The commands a worker's inbox brings that change its pipeline (neighbours, server-map
//! entries) or act on its sessions (reset, NAT usage).
use super::session_ended;
use super::Pipeline;
use crate::command::Command;
use crate::command::NatUsage;
use crate::command::ResetChunk;
use crate::neigh::NeighbourUpdate;
use crate::servermap::ServerMapChange;
use crate::session::App;
use crate::session::Dir;
use crate::session::SessionFilter;

impl Pipeline {
    /// Applies a command from the inbox that changes this pipeline; gives back the ones
    /// it does not handle (queries the worker answers itself).
    pub fn apply(&mut self, cmd: Command) -> Option<Command> {
        match cmd {
            Command::Neighbour(NeighbourUpdate::Set { ip, mac }) => {
                // A full cache keeps the packets for this neighbour on the slow path.
                let _ = self.neighbours_mut().insert(ip, mac);
            }
            Command::Neighbour(NeighbourUpdate::Remove { ip }) => {
                self.neighbours_mut().remove(&ip);
            }
            Command::ServerMap(change) => self.server_map_change(change),
            query => return Some(query),
        }
        None
    }

    /// Ends the sessions `filter` covers among up to `max` slots from `from`, as their
    /// aging would (NAT numbers back, the ALG told); says where to go on.
    pub fn reset(&mut self, filter: &SessionFilter, from: u32, max: u32) -> ResetChunk {
        let mut ids = Vec::new();
        let mut next = None;
        for (scanned, (id, s)) in self.sessions.iter_from(from).enumerate() {
            if scanned == max as usize {
                next = Some(id);
                break;
            }
            if filter.matches(s) {
                ids.push(id);
            }
        }
        for &id in &ids {
            session_ended(&mut self.ports, &self.hooks, self.sessions.get(id));
            self.sessions.remove(id);
        }
        self.counters.removed += ids.len() as u64;
        ResetChunk { removed: ids.len(), next }
    }

    /// NAT numbers this worker has handed out.
    pub fn nat_usage(&self) -> Vec<NatUsage> {
        let size = self.ports.slice_size();
        self.ports.usage().map(|(public, proto, in_use)| NatUsage { public, proto, in_use, size }).collect()
    }

    /// Applies what the slow path announced for this worker's flows.
    pub fn server_map_change(&mut self, change: ServerMapChange) {
        match change {
            ServerMapChange::Install(entry) => {
                // A plain session of the same flow (GRE the policy let through before the
                // call was set up) gives way, so the next packet opens the expected one.
                self.end_session_of(&entry.key, App::None);
                if !self.expected.insert(entry.key, entry) {
                    self.counters.server_map_full += 1;
                }
            }
            ServerMapChange::Remove(key) => {
                self.expected.remove(&key);
                self.end_session_of(&key, App::PptpGre);
            }
        }
    }

    /// Ends the session whose first packet had `key`, if it is of application `app`.
    pub(super) fn end_session_of(&mut self, key: &wire::FlowKey, app: App) {
        let Some((id, Dir::Original)) = self.sessions.lookup(key) else { return };
        if self.sessions.get(id).app != app {
            return;
        }
        super::session_ended(&mut self.ports, &self.hooks, self.sessions.get(id));
        self.sessions.remove(id);
        self.counters.removed += 1;
    }
}
