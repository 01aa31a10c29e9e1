//! Reading the PPTP control stream of one direction across TCP segments, whatever the
//! segments' boundaries, order or repetitions.
//!
//! Every byte is decided in the segment it arrives in, and never held back: the reader
//! walks a message's head (header, Call ID fields, result codes: its first
//! [`MsgType::needed`] bytes) byte by byte, and asks the ALG ([`Decide`]) what each Call ID
//! field becomes as soon as its bytes are here. A field whose two bytes lie in one
//! segment is decided whole; one cut between its bytes is decided a byte at a time (the
//! ALG keeps, per connection, one high byte for every client high byte, so the first byte
//! can be written before the second is seen). A message the ALG refuses (a call it
//! cannot translate, a message in the wrong state) is not forwarded: the segment is cut
//! just before it, or dropped whole if the message began in an earlier segment. So no
//! inside Call ID reaches the outside however the sender cuts its stream, and since
//! nothing waits for a later segment, a sender that uses Nagle (which holds new data
//! until the old is acknowledged) is never stalled.
//!
//! Segments are placed by sequence number:
//! - in order: parsed;
//! - before the stream's position (a retransmission, or a segment that overlaps what was
//!   read): its bytes are rewritten from the record of what the reader saw and sent
//!   there, never parsed again; a byte of a message head that differs from the first
//!   copy, or a position older than the record, refuses the segment;
//! - after the position (a gap: an earlier segment is missing): dropped, and the reader
//!   keeps its place, so the missing segment and everything after it are read when they
//!   come. A gap costs the segments that arrive before it is filled (the sender sends
//!   them again), never the connection.
use super::MsgType;
use super::PptpError;
use wire::pptp::{check_header, HEADER_LEN};
use wire::ChecksumDelta;

/// Bytes of a message the reader keeps: enough for every field the ALG reads.
pub const HEAD: usize = 20;
/// Messages whose heads the reader remembers for retransmissions. PPTP peers have a
/// handful of messages in flight; a retransmission older than this is refused.
const LOG: usize = 8;

/// One message head, as the ALG sees it once its needed bytes are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message {
    pub kind: MsgType,
    /// The message's first bytes as the sender wrote them.
    pub head: [u8; HEAD],
}

