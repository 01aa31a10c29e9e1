use super::*;
use wire::pptp::MAGIC_COOKIE;

/// A message of `kind` with `ids` at offsets 12 and 14, zero elsewhere.
fn message(kind: MsgType, ids: (u16, u16)) -> Vec<u8> {
    let mut m = vec![0u8; kind.length()];
    m[0..2].copy_from_slice(&(kind.length() as u16).to_be_bytes());
    m[2..4].copy_from_slice(&1u16.to_be_bytes());
    m[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    m[8..10].copy_from_slice(&(kind as u16).to_be_bytes());
    m[12..14].copy_from_slice(&ids.0.to_be_bytes());
    m[14..16].copy_from_slice(&ids.1.to_be_bytes());
    m
}

/// Every Call ID field becomes `translate(value)`: a new high byte that depends on the
/// old high byte only, as the ALG's rows do.
fn translate(v: u16) -> u16 {
    let [hi, lo] = v.to_be_bytes();
    u16::from_be_bytes([hi.wrapping_add(1), lo ^ 0x55])
}

#[derive(Default)]
struct Fake {
    completed: Vec<(MsgType, u16)>,
    refuse: Option<(MsgType, u16)>,
}

impl Decide for Fake {
    fn begin(&mut self, _kind: MsgType) -> Result<(), PptpError> {
        Ok(())
    }

    fn field(&mut self, kind: MsgType, _at: usize, value: u16, _sent: Option<u8>) -> Result<u16, PptpError> {
        if self.refuse == Some((kind, value)) {
            return Err(PptpError::CallLimit);
        }
        Ok(translate(value))
    }

    fn field_high(&mut self, _kind: MsgType, _at: usize, high: u8) -> Result<u8, PptpError> {
        Ok(high.wrapping_add(1))
    }

    fn complete(&mut self, msg: &Message) -> Result<(), PptpError> {
        self.completed.push((msg.kind, msg.u16_at(12)));
        Ok(())
    }
}

/// Feeds `stream` cut at `cuts`, in order; returns what was forwarded.
fn feed_cut(r: &mut StreamReader, alg: &mut Fake, stream: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut bounds = vec![0];
    bounds.extend(cuts.iter().copied().filter(|c| *c > 0 && *c < stream.len()));
    bounds.push(stream.len());
    bounds.dedup();
    for w in bounds.windows(2) {
        let mut seg = stream[w[0]..w[1]].to_vec();
        let fed = r.feed(1000 + w[0] as u32, &mut seg, alg).expect("well-formed");
        out.extend(&seg[..fed.keep]);
    }
    out
}

fn translated(stream: &[u8], fields: &[usize]) -> Vec<u8> {
    let mut t = stream.to_vec();
    for &at in fields {
        let v = translate(u16::from_be_bytes([t[at], t[at + 1]]));
        t[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }
    t
}

#[test]
fn several_messages_in_one_segment() {
    let mut seg = message(MsgType::Ocrq, (7, 1));
    seg.extend(message(MsgType::EchoRq, (0, 0)));
    seg.extend(message(MsgType::Ccrq, (7, 0)));
    let want = translated(&seg, &[12, 168 + 16 + 12]);
    let mut alg = Fake::default();
    let fed = StreamReader::default().feed(100, &mut seg, &mut alg).unwrap();
    assert_eq!((fed.messages, fed.keep), (3, seg.len()));
    assert_eq!(alg.completed, [(MsgType::Ocrq, 7), (MsgType::EchoRq, 0), (MsgType::Ccrq, 7)]);
    assert_eq!(seg, want);
}

/// The old reader could not rewrite a Call ID whose bytes were cut apart (or whose
/// message's decision came after the cut), and forwarded the inside ID: every cut,
/// and every pair of cuts, must give the bytes of the whole message translated.
#[test]
fn every_cut_translates_the_whole_message() {
    let mut stream = message(MsgType::Ocrp, (0x1234, 0xbeef));
    stream.extend(message(MsgType::Ocrq, (0x0a0b, 9)));
    let want = translated(&stream, &[12, 14, 32 + 12]);
    for a in 1..60 {
        for b in a..60 {
            let (mut r, mut alg) = (StreamReader::default(), Fake::default());
            assert_eq!(feed_cut(&mut r, &mut alg, &stream, &[a, b]), want, "cut at {a} and {b}");
            assert_eq!(alg.completed, [(MsgType::Ocrp, 0x1234), (MsgType::Ocrq, 0x0a0b)]);
        }
    }
}

#[test]
fn retransmissions_are_rewritten_from_the_record_not_parsed_again() {
    let stream = [message(MsgType::Ocrq, (7, 1)), message(MsgType::EchoRq, (0, 0))].concat();
    let want = translated(&stream, &[12]);
    let (mut r, mut alg) = (StreamReader::default(), Fake::default());
    feed_cut(&mut r, &mut alg, &stream, &[13]);
    // The whole stream again, and a part from the middle of the OCRQ's Call ID.
    for from in [0usize, 5, 13, 100] {
        let mut again = stream[from..].to_vec();
        let fed = r.feed(1000 + from as u32, &mut again, &mut alg).unwrap();
        assert!(fed.retransmission);
        assert_eq!((fed.keep, &again[..]), (again.len(), &want[from..]), "from {from}");
    }
    assert_eq!(alg.completed.len(), 2, "each message acted on once");
    // A retransmission that overlaps new bytes: the old part from the record, the new parsed.
    let mut next = [stream[170..].to_vec(), message(MsgType::Ccrq, (7, 0))].concat();
    let fed = r.feed(1170, &mut next, &mut alg).unwrap();
    assert_eq!(fed.keep, next.len());
    assert_eq!(next[14..], translated(&message(MsgType::Ccrq, (7, 0)), &[12])[..]);
    assert_eq!(alg.completed.last(), Some(&(MsgType::Ccrq, 7)));
}

#[test]
fn a_retransmission_that_changes_a_head_or_is_too_old_is_refused() {
    let stream = message(MsgType::Ocrq, (7, 1));
    let (mut r, mut alg) = (StreamReader::default(), Fake::default());
    feed_cut(&mut r, &mut alg, &stream, &[]);
    let mut lie = stream.clone();
    lie[13] = 8;
    let fed = r.feed(1000, &mut lie, &mut alg).unwrap();
    assert_eq!((fed.keep, fed.refused), (0, Some(PptpError::RetransmissionMismatch)));
    let mut body = stream[100..].to_vec();
    body[0] ^= 0xff;
    assert_eq!(r.feed(1100, &mut body, &mut alg).unwrap().keep, 68, "a message body may differ");
    let mut old = stream.clone();
    assert_eq!(r.feed(900, &mut old, &mut alg).unwrap().refused, Some(PptpError::StaleRetransmission));
    // Pushed out of the record by later messages.
    for i in 0..LOG as u32 {
        let mut echo = message(MsgType::EchoRq, (0, 0));
        assert_eq!(r.feed(1168 + 16 * i, &mut echo, &mut alg).unwrap().keep, 16);
    }
    let mut first = stream.clone();
    assert_eq!(r.feed(1000, &mut first, &mut alg).unwrap().refused, Some(PptpError::StaleRetransmission));
}

/// The old reader restarted at a segment that came early, failed on it, and never
/// recovered: a gap must cost only the segments that arrive before it is filled.
#[test]
fn a_segment_after_a_gap_waits_for_the_gap() {
    let stream = [message(MsgType::Ocrq, (7, 1)), message(MsgType::Ccrq, (7, 0))].concat();
    let want = translated(&stream, &[12, 168 + 12]);
    let (mut r, mut alg) = (StreamReader::default(), Fake::default());
    let mut first = stream[..50].to_vec();
    r.feed(1000, &mut first, &mut alg).unwrap();
    let mut early = stream[100..].to_vec();
    let fed = r.feed(1100, &mut early, &mut alg).unwrap();
    assert_eq!((fed.keep, fed.refused), (0, Some(PptpError::OutOfOrder)));
    let mut gap = stream[50..100].to_vec();
    assert_eq!(r.feed(1050, &mut gap, &mut alg).unwrap().keep, 50);
    let mut again = stream[100..].to_vec();
    assert_eq!(r.feed(1100, &mut again, &mut alg).unwrap().keep, again.len());
    assert_eq!([&first[..], &gap[..], &again[..]].concat(), want);
    assert_eq!(alg.completed, [(MsgType::Ocrq, 7), (MsgType::Ccrq, 7)]);
}

#[test]
fn a_refused_message_is_cut_off_and_read_again_when_resent() {
    let stream = [message(MsgType::EchoRq, (0, 0)), message(MsgType::Ocrq, (7, 1))].concat();
    let (mut r, mut alg) =
        (StreamReader::default(), Fake { refuse: Some((MsgType::Ocrq, 7)), ..Fake::default() });
    let mut seg = stream.clone();
    let fed = r.feed(1000, &mut seg, &mut alg).unwrap();
    assert_eq!((fed.keep, fed.refused), (16, Some(PptpError::CallLimit)), "the echo passes, the OCRQ not");
    // Cut inside the refused message: the part that went before stays sent, the
    // segment with the refusal goes whole.
    alg.refuse = None;
    let mut head = stream[16..20].to_vec();
    assert_eq!(r.feed(1016, &mut head, &mut alg).unwrap().keep, 4);
    alg.refuse = Some((MsgType::Ocrq, 7));
    let mut rest = stream[20..].to_vec();
    assert_eq!(r.feed(1020, &mut rest, &mut alg).unwrap().keep, 0);
    alg.refuse = None;
    let mut rest = stream[20..].to_vec();
    assert_eq!(r.feed(1020, &mut rest, &mut alg).unwrap().keep, rest.len(), "read again when resent");
    assert_eq!(rest[..], translated(&stream, &[16 + 12])[20..]);
}

#[test]
fn malformed_messages_are_refused_and_leave_no_trace() {
    let mut bad = message(MsgType::Ocrq, (7, 1));
    bad[4] = 0;
    let mut alg = Fake::default();
    let mut r = StreamReader::default();
    assert_eq!(r.feed(1, &mut bad, &mut alg), Err(PptpError::BadCookie));
    assert!(alg.completed.is_empty(), "no state from a bad message");
    let mut short = message(MsgType::Ocrq, (7, 1));
    short[1] = 100;
    assert_eq!(StreamReader::default().feed(1, &mut short, &mut alg), Err(PptpError::BadLength));
    let mut good = message(MsgType::EchoRq, (0, 0));
    assert_eq!(r.feed(1, &mut good, &mut alg).unwrap().keep, 16, "the reader is where it was");
}
