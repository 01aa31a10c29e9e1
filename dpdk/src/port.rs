//! Ethernet ports: configuration, per-lcore queue handles, TX buffering.
use super::mbuf::{Mbuf, MbufBurst, BURST_SIZE};
use super::ring::{RingRx, RingTx};
use super::{DpdkError, Mempool};
use std::cell::Cell;
use std::ffi::{CStr, CString};
use std::marker::PhantomData;
use std::sync::Arc;

const EBUSY: i32 = 16;

pub type PortId = u16;

/// What ferrowall asks of a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortConfig {
    pub rx_queues: u16,
    pub tx_queues: u16,
    pub rx_desc: u16,
    pub tx_desc: u16,
    /// Overrides the device's MAC address.
    pub mac: Option<[u8; 6]>,
    /// Receive frames for any MAC (lab veths, VRRP-less setups).
    pub promiscuous: bool,
    /// How RSS should spread packets over the RX queues, when there are several.
    pub rss: Option<RssPlan>,
}

/// The spread the workers' ownership is computed with: a Toeplitz key and a redirection
/// table (hash & (len - 1) -> RX queue) that a device's larger table repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RssPlan {
    pub key: [u8; 40],
    /// A power of two of entries.
    pub table: Vec<u16>,
}

/// Whether a port's NIC spreads packets as the [`RssPlan`] says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RssState {
    /// One RX queue: nothing to spread.
    OneQueue,
    /// Key, hash functions and redirection table programmed and read back equal.
    Follows { table_size: u16 },
    /// The device spreads otherwise, or not at all (why): packets that arrive at a
    /// worker that does not own them cross to their owner through a hand-off ring.
    Differs(String),
}

impl std::fmt::Display for RssState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RssState::OneQueue => f.write_str("one RX queue"),
            RssState::Follows { table_size } => {
                write!(f, "follows the owners (symmetric key, {table_size}-entry table)")
            }
            RssState::Differs(why) => write!(f, "does not follow the owners: {why}"),
        }
    }
}

/// Facts about a device that decide how it is configured.
#[derive(Debug, Clone)]
pub struct PortInfo {
    pub driver: String,
    pub max_rx_queues: u16,
    pub max_tx_queues: u16,
    pub rss_offloads: u64,
    pub socket: i32,
    /// Entries of the device's RSS redirection table (0: none).
    pub reta_size: u16,
    /// Bytes of the device's RSS key (0: not reported).
    pub hash_key_size: u8,
    /// RX offloads the device offers (`RTE_ETH_RX_OFFLOAD_*`).
    pub rx_offload_capa: u64,
}

impl PortInfo {
    /// Drivers whose every queue receives whatever the queue count configured: af_packet
    /// opens one socket per `qpairs` at probe time and the kernel fans packets out over
    /// all of them, so an RX queue nobody polls would swallow its share.
    pub fn receives_on_every_queue(&self) -> bool {
        self.driver == "net_af_packet"
    }

    /// RX queues to configure for `workers` workers.
    pub fn rx_queues_for(&self, workers: u16) -> u16 {
        if self.receives_on_every_queue() {
            self.max_rx_queues.max(workers)
        } else {
            workers
        }
    }
}

/// A configured, started port. Its queue handles come with it from [`Port::start`], in
/// [`Queues`], made there once each.
pub struct Port {
    id: PortId,
    info: PortInfo,
    rss: RssState,
    /// The spread asked for, whether or not the device follows it.
    rss_plan: Option<RssPlan>,
    rx_queues: u16,
    /// One count per queue handle alive (and this one): [`Port::stop`] needs it at 1.
    handles: Arc<()>,
}

/// Every queue handle of a started port, each made once (in [`Port::start`], the only
/// place that makes them): whoever takes one out is the only one who polls or transmits
/// on that queue, which is what the burst calls' safety rests on.
pub struct Queues {
    rx: Vec<Option<RxQueue>>,
    tx: Vec<Option<TxQueue>>,
}

impl Queues {
    fn new(port: PortId, rx: u16, tx: u16, handles: &Arc<()>) -> Queues {
        let alive = || QueueAlive(Arc::clone(handles));
        Queues {
            rx: (0..rx)
                .map(|queue| Some(RxQueue { port, queue, _alive: alive(), _not_sync: PhantomData }))
                .collect(),
            tx: (0..tx)
                .map(|queue| Some(TxQueue { port, queue, _alive: alive(), _not_sync: PhantomData }))
                .collect(),
        }
    }

