//! Checks a parsed [`Config`] as a whole; what passes becomes a [`Validated`].
use super::fields::{is_name, parse_ip, parse_mac, parse_prefix, Check};
use super::load::{at, at_key, FieldPath, Locator};
use super::validated::{EalPlan, Management, Validated};
use super::{Config, ConfigError, PortConf};
use dataplane::alg::pptp::AlgLimits;
use dataplane::appliance::{ApplianceConfig, PortSpec};
use dataplane::ifaces::PortId;
use dataplane::pipeline::PipelineLimits;
use dataplane::route::Route;
use dataplane::slowpath::NeighbourLimits;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;
use wire::ipv4::prefix_mask;
use wire::MacAddr;

/// Checks everything; the first problem found is reported.
pub fn validate(cfg: &Config, file: &str, text: &str) -> Result<Validated, ConfigError> {
    let loc = Locator::new(file, text);
    let err = |path: FieldPath, msg: String| loc.error(&path, msg);
    check_eal(cfg).map_err(|(p, m)| err(p, m))?;
    check_cores(cfg).map_err(|(p, m)| err(p, m))?;
    check_buffers(cfg).map_err(|(p, m)| err(p, m))?;
    let ports = check_ports(cfg).map_err(|(p, m)| err(p, m))?;
    let routes = check_routes(cfg, &ports).map_err(|(p, m)| err(p, m))?;
    let neighbours = check_neighbours(cfg, &ports).map_err(|(p, m)| err(p, m))?;
    let rules = super::rules::check(cfg, &ports).map_err(|(p, m)| err(p, m))?;
    if cfg.sessions.per_worker == 0 || cfg.sessions.per_worker > 16_000_000 {
        return Err(err(
            at_key("sessions", "per_worker"),
            format!("{} is not within 1..16000000", cfg.sessions.per_worker),
        ));
    }
    if !(1..=1_000_000).contains(&cfg.fragments.per_worker) {
        let msg = format!("{} is not within 1..1000000", cfg.fragments.per_worker);
        return Err(err(at_key("fragments", "per_worker"), msg));
    }
    if !(100..=60_000).contains(&cfg.fragments.timeout_ms) {
        let msg = format!("{} ms is not within 100..60000", cfg.fragments.timeout_ms);
        return Err(err(at_key("fragments", "timeout_ms"), msg));
    }
    if let Some(n) = cfg.sessions.half_open_per_worker {
        if n == 0 || n > cfg.sessions.per_worker {
            let msg = format!("{n} is not within 1..{} (per_worker)", cfg.sessions.per_worker);
            return Err(err(at_key("sessions", "half_open_per_worker"), msg));
        }
    }
    check_alg(cfg).map_err(|(p, m)| err(p, m))?;
    if !(1..=16_000_000).contains(&cfg.log.event_queue) {
        return Err(err(
            at_key("log", "event_queue"),
            format!("{} is not within 1..16000000", cfg.log.event_queue),
        ));
    }
    let template = ApplianceConfig {
        ports,
        routes,
        static_neighbours: neighbours,
        workers: cfg.cores.workers.len(),
        mbufs: cfg.buffers.mbufs,
        mbuf_cache: cfg.buffers.mbuf_cache,
        ring_size: cfg.buffers.ring_size,
        inbox_size: cfg.buffers.inbox_size,
        neighbour: NeighbourLimits {
            capacity: cfg.arp.capacity,
            hold_packets: cfg.arp.hold_packets,
            retries: cfg.arp.retries,
            timeout_secs: cfg.arp.timeout,
        },
        limits: PipelineLimits {
            icmp_errors_per_sec: cfg.icmp.errors_per_second,
            icmp_errors_burst: cfg.icmp.errors_burst,
            server_map_entries: cfg.alg.pptp.server_map_per_worker,
            half_open_sessions: cfg.sessions.half_open_per_worker.unwrap_or(cfg.sessions.per_worker / 2),
            fragments: cfg.fragments.per_worker,
            fragment_timeout_ms: cfg.fragments.timeout_ms,
        },
        worker_idle_sleep: Duration::from_micros(cfg.cores.worker_idle_sleep_us),
        rules,
        sessions_per_worker: cfg.sessions.per_worker,
        events: (cfg.log.alg_events || cfg.log.session_events)
            .then_some((cfg.log.event_queue, cfg.log.session_events)),
        alg: AlgLimits {
            calls_per_connection: cfg.alg.pptp.calls_per_connection,
            connections: cfg.alg.pptp.connections,
            server_map_secs: cfg.alg.pptp.server_map_timeout,
        },
        fixed_seed: cfg.bench.seed,
    };
    let mut cpus = vec![cfg.cores.main, cfg.cores.slow_path];
    cpus.extend(&cfg.cores.workers);
    let eal = EalPlan {
        user_args: cfg.eal.args.clone(),
        cpus,
        devices: cfg.ports.iter().map(|p| p.device.trim().to_owned()).collect(),
    };
    let management = check_management(cfg).map_err(|(p, m)| err(p, m))?;
    let metrics = match cfg.metrics.listen.trim() {
        "" => None,
        l => Some(l.parse().map_err(|_| {
            err(at_key("metrics", "listen"), format!("{l:?} is not an address and port (127.0.0.1:9469)"))
        })?),
    };
    Ok(Validated { eal, template, management, metrics })
}

