//! Reading the PPTP control stream of one direction across TCP segments.
//!
//! Messages may share a segment or straddle two; segments may be retransmitted. The
//! reader keeps, per direction, where the stream is within the current message and the
//! first bytes of it (the header and the fields the ALG acts on). When those bytes are
//! complete it asks the ALG what the message's Call ID fields become, and writes the
//! new values into the segment if they lie in it. A field whose bytes went out in an
//! earlier segment can no longer change; that is counted (it needs a peer that splits a
//! message within its first 17 bytes, which no implementation seen does).
//!
//! A retransmitted segment (sequence number before the expected one) is parsed on its
//! own from its first byte, with the same ALG calls: they are idempotent, so it is
//! rewritten exactly as the first copy was. A gap (data we never saw) restarts the
//! reader at the segment.
use super::msg::{check_header, Field, MsgType, PptpError, HEADER_LEN};
use crate::packet::ChecksumDelta;

/// Bytes of a message the reader keeps: enough for every field the ALG reads.
pub const HEAD: usize = 20;

/// What the ALG decides for one message: the new value of each Call ID field (by
/// offset), if it changes.
pub type Rewrites = [Option<(usize, u16)>; 2];

/// One complete-enough message, as the ALG sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message {
    pub kind: MsgType,
    pub head: [u8; HEAD],
    /// Read again from a retransmitted segment (already counted once).
    pub retransmitted: bool,
}

impl Message {
    pub fn u16_at(&self, at: usize) -> u16 {
        self.head.get(at..at + 2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u8_at(&self, at: usize) -> u8 {
        self.head.get(at).copied().unwrap_or(0)
    }

    /// The Call ID field of this kind, if the message has one.
    pub fn field(&self, kind: Field) -> Option<(usize, u16)> {
        self.kind.call_id_fields().iter().find(|(_, k)| *k == kind).map(|(at, _)| (*at, self.u16_at(*at)))
    }
}

/// What feeding a segment did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fed {
    pub messages: u32,
    /// What the Call IDs rewritten in this segment change in its TCP checksum.
    pub checksum: ChecksumDelta,
    pub split_fields: u32,
    pub retransmission: bool,
}

#[derive(Debug, Clone, Default)]
pub struct StreamReader {
    next_seq: Option<u32>,
    offset: usize,
    head: [u8; HEAD],
    kind: Option<MsgType>,
    /// A throw-away reader for a retransmitted segment.
    replay: bool,
}

impl StreamReader {
    /// Feeds the payload of the segment with sequence number `seq`.
    pub fn feed(
        &mut self,
        seq: u32,
        payload: &mut [u8],
        alg: &mut impl FnMut(&Message) -> Rewrites,
    ) -> Result<Fed, PptpError> {
        let len = payload.len() as u32;
        if let Some(next) = self.next_seq {
            if seq != next {
                if (next.wrapping_sub(seq) as i32) > 0 {
                    let mut replay = StreamReader { replay: true, ..StreamReader::default() };
                    let mut fed = replay.walk(payload, alg).unwrap_or_default();
                    fed.retransmission = true;
                    return Ok(fed);
                }
                *self = StreamReader::default();
            }
        }
        let fed = self.walk(payload, alg)?;
        self.next_seq = Some(seq.wrapping_add(len));
        Ok(fed)
    }

    fn walk(
        &mut self,
        payload: &mut [u8],
        alg: &mut impl FnMut(&Message) -> Rewrites,
    ) -> Result<Fed, PptpError> {
        let mut fed = Fed::default();
        let mut pos = 0;
        while pos < payload.len() {
            let want = match self.kind {
                None => HEADER_LEN,
                Some(k) if self.offset < k.needed() => k.needed(),
                Some(k) => k.length(),
            };
            let take = (want - self.offset).min(payload.len() - pos);
            if self.offset < HEAD {
                let n = take.min(HEAD - self.offset);
                self.head[self.offset..self.offset + n].copy_from_slice(&payload[pos..pos + n]);
            }
            self.offset += take;
            pos += take;
            if self.offset < want {
                break;
            }
            match self.kind {
                None => {
                    let mut h = [0u8; HEADER_LEN];
                    h.copy_from_slice(&self.head[..HEADER_LEN]);
                    let kind = check_header(&h)?;
                    self.kind = Some(kind);
                    if kind.needed() == HEADER_LEN {
                        self.act(kind, payload, pos, alg, &mut fed);
                    }
                }
                Some(k) if self.offset == k.needed() && k.needed() > HEADER_LEN => {
                    self.act(k, payload, pos, alg, &mut fed)
                }
                Some(k) if self.offset == k.length() => {
                    self.kind = None;
                    self.offset = 0;
                    self.head = [0; HEAD];
                }
                Some(_) => {}
            }
        }
        Ok(fed)
    }