    /// RX queue `queue`'s handle, unless it was taken (or the port has no such queue).
    pub fn take_rx(&mut self, queue: u16) -> Option<RxQueue> {
        self.rx.get_mut(usize::from(queue))?.take()
    }

    /// TX queue `queue`'s handle, unless it was taken (or the port has no such queue).
    pub fn take_tx(&mut self, queue: u16) -> Option<TxQueue> {
        self.tx.get_mut(usize::from(queue))?.take()
    }
}

/// A queue handle's share in its port's count of live handles.
struct QueueAlive(#[allow(dead_code)] Arc<()>);

/// The RX side of one queue. Not `Clone`, not `Sync`: one lcore polls it.
pub struct RxQueue {
    port: PortId,
    queue: u16,
    _alive: QueueAlive,
    _not_sync: PhantomData<Cell<()>>,
}

/// The TX side of one queue. Not `Clone`, not `Sync`: one lcore transmits on it.
pub struct TxQueue {
    port: PortId,
    queue: u16,
    _alive: QueueAlive,
    _not_sync: PhantomData<Cell<()>>,
}

/// Port counters as the PMD reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EthStats {
    pub ipackets: u64,
    pub opackets: u64,
    pub ibytes: u64,
    pub obytes: u64,
    pub imissed: u64,
    pub ierrors: u64,
    pub oerrors: u64,
    pub rx_nombuf: u64,
    /// Per queue, for the first [`QUEUE_STATS`] queues, where the driver counts them.
    pub q_ipackets: [u64; QUEUE_STATS],
    pub q_opackets: [u64; QUEUE_STATS],
    pub q_ibytes: [u64; QUEUE_STATS],
    pub q_obytes: [u64; QUEUE_STATS],
}

/// Queues DPDK keeps per-queue counters for (`RTE_ETHDEV_QUEUE_STAT_CNTRS`).
pub const QUEUE_STATS: usize = 16;

/// Finds a probed port by its device name (PCI address or vdev name such as
/// `net_af_packet0`).
pub fn port_by_name(name: &str) -> Result<PortId, DpdkError> {
    let cname = CString::new(name).map_err(|_| DpdkError {
        call: "rte_eth_dev_get_port_by_name",
        errno: 22,
        message: "device name contains NUL".into(),
    })?;
    let mut id: u16 = 0;
    // SAFETY: cname is a valid C string and id a valid out-pointer.
    let rc = unsafe { dpdk_sys::rte_eth_dev_get_port_by_name(cname.as_ptr(), &mut id) };
    if rc != 0 {
        return Err(DpdkError::from_code("rte_eth_dev_get_port_by_name", rc));
    }
    Ok(id)
}

fn check(call: &'static str, rc: i32) -> Result<(), DpdkError> {
    if rc < 0 {
        Err(DpdkError::from_code(call, rc))
    } else {
        Ok(())
    }
}

impl Port {
    pub fn info(id: PortId) -> Result<PortInfo, DpdkError> {
        let mut raw = dpdk_sys::rte_eth_dev_info::default();
        // SAFETY: raw is a live, writable rte_eth_dev_info for the call's duration. Any id
        // is allowed: the ethdev layer checks it and answers ENODEV for one that is not a
        // port (so also before EAL is up, when no port is), which `check` turns into Err.
        check("rte_eth_dev_info_get", unsafe { dpdk_sys::rte_eth_dev_info_get(id, &mut raw) })?;
        let driver = if raw.driver_name.is_null() {
            String::from("unknown")
        } else {
            // SAFETY: driver_name is a static NUL-terminated string owned by the driver.
            unsafe { CStr::from_ptr(raw.driver_name) }.to_string_lossy().into_owned()
        };
        // SAFETY: a plain query; rte_eth_dev_info_get just succeeded, so the id is a port
        // (it fails with ENODEV otherwise).
        let socket = unsafe { dpdk_sys::rte_eth_dev_socket_id(id) };
        Ok(PortInfo {
            driver,
            max_rx_queues: raw.max_rx_queues,
            max_tx_queues: raw.max_tx_queues,
            rss_offloads: raw.flow_type_rss_offloads,
            socket,
            reta_size: raw.reta_size,
            hash_key_size: raw.hash_key_size,
            rx_offload_capa: raw.rx_offload_capa,
        })
    }

