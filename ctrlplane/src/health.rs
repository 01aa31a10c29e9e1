//! Is the appliance alive: every core's poll loop turning, every worker answering its
//! inbox. `fwctl health` (the service's and the container's health check) and the
//! systemd watchdog both ask this, so "healthy" means one thing.
//!
//! A core publishes its counters every few milliseconds from inside its loop, so a loop
//! that stopped turning (stuck, spinning in one packet, descheduled for good) shows as a
//! poll count that no longer moves. Link state is not health: a cable pulled is an
//! operator's problem, and a restart would not fix it.
use dataplane::Appliance;
use serde::Serialize;
use std::time::Duration;

/// The poll counts of every core, in a fixed order (workers, then the slow path), as
/// last seen; [`Liveness::stalled`] compares the next sample with them.
pub struct Liveness {
    last: Vec<u64>,
}

impl Liveness {
    pub fn new(a: &Appliance) -> Liveness {
        Liveness { last: polls(a) }
    }

    /// The names of the cores whose loop has not turned since the last call (or `new`).
    pub fn stalled(&mut self, a: &Appliance) -> Vec<String> {
        let now = polls(a);
        let stalled = not_moved(&self.last, &now);
        self.last = now;
        stalled.into_iter().map(|i| core_name(i, a.workers())).collect()
    }
}

fn polls(a: &Appliance) -> Vec<u64> {
    let mut v: Vec<u64> = a.worker_stats().iter().map(|s| s.polls).collect();
    v.push(a.slow_path_stats().polls);
    v
}

/// Positions whose count did not grow (a core that restarted from zero did not turn).
fn not_moved(before: &[u64], after: &[u64]) -> Vec<usize> {
    before.iter().zip(after).enumerate().filter(|(_, (b, a))| a <= b).map(|(i, _)| i).collect()
}

fn core_name(i: usize, workers: usize) -> String {
    if i < workers {
        format!("worker {i}")
    } else {
        "slow path".into()
    }
}

/// What `GET /v1/health` answers.
#[derive(Debug, Serialize)]
pub struct Health {
    pub healthy: bool,
    /// Each core and its poll loop's turns over the sampled window.
    pub cores: Vec<CoreHealth>,
    /// Why the workers' inboxes did not all answer, if they did not.
    pub inbox: Option<String>,
    pub window_ms: u64,
}

#[derive(Debug, Serialize)]
pub struct CoreHealth {
    pub core: String,
    pub polls: u64,
}

/// Samples the poll counts `window` apart and asks every worker to answer its inbox.
/// Takes `window` plus at most `answer` (the API thread's time, never a core's).
pub fn check(a: &Appliance, window: Duration, answer: Duration) -> Health {
    let before = polls(a);
    std::thread::sleep(window);
    let inbox = a.sync(answer).err().map(|e| e.to_string());
    let after = polls(a);
    let cores: Vec<CoreHealth> = before
        .iter()
        .zip(&after)
        .enumerate()
        .map(|(i, (b, n))| CoreHealth { core: core_name(i, a.workers()), polls: n.saturating_sub(*b) })
        .collect();
    let healthy = cores.iter().all(|c| c.polls > 0) && inbox.is_none();
    Health { healthy, cores, inbox, window_ms: window.as_millis() as u64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_core_whose_count_did_not_grow_is_stalled() {
        assert_eq!(not_moved(&[5, 7, 9], &[6, 7, 10]), [1]);
        assert_eq!(not_moved(&[5, 7], &[6, 8]), Vec::<usize>::new());
        assert_eq!(not_moved(&[5, 7], &[0, 8]), [0], "a count that went back did not turn");
        assert_eq!((core_name(1, 2), core_name(2, 2)), ("worker 1".into(), "slow path".into()));
    }
}
