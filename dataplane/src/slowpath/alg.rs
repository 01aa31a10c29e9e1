//! The ALGs on the slow path: control segments in, rewritten segments out, server-map
//! changes to the workers.
//!
//! Every segment of an inspected control connection comes this way, so that they leave
//! in the order they came; those without payload pass straight through. A segment
//! arrives translated and (usually) addressed to its next hop, with an [`AlgMeta`] in
//! front. The ALG rewrites Call IDs in its payload; the TCP checksum is
//! updated from the fields that changed (RFC 1624), and the segment leaves on this
//! core's TX queue, or waits for its next hop like any packet the slow path forwards.
//! Segments keep their lengths, so TCP sequence numbers never need adjusting.
use super::{SlowOutput, SlowPath};
use crate::alg::meta::AlgMeta;
use crate::alg::pptp::{AlgOutput, PptpAlg, Segment, ServerMapView};
use crate::clock::Millis;
use crate::command::{AlgStatus, SlowCommand};
use crate::ifaces::PortId;
use crate::nat::icmp_error;
use crate::servermap::{ServerMapChange, ServerMapEntry};
use crate::stats::DropReason;
use std::marker::PhantomData;
use wire::frame::Frame;
use wire::FlowKey;
use wire::{EthernetFrame, IpProtocol, Ipv4Packet, TcpPacket};

const ETH_LEN: usize = EthernetFrame::<&[u8]>::HEADER_LEN;

/// The ALG's requests, passed to the workers through the slow path's output.
struct ToWorkers<'a, F, O> {
    out: &'a mut O,
    frame: PhantomData<F>,
}

impl<F: Frame, O: SlowOutput<F>> AlgOutput for ToWorkers<'_, F, O> {
    fn install(&mut self, owner: u16, entry: ServerMapEntry) {
        self.out.server_map(owner, ServerMapChange::Install(entry));
    }

    fn uninstall(&mut self, owner: u16, key: FlowKey) {
        self.out.server_map(owner, ServerMapChange::Remove(key));
    }

    fn event(&mut self, event: crate::events::Event) {
        self.out.event(event);
    }
}

/// Where a TCP segment's parts are in a frame.
struct TcpAt {
    /// The TCP header.
    header: usize,
    payload: usize,
    end: usize,
    seq: u32,
}

fn locate_tcp(data: &[u8]) -> Result<TcpAt, DropReason> {
    let ip = Ipv4Packet::new_checked(data.get(ETH_LEN..).unwrap_or_default())?;
    if ip.next_header() != IpProtocol::Tcp {
        return Err(DropReason::AlgUnavailable);
    }
    let ihl = ip.header_len() as usize;
    let tcp = TcpPacket::new_checked(ip.payload())?;
    let header = ETH_LEN + ihl;
    Ok(TcpAt {
        header,
        payload: header + tcp.header_len() as usize,
        end: ETH_LEN + ip.total_len() as usize,
        seq: tcp.seq_number(),
    })
}

/// Cuts a segment's payload to its first `keep` bytes (the ALG refused what follows):
/// new lengths, no FIN (its sequence number went with the cut bytes), new checksums.
fn cut_segment(frame: &mut impl Frame, at: &TcpAt, keep: usize) -> bool {
    let end = at.payload + keep;
    let Ok(ip_len) = u16::try_from(end - ETH_LEN) else { return false };
    let Some(ip_bytes) = frame.data_mut().get_mut(ETH_LEN..) else { return false };
    let Ok(mut ip) = Ipv4Packet::new_checked(&mut *ip_bytes) else { return false };
    ip.set_total_len(ip_len);
    ip.fill_checksum();
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    if !frame.truncate(end) {
        return false;
    }
    let Some(tcp_bytes) = frame.data_mut().get_mut(at.header..) else { return false };
    let Some(flags) = tcp_bytes.get_mut(13) else { return false };
    *flags &= !crate::session::tcp::FIN;
    let Ok(mut tcp) = TcpPacket::new_checked(tcp_bytes) else { return false };
    tcp.fill_checksum(src, dst);
    true
}

impl<F: Frame> SlowPath<F> {
    /// Runs the PPTP ALG (kept by the slow path from start).
    pub fn enable_pptp(&mut self, alg: PptpAlg) {
        self.pptp = Some(alg);
    }

    pub fn pptp(&self) -> Option<&PptpAlg> {
        self.pptp.as_ref()
    }