    /// Configures queues (RSS over IP/TCP/UDP when the device hashes and more than one RX
    /// queue is wanted), sets the MAC and promiscuous mode, and starts the port.
    pub fn start(id: PortId, cfg: &PortConfig, pool: &Mempool) -> Result<(Port, Queues), DpdkError> {
        let info = Port::info(id)?;
        if cfg.rx_queues > info.max_rx_queues || cfg.tx_queues > info.max_tx_queues {
            return Err(DpdkError {
                call: "rte_eth_dev_configure",
                errno: 22,
                message: format!(
                    "port {id} ({}) supports {} RX / {} TX queues, {} / {} are needed (one RX queue per \
                     worker, one TX queue per worker plus the slow path's; vdevs take a queue count \
                     such as qpairs=N for net_af_packet)",
                    info.driver, info.max_rx_queues, info.max_tx_queues, cfg.rx_queues, cfg.tx_queues
                ),
            });
        }
        // SAFETY: the shim returns a compile-time constant (RTE_ETH_RSS_IP | TCP | UDP);
        // it reads no state.
        let wanted_hf = unsafe { dpdk_sys::shim_rss_hf_ip_tcp_udp() };
        let rss_hf = wanted_hf & info.rss_offloads;
        let rss = cfg.rx_queues > 1 && rss_hf != 0;
        let key_fits = matches!(info.hash_key_size, 0 | 40);
        let mut conf = dpdk_sys::rte_eth_conf::default();
        // SAFETY: the shim returns a compile-time constant; it reads no state.
        let ipv4_cksum = unsafe { dpdk_sys::shim_rx_offload_ipv4_cksum() };
        // The NIC checks IPv4 header checksums where it can: the worker reads its verdict
        // (`Frame::ipv4_checksum_ok`) instead of summing the header again.
        conf.rxmode.offloads |= info.rx_offload_capa & ipv4_cksum;
        // Kept alive until rte_eth_dev_configure has copied it.
        let mut key = cfg.rss.as_ref().map(|p| p.key);
        if rss {
            conf.rxmode.mq_mode = dpdk_sys::rte_eth_rx_mq_mode_RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
            if let (Some(k), true) = (key.as_mut(), key_fits) {
                conf.rx_adv_conf.rss_conf.rss_key = k.as_mut_ptr();
                conf.rx_adv_conf.rss_conf.rss_key_len = 40;
            }
        }
        // SAFETY: conf is a valid rte_eth_conf; queue counts were checked above.
        check("rte_eth_dev_configure", unsafe {
            dpdk_sys::rte_eth_dev_configure(id, cfg.rx_queues, cfg.tx_queues, &conf)
        })?;
        let (mut rx_desc, mut tx_desc) = (cfg.rx_desc, cfg.tx_desc);
        // SAFETY: the port was checked by Port::info above; the counts are writable.
        check("rte_eth_dev_adjust_nb_rx_tx_desc", unsafe {
            dpdk_sys::rte_eth_dev_adjust_nb_rx_tx_desc(id, &mut rx_desc, &mut tx_desc)
        })?;
        let socket = if info.socket < 0 { 0 } else { info.socket as u32 };
        for q in 0..cfg.rx_queues {
            // SAFETY: the pool outlives the port (pools live for the process); NULL rxconf
            // selects the driver defaults.
            check("rte_eth_rx_queue_setup", unsafe {
                dpdk_sys::rte_eth_rx_queue_setup(id, q, rx_desc, socket, std::ptr::null(), pool.as_ptr())
            })?;
        }
        for q in 0..cfg.tx_queues {
            // SAFETY: the id was checked by Port::info above and configured with tx_queues
            // queues, so q is in range; a NULL txconf is allowed (the driver's defaults).
            check("rte_eth_tx_queue_setup", unsafe {
                dpdk_sys::rte_eth_tx_queue_setup(id, q, tx_desc, socket, std::ptr::null())
            })?;
        }
        if let Some(mac) = cfg.mac {
            let mut addr = dpdk_sys::rte_ether_addr { addr_bytes: mac };
            // SAFETY: the id was checked by Port::info; addr is a live, initialised
            // rte_ether_addr the call only reads for its duration.
            check("rte_eth_dev_default_mac_addr_set", unsafe {
                dpdk_sys::rte_eth_dev_default_mac_addr_set(id, &mut addr)
            })?;
        }
        if cfg.promiscuous {
            // SAFETY: the port was checked by Port::info above. Some vdevs are always
            // promiscuous and say ENOTSUP.
            let rc = unsafe { dpdk_sys::rte_eth_promiscuous_enable(id) };
            if rc < 0 && rc != -95 {
                return Err(DpdkError::from_code("rte_eth_promiscuous_enable", rc));
            }
        }
        // SAFETY: the id was checked by Port::info; rte_eth_dev_configure succeeded and
        // every queue it configured was set up above (each call returned 0), which is
        // what starting a port requires. Nothing polls it yet: the handles are made below.
        check("rte_eth_dev_start", unsafe { dpdk_sys::rte_eth_dev_start(id) })?;
        let rss = match (cfg.rx_queues, rss_hf, &cfg.rss) {
            (0 | 1, _, _) => RssState::OneQueue,
            (_, 0, _) => RssState::Differs("the device does not hash IPv4, TCP and UDP".into()),
            (_, _, None) => RssState::Differs("no plan given".into()),
            (_, _, Some(plan)) => match program_rss(id, &info, plan, rss_hf) {
                Ok(table_size) => RssState::Follows { table_size },
                Err(why) => RssState::Differs(why),
            },
        };
        let handles = Arc::new(());
        let queues = Queues::new(id, cfg.rx_queues, cfg.tx_queues, &handles);
        let port = Port { id, info, rss, rss_plan: cfg.rss.clone(), rx_queues: cfg.rx_queues, handles };
        Ok((port, queues))
    }

