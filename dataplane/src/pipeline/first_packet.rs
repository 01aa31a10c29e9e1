//! The first packet of a flow: the policy decides, NAT picks the translation, a session
//! is opened (or refused, counted).
use super::classify::Packet;
use super::established::tcp_segment;
use super::Pipeline;
use super::Verdict;
use crate::clock::Millis;
use crate::ifaces::DstKind;
use crate::ifaces::PortId;
use crate::nat::PortError;
use crate::policy::Decision;
use crate::session::tcp;
use crate::session::CreateError;
use crate::session::Dir;
use crate::session::NatBinding;
use crate::session::NewSession;
use crate::session::SessionId;
use crate::session::TcpState;
use crate::session::TcpTrack;
use crate::session::TimeoutClass;
use crate::stats::DropReason;
use std::net::Ipv4Addr;
use wire::frame::Frame;
use wire::FlowKey;
use wire::L4Info;

const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMP: u8 = 1;

impl Pipeline {
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
    pub(super) fn open_session(
        &mut self,
        in_port: PortId,
        pkt: &Packet,
        now: Millis,
    ) -> Result<SessionId, DropReason> {
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
    pub(super) fn translate(
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
        let owners = &self.shared.owners;
        let allocated = match owners.reply_base(proto, key.dst, key.dport, public.into()) {
            // A port whose reply the NIC delivers to this worker, so replies need no hand-off.
            Some(base) => {
                let me = self.worker;
                self.ports.allocate_where(public, proto, |port| owners.reply_queue(base, port) == me)
            }
            None => self.ports.allocate(public, proto),
        };
        let port = allocated.map_err(|e| match e {
            PortError::Exhausted | PortError::Unknown => DropReason::NatExhausted,
        })?;
        t.sport = port;
        if proto == ICMP {
            t.dport = port;
        }
        Ok((t, Some(NatBinding { public, port, proto })))
    }
}
