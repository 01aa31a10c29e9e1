//! The TOML configuration: its schema, how it is read, and how it is checked.
//!
//! Reading ([`load`]) and checking ([`validate`]) both report a [`ConfigError`] naming the
//! file, the line and column, and the field (`port[1].address`); nothing starts until the
//! whole file is valid. Unknown fields are errors, so a typo never silently falls back to
//! a default.
mod fields;
mod load;
mod rules;
mod validate;
mod validated;

pub use fields::parse_prefix;
pub use load::{load_file, load_str, ConfigError, DEFAULT_CONFIG};
pub use validate::{available_cpus, set_available_cpus, validate};
pub use validated::{EalPlan, Management, Validated};

use dataplane::alg::pptp::AlgLimits;
use dataplane::pipeline::PipelineLimits;
use dataplane::slowpath::NeighbourLimits;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub eal: Eal,
    #[serde(default)]
    pub cores: Cores,
    #[serde(default)]
    pub buffers: Buffers,
    #[serde(rename = "port", default)]
    pub ports: Vec<PortConf>,
    #[serde(rename = "route", default)]
    pub routes: Vec<RouteConf>,
    #[serde(rename = "neighbour", default)]
    pub neighbours: Vec<NeighbourConf>,
    #[serde(default)]
    pub arp: Arp,
    #[serde(default)]
    pub icmp: Icmp,
    #[serde(default)]
    pub sessions: Sessions,
    #[serde(default)]
    pub fragments: FragmentsConf,
    #[serde(default)]
    pub timeouts: TimeoutsConf,
    #[serde(rename = "zone", default)]
    pub zones: Vec<ZoneConf>,
    #[serde(rename = "policy", default)]
    pub policies: Vec<PolicyConf>,
    #[serde(rename = "nat_pool", default)]
    pub nat_pools: Vec<NatPoolConf>,
    #[serde(rename = "nat", default)]
    pub nats: Vec<NatConf>,
    #[serde(default)]
    pub alg: AlgConf,
    #[serde(default)]
    pub management: ManagementConf,
    #[serde(default)]
    pub metrics: MetricsConf,
    #[serde(default)]
    pub log: LogConf,
    #[serde(default)]
    pub bench: BenchConf,
}

/// Settings for benchmarks only.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BenchConf {
    /// Makes NAT ports and translated Call IDs the same sequence every run, so a
    /// benchmark can address the replies it replays in advance. Never in production:
    /// without it they start somewhere new every run, and no one can predict them.
    #[serde(default)]
    pub seed: Option<u64>,
}

/// A zone's scrub and what it may reach of the appliance. A zone without a `[[zone]]`
/// gets the defaults, which are the strict ones.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ZoneConf {
    /// A zone some port is in.
    pub name: String,
    /// New flows' sources: "strict" (routed back through the arrival port), "loose"
    /// (routed back at all) or "off".
    #[serde(default = "d_reverse_path")]
    pub reverse_path: String,
    /// Forward IPv4 packets with a loose or strict source route option.
    #[serde(default)]
    pub source_route: bool,
    /// Which appliance addresses answer pings from the zone: "interface" (the arrival
    /// interface's own), "any", or "none".
    #[serde(default = "d_ping")]
    pub ping: String,
}

fn d_reverse_path() -> String {
    "strict".into()
}

fn d_ping() -> String {
    "interface".into()
}

/// Event logs, written by the control plane from a queue the cores fill.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogConf {
    /// PPTP calls set up and torn down, with their Call IDs and translations.
    #[serde(default = "yes")]
    pub alg_events: bool,
    /// Every session opened and closed, with tuples, translations and counters.
    #[serde(default)]
    pub session_events: bool,
    /// Events held for the control plane; more are counted as lost.
    #[serde(default = "d_event_queue")]
    pub event_queue: usize,
}

fn yes() -> bool {
    true
}

fn d_event_queue() -> usize {
    65_536
}

impl Default for LogConf {
    fn default() -> Self {
        LogConf { alg_events: true, session_events: false, event_queue: d_event_queue() }
    }
}

/// The management API `fwctl` talks to.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ManagementConf {
    /// Unix socket (mode 0600: root only). Empty turns the API off.
    #[serde(default = "d_socket")]
    pub socket: String,
    /// A loopback TCP address as well (`127.0.0.1:9470`), only if asked for.
    #[serde(default)]
    pub listen: Option<String>,
}

fn d_socket() -> String {
    "/run/ferrowall/api.sock".into()
}

impl Default for ManagementConf {
    fn default() -> Self {
        ManagementConf { socket: d_socket(), listen: None }
    }
}

/// The Prometheus endpoint.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MetricsConf {
    /// `host:port` serving `/metrics`; empty turns it off.
    #[serde(default = "d_metrics")]
    pub listen: String,
}

fn d_metrics() -> String {
    "127.0.0.1:9469".into()
}

impl Default for MetricsConf {
    fn default() -> Self {
        MetricsConf { listen: d_metrics() }
    }
}