    pub fn id(&self) -> PortId {
        self.id
    }

    pub fn driver(&self) -> &str {
        &self.info.driver
    }

    pub fn rx_queue_count(&self) -> u16 {
        self.rx_queues
    }

    /// Whether the NIC spreads RX over queues by hash.
    /// Whether the NIC spreads packets as the owners are computed.
    pub fn rss(&self) -> &RssState {
        &self.rss
    }

    /// The spread the port was asked to program (a device model in tests spreads by it).
    pub fn rss_plan(&self) -> Option<&RssPlan> {
        self.rss_plan.as_ref()
    }

    pub fn mac(&self) -> [u8; 6] {
        mac_of(self.id)
    }

    pub fn stats(&self) -> EthStats {
        stats_of(self.id)
    }

    /// Stops the port, once every handle to its queues (and [`Queues`]) is dropped; while
    /// one lives, an error (EBUSY) and the port runs on.
    pub fn stop(&self) -> Result<(), DpdkError> {
        if Arc::strong_count(&self.handles) > 1 {
            let message = "a queue handle of the port is still held".to_string();
            return Err(DpdkError { call: "rte_eth_dev_stop", errno: EBUSY, message });
        }
        // SAFETY: a Port exists only for an id Port::start checked and started. No queue
        // can be polled or transmitted on during or after the stop: every RxQueue, TxQueue
        // (and TxBuffer, which owns one) holds a clone of `handles`, the count is 1, and
        // new handles are made only in Port::start.
        check("rte_eth_dev_stop", unsafe { dpdk_sys::rte_eth_dev_stop(self.id) })
    }
}