static CPUS: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();

/// The CPUs this process may use, as first seen: once EAL runs, the main thread is
/// pinned to one CPU, and a reload must still judge `[cores]` against the whole set.
pub fn available_cpus() -> Vec<usize> {
    CPUS.get_or_init(available_cpus_now).clone()
}

/// Fixes the CPUs `[cores]` is judged against: `Some` for another machine's (checking a
/// config meant for it), `None` for this process's own. `main` calls it before EAL
/// starts; later calls change nothing.
pub fn set_available_cpus(cpus: Option<Vec<usize>>) {
    let _ = CPUS.set(cpus.unwrap_or_else(available_cpus_now));
}

fn available_cpus_now() -> Vec<usize> {
    core_affinity::get_core_ids().map(|v| v.iter().map(|c| c.id).collect()).unwrap_or_default()
}

fn check_management(cfg: &Config) -> Check<Management> {
    let m = &cfg.management;
    let socket = match m.socket.trim() {
        "" => None,
        s if s.starts_with('/') => Some(PathBuf::from(s)),
        s => return Err((at_key("management", "socket"), format!("{s:?} is not an absolute path"))),
    };
    let listen = match m.listen.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(l) => {
            let addr: SocketAddr = l
                .parse()
                .map_err(|_| (at_key("management", "listen"), format!("{l:?} is not an address and port")))?;
            if !addr.ip().is_loopback() {
                return Err((
                    at_key("management", "listen"),
                    format!("{addr} is not a loopback address: the API has no authentication beyond the socket's permissions"),
                ));
            }
            Some(addr)
        }
    };
    Ok(Management { socket, listen })
}

fn check_alg(cfg: &Config) -> Check<()> {
    let p = &cfg.alg.pptp;
    let path = |field: &str| FieldPath::default().key("alg").key("pptp").key(field);
    if !(1..=86_400 * 7).contains(&p.server_map_timeout) {
        return Err((
            path("server_map_timeout"),
            format!("{} s is not within 1 s..7 days", p.server_map_timeout),
        ));
    }
    for (field, v, max) in [
        ("calls_per_connection", p.calls_per_connection, 65_535),
        ("connections", p.connections, 1_000_000),
        ("server_map_per_worker", p.server_map_per_worker, 16_000_000),
    ] {
        if !(1..=max).contains(&v) {
            return Err((path(field), format!("{v} is not within 1..{max}")));
        }
    }
    Ok(())
}

fn check_cores(cfg: &Config) -> Check<()> {
    let c = &cfg.cores;
    if c.workers.is_empty() {
        return Err((at_key("cores", "workers"), "at least one worker CPU is needed".into()));
    }
    if c.workers.len() > 64 {
        return Err((
            at_key("cores", "workers"),
            format!("{} workers; at most 64 are supported", c.workers.len()),
        ));
    }
    // A poller asleep longer than this lets an RX ring overflow at any real rate, and
    // would look stalled to the health check and the watchdog.
    if c.worker_idle_sleep_us > 1000 {
        return Err((
            at_key("cores", "worker_idle_sleep_us"),
            format!(
                "{} µs is above 1000 (a worker must poll at least every millisecond)",
                c.worker_idle_sleep_us
            ),
        ));
    }
    let available = available_cpus();
    let check_cpu = |path: FieldPath, cpu: usize| -> Check<()> {
        if available.is_empty() || available.contains(&cpu) {
            Ok(())
        } else {
            Err((path, format!("CPU {cpu} is not available to this process (it may use {available:?})")))
        }
    };
    check_cpu(at_key("cores", "main"), c.main)?;
    check_cpu(at_key("cores", "slow_path"), c.slow_path)?;
    for (i, &w) in c.workers.iter().enumerate() {
        check_cpu(FieldPath::default().key("cores").key("workers").index(i), w)?;
        if c.workers[..i].contains(&w) {
            return Err((
                FieldPath::default().key("cores").key("workers").index(i),
                format!("CPU {w} is given to two workers"),
            ));
        }
    }
    Ok(())
}

