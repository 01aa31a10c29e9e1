//! What a worker tells the ALG about a control segment it hands over.
//!
//! It travels in the frame itself, in the headroom just before the Ethernet header: the
//! segment and its facts cross the ring as one mbuf, so they can never be paired wrongly,
//! and nothing is allocated. The slow path strips it before touching the frame.
use crate::ifaces::PortId;
use crate::session::Dir;
use std::net::Ipv4Addr;
use wire::frame::Frame;
use wire::FlowKey;

/// Bytes in front of the frame.
pub const META_LEN: usize = 24;
/// Marks the block, so a frame that lacks it is refused rather than misread.
const MARK: u16 = 0xa19c;
const NO_PORT: u16 = u16::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlgMeta {
    /// The control session's original key (client -> server:1723).
    pub control: FlowKey,
    /// The address the client is translated to (its own address without NAT).
    pub public: Ipv4Addr,
    /// `Original` is client to server.
    pub dir: Dir,
    /// The port the frame leaves by, already addressed to the next hop; `None` when the
    /// next hop is not resolved yet (the slow path resolves it).
    pub out: Option<PortId>,
}

impl AlgMeta {
    /// Puts the block in front of the frame; false if the headroom is too small.
    pub fn push(&self, frame: &mut impl Frame) -> bool {
        if !frame.prepend(META_LEN as u16) {
            return false;
        }
        let Some(b) = frame.data_mut().get_mut(..META_LEN) else { return false };
        let k = &self.control;
        b[0..2].copy_from_slice(&MARK.to_be_bytes());
        b[2..6].copy_from_slice(&k.src.to_be_bytes());
        b[6..10].copy_from_slice(&k.dst.to_be_bytes());
        b[10..12].copy_from_slice(&k.sport.to_be_bytes());
        b[12..14].copy_from_slice(&k.dport.to_be_bytes());
        b[14] = k.proto;
        b[15] = self.dir as u8;
        // 16..18: unused (the ALG's Call IDs follow the GRE, not the control session's owner).
        b[16..18].fill(0);
        b[18..22].copy_from_slice(&self.public.octets());
        b[22..24].copy_from_slice(&self.out.unwrap_or(NO_PORT).to_be_bytes());
        true
    }

    /// Takes the block off the front of the frame.
    pub fn pop(frame: &mut impl Frame) -> Option<AlgMeta> {
        let b = frame.data().get(..META_LEN)?;
        let be16 = |at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
        let be32 = |at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        if be16(0) != MARK || b[15] > 1 {
            return None;
        }
        let meta = AlgMeta {
            control: FlowKey { src: be32(2), dst: be32(6), sport: be16(10), dport: be16(12), proto: b[14] },
            dir: if b[15] == 0 { Dir::Original } else { Dir::Reply },
            public: Ipv4Addr::from(be32(18)),
            out: Some(be16(22)).filter(|&p| p != NO_PORT),
        };
        frame.adj(META_LEN as u16).then_some(meta)
    }
}

/// Marks a frame sent to the slow path as an ICMP error about GRE that no worker's
/// session matched (see `SlowPath::gre_icmp_error`). The mark's first byte is odd, so no
/// frame a worker passes on (they start with the appliance's unicast MAC) carries it.
const GRE_ERROR_MARK: [u8; 4] = [0xff, 0xf7, 0xa7, 0x47];

/// Puts the mark in front of `frame`; false if there is no headroom.
pub fn mark_gre_error(frame: &mut impl Frame) -> bool {
    if !frame.prepend(GRE_ERROR_MARK.len() as u16) {
        return false;
    }
    match frame.data_mut().get_mut(..GRE_ERROR_MARK.len()) {
        Some(b) => {
            b.copy_from_slice(&GRE_ERROR_MARK);
            true
        }
        None => false,
    }
}

/// Takes the mark off `frame` if it carries one; says whether it did.
pub fn take_gre_error_mark(frame: &mut impl Frame) -> bool {
    frame.data().get(..GRE_ERROR_MARK.len()) == Some(&GRE_ERROR_MARK[..])
        && frame.adj(GRE_ERROR_MARK.len() as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::frame::TestFrame;

    #[test]
    fn round_trip_leaves_the_frame_as_it_was() {
        let mut f = TestFrame::new(&[1, 2, 3]).unwrap();
        let meta = AlgMeta {
            control: FlowKey::new([192, 168, 1, 1].into(), [1, 1, 1, 1].into(), 40000, 1723, 6),
            public: [1, 1, 1, 2].into(),
            dir: Dir::Reply,
            out: Some(1),
        };
        assert!(meta.push(&mut f));
        assert_eq!(f.data().len(), META_LEN + 3);
        assert_eq!(AlgMeta::pop(&mut f), Some(meta));
        assert_eq!(f.data(), &[1, 2, 3]);
        let unresolved = AlgMeta { out: None, ..meta };
        assert!(unresolved.push(&mut f));
        assert_eq!(AlgMeta::pop(&mut f), Some(unresolved));
    }

    #[test]
    fn a_frame_without_the_block_is_refused() {
        let mut f = TestFrame::new(&[0u8; 64]).unwrap();
        assert_eq!(AlgMeta::pop(&mut f), None);
        assert_eq!(f.data().len(), 64);
    }
}