/// Application-level gateways.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlgConf {
    #[serde(default)]
    pub pptp: PptpConf,
}

/// The PPTP ALG (the reference appliance's `detect pptp`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PptpConf {
    /// Zone pairs whose PPTP control connections (TCP 1723) the ALG reads, opened in
    /// either direction, e.g. `[["lan", "internet"]]`. Empty: PPTP is plain NAPT.
    #[serde(default)]
    pub zones: Vec<[String; 2]>,
    /// Seconds a server-map entry lives without control traffic (its `Left-Time`).
    #[serde(default = "d_server_map_timeout")]
    pub server_map_timeout: u64,
    #[serde(default = "d_calls")]
    pub calls_per_connection: usize,
    /// Control connections the ALG follows at once.
    #[serde(default = "d_connections")]
    pub connections: usize,
    /// Server-map entries each worker can hold.
    #[serde(default = "d_server_map_per_worker")]
    pub server_map_per_worker: usize,
}

// Defaults that size or time something in the dataplane are the dataplane's own (its
// `Default`s), so the config and the code that runs without a config never disagree.
fn d_server_map_timeout() -> u64 {
    AlgLimits::default().server_map_secs
}
fn d_calls() -> usize {
    AlgLimits::default().calls_per_connection
}
fn d_connections() -> usize {
    AlgLimits::default().connections
}
fn d_server_map_per_worker() -> usize {
    PipelineLimits::default().server_map_entries
}

impl Default for PptpConf {
    fn default() -> Self {
        PptpConf {
            zones: Vec::new(),
            server_map_timeout: d_server_map_timeout(),
            calls_per_connection: d_calls(),
            connections: d_connections(),
            server_map_per_worker: d_server_map_per_worker(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Sessions {
    /// Sessions each worker can hold; memory for them is taken at start.
    #[serde(default = "default_sessions")]
    pub per_worker: usize,
    /// Half-open TCP sessions each worker holds at most (default: half of `per_worker`),
    /// so a SYN flood cannot take the room established flows need.
    #[serde(default)]
    pub half_open_per_worker: Option<usize>,
}

fn default_sessions() -> usize {
    100_000
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions { per_worker: default_sessions(), half_open_per_worker: None }
    }
}

/// IPv4 fragments, followed without reassembly (the first fragment's ports serve the
/// rest of its datagram).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FragmentsConf {
    /// Datagrams in fragments each worker follows at once.
    #[serde(default = "d_frag_datagrams")]
    pub per_worker: usize,
    /// Milliseconds a datagram's fragments are followed from its first.
    #[serde(default = "d_frag_timeout")]
    pub timeout_ms: u64,
}

fn d_frag_datagrams() -> usize {
    PipelineLimits::default().fragments
}

fn d_frag_timeout() -> u64 {
    PipelineLimits::default().fragment_timeout_ms
}

impl Default for FragmentsConf {
    fn default() -> Self {
        FragmentsConf { per_worker: d_frag_datagrams(), timeout_ms: d_frag_timeout() }
    }
}

/// Session timeouts in seconds (the reference appliance's defaults).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TimeoutsConf {
    #[serde(default = "t_tcp")]
    pub tcp: u64,
    #[serde(default = "t_half_open")]
    pub tcp_half_open: u64,
    #[serde(default = "t_fin_rst")]
    pub tcp_fin_rst: u64,
    #[serde(default = "t_udp")]
    pub udp: u64,
    #[serde(default = "t_icmp")]
    pub icmp: u64,
    #[serde(default = "t_gre")]
    pub gre: u64,
    #[serde(default = "t_udp")]
    pub other: u64,
}

fn t_tcp() -> u64 {
    1200
}
fn t_half_open() -> u64 {
    5
}
fn t_fin_rst() -> u64 {
    10
}
fn t_udp() -> u64 {
    120
}
fn t_icmp() -> u64 {
    20
}
fn t_gre() -> u64 {
    600
}

impl Default for TimeoutsConf {
    fn default() -> Self {
        TimeoutsConf {
            tcp: t_tcp(),
            tcp_half_open: t_half_open(),
            tcp_fin_rst: t_fin_rst(),
            udp: t_udp(),
            icmp: t_icmp(),
            gre: t_gre(),
            other: t_udp(),
        }
    }
}

/// A security policy rule. Rules of a zone pair are tried in file order; the first that
/// matches decides; no match denies.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PolicyConf {
    pub name: String,
    pub from: String,
    pub to: String,
    /// Prefixes or addresses; empty or absent is any.
    #[serde(default)]
    pub source: Vec<String>,
    #[serde(default)]
    pub destination: Vec<String>,
    /// `tcp`, `udp`, `icmp`, `gre`, `any` or a protocol number.
    #[serde(default = "any")]
    pub protocol: String,
    /// Destination ports or ranges (`"80"`, `"1000-2000"`), TCP and UDP only.
    #[serde(default)]
    pub ports: Vec<String>,
    /// `permit` or `deny`.
    pub action: String,
}