/// EAL arguments that DPDK would refuse, or that fight the ones `[cores]` and `[[port]]`
/// generate: caught here, with the field, rather than as EAL's usage text at start.
fn check_eal(cfg: &Config) -> Check<()> {
    let args = &cfg.eal.args;
    let path = |i: usize| FieldPath::default().key("eal").key("args").index(i);
    const GENERATED: [&str; 9] =
        ["-l", "-c", "--lcores", "--main-lcore", "-a", "--allow", "-b", "--block", "--vdev"];
    for (i, a) in args.iter().enumerate() {
        let flag = a.split('=').next().unwrap_or(a);
        if GENERATED.contains(&flag) {
            return Err((path(i), format!("{flag} is generated from [cores] and [[port]]; give it there")));
        }
    }
    let at = |flag: &str| args.iter().position(|a| a == flag);
    if let (Some(_), Some(i)) = (at("--no-huge"), at("--in-memory")) {
        return Err((
            path(i),
            "--in-memory cannot go with --no-huge (DPDK refuses: --no-huge means legacy memory)".into(),
        ));
    }
    Ok(())
}

fn check_buffers(cfg: &Config) -> Check<()> {
    let b = &cfg.buffers;
    if !b.ring_size.is_power_of_two() || b.ring_size < 64 {
        return Err((
            at_key("buffers", "ring_size"),
            format!("{} is not a power of two of at least 64", b.ring_size),
        ));
    }
    if b.inbox_size == 0 {
        return Err((at_key("buffers", "inbox_size"), "must be at least 1".into()));
    }
    let workers = cfg.cores.workers.len() as u64;
    let per_port: u64 = cfg
        .ports
        .iter()
        .map(|p| u64::from(p.rx_descriptors) * workers + u64::from(p.tx_descriptors) * (workers + 1))
        .sum();
    let needed = per_port + u64::from(b.ring_size) * workers + u64::from(b.mbuf_cache) * (workers + 2) + 1024;
    if u64::from(b.mbufs) < needed {
        return Err((
            at_key("buffers", "mbufs"),
            format!(
                "{} mbufs cannot fill the queues and rings configured; at least {needed} are needed",
                b.mbufs
            ),
        ));
    }
    if b.mbuf_cache > 512 || b.mbuf_cache > b.mbufs / 4 {
        return Err((
            at_key("buffers", "mbuf_cache"),
            format!("{} is above 512 or a quarter of the pool", b.mbuf_cache),
        ));
    }
    Ok(())
}

fn check_ports(cfg: &Config) -> Check<Vec<PortSpec>> {
    if cfg.ports.is_empty() {
        return Err((FieldPath::default().key("port"), "at least one [[port]] is needed".into()));
    }
    let mut specs: Vec<PortSpec> = Vec::new();
    for (i, p) in cfg.ports.iter().enumerate() {
        let spec = check_port(i, p)?;
        if let Some(other) = cfg.ports[..i].iter().position(|o| o.name == p.name) {
            return Err((
                at("port", i, "name"),
                format!("name {:?} is already used by port[{other}]", p.name),
            ));
        }
        if let Some(other) =
            cfg.ports[..i].iter().position(|o| o.device.split(',').next() == p.device.split(',').next())
        {
            return Err((
                at("port", i, "device"),
                format!("device {:?} is already used by port[{other}]", p.device),
            ));
        }
        for (j, o) in specs.iter().enumerate() {
            let len = o.prefix_len.min(spec.prefix_len);
            if u32::from(o.addr) & prefix_mask(len) == u32::from(spec.addr) & prefix_mask(len) {
                return Err((
                    at("port", i, "address"),
                    format!("subnet overlaps port[{j}] ({}/{})", o.addr, o.prefix_len),
                ));
            }
        }
        specs.push(spec);
    }
    Ok(specs)
}

