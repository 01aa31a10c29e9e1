//! Starting the dataplane from a validated config and running until a signal.
use crate::api::ApiServer;
use crate::config::Validated;
use crate::control::{ConfigSource, Control};
use crate::display;
use crate::health::Liveness;
use crate::metrics::MetricsServer;
use crate::notify::Notifier;
use crate::report;
use anyhow::Context;
use dataplane::session::SessionFilter;
use dataplane::stats::{CoreStats, DropReason};
use dataplane::Appliance;
use dpdk::{port_by_name, Eal, EalArgs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Starts EAL, ports and lcores; returns the running appliance.
pub fn start(v: &Validated) -> anyhow::Result<(Eal, Appliance)> {
    let args = v.eal.args();
    tracing::info!(args = %args.join(" "), "starting EAL");
    let eal = Eal::init(&EalArgs(args)).context("EAL start-up")?;
    let mut ids = Vec::new();
    for (name, device) in v.eal.device_names().iter().zip(&v.eal.devices) {
        let id =
            port_by_name(name).with_context(|| format!("port device {device:?} was not probed by DPDK"))?;
        ids.push(id);
    }
    let cfg = v.appliance(&ids);
    let table = dataplane::session::SessionTable::memory_bytes(cfg.sessions_per_worker);
    tracing::info!(
        per_worker = cfg.sessions_per_worker,
        workers = cfg.workers,
        bytes_per_session = table / cfg.sessions_per_worker.max(1),
        mib_per_worker = table >> 20,
        "session tables"
    );
    let appliance = Appliance::start(&eal, &cfg).context("dataplane start-up")?;
    for p in appliance.ports() {
        let iface = appliance.interfaces().get(p.id());
        tracing::info!(
            port = p.id(),
            driver = p.driver(),
            rss = %p.rss(),
            name = iface.map_or("?", |i| i.name.as_str()),
            mac = %iface.map(|i| i.mac.to_string()).unwrap_or_default(),
            "port up"
        );
    }
    Ok((eal, appliance))
}

/// Runs until SIGINT or SIGTERM: the management API and the metrics endpoint serve,
/// SIGHUP reloads, SIGUSR1 prints the session table and server map, counters are
/// printed every `interval` if given, and drops that point at a problem are logged (at
/// most once per reason every 10 s). systemd hears of readiness, reloads and the stop
/// through `notify`, and its watchdog only while every core's loop turns.
pub fn run_until_signal(
    appliance: Appliance,
    v: &Validated,
    source: ConfigSource,
    interval: Option<Duration>,
    notify: Arc<Notifier>,
) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).context("installing signal handler")?;
    }
    let show = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGUSR1, show.clone())
        .context("installing signal handler")?;
    let reload = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, reload.clone())
        .context("installing signal handler")?;

    let appliance = Arc::new(appliance);
    let control = Arc::new(Control::new(appliance.clone(), source, v.clone(), notify.clone()));
    // On an error here the control's hold on the appliance goes first, so the appliance
    // stops and the error that stopped it is the one reported.
    let api = match ApiServer::start(control.clone(), &v.management) {
        Ok(api) => api,
        Err(e) => {
            drop(control);
            stop_appliance(appliance)?;
            return Err(e);
        }
    };
    let metrics = match v.metrics.map(|addr| MetricsServer::start(control.clone(), addr)).transpose() {
        Ok(m) => m,
        Err(e) => {
            api.stop();
            drop(control);
            stop_appliance(appliance)?;
            return Err(e);
        }
    };
    tracing::info!("ferrowall running; SIGINT or SIGTERM stops it, SIGHUP reloads the config");
    notify.ready(&format!("running: {} port(s), {} worker(s)", appliance.ports().len(), appliance.workers()));
    let mut watchdog =
        notify.watchdog_every().map(|every| (every, Instant::now(), Liveness::new(&appliance)));
    let mut last = (Instant::now(), appliance.total_stats());
    let mut warn = DropWarnings::default();
    let mut events_lost = 0;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        if show.swap(false, Ordering::Relaxed) {
            print_displays(&appliance);
        }
        if reload.swap(false, Ordering::Relaxed) {
            match control.reload() {
                Ok(m) => tracing::info!("SIGHUP {m}"),
                Err(m) => tracing::warn!("SIGHUP {m}"),
            }
        }
        if let Some((every, at, liveness)) = &mut watchdog {
            if at.elapsed() >= *every {
                *at = Instant::now();
                feed_watchdog(&notify, liveness, &appliance);
            }
        }
        warn.check(&appliance.total_stats());
        log_events(&appliance, &mut events_lost);
        if let Some(every) = interval {
            if last.0.elapsed() >= every {
                let now = (Instant::now(), appliance.total_stats());
                print_counters(&appliance);
                println!("{}", report::rates(&last.1, &now.1, now.0 - last.0));
                last = now;
            }
        }
    }
    tracing::info!("stopping: draining queues");
    notify.stopping();
    log_events(&appliance, &mut events_lost);
    api.stop();
    if let Some(m) = metrics {
        m.stop();
    }
    drop(control);
    print_counters(&appliance);
    stop_appliance(appliance)
}