/// Programs the key (again, for devices that ignore it at configure time) and the
/// redirection table of a started port, and reads both back; the table's size on
/// success, else why the device does not follow the plan.
fn program_rss(id: PortId, info: &PortInfo, plan: &RssPlan, rss_hf: u64) -> Result<u16, String> {
    let model = plan.table.len();
    if !matches!(info.hash_key_size, 0 | 40) {
        return Err(format!("its RSS key has {} bytes, the plan's 40", info.hash_key_size));
    }
    let size = usize::from(info.reta_size);
    if size == 0 || model == 0 || size % model != 0 || size % 64 != 0 {
        return Err(format!("its redirection table has {size} entries, not a multiple of {model}"));
    }
    let mut key = plan.key;
    let mut conf = dpdk_sys::rte_eth_rss_conf { rss_key: key.as_mut_ptr(), rss_key_len: 40, rss_hf };
    // SAFETY: the id was checked by Port::info and the port configured for RSS; conf and
    // the 40-byte key it points to are live for the call, which only reads them.
    let rc = unsafe { dpdk_sys::rte_eth_dev_rss_hash_update(id, &mut conf) };
    if rc < 0 {
        return Err(format!("setting the key: {}", DpdkError::from_code("rte_eth_dev_rss_hash_update", rc)));
    }
    let mut want = vec![dpdk_sys::rte_eth_rss_reta_entry64::default(); size / 64];
    for (g, group) in want.iter_mut().enumerate() {
        group.mask = u64::MAX;
        for (j, slot) in group.reta.iter_mut().enumerate() {
            *slot = plan.table[(g * 64 + j) % model];
        }
    }
    // SAFETY: `want` holds size / 64 groups of 64 entries, exactly the `size` entries the
    // call reads; the id was checked by Port::info.
    let rc = unsafe { dpdk_sys::rte_eth_dev_rss_reta_update(id, want.as_mut_ptr(), info.reta_size) };
    if rc < 0 {
        return Err(format!(
            "setting the table: {}",
            DpdkError::from_code("rte_eth_dev_rss_reta_update", rc)
        ));
    }
    let mut got = vec![dpdk_sys::rte_eth_rss_reta_entry64 { mask: u64::MAX, reta: [0; 64] }; size / 64];
    // SAFETY: as for the update: `got` has room for the `size` entries the masks ask.
    let rc = unsafe { dpdk_sys::rte_eth_dev_rss_reta_query(id, got.as_mut_ptr(), info.reta_size) };
    if rc < 0 {
        return Err(format!(
            "reading the table back: {}",
            DpdkError::from_code("rte_eth_dev_rss_reta_query", rc)
        ));
    }
    if got.iter().zip(&want).any(|(g, w)| g.reta != w.reta) {
        return Err("the table read back differs from the one written".into());
    }
    let mut back = [0u8; 40];
    let mut conf = dpdk_sys::rte_eth_rss_conf { rss_key: back.as_mut_ptr(), rss_key_len: 40, rss_hf: 0 };
    // SAFETY: conf points to a live 40-byte buffer and says so in rss_key_len; the
    // device writes at most that many key bytes.
    let rc = unsafe { dpdk_sys::rte_eth_dev_rss_hash_conf_get(id, &mut conf) };
    if rc < 0 {
        return Err(format!(
            "reading the key back: {}",
            DpdkError::from_code("rte_eth_dev_rss_hash_conf_get", rc)
        ));
    }
    if back != plan.key || conf.rss_hf & rss_hf != rss_hf {
        return Err("the key or hash functions read back differ from the ones written".into());
    }
    Ok(info.reta_size)
}

/// MAC address of a port.
pub fn mac_of(id: PortId) -> [u8; 6] {
    let mut addr = dpdk_sys::rte_ether_addr::default();
    // SAFETY: addr is a valid out-parameter; an invalid id leaves it zeroed.
    unsafe { dpdk_sys::rte_eth_macaddr_get(id, &mut addr) };
    addr.addr_bytes
}

/// Port counters (a snapshot; safe to read while the port runs).
pub fn stats_of(id: PortId) -> EthStats {
    let mut raw = dpdk_sys::rte_eth_stats::default();
    // SAFETY: raw is a valid out-parameter; on error it stays zeroed.
    unsafe { dpdk_sys::rte_eth_stats_get(id, &mut raw) };
    EthStats {
        ipackets: raw.ipackets,
        opackets: raw.opackets,
        ibytes: raw.ibytes,
        obytes: raw.obytes,
        imissed: raw.imissed,
        ierrors: raw.ierrors,
        oerrors: raw.oerrors,
        rx_nombuf: raw.rx_nombuf,
        q_ipackets: first_queues(&raw.q_ipackets),
        q_opackets: first_queues(&raw.q_opackets),
        q_ibytes: first_queues(&raw.q_ibytes),
        q_obytes: first_queues(&raw.q_obytes),
    }
}

impl RxQueue {
    pub fn port(&self) -> PortId {
        self.port
    }

    /// Receives up to `BURST_SIZE` packets into `burst` (which must have been drained).
    #[inline]
    pub fn rx_burst(&mut self, burst: &mut MbufBurst) -> usize {
        let (port, queue) = (self.port, self.queue);
        // SAFETY: this handle is the only poller of (port, queue): Port::start made one
        // handle per queue and Queues hands each out once; it is neither Clone nor Sync.
        // The PMD writes at most n valid, exclusively owned mbufs into the burst's array.
        burst.fill_with(|pkts, n| unsafe { dpdk_sys::shim_rte_eth_rx_burst(port, queue, pkts, n) });
        burst.len()
    }
}

/// Packets staged for one TX queue, sent a burst at a time.
pub struct TxBuffer {
    queue: TxQueue,
    pkts: [*mut dpdk_sys::rte_mbuf; BURST_SIZE],
    len: usize,
}

// SAFETY: the raw pointers are mbufs this buffer owns exclusively (moved in by push); moving
// the buffer to another lcore moves that ownership. TxQueue itself is Send.
unsafe impl Send for TxBuffer {}

