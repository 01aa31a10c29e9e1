//! A packet of an existing session: is it where the session lives (zones, reverse
//! path, TCP window), then translate it and send it on.
use super::classify::Packet;
use super::Pipeline;
use super::Verdict;
use crate::clock::Millis;
use crate::ifaces::DstKind;
use crate::ifaces::PortId;
use crate::policy::PingAccess;
use crate::policy::ReversePath;
use crate::session::tcp;
use crate::session::App;
use crate::session::Dir;
use crate::session::SessionId;
use crate::session::TimeoutClass;
use crate::stats::DropReason;
use std::net::Ipv4Addr;
use wire::frame::Frame;
use wire::L4Info;

impl Pipeline {
    /// A packet of an existing session: track TCP, translate, count, forward.
    pub(super) fn established<F: Frame>(
        &mut self,
        frame: &mut F,
        in_port: PortId,
        pkt: &Packet,
        id: SessionId,
        dir: Dir,
        now: Millis,
    ) -> Verdict {
        let s = self.sessions.get(id);
        if self.zone(in_port) != s.zones[dir.index()] {
            return Verdict::Drop(DropReason::SessionWrongZone);
        }
        if !s.two_way && dir == Dir::Reply {
            // Only an ICMP error may find a one-way session (GRE) by its reply key.
            return Verdict::Drop(DropReason::GreNoSession);
        }
        if pkt.fragment && s.app == App::Pptp {
            return Verdict::Drop(DropReason::PptpFragment);
        }
        if let L4Info::IcmpEcho { request } = pkt.info {
            // Requests go the way the session was opened, replies come back.
            if request != (dir == Dir::Original) {
                return Verdict::Drop(DropReason::IcmpWrongDirection);
            }
        }
        if pkt.ttl <= 1 {
            return self.time_exceeded(frame, in_port, now);
        }
        if let Some(seg) = tcp_segment(&pkt.info) {
            if let Err(reason) = self.track_tcp(id, dir, &seg) {
                return Verdict::Drop(reason);
            }
        }
        let s = self.sessions.get(id);
        let (rewrite, app) = (s.rewrite(dir), s.app);
        self.sessions.touch(id, dir, usize::from(pkt.total_len), now);
        let routed = self.translate_and_forward(frame, &rewrite, pkt);
        match (app, pkt.info) {
            // Every segment of a control connection, so none overtakes another on the
            // way out (the slow path transmits them all, in order).
            (App::Pptp, L4Info::Tcp { .. }) => self.hand_to_alg(frame, id, dir, routed),
            _ => routed,
        }
    }

    /// Whether a new flow's source may be what it claims (RFC 3704): not one of the
    /// appliance's own or NAT addresses or a directed broadcast, and routed back through
    /// the arrival port (strict) or at all (loose), as the zone asks.
    pub(super) fn check_source(&self, in_port: PortId, pkt: &Packet) -> Result<(), DropReason> {
        let src = pkt.key.src_addr();
        if self.shared.ifaces.dst_kind(src) != DstKind::Other || self.shared.owners.is_public(pkt.key.src) {
            return Err(DropReason::SpoofedSource);
        }
        let back = self.shared.routes.lookup(src);
        let ok = match self.shared.rules.guards.of(self.zone(in_port)).reverse_path {
            ReversePath::Strict => back.is_some_and(|r| r.port == in_port),
            ReversePath::Loose => back.is_some(),
            ReversePath::Off => true,
        };
        if ok {
            Ok(())
        } else {
            Err(DropReason::ReversePath)
        }
    }

    /// Whether the zone of `in_port` may reach the appliance's address `dst`.
    pub(super) fn may_reach(&self, in_port: PortId, dst: Ipv4Addr) -> bool {
        let Some(iface) = self.shared.ifaces.get(in_port) else { return false };
        match self.shared.rules.guards.of(iface.zone_id).ping {
            PingAccess::Interface => iface.addr == dst,
            PingAccess::Any => true,
            PingAccess::None => false,
        }
    }

    /// The zone of a port (`NO_ZONE` without an interface). A session's packets come
    /// from the zones it was opened between: the same tuple from elsewhere is someone
    /// spoofing one of its addresses.
    #[inline]
    pub(super) fn zone(&self, port: PortId) -> u8 {
        self.zone_of.get(usize::from(port)).copied().unwrap_or(super::NO_ZONE)
    }

    /// Checks a segment against the connection's flags and windows and moves its state
    /// on; a refused segment leaves the session as it was.
    pub(super) fn track_tcp(
        &mut self,
        id: SessionId,
        dir: Dir,
        seg: &tcp::Segment,
    ) -> Result<(), DropReason> {
        let s = self.sessions.get_mut(id);
        let Some(mut track) = s.tcp else { return Ok(()) };
        let before = track.state;
        track.segment(dir, seg).map_err(|r| match r {
            tcp::Refused::BadFlags => DropReason::TcpBadFlags,
            tcp::Refused::OutOfWindow => DropReason::TcpOutOfWindow,
        })?;
        s.tcp = Some(track);
        if track.state != before {
            self.sessions.set_class(id, TimeoutClass::for_tcp(track.state));
            self.control_state_changed(id, track.state);
        }
        Ok(())
    }
}

/// The header fields TCP tracking reads, for a TCP packet.
pub(super) fn tcp_segment(info: &L4Info) -> Option<tcp::Segment> {
    match *info {
        L4Info::Tcp { flags, payload_len, seq, ack, window, wscale } => {
            Some(tcp::Segment { flags, seq, ack, window, payload_len, wscale })
        }
        _ => None,
    }
}