    /// The message's needed bytes are in: ask the ALG, and rewrite what lies in this
    /// segment. `pos` is the payload position of message offset `self.offset`.
    fn act(
        &mut self,
        kind: MsgType,
        payload: &mut [u8],
        pos: usize,
        alg: &mut impl FnMut(&Message) -> Rewrites,
        fed: &mut Fed,
    ) {
        let msg = Message { kind, head: self.head, retransmitted: self.replay };
        fed.messages += 1;
        for (at, new) in alg(&msg).into_iter().flatten() {
            let old = msg.u16_at(at);
            if old == new {
                continue;
            }
            self.head[at..at + 2].copy_from_slice(&new.to_be_bytes());
            let back = self.offset - at;
            if back > pos {
                fed.split_fields += 1;
                continue;
            }
            let p = pos - back;
            payload[p..p + 2].copy_from_slice(&new.to_be_bytes());
            // The payload starts 4-byte aligned in the TCP segment, so a field at an odd
            // payload offset straddles two checksum words: it counts byte-swapped
            // (RFC 1071's byte-order independence).
            if p % 2 == 1 {
                fed.checksum.add16(old.swap_bytes(), new.swap_bytes());
            } else {
                fed.checksum.add16(old, new);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message of `kind` with `ids` at offsets 12 and 14, zero elsewhere.
    pub(crate) fn message(kind: MsgType, ids: (u16, u16)) -> Vec<u8> {
        let mut m = vec![0u8; kind.length()];
        m[0..2].copy_from_slice(&(kind.length() as u16).to_be_bytes());
        m[2..4].copy_from_slice(&1u16.to_be_bytes());
        m[4..8].copy_from_slice(&super::super::msg::MAGIC_COOKIE.to_be_bytes());
        m[8..10].copy_from_slice(&(kind as u16).to_be_bytes());
        m[12..14].copy_from_slice(&ids.0.to_be_bytes());
        m[14..16].copy_from_slice(&ids.1.to_be_bytes());
        m
    }

    /// Translates every own Call ID field to value + 1000, recording what it saw.
    fn alg(seen: &mut Vec<(MsgType, u16)>) -> impl FnMut(&Message) -> Rewrites + '_ {
        |m| {
            seen.push((m.kind, m.u16_at(12)));
            let mut r: Rewrites = [None, None];
            if let Some((at, v)) = m.field(Field::Own) {
                r[0] = Some((at, v + 1000));
            }
            r
        }
    }

    #[test]
    fn several_messages_in_one_segment() {
        let mut seg = message(MsgType::Ocrq, (7, 1));
        seg.extend(message(MsgType::EchoRq, (0, 0)));
        seg.extend(message(MsgType::Ccrq, (7, 0)));
        let mut seen = vec![];
        let fed = StreamReader::default().feed(100, &mut seg, &mut alg(&mut seen)).unwrap();
        assert_eq!(fed.messages, 3);
        assert_eq!(seen, [(MsgType::Ocrq, 7), (MsgType::EchoRq, 0), (MsgType::Ccrq, 7)]);
        assert_eq!(u16::from_be_bytes([seg[12], seg[13]]), 1007);
        assert_eq!(u16::from_be_bytes([seg[168 + 16 + 12], seg[168 + 16 + 13]]), 1007);
    }

    #[test]
    fn a_message_split_across_segments() {
        let whole = message(MsgType::Ocrq, (7, 1));
        for cut in [5, 12, 13, 14, 100] {
            let (mut a, mut b) = (whole[..cut].to_vec(), whole[cut..].to_vec());
            let mut r = StreamReader::default();
            let mut seen = vec![];
            let fa = r.feed(1, &mut a, &mut alg(&mut seen)).unwrap();
            let fb = r.feed(1 + cut as u32, &mut b, &mut alg(&mut seen)).unwrap();
            assert_eq!(fa.messages + fb.messages, 1, "cut at {cut}");
            let mut out = a.clone();
            out.extend(&b);
            if cut == 13 {
                assert_eq!(fa.split_fields + fb.split_fields, 1, "a Call ID cut in two");
            } else {
                assert_eq!(u16::from_be_bytes([out[12], out[13]]), 1007, "cut at {cut}");
            }
        }
    }

    #[test]
    fn retransmissions_are_rewritten_alike_and_parsed_once_more_only() {
        let mut r = StreamReader::default();
        let mut seen = vec![];
        let mut first = message(MsgType::Ocrq, (7, 1));
        r.feed(1, &mut first, &mut alg(&mut seen)).unwrap();
        let mut again = message(MsgType::Ocrq, (7, 1));
        let fed = r.feed(1, &mut again, &mut alg(&mut seen)).unwrap();
        assert!(fed.retransmission);
        assert_eq!(first, again);
        let mut next = message(MsgType::EchoRq, (0, 0));
        assert_eq!(r.feed(169, &mut next, &mut alg(&mut seen)).unwrap().messages, 1);
    }

    #[test]
    fn malformed_messages_are_refused() {
        let mut bad = message(MsgType::Ocrq, (7, 1));
        bad[4] = 0;
        let mut seen = vec![];
        assert_eq!(StreamReader::default().feed(1, &mut bad, &mut alg(&mut seen)), Err(PptpError::BadCookie));
        assert!(seen.is_empty(), "no state from a bad message");
        let mut short = message(MsgType::Ocrq, (7, 1));
        short[1] = 100;
        assert_eq!(
            StreamReader::default().feed(1, &mut short, &mut alg(&mut seen)),
            Err(PptpError::BadLength)
        );
    }

    #[test]
    fn a_gap_restarts_at_the_segment() {
        let mut r = StreamReader::default();
        let mut seen = vec![];
        let whole = message(MsgType::Ocrq, (7, 1));
        r.feed(1, &mut whole[..50].to_vec(), &mut alg(&mut seen)).unwrap();
        let mut later = message(MsgType::Ccrq, (9, 0));
        let fed = r.feed(5000, &mut later, &mut alg(&mut seen)).unwrap();
        assert_eq!(fed.messages, 1);
        assert_eq!(seen.last(), Some(&(MsgType::Ccrq, 9)));
    }
}
