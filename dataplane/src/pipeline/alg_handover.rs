//! The worker's side of the ALGs: handing control segments to the slow path, opening
//! sessions through the server map, and telling the slow path when a control session
//! ends.
use super::classify::Packet;
use super::{Pipeline, Verdict};
use crate::alg::meta::AlgMeta;
use crate::clock::Millis;
use crate::command::SlowCommand;
use crate::ifaces::PortId;
use crate::servermap::ServerMapEntry;
use crate::session::{App, Dir, NewSession, Session, SessionId, TcpState, TimeoutClass};
use crate::stats::DropReason;
use std::net::Ipv4Addr;
use wire::frame::Frame;
use wire::L4Info;

/// PPTP control connections: TCP to this port.
pub const PPTP_PORT: u16 = 1723;

impl Pipeline {
    /// A segment of an inspected control connection, already translated and addressed:
    /// it leaves through the ALG, which may rewrite Call IDs in it, so that the
    /// connection's segments keep their order. `routed` is what forwarding decided.
    pub(super) fn hand_to_alg<F: Frame>(
        &mut self,
        frame: &mut F,
        id: SessionId,
        dir: Dir,
        routed: Verdict,
    ) -> Verdict {
        let out = match routed {
            Verdict::Forward(port) => Some(port),
            Verdict::SlowPath => None,
            other => return other,
        };
        let s = self.sessions.get(id);
        let meta = AlgMeta {
            control: s.keys[0],
            // The reply key is the translated original, reversed: its destination is
            // the address the client appears as.
            public: Ipv4Addr::from(s.keys[1].dst),
            dir,
            out,
        };
        if meta.push(frame) {
            Verdict::Alg
        } else {
            Verdict::Drop(DropReason::AlgUnavailable)
        }
    }

    /// The application a new TCP session gets: PPTP for port 1723 between zones with
    /// the ALG enabled.
    pub(super) fn app_for(&self, pkt: &Packet, from: u8, to: u8) -> App {
        let tcp = matches!(pkt.info, L4Info::Tcp { .. });
        if tcp && pkt.key.dport == PPTP_PORT && self.shared.rules.alg.pptp(from, to) {
            App::Pptp
        } else {
            App::None
        }
    }

    /// The first packet of a flow the server map expects: a session with the entry's
    /// translation, without asking the security policy.
    pub(super) fn open_expected<F: Frame>(
        &mut self,
        frame: &mut F,
        in_port: PortId,
        pkt: &Packet,
        entry: ServerMapEntry,
        now: Millis,
    ) -> Verdict {
        let zone_of = |port| self.shared.ifaces.get(port).map(|i| i.zone_id);
        let back = self.shared.routes.lookup(entry.translated.dst_addr()).and_then(|r| zone_of(r.port));
        let (Some(from), Some(to)) = (zone_of(in_port), back) else {
            return Verdict::Drop(DropReason::NoRoute);
        };
        let new = NewSession {
            original: pkt.key,
            translated: entry.translated,
            tcp: None,
            class: TimeoutClass::Gre,
            app: entry.app,
            // The Call ID belongs to the ALG, which gives it back with the call.
            nat: None,
            two_way: false,
            zones: [from, to],
        };
        match self.create_session(new, now) {
            Ok(id) => self.established(frame, in_port, pkt, id, Dir::Original, now),
            Err(reason) => Verdict::Drop(reason),
        }
    }

    /// A TCP session that reached FIN from both sides or RST: if it is a PPTP control
    /// connection, the ALG drops its state now rather than at aging.
    pub(super) fn control_state_changed(&mut self, id: SessionId, state: TcpState) {
        if matches!(state, TcpState::Closing | TcpState::Closed) {
            notify_closed(&self.hooks.slow_inbox, self.sessions.get(id));
        }
    }
}

/// Tells the slow path a control session ended. A full inbox loses the event; the ALG's
/// own aging reclaims the state later.
pub(super) fn notify_closed(inbox: &Option<crate::command::SlowInbox>, s: &Session) {
    if s.app != App::Pptp {
        return;
    }
    if let Some(inbox) = inbox {
        let _ = inbox.push(SlowCommand::ControlClosed(s.keys[0]));
    }
}