/// Tells the watchdog all is well only if every core's loop turned since the last time:
/// a stalled core is then restarted by systemd, with the reason logged here first.
fn feed_watchdog(notify: &Notifier, liveness: &mut Liveness, a: &Appliance) {
    let stalled = liveness.stalled(a);
    if stalled.is_empty() {
        notify.watchdog();
    } else {
        tracing::error!(cores = %stalled.join(", "), "poll loop stalled: not feeding the watchdog");
        notify.status(&format!("stalled: {}", stalled.join(", ")));
    }
}

/// Writes what the cores put in the event log (at most a bounded batch per tick).
fn log_events(a: &Appliance, lost_before: &mut u64) {
    let Some(log) = a.events() else { return };
    for _ in 0..10_000 {
        let Some(e) = log.pop() else { break };
        tracing::info!(target: "ferrowall::event", "{}", crate::render::event(&e));
    }
    let lost = log.lost();
    if lost > *lost_before {
        tracing::warn!(lost = lost - *lost_before, "event log queue full: events lost ([log] event_queue)");
        *lost_before = lost;
    }
}

fn stop_appliance(appliance: Arc<Appliance>) -> anyhow::Result<()> {
    let appliance = Arc::into_inner(appliance).context("the appliance is still in use at shutdown")?;
    let ifaces = appliance.interfaces().clone();
    let stats: Vec<_> = appliance.ports().iter().map(|p| (p.id(), p.stats())).collect();
    appliance.stop().context("stopping ports")?;
    print!("{}", report::interfaces(&ifaces, &stats));
    Ok(())
}

/// Drops that a packet can cause and an operator should hear of, logged from here (never
/// from the cores), at most once per reason every 10 s.
#[derive(Default)]
struct DropWarnings {
    seen: Vec<(DropReason, u64, Option<Instant>)>,
}

const WARN_ON: [DropReason; 13] = [
    DropReason::SessionTableFull,
    DropReason::NatExhausted,
    DropReason::HandoffRingFull,
    DropReason::SlowPathRingFull,
    DropReason::AlgRingFull,
    DropReason::TxQueueFull,
    DropReason::NoBuffer,
    DropReason::PptpConnectionLimit,
    // Someone else answering for one of our addresses: a conflict or a takeover.
    DropReason::ArpAddressConflict,
    // A SYN flood, or too small a share for half-open sessions.
    DropReason::TcpHalfOpenLimit,
    DropReason::FragmentTableFull,
    DropReason::PptpCallIdsExhausted,
    DropReason::PptpCallLimit,
];

/// The least time between two warnings for one reason.
const WARN_EVERY: Duration = Duration::from_secs(10);

impl DropWarnings {
    fn check(&mut self, total: &CoreStats) {
        for (reason, dropped) in self.due(total, Instant::now()) {
            tracing::warn!(reason = reason.name(), dropped, "{}", reason.help());
        }
    }

    /// The reasons to warn of at `now`, with the drops since each one's last warning.
    fn due(&mut self, total: &CoreStats, now: Instant) -> Vec<(DropReason, u64)> {
        if self.seen.is_empty() {
            self.seen = WARN_ON.iter().map(|r| (*r, total.drops[r.index()], None)).collect();
        }
        let mut due = Vec::new();
        for (reason, count, last) in &mut self.seen {
            let dropped = total.drops[reason.index()];
            if dropped > *count && last.is_none_or(|t| now.duration_since(t) >= WARN_EVERY) {
                due.push((*reason, dropped - *count));
                *count = dropped;
                *last = Some(now);
            }
        }
        due
    }
}

/// `display firewall session-table` and `display firewall server-map`, on SIGUSR1: the
/// same text `fwctl` shows.
fn print_displays(a: &Appliance) {
    match display::session_table(a, &SessionFilter::default(), false) {
        Ok(shown) => print!("display firewall session-table\n{}", shown.text),
        Err(e) => eprintln!("session table unavailable: {e}"),
    }
    match display::server_map(a) {
        Ok(shown) => print!("display firewall server-map\n{}", shown.text),
        Err(e) => eprintln!("server map unavailable: {e}"),
    }
}

fn print_counters(a: &Appliance) {
    print!("{}", report::counters(&a.total_stats(), &a.worker_stats(), &a.slow_path_stats()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dropped(reason: DropReason, n: u64) -> CoreStats {
        let mut s = CoreStats::default();
        s.drops[reason.index()] = n;
        s
    }

    #[test]
    fn a_reason_is_warned_of_at_most_once_every_10_s_with_what_it_missed() {
        let t0 = Instant::now();
        let at = |secs: u64| t0 + Duration::from_secs(secs);
        let mut w = DropWarnings::default();
        let full = DropReason::SessionTableFull;
        assert_eq!(w.due(&dropped(full, 5), at(0)), [], "what was dropped before start is not news");
        assert_eq!(w.due(&dropped(full, 6), at(1)), [(full, 1)]);
        assert_eq!(w.due(&dropped(full, 50), at(5)), [], "within 10 s of the last warning: quiet");
        assert_eq!(w.due(&dropped(full, 90), at(10)), [], "still within 10 s");
        assert_eq!(w.due(&dropped(full, 100), at(11)), [(full, 94)], "then everything since, at once");
        assert_eq!(w.due(&dropped(full, 100), at(30)), [], "no new drops, no warning");
        assert_eq!(
            w.due(&dropped(DropReason::PolicyDeny, 1000), at(40)),
            [],
            "policy denies are not trouble"
        );
    }
}