    /// A control segment a worker handed over.
    pub fn handle_alg(&mut self, mut frame: F, in_port: PortId, now: Millis, out: &mut impl SlowOutput<F>) {
        let Some(meta) = AlgMeta::pop(&mut frame) else {
            return out.discard(frame, DropReason::AlgUnavailable);
        };
        let at = match locate_tcp(frame.data()) {
            Ok(at) => at,
            Err(reason) => return out.discard(frame, reason),
        };
        let Some(alg) = self.pptp.as_mut() else {
            return out.discard(frame, DropReason::AlgUnavailable);
        };
        if at.payload >= at.end {
            // SYN, ACK, FIN, RST: nothing to read; it only keeps its place in line.
            return self.send_on(frame, meta, in_port, now, out);
        }
        let data = frame.data_mut();
        let Some(payload) = data.get_mut(at.payload..at.end) else {
            return out.discard(frame, DropReason::AlgUnavailable);
        };
        let seg = Segment { control: meta.control, public: meta.public, dir: meta.dir, seq: at.seq, payload };
        let fed = match alg.segment(seg, now, &mut ToWorkers { out: &mut *out, frame: PhantomData }) {
            Ok(fed) => fed,
            Err(e) => return out.discard(frame, e.into()),
        };
        if fed.keep < at.end - at.payload {
            if !cut_segment(&mut frame, &at, fed.keep) {
                return out.discard(frame, DropReason::AlgUnavailable);
            }
        } else {
            let csum_at = at.header + 16;
            let csum = fed.checksum.apply(u16::from_be_bytes([data[csum_at], data[csum_at + 1]]));
            data[csum_at..csum_at + 2].copy_from_slice(&csum.to_be_bytes());
        }
        self.send_on(frame, meta, in_port, now, out)
    }

    fn send_on(
        &mut self,
        frame: F,
        meta: AlgMeta,
        in_port: PortId,
        now: Millis,
        out: &mut impl SlowOutput<F>,
    ) {
        match meta.out {
            Some(port) => out.transmit(port, frame),
            None => self.handle_ipv4(frame, in_port, now, out),
        }
    }

    /// New ALG limits and server-map timeout (reload).
    pub fn set_alg_limits(&mut self, limits: crate::alg::pptp::AlgLimits) {
        if let Some(alg) = self.pptp.as_mut() {
            alg.set_limits(limits);
        }
    }

    /// A message from a worker or the control plane.
    pub fn command(&mut self, cmd: SlowCommand, now: Millis, out: &mut impl SlowOutput<F>) {
        match cmd {
            SlowCommand::ControlClosed(key) => {
                if let Some(alg) = self.pptp.as_mut() {
                    alg.close(&key, &mut ToWorkers { out, frame: PhantomData });
                }
            }
            SlowCommand::ServerMap { reply } => {
                let _ = reply.send(self.server_map(now));
            }
            SlowCommand::AlgStatus { reply } => {
                let status = self.pptp.as_ref().map_or_else(AlgStatus::default, |a| AlgStatus {
                    connections: a.connections(),
                    calls: a.calls(),
                    server_map_entries: a.entries(),
                    call_ids: a.call_ids_by_address(),
                    counters: *a.counters(),
                });
                let _ = reply.send(status);
            }
        }
    }

    /// Whether a frame is an ICMP error about GRE (a PPTP tunnel's, perhaps) that the ALG
    /// should place: what it quotes.
    pub(super) fn quotes_gre(&self, data: &[u8]) -> Option<FlowKey> {
        self.pptp.as_ref()?;
        let ip = Ipv4Packet::new_checked(data.get(ETH_LEN..)?).ok()?;
        if ip.next_header() != IpProtocol::Icmp || ip.is_fragment() {
            return None;
        }
        icmp_error::quoted_key(ip.payload()).map(|(k, _)| k).filter(|k| k.proto == 47)
    }

    /// An ICMP error about a PPTP tunnel's GRE that no worker's session matched: the ALG
    /// names the tunnel, the error is translated as the tunnel's session would and
    /// routed on.
    pub(super) fn gre_icmp_error(
        &mut self,
        mut frame: F,
        quoted: FlowKey,
        now: Millis,
        out: &mut impl SlowOutput<F>,
    ) {
        let plan = self.pptp.as_ref().and_then(|alg| alg.gre_error(&quoted));
        let Some((new_src, new_dst, restore)) = plan else {
            return out.discard(frame, DropReason::IcmpNoSession);
        };
        let Some(ip_bytes) = frame.data_mut().get_mut(ETH_LEN..) else {
            return out.discard(frame, DropReason::IcmpNoSession);
        };
        let Ok(ip) = Ipv4Packet::new_checked(&*ip_bytes) else {
            return out.discard(frame, DropReason::IcmpNoSession);
        };
        let (src, dst, ttl) = (u32::from(ip.src_addr()), u32::from(ip.dst_addr()), ip.ttl());
        if ttl <= 1 {
            return out.discard(frame, DropReason::TtlExceeded);
        }
        let outer = (new_src.unwrap_or(src), new_dst.unwrap_or(dst));
        if !icmp_error::translate(ip_bytes, outer, &restore) {
            return out.discard(frame, DropReason::IcmpNoSession);
        }
        let mut ip = Ipv4Packet::new_unchecked(ip_bytes);
        ip.set_ttl(ttl - 1);
        ip.fill_checksum();
        self.route_on(frame, outer.1.into(), now, out);
    }

    pub fn server_map(&self, now: Millis) -> Vec<ServerMapView> {
        self.pptp.as_ref().map_or_else(Vec::new, |a| a.server_map(now))
    }

    pub(super) fn tick_alg(&mut self, now: Millis, out: &mut impl SlowOutput<F>) {
        if let Some(alg) = self.pptp.as_mut() {
            alg.tick(now, &mut ToWorkers { out, frame: PhantomData });
        }
    }
}
