//! An ICMP error about a packet of a session: it goes where the quoted packet came from,
//! the quote translated back as the session was.
use super::classify::Packet;
use super::Pipeline;
use super::Verdict;
use super::ETH_LEN;
use crate::clock::Millis;
use crate::ifaces::DstKind;
use crate::ifaces::PortId;
use crate::nat::icmp_error;
use crate::stats::DropReason;
use std::net::Ipv4Addr;
use wire::frame::Frame;

const GRE: u8 = 47;

impl Pipeline {
    /// An ICMP error: it belongs to the session of the packet it quotes.
    pub(super) fn icmp_error<F: Frame>(
        &mut self,
        frame: &mut F,
        in_port: PortId,
        pkt: &Packet,
        now: Millis,
    ) -> Verdict {
        let icmp_at = ETH_LEN + usize::from(pkt.ihl);
        let end = ETH_LEN + usize::from(pkt.total_len);
        let quoted = frame.data().get(icmp_at..end).and_then(icmp_error::quoted_key);
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
        let rw = s.rewrite(dir);
        let outer = (rw.src_addr().unwrap_or(pkt.key.src), rw.dst_addr().unwrap_or(pkt.key.dst));
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