/// What a flush did: packets the PMD took and packets it refused (freed here).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flushed {
    pub sent: u32,
    pub dropped: u32,
}

impl TxBuffer {
    pub fn new(queue: TxQueue) -> TxBuffer {
        TxBuffer { queue, pkts: [std::ptr::null_mut(); BURST_SIZE], len: 0 }
    }

    pub fn port(&self) -> PortId {
        self.queue.port
    }

    /// Stages a packet; a full buffer is flushed first. Returns that flush's outcome.
    #[inline]
    pub fn push(&mut self, m: Mbuf) -> Flushed {
        let flushed = if self.len == BURST_SIZE { self.flush() } else { Flushed::default() };
        self.pkts[self.len] = m.into_raw();
        self.len += 1;
        flushed
    }

    /// Sends what is staged; what the PMD does not take is freed and reported dropped.
    pub fn flush(&mut self) -> Flushed {
        if self.len == 0 {
            return Flushed::default();
        }
        let (port, queue) = (self.queue.port, self.queue.queue);
        let (pkts, n) = (self.pkts.as_mut_ptr(), self.len as u16);
        // SAFETY: pkts[..len] are valid mbufs we own; the PMD takes ownership of the first
        // `sent`; this buffer's handle is the only user of (port, queue) (see Queues).
        let sent = unsafe { dpdk_sys::shim_rte_eth_tx_burst(port, queue, pkts, n) } as usize;
        for &raw in &self.pkts[sent..self.len] {
            // SAFETY: the PMD did not take these; we still own them and free each once.
            unsafe { dpdk_sys::shim_rte_pktmbuf_free(raw) };
        }
        let dropped = (self.len - sent) as u32;
        self.len = 0;
        Flushed { sent: sent as u32, dropped }
    }
}

impl Drop for TxBuffer {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Creates an in-process port over rings (`net_ring`), for tests: returns the port, one
/// injector per RX queue and one reader per TX queue.
pub fn ring_port(
    name: &str,
    rx_queues: u16,
    tx_queues: u16,
    ring_size: u32,
) -> Result<(PortId, Vec<RingTx>, Vec<RingRx>), DpdkError> {
    let mut injectors = Vec::new();
    let mut rx_rings = Vec::new();
    for q in 0..rx_queues {
        // The PMD is the consumer: it gets the raw ring; rings are never freed.
        let (tx, rx) = super::spsc_ring(&format!("{name}_r{q}"), ring_size)?;
        rx_rings.push(rx.as_ptr());
        injectors.push(tx);
    }
    let mut readers = Vec::new();
    let mut tx_rings = Vec::new();
    for q in 0..tx_queues {
        let (tx, rx) = super::spsc_ring(&format!("{name}_t{q}"), ring_size)?;
        tx_rings.push(tx.as_ptr());
        readers.push(rx);
        std::mem::forget(tx); // the PMD is the producer
    }
    let cname = CString::new(name).map_err(|_| DpdkError {
        call: "rte_eth_from_rings",
        errno: 22,
        message: "port name contains NUL".into(),
    })?;
    // SAFETY: the ring arrays hold valid rings that are never freed (rings live for the
    // process), so the PMD's copies of the pointers stay valid.
    let rc = unsafe {
        dpdk_sys::rte_eth_from_rings(
            cname.as_ptr(),
            rx_rings.as_ptr(),
            rx_queues as u32,
            tx_rings.as_ptr(),
            tx_queues as u32,
            0,
        )
    };
    if rc < 0 {
        return Err(DpdkError::from_code("rte_eth_from_rings", rc));
    }
    Ok((rc as PortId, injectors, readers))
}

fn first_queues(raw: &[u64]) -> [u64; QUEUE_STATS] {
    std::array::from_fn(|i| raw.get(i).copied().unwrap_or(0))
}

#[cfg(test)]
mod queue_tests {
    use super::*;

    #[test]
    fn each_queue_handle_is_handed_out_once() {
        let mut q = Queues::new(3, 2, 3, &Arc::new(()));
        let rx = q.take_rx(1).expect("RX queue 1");
        assert_eq!((rx.port(), rx.queue), (3, 1));
        assert!(q.take_rx(1).is_none(), "a second handle to RX queue 1");
        assert!(q.take_rx(2).is_none(), "the port has two RX queues");
        assert!(q.take_tx(2).is_some());
        assert!(q.take_tx(2).is_none(), "a second handle to TX queue 2");
        assert!(q.take_tx(0).is_some() && q.take_rx(0).is_some());
    }
}
