//! IPv4 fragments on a worker (see [`crate::fragment`]): two stages, since only the
//! first fragment carries the ports that decide a flow's owner.
//!
//! 1. Every fragment of a datagram goes to one worker, chosen by a hash of (source,
//!    destination, protocol, identification): there its first fragment leaves the
//!    flow's key in the fragment table, and every fragment gets it.
//! 2. The fragment then goes to the flow's owner with the key in front of the frame
//!    ([`FragMeta`], in the headroom), which handles it as a packet of the flow: the
//!    first fragment as usual (its transport header is whole), later ones with their
//!    addresses translated (they carry no transport header).
use super::classify::{Fragment, Packet};
use super::{Pipeline, Verdict, ETH_LEN};
use crate::clock::Millis;
use crate::fragment::DatagramId;
use crate::ifaces::PortId;
use crate::owner::Owner;
use crate::stats::DropReason;
use wire::frame::Frame;
use wire::{FlowKey, L4Info};
use wire::{Ipv4Packet, ParseError};

impl Pipeline {
    /// Stage 1: the datagram's worker finds the fragment's flow; stage 2 follows here or
    /// on the flow's owner.
    pub(super) fn fragment<F: Frame>(
        &mut self,
        frame: &mut F,
        in_port: PortId,
        f: Fragment,
        now: Millis,
    ) -> Verdict {
        let datagram_owner = self.datagram_owner(&f.piece.id);
        if datagram_owner != self.worker {
            return Verdict::Handoff(datagram_owner);
        }
        let key = match f.first {
            Some((key, _)) => self.frags.first(f.piece, key, now).map(|()| {
                self.release(f.piece.id.tag());
                key
            }),
            None => self.frags.next(f.piece),
        };
        let key = match key {
            Ok(k) => k,
            // Before its first: the caller holds it until the first comes.
            Err(DropReason::Ipv4Fragment) => return Verdict::Hold(f.piece.id.tag()),
            Err(reason) => return Verdict::Drop(reason),
        };
        let portless = match f.first {
            Some((_, info)) => super::is_portless(info),
            None => key.sport == 0 && key.dport == 0,
        };
        let owner = self.shared.owners.owner(&key, portless);
        if owner != self.worker {
            return match (FragMeta { key }).push(frame) {
                true => Verdict::HandoffKeyed(owner),
                false => Verdict::Drop(DropReason::HandoffMisdirected),
            };
        }
        self.fragment_of_flow(frame, in_port, &f, key, now)
    }

    /// A frame from another worker's hand-off ring: a fragment with its flow's key in
    /// front goes straight to stage 2; anything else is processed as usual.
    pub fn process_handed<F: Frame>(&mut self, frame: &mut F, in_port: PortId, now: Millis) -> Verdict {
        let Some(meta) = FragMeta::pop(frame) else {
            return self.process(frame, in_port, now);
        };
        let ip = frame.data().get(ETH_LEN..).map(Ipv4Packet::new_checked);
        let f = match ip {
            Some(Ok(ip)) if ip.is_fragment() => Fragment::read(&ip),
            Some(Err(e)) => Err(e.into()),
            _ => Err(DropReason::Malformed(ParseError::Ipv4Truncated)),
        };
        match f {
            Ok(f) => self.fragment_of_flow(frame, in_port, &f, meta.key, now),
            Err(reason) => Verdict::Drop(reason),
        }
    }

    /// Stage 2: a fragment as a packet of its flow.
    fn fragment_of_flow<F: Frame>(
        &mut self,
        frame: &mut F,
        in_port: PortId,
        f: &Fragment,
        key: FlowKey,
        now: Millis,
    ) -> Verdict {
        let pkt = Packet {
            key,
            info: f.first.map_or(L4Info::Other, |(_, info)| info),
            ihl: f.ihl as u8,
            ttl: f.ttl,
            total_len: f.total_len as u16,
            l4: f.first.is_some(),
            fragment: true,
        };
        match self.sessions.lookup(&key) {
            Some((id, dir)) => self.established(frame, in_port, &pkt, id, dir, now),
            // Only the first fragment may open a flow: the others have nothing to judge.
            None if pkt.l4 => self.new_flow(frame, in_port, &pkt, now),
            None => Verdict::Drop(DropReason::Ipv4Fragment),
        }
    }

    /// Notes that a datagram's first fragment came (the last eight at most: more in one
    /// burst only means their held fragments wait for their time to be up).
    fn release(&mut self, tag: u32) {
        if self.released_n < self.released.len() {
            self.released[self.released_n] = tag;
            self.released_n += 1;
        }
    }

    /// The worker that follows a datagram's fragments: the one the NIC delivers them
    /// to, since it hashes fragments by their addresses alone.
    fn datagram_owner(&self, id: &DatagramId) -> Owner {
        self.shared.owners.by_addrs(id.src, id.dst)
    }
}

/// A fragment's flow key, in front of the frame while it crosses to the flow's owner.
/// Its first bytes can never start a frame a worker hands over (those start with the
/// appliance's own unicast MAC), so a frame without it is never misread.
struct FragMeta {
    key: FlowKey,
}

const META_LEN: usize = 16;
const MARK: [u8; 3] = [0xff, 0xf7, 0xa6];

impl FragMeta {
    fn push(&self, frame: &mut impl Frame) -> bool {
        if !frame.prepend(META_LEN as u16) {
            return false;
        }
        let Some(b) = frame.data_mut().get_mut(..META_LEN) else { return false };
        let k = &self.key;
        b[0..3].copy_from_slice(&MARK);
        b[3..7].copy_from_slice(&k.src.to_be_bytes());
        b[7..11].copy_from_slice(&k.dst.to_be_bytes());
        b[11..13].copy_from_slice(&k.sport.to_be_bytes());
        b[13..15].copy_from_slice(&k.dport.to_be_bytes());
        b[15] = k.proto;
        true
    }

    fn pop(frame: &mut impl Frame) -> Option<FragMeta> {
        let b = frame.data().get(..META_LEN)?;
        if b[0..3] != MARK {
            return None;
        }
        let be16 = |at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
        let be32 = |at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let key = FlowKey { src: be32(3), dst: be32(7), sport: be16(11), dport: be16(13), proto: b[15] };
        frame.adj(META_LEN as u16).then_some(FragMeta { key })
    }
}