fn any() -> String {
    "any".into()
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NatPoolConf {
    pub name: String,
    /// Addresses, ranges (`a.b.c.d-a.b.c.e`) or prefixes.
    pub addresses: Vec<String>,
}

/// A source NAT rule: flows from `from` to `to` whose source matches are translated to
/// the pool's addresses, or without `pool` to the egress interface's address (easy-IP).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NatConf {
    pub name: String,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub source: Vec<String>,
    pub pool: Option<String>,
}

/// Extra EAL arguments (`--no-huge`, `-m`, `--file-prefix`, `--in-memory`, ...). Lcores,
/// `--vdev` and `-a` are generated from `[cores]` and `[[port]]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Eal {
    #[serde(default)]
    pub args: Vec<String>,
}

/// CPUs for the main (control plane) lcore, the slow path, and one per worker.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Cores {
    #[serde(default)]
    pub main: usize,
    #[serde(default)]
    pub slow_path: usize,
    #[serde(default = "default_workers")]
    pub workers: Vec<usize>,
    /// Microseconds a worker sleeps after an empty poll; 0 polls without pause.
    #[serde(default)]
    pub worker_idle_sleep_us: u64,
}

fn default_workers() -> Vec<usize> {
    vec![1]
}

impl Default for Cores {
    fn default() -> Self {
        Cores { main: 0, slow_path: 0, workers: default_workers(), worker_idle_sleep_us: 0 }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Buffers {
    #[serde(default = "default_mbufs")]
    pub mbufs: u32,
    #[serde(default = "default_mbuf_cache")]
    pub mbuf_cache: u32,
    /// Slots of each worker-to-slow-path ring (a power of two).
    #[serde(default = "default_ring_size")]
    pub ring_size: u32,
    /// Commands each worker's inbox holds.
    #[serde(default = "default_inbox_size")]
    pub inbox_size: usize,
}

fn default_mbufs() -> u32 {
    16383
}
fn default_mbuf_cache() -> u32 {
    256
}
fn default_ring_size() -> u32 {
    1024
}
fn default_inbox_size() -> usize {
    4096
}

impl Default for Buffers {
    fn default() -> Self {
        Buffers {
            mbufs: default_mbufs(),
            mbuf_cache: default_mbuf_cache(),
            ring_size: default_ring_size(),
            inbox_size: default_inbox_size(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PortConf {
    pub name: String,
    /// PCI address (`0000:03:00.0`) or DPDK vdev string (`net_af_packet0,iface=eth1`).
    pub device: String,
    pub zone: String,
    /// Interface address with prefix length, `192.168.1.254/24`.
    pub address: String,
    /// Overrides the device's MAC address.
    pub mac: Option<String>,
    #[serde(default)]
    pub promiscuous: bool,
    #[serde(default = "default_desc")]
    pub rx_descriptors: u16,
    #[serde(default = "default_desc")]
    pub tx_descriptors: u16,
}

fn default_desc() -> u16 {
    1024
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RouteConf {
    /// `0.0.0.0/0`, `10.0.0.0/8`, ...
    pub destination: String,
    /// Next hop; must be on the subnet of one of the ports.
    pub gateway: String,
}

/// A static ARP entry.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NeighbourConf {
    pub address: String,
    pub mac: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Arp {
    /// Seconds a learned neighbour stays without being confirmed.
    #[serde(default = "default_arp_timeout")]
    pub timeout: u64,
    /// Packets held per unresolved next hop.
    #[serde(default = "default_hold")]
    pub hold_packets: usize,
    #[serde(default = "default_retries")]
    pub retries: u8,
    #[serde(default = "default_arp_capacity")]
    pub capacity: usize,
}

fn default_arp_timeout() -> u64 {
    NeighbourLimits::default().timeout_secs
}
fn default_hold() -> usize {
    NeighbourLimits::default().hold_packets
}
fn default_retries() -> u8 {
    NeighbourLimits::default().retries
}
fn default_arp_capacity() -> usize {
    NeighbourLimits::default().capacity
}

impl Default for Arp {
    fn default() -> Self {
        Arp {
            timeout: default_arp_timeout(),
            hold_packets: default_hold(),
            retries: default_retries(),
            capacity: default_arp_capacity(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Icmp {
    /// ICMP errors (time exceeded) each worker may send per second.
    #[serde(default = "default_icmp_rate")]
    pub errors_per_second: u64,
    #[serde(default = "default_icmp_burst")]
    pub errors_burst: u64,
}

fn default_icmp_rate() -> u64 {
    PipelineLimits::default().icmp_errors_per_sec
}
fn default_icmp_burst() -> u64 {
    PipelineLimits::default().icmp_errors_burst
}

impl Default for Icmp {
    fn default() -> Self {
        Icmp { errors_per_second: default_icmp_rate(), errors_burst: default_icmp_burst() }
    }
}