fn check_port(i: usize, p: &PortConf) -> Check<PortSpec> {
    if !is_name(&p.name) {
        return Err((
            at("port", i, "name"),
            format!("{:?} is not a name (letters, digits, - and _, up to 32)", p.name),
        ));
    }
    if !is_name(&p.zone) {
        return Err((
            at("port", i, "zone"),
            format!("{:?} is not a zone name (letters, digits, - and _, up to 32)", p.zone),
        ));
    }
    if p.device.trim().is_empty() {
        return Err((at("port", i, "device"), "empty device; give a PCI address or a vdev string".into()));
    }
    let (addr, prefix_len) = parse_prefix(&p.address).map_err(|m| (at("port", i, "address"), m))?;
    let host = u32::from(addr) & !prefix_mask(prefix_len);
    if prefix_len == 0 || (prefix_len < 31 && (host == 0 || host == !prefix_mask(prefix_len))) {
        return Err((at("port", i, "address"), format!("{} is not a host address of a /{prefix_len}", addr)));
    }
    let mac = match &p.mac {
        Some(m) => Some(parse_mac(m).map_err(|e| (at("port", i, "mac"), e))?),
        None => None,
    };
    if mac.is_some_and(|m| m.is_multicast() || m == MacAddr::ZERO) {
        return Err((at("port", i, "mac"), "must be a unicast, non-zero MAC".into()));
    }
    for (field, n) in [("rx_descriptors", p.rx_descriptors), ("tx_descriptors", p.tx_descriptors)] {
        if !(64..=8192).contains(&n) {
            return Err((at("port", i, field), format!("{n} is not within 64..8192")));
        }
    }
    Ok(PortSpec {
        port_id: i as PortId,
        name: p.name.clone(),
        zone: p.zone.clone(),
        addr,
        prefix_len,
        mac,
        rx_desc: p.rx_descriptors,
        tx_desc: p.tx_descriptors,
        promiscuous: p.promiscuous,
    })
}

/// Index of the port whose subnet holds `ip`.
fn connected_port(ports: &[PortSpec], ip: Ipv4Addr) -> Option<usize> {
    ports.iter().position(|p| {
        u32::from(p.addr) & prefix_mask(p.prefix_len) == u32::from(ip) & prefix_mask(p.prefix_len)
    })
}

fn check_routes(cfg: &Config, ports: &[PortSpec]) -> Check<Vec<(Ipv4Addr, u8, Route)>> {
    let mut out: Vec<(Ipv4Addr, u8, Route)> = Vec::new();
    for (i, r) in cfg.routes.iter().enumerate() {
        let (net, len) = parse_prefix(&r.destination).map_err(|m| (at("route", i, "destination"), m))?;
        if u32::from(net) & !prefix_mask(len) != 0 {
            return Err((at("route", i, "destination"), format!("{net}/{len} has host bits set")));
        }
        let gw = parse_ip(&r.gateway).map_err(|m| (at("route", i, "gateway"), m))?;
        let port = connected_port(ports, gw)
            .ok_or_else(|| (at("route", i, "gateway"), format!("{gw} is not on the subnet of any port")))?;
        if ports.iter().any(|p| p.addr == gw) {
            return Err((at("route", i, "gateway"), format!("{gw} is the appliance's own address")));
        }
        if out.iter().any(|(n, l, _)| *n == net && *l == len) {
            return Err((at("route", i, "destination"), format!("{net}/{len} is routed twice")));
        }
        out.push((net, len, Route { port: port as PortId, via: Some(gw) }));
    }
    Ok(out)
}

fn check_neighbours(cfg: &Config, ports: &[PortSpec]) -> Check<Vec<(Ipv4Addr, MacAddr)>> {
    let mut out: Vec<(Ipv4Addr, MacAddr)> = Vec::new();
    for (i, n) in cfg.neighbours.iter().enumerate() {
        let ip = parse_ip(&n.address).map_err(|m| (at("neighbour", i, "address"), m))?;
        if connected_port(ports, ip).is_none() {
            return Err((at("neighbour", i, "address"), format!("{ip} is not on the subnet of any port")));
        }
        let mac = parse_mac(&n.mac).map_err(|m| (at("neighbour", i, "mac"), m))?;
        if out.iter().any(|(a, _)| *a == ip) {
            return Err((at("neighbour", i, "address"), format!("{ip} is listed twice")));
        }
        out.push((ip, mac));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eal_args_generated_from_cores_and_ports() {
        let plan = EalPlan {
            user_args: vec!["--no-huge".into()],
            cpus: vec![0, 0, 1],
            devices: vec!["net_null0".into(), "0000:03:00.0".into()],
        };
        assert_eq!(
            plan.args(),
            [
                "--lcores",
                "0@0,1@0,2@1",
                "--main-lcore",
                "0",
                "--vdev",
                "net_null0",
                "-a",
                "0000:03:00.0",
                "--no-huge"
            ]
        );
        assert_eq!(plan.device_names(), ["net_null0", "0000:03:00.0"]);
    }
}
