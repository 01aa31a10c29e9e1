//! Packets of sessions: the fast path for established flows, the first packet of a new
//! flow (policy, NAT, session), and ICMP errors about either.
use super::{Packet, Pipeline, Verdict, ETH_LEN};
use crate::clock::Millis;
use crate::ifaces::DstKind;
use crate::ifaces::PortId;
use crate::nat::{icmp_error, PortError};
use crate::policy::{Decision, PingAccess, ReversePath};
use crate::session::tcp;
use crate::session::{
    App, CreateError, Dir, NatBinding, NewSession, SessionId, TcpState, TcpTrack, TimeoutClass,
};
use crate::stats::DropReason;
use std::net::Ipv4Addr;
use wire::frame::Frame;
use wire::{FlowKey, L4Info};

const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMP: u8 = 1;
const GRE: u8 = 47;

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
        let (rewrite, app) = (s.rewrite[dir.index()], s.app);
        if let Some(ip) = frame.data_mut().get_mut(ETH_LEN..) {
            // A later fragment has no transport header: only the addresses change.
            rewrite.apply(ip, pkt.ihl, if pkt.l4 { pkt.key.proto } else { 0 });
        }
        self.sessions.touch(id, dir, pkt.total_len, now);
        let routed = self.forward(frame, rewrite.dst_addr.map_or(pkt.key.dst_addr(), Ipv4Addr::from));
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
    fn check_source(&self, in_port: PortId, pkt: &Packet) -> Result<(), DropReason> {
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
    fn may_reach(&self, in_port: PortId, dst: Ipv4Addr) -> bool {
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
    fn track_tcp(&mut self, id: SessionId, dir: Dir, seg: &tcp::Segment) -> Result<(), DropReason> {
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

    /// The first packet of a flow: to us, or policy, NAT and a new session.
    pub(super) fn new_flow<F: Frame>(
        &mut self,
        frame: &mut F,
        in_port: PortId,
        pkt: &Packet,
        now: Millis,
    ) -> Verdict {
        if let Err(reason) = self.check_source(in_port, pkt) {
            return Verdict::Drop(reason);
        }
        if let Some(entry) = self.expected.get(&pkt.key).copied() {
            return self.open_expected(frame, in_port, pkt, entry, now);
        }
        // Enhanced GRE to a NAT address can only be a tunnel the ALG set up: without an
        // entry there is no telling which inside host it is for (plain NAPT's failure).
        if pkt.info == (L4Info::Gre { version: 1 }) && self.shared.owners.is_public(pkt.key.dst) {
            return Verdict::Drop(DropReason::GreNoSession);
        }
        let dst = pkt.key.dst_addr();
        match self.shared.ifaces.dst_kind(dst) {
            DstKind::Local if !self.may_reach(in_port, dst) => {
                return Verdict::Drop(DropReason::ToSelfDenied)
            }
            DstKind::Local => return Verdict::SlowPath,
            DstKind::Broadcast => return Verdict::Drop(DropReason::MartianAddress),
            DstKind::Other => {}
        }
        match pkt.info {
            L4Info::Tcp { flags, .. } if !tcp::valid_flags(flags) => {
                return Verdict::Drop(DropReason::TcpBadFlags)
            }
            L4Info::Tcp { flags, .. } if !TcpState::opens(flags) => {
                return Verdict::Drop(DropReason::TcpNoSession)
            }
            L4Info::IcmpEcho { request: false } => return Verdict::Drop(DropReason::IcmpNoSession),
            _ => {}
        }
        if pkt.ttl <= 1 {
            return self.time_exceeded(frame, in_port, now);
        }
        let id = match self.open_session(in_port, pkt, now) {
            Ok(id) => id,
            Err(reason) => return Verdict::Drop(reason),
        };
        self.established(frame, in_port, pkt, id, Dir::Original, now)
    }

    /// Route, zones, policy, NAT, then the session.
    fn open_session(&mut self, in_port: PortId, pkt: &Packet, now: Millis) -> Result<SessionId, DropReason> {
        let key = pkt.key;
        if matches!(pkt.info, L4Info::Tcp { .. })
            && self.sessions.live_in(TimeoutClass::TcpHalfOpen) >= self.half_open_max
        {
            return Err(DropReason::TcpHalfOpenLimit);
        }
        let route = self.shared.routes.lookup(key.dst_addr()).ok_or(DropReason::NoRoute)?;
        let from = self.shared.ifaces.get(in_port).ok_or(DropReason::NoRoute)?.zone_id;
        let out = self.shared.ifaces.get(route.port).ok_or(DropReason::NoRoute)?;
        let (to, egress_addr) = (out.zone_id, out.addr);
        if let Decision::Deny(_) = self.shared.rules.policy.decide(from, to, &key) {
            return Err(DropReason::PolicyDeny);
        }
        let public = self.shared.rules.nat.public_for(from, to, key.src, egress_addr);
        let (translated, nat) = match public {
            Some(public) => self.translate(&key, pkt.info, public)?,
            None => (key, None),
        };
        let (tcp, class, two_way) = match pkt.info {
            L4Info::Tcp { .. } => {
                (tcp_segment(&pkt.info).map(|syn| TcpTrack::open(&syn)), TimeoutClass::TcpHalfOpen, true)
            }
            L4Info::Udp => (None, TimeoutClass::Udp, true),
            L4Info::IcmpEcho { .. } | L4Info::IcmpOther | L4Info::IcmpError => {
                (None, TimeoutClass::Icmp, true)
            }
            // Enhanced GRE names the receiver's Call ID: the two directions are two flows.
            L4Info::Gre { version: 1 } => (None, TimeoutClass::Gre, false),
            L4Info::Gre { .. } => (None, TimeoutClass::Gre, true),
            L4Info::Other => (None, TimeoutClass::Other, true),
        };
        let new = NewSession {
            original: key,
            reply: translated.reversed(),
            translated,
            tcp,
            class,
            app: self.app_for(pkt, from, to),
            nat,
            two_way,
            zones: [from, to],
        };
        let created = self.create_session(new, now);
        if created.is_err() {
            if let Some(b) = nat.filter(|b| b.port != 0) {
                self.ports.release(b.public, b.proto, b.port);
            }
        }
        created
    }

    /// Puts a session in the table (reclaiming expired ones if it is full), counts it
    /// and logs it.
    pub(super) fn create_session(&mut self, new: NewSession, now: Millis) -> Result<SessionId, DropReason> {
        let (ports, hooks) = (&mut self.ports, &self.hooks);
        let id =
            self.sessions.create(new, now, |s| super::session_ended(ports, hooks, s)).map_err(
                |e| match e {
                    CreateError::Full => DropReason::SessionTableFull,
                    CreateError::Conflict => DropReason::SessionConflict,
                },
            )?;
        self.counters.created += 1;
        super::session_opened(&self.hooks, self.sessions.get(id));
        Ok(id)
    }

    /// The translated key of a new flow to `public`: a port (TCP, UDP) or identifier
    /// (ICMP echo) from this worker's slice; other protocols keep theirs.
    fn translate(
        &mut self,
        key: &FlowKey,
        info: L4Info,
        public: Ipv4Addr,
    ) -> Result<(FlowKey, Option<NatBinding>), DropReason> {
        let space = match (key.proto, info) {
            (TCP, _) | (UDP, _) => Some(key.proto),
            (ICMP, L4Info::IcmpEcho { .. }) => Some(ICMP),
            _ => None,
        };
        let mut t = FlowKey { src: public.into(), ..*key };
        let Some(proto) = space else {
            return Ok((t, Some(NatBinding { public, port: 0, proto: key.proto })));
        };
        let port = self.ports.allocate(public, proto).map_err(|e| match e {
            PortError::Exhausted | PortError::Unknown => DropReason::NatExhausted,
        })?;
        t.sport = port;
        if proto == ICMP {
            t.dport = port;
        }
        Ok((t, Some(NatBinding { public, port, proto })))
    }

    /// An ICMP error: it belongs to the session of the packet it quotes.
    pub(super) fn icmp_error<F: Frame>(
        &mut self,
        frame: &mut F,
        in_port: PortId,
        pkt: &Packet,
        now: Millis,
    ) -> Verdict {
        let icmp_at = ETH_LEN + pkt.ihl;
        let quoted = frame.data().get(icmp_at..ETH_LEN + pkt.total_len).and_then(icmp_error::quoted_key);
        let Some((quoted, portless)) = quoted else {
            return Verdict::Drop(DropReason::IcmpNoSession);
        };
        // The quoted packet went the other way: its key, reversed, is this error's.
        let lookup = quoted.reversed();
        let owner = self.shared.owners.owner(&lookup, portless);
        if owner != self.worker {
            return Verdict::Handoff(owner);
        }
        let Some((id, dir)) = self.sessions.lookup(&lookup) else {
            // An error about a PPTP tunnel's GRE may reach a worker that does not own the
            // tunnel's session (the quoted packet cannot tell which does): the ALG knows
            // every tunnel, and translates it on the slow path.
            if quoted.proto == GRE && self.hooks.slow_inbox.is_some() {
                return match crate::alg::meta::mark_gre_error(frame) {
                    true => Verdict::SlowPath,
                    false => Verdict::Drop(DropReason::IcmpNoSession),
                };
            }
            return match self.shared.ifaces.dst_kind(pkt.key.dst_addr()) {
                DstKind::Local => Verdict::SlowPath,
                _ => Verdict::Drop(DropReason::IcmpNoSession),
            };
        };
        if self.zone(in_port) != self.sessions.get(id).zones[dir.index()] {
            return Verdict::Drop(DropReason::SessionWrongZone);
        }
        if pkt.ttl <= 1 {
            return self.time_exceeded(frame, in_port, now);
        }
        let s = self.sessions.get(id);
        let rw = s.rewrite[dir.index()];
        let outer = (rw.src_addr.unwrap_or(pkt.key.src), rw.dst_addr.unwrap_or(pkt.key.dst));
        // The quoted packet is the other direction's, put back as it was sent.
        let restore = s.keys[1 - dir.index()];
        let ok =
            frame.data_mut().get_mut(ETH_LEN..).is_some_and(|ip| icmp_error::translate(ip, outer, &restore));
        if !ok {
            return Verdict::Drop(DropReason::IcmpNoSession);
        }
        self.forward(frame, Ipv4Addr::from(outer.1))
    }
}

/// The header fields TCP tracking reads, for a TCP packet.
fn tcp_segment(info: &L4Info) -> Option<tcp::Segment> {
    match *info {
        L4Info::Tcp { flags, payload_len, seq, ack, window, wscale } => {
            Some(tcp::Segment { flags, seq, ack, window, payload_len, wscale })
        }
        _ => None,
    }
}
