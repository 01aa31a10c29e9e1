//! What a valid config becomes: the EAL's arguments, the dataplane's config (with real
//! port ids once DPDK has named the ports), the management endpoints, and what a reload
//! may change without a restart.
use super::fields::is_pci_address;
use dataplane::appliance::ApplianceConfig;
use dataplane::ifaces::PortId;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use wire::MacAddr;

/// A config that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated {
    pub eal: EalPlan,
    /// Port ids are positions in `[[port]]` until [`Validated::appliance`] maps them.
    pub(super) template: ApplianceConfig,
    pub management: Management,
    /// Where `/metrics` is served, if anywhere.
    pub metrics: Option<SocketAddr>,
}

/// The management API's endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Management {
    pub socket: Option<PathBuf>,
    /// Loopback only.
    pub listen: Option<SocketAddr>,
}

/// How the EAL is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EalPlan {
    pub user_args: Vec<String>,
    /// CPU of lcore 0 (main), lcore 1 (slow path), lcores 2.. (workers).
    pub cpus: Vec<usize>,
    /// `[[port]].device`, in order.
    pub devices: Vec<String>,
}

impl EalPlan {
    pub fn args(&self) -> Vec<String> {
        let lcores: Vec<String> = self.cpus.iter().enumerate().map(|(l, c)| format!("{l}@{c}")).collect();
        let mut args = vec!["--lcores".to_owned(), lcores.join(","), "--main-lcore".into(), "0".into()];
        let mut any_pci = false;
        for d in &self.devices {
            if is_pci_address(d) {
                any_pci = true;
                args.extend(["-a".to_owned(), d.clone()]);
            } else {
                args.extend(["--vdev".to_owned(), d.clone()]);
            }
        }
        if !any_pci && !self.user_args.iter().any(|a| a == "--no-pci") {
            args.push("--no-pci".into());
        }
        args.extend(self.user_args.iter().cloned());
        args
    }

    /// The name DPDK gives each port's device (the vdev name, or the PCI address).
    pub fn device_names(&self) -> Vec<String> {
        self.devices.iter().map(|d| d.split(',').next().unwrap_or(d).trim().to_owned()).collect()
    }
}

impl Validated {
    /// The dataplane's config, with the real port ids (in `[[port]]` order).
    pub fn appliance(&self, ids: &[PortId]) -> ApplianceConfig {
        let map = |i: PortId| ids.get(i as usize).copied().unwrap_or(i);
        let mut cfg = self.template.clone();
        for p in &mut cfg.ports {
            p.port_id = map(p.port_id);
        }
        for (_, _, r) in &mut cfg.routes {
            r.port = map(r.port);
        }
        cfg
    }

    pub fn workers(&self) -> usize {
        self.template.workers
    }

    /// What a reload may change: policies, NAT policies, ALG enablement and limits,
    /// timeouts.
    pub fn reloadable(&self) -> (&dataplane::ruleset::Ruleset, dataplane::alg::pptp::AlgLimits) {
        (&self.template.rules, self.template.alg)
    }

    /// Why `new` cannot be applied to an appliance running `self` without a restart,
    /// if it cannot: the parts that shape ports, cores, memory and ownership.
    pub fn needs_restart(&self, new: &Validated) -> Option<String> {
        let fixed = |v: &Validated| {
            let mut t = v.template.clone();
            t.rules = Default::default();
            t.alg = Default::default();
            t
        };
        let (a, b) = (fixed(self), fixed(new));
        let what = if self.eal != new.eal {
            "[eal], [cores] or the ports' devices"
        } else if a.ports != b.ports {
            "[[port]]"
        } else if a.routes != b.routes || a.static_neighbours != b.static_neighbours {
            "[[route]] or [[neighbour]]"
        } else if (a.workers, a.mbufs, a.mbuf_cache, a.ring_size, a.inbox_size)
            != (b.workers, b.mbufs, b.mbuf_cache, b.ring_size, b.inbox_size)
        {
            "[cores] or [buffers]"
        } else if a.sessions_per_worker != b.sessions_per_worker
            || a.limits != b.limits
            || a.worker_idle_sleep != b.worker_idle_sleep
        {
            "[sessions], [icmp], [alg.pptp] server_map_per_worker or worker_idle_sleep_us"
        } else if a.neighbour != b.neighbour {
            "[arp]"
        } else if a.events != b.events {
            "[log]"
        } else if self.public_addrs() != new.public_addrs() {
            "the NAT public addresses (pools and easy-IP interfaces: they decide which worker owns a reply)"
        } else if self.management != new.management || self.metrics != new.metrics {
            "[management] or [metrics]"
        } else {
            return None;
        };
        Some(format!("changing {what} needs a restart; nothing was changed"))
    }

    /// Addresses NAT translates to.
    fn public_addrs(&self) -> Vec<Ipv4Addr> {
        let ifaces = dataplane::ifaces::Interfaces::new(
            self.template
                .ports
                .iter()
                .map(|p| dataplane::ifaces::Interface {
                    port: p.port_id,
                    name: p.name.clone(),
                    zone: p.zone.clone(),
                    zone_id: self.template.rules.zones.id(&p.zone).unwrap_or(0),
                    mac: MacAddr([0; 6]),
                    addr: p.addr,
                    prefix_len: p.prefix_len,
                })
                .collect(),
        );
        self.template.rules.nat.public_addrs(&ifaces)
    }
}