impl Message {
    pub fn u16_at(&self, at: usize) -> u16 {
        self.head.get(at..at + 2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u8_at(&self, at: usize) -> u8 {
        self.head.get(at).copied().unwrap_or(0)
    }
}

/// What the reader asks of the ALG, message by message. Any `Err` refuses the message.
pub trait Decide {
    /// A message's header is in and well-formed: may a message of this kind come now?
    fn begin(&mut self, kind: MsgType) -> Result<(), PptpError>;
    /// The Call ID field at offset `at` holds `value`: what it becomes. `sent_high` is
    /// the high byte already sent, if the field was cut between its bytes; the answer's
    /// high byte must then be it.
    fn field(
        &mut self,
        kind: MsgType,
        at: usize,
        value: u16,
        sent_high: Option<u8>,
    ) -> Result<u16, PptpError>;
    /// Only the high byte of the field at `at` is in this segment: what it becomes.
    fn field_high(&mut self, kind: MsgType, at: usize, high: u8) -> Result<u8, PptpError>;
    /// The message's needed bytes are in: act on it.
    fn complete(&mut self, msg: &Message) -> Result<(), PptpError>;
}

/// What feeding a segment did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fed {
    pub messages: u32,
    /// What the Call IDs rewritten in the kept bytes change in the TCP checksum (only
    /// valid when `keep` is the whole payload: a cut segment needs a new checksum).
    pub checksum: ChecksumDelta,
    /// Payload bytes to forward; the rest (a refused message and what follows) is cut.
    pub keep: usize,
    /// Why the segment was cut, if it was.
    pub refused: Option<PptpError>,
    /// Bytes were sent before (a retransmission, whole or in part).
    pub retransmission: bool,
}

/// A message head as it went by: what came, what went out.
#[derive(Debug, Clone, Copy, Default)]
struct Record {
    /// Sequence number of the message's first byte.
    start: u32,
    kind: Option<MsgType>,
    /// Head bytes seen so far (at most `needed`); later bytes of the message pass as they are.
    seen: usize,
    orig: [u8; HEAD],
    sent: [u8; HEAD],
}

impl Record {
    fn len(&self) -> Option<usize> {
        self.kind.map(MsgType::length)
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct StreamReader {
    /// Sequence number of the next byte to parse; `None` before the first data.
    next: Option<u32>,
    /// Offset of `next` in the current message (0: a message boundary).
    offset: usize,
    /// Ring of the last messages' heads; `newest` is the current one when `offset > 0`.
    log: [Record; LOG],
    records: usize,
    newest: usize,
}

/// Signed distance from `b` to `a` in sequence space.
fn after(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

/// Why a walk stopped: the ALG refused, with the payload position where the refused
/// message began if it began in this segment.
struct Stop {
    reason: PptpError,
    from: Option<usize>,
}

impl StreamReader {
    /// Feeds the payload of the segment with sequence number `seq`, rewriting it in
    /// place. `Err` means a malformed stream: nothing of the segment took effect, and it
    /// must be dropped.
    pub fn feed(&mut self, seq: u32, payload: &mut [u8], alg: &mut impl Decide) -> Result<Fed, PptpError> {
        let len = payload.len();
        let mut fed = Fed { keep: len, ..Fed::default() };
        let next = *self.next.get_or_insert(seq);
        let ahead = after(seq, next);
        if ahead > 0 {
            return Ok(Fed { keep: 0, refused: Some(PptpError::OutOfOrder), ..fed });
        }
        let old = (-ahead).min(len as i64) as usize;
        if old > 0 {
            fed.retransmission = true;
            if let Err(reason) = self.replay(seq, &mut payload[..old], &mut fed.checksum) {
                return Ok(Fed { keep: 0, refused: Some(reason), ..fed });
            }
        }
        if old == len {
            return Ok(fed);
        }
        let snapshot = *self;
        match self.walk(seq.wrapping_add(old as u32), payload, old, alg, &mut fed) {
            Ok(()) => {}
            Err(Ok(stop)) => match stop.from {
                Some(from) => {
                    // The refused message began here: keep what came before it, and
                    // read on from its start when it comes again.
                    self.records -= 1;
                    self.newest = (self.newest + LOG - 1) % LOG;
                    self.offset = 0;
                    self.next = Some(seq.wrapping_add(from as u32));
                    fed.keep = from;
                    fed.refused = Some(stop.reason);
                }
                None => {
                    *self = snapshot;
                    fed.keep = 0;
                    fed.refused = Some(stop.reason);
                }
            },
            Err(Err(malformed)) => {
                *self = snapshot;
                return Err(malformed);
            }
        }
        Ok(fed)
    }

    /// Rewrites bytes sent before from the record; refuses what the record cannot vouch
    /// for.
    fn replay(&self, seq: u32, bytes: &mut [u8], csum: &mut ChecksumDelta) -> Result<(), PptpError> {
        let oldest = (self.newest + LOG + 1 - self.records) % LOG;
        let covered = match self.records {
            0 => return Err(PptpError::StaleRetransmission),
            _ => self.log[oldest].start,
        };
        if after(seq, covered) < 0 {
            return Err(PptpError::StaleRetransmission);
        }
        for i in 0..self.records {
            let r = &self.log[(oldest + i) % LOG];
            let at = after(r.start, seq);
            for k in 0..r.seen {
                let p = at + k as i64;
                if p < 0 {
                    continue;
                }
                let Some(b) = bytes.get_mut(p as usize) else { break };
                if *b != r.orig[k] {
                    return Err(PptpError::RetransmissionMismatch);
                }
            }
        }
        for i in 0..self.records {
            let r = &self.log[(oldest + i) % LOG];
            let at = after(r.start, seq);
            for k in 0..r.seen {
                let p = at + k as i64;
                if p >= 0 && (p as usize) < bytes.len() {
                    write_byte(bytes, p as usize, r.sent[k], csum);
                }
            }
        }
        Ok(())
    }

    /// Parses `payload[from..]`, the new bytes starting at sequence number `seq`.
    fn walk(
        &mut self,
        seq: u32,
        payload: &mut [u8],
        from: usize,
        alg: &mut impl Decide,
        fed: &mut Fed,
    ) -> Result<(), Result<Stop, PptpError>> {
        let mut pos = from;
        while pos < payload.len() {
            if self.offset == 0 {
                self.push(seq.wrapping_add((pos - from) as u32));
            }
            // Where the current message began, if in this segment's new bytes.
            let began = pos.checked_sub(self.offset).filter(|start| *start >= from);
            let n = match self.step(payload, pos, alg, fed) {
                Ok(n) => n,
                Err(Ok(reason)) => return Err(Ok(Stop { reason, from: began })),
                Err(Err(malformed)) => return Err(Err(malformed)),
            };
            pos += n;
            self.offset += n;
            if self.current().len() == Some(self.offset) {
                self.offset = 0;
            }
        }
        self.next = Some(seq.wrapping_add((payload.len() - from) as u32));
        Ok(())
    }

    fn current(&mut self) -> &mut Record {
        &mut self.log[self.newest]
    }

    fn push(&mut self, start: u32) {
        self.newest = (self.newest + 1) % LOG;
        self.records = (self.records + 1).min(LOG);
        self.log[self.newest] = Record { start, ..Record::default() };
    }

    /// Reads what comes at `pos` (one byte of a head, a whole field, or the body) and
    /// says how many bytes it took.
    fn step(
        &mut self,
        payload: &mut [u8],
        pos: usize,
        alg: &mut impl Decide,
        fed: &mut Fed,
    ) -> Result<usize, Result<PptpError, PptpError>> {
        let off = self.offset;
        let Some(kind) = self.current().kind else {
            self.keep_byte(payload[pos]);
            if off + 1 == HEADER_LEN {
                let mut h = [0u8; HEADER_LEN];
                h.copy_from_slice(&self.current().orig[..HEADER_LEN]);
                let kind = check_header(&h).map_err(|e| Err(e.into()))?;
                self.current().kind = Some(kind);
                alg.begin(kind).map_err(Ok)?;
                self.complete_if_done(kind, alg, fed)?;
            }
            return Ok(1);
        };
        if off >= kind.needed() {
            return Ok((kind.length() - off).min(payload.len() - pos));
        }
        let field = kind.call_id_fields().iter().map(|(at, _)| *at).find(|at| off == *at || off == at + 1);
        let n = match field {
            // Both bytes here: decided whole.
            Some(at) if off == at && pos + 1 < payload.len() => {
                let value = u16::from_be_bytes([payload[pos], payload[pos + 1]]);
                let new = alg.field(kind, at, value, None).map_err(Ok)?.to_be_bytes();
                self.rewrite(payload, pos, new[0], fed);
                self.rewrite(payload, pos + 1, new[1], fed);
                2
            }
            // The segment ends after the high byte.
            Some(at) if off == at => {
                let new = alg.field_high(kind, at, payload[pos]).map_err(Ok)?;
                self.rewrite(payload, pos, new, fed);
                1
            }
            // The low byte of a field cut in two.
            Some(at) => {
                let r = *self.current();
                let value = u16::from_be_bytes([r.orig[at], payload[pos]]);
                let new = alg.field(kind, at, value, Some(r.sent[at])).map_err(Ok)?.to_be_bytes();
                if new[0] != r.sent[at] {
                    return Err(Ok(PptpError::UnknownCall));
                }
                self.rewrite(payload, pos, new[1], fed);
                1
            }
            None => {
                self.keep_byte(payload[pos]);
                1
            }
        };
        self.complete_if_done(kind, alg, fed)?;
        Ok(n)
    }

    /// The message's needed bytes are all in: the ALG acts on it.
    fn complete_if_done(
        &mut self,
        kind: MsgType,
        alg: &mut impl Decide,
        fed: &mut Fed,
    ) -> Result<(), Result<PptpError, PptpError>> {
        let r = self.current();
        if r.seen != kind.needed() {
            return Ok(());
        }
        fed.messages += 1;
        alg.complete(&Message { kind, head: r.orig }).map_err(Ok)
    }

    /// A head byte that passes unchanged.
    fn keep_byte(&mut self, b: u8) {
        let r = self.current();
        if r.seen < HEAD {
            r.orig[r.seen] = b;
            r.sent[r.seen] = b;
            r.seen += 1;
        }
    }

    /// A head byte that becomes `new`.
    fn rewrite(&mut self, payload: &mut [u8], pos: usize, new: u8, fed: &mut Fed) {
        let r = self.current();
        if r.seen < HEAD {
            r.orig[r.seen] = payload[pos];
            r.sent[r.seen] = new;
            r.seen += 1;
        }
        write_byte(payload, pos, new, &mut fed.checksum);
    }
}

/// Writes one byte of the payload, recording the change for the TCP checksum. The
/// payload starts 4-byte aligned in the segment, so an even position is the high byte
/// of a checksum word.
fn write_byte(payload: &mut [u8], pos: usize, new: u8, csum: &mut ChecksumDelta) {
    let old = payload[pos];
    if old == new {
        return;
    }
    payload[pos] = new;
    let shift = if pos.is_multiple_of(2) { 8 } else { 0 };
    csum.add16(u16::from(old) << shift, u16::from(new) << shift);
}

#[cfg(test)]
mod tests;
