//! The TCP state a session tracks (RFC 9293 seen from the middle).
//!
//! Two things: the connection's state, enough to pick the right timeout (a half-open
//! connection ages fast, an established one slowly, one that both sides closed or that
//! was reset fast again; one side's FIN alone keeps the established timeout, since a
//! half-closed connection may carry data for long), and each direction's window, as
//! Linux conntrack and pf track it (Rooij, "Real stateful TCP packet filtering in IP
//! Filter"): the highest sequence number sent, the highest the peer allows, the largest
//! window seen, with window scaling. A segment outside the window (a blind RST, data
//! injected with a guessed sequence number, an ACK for data never sent) is dropped and
//! leaves the session as it was, so no one off the path can reset or hijack it.
//! Flag combinations no TCP sends (SYN+FIN, no flags at all, ...) are dropped too.
use super::Dir;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;
pub const URG: u8 = 0x20;

/// How far behind the newest acknowledged byte an ACK may lag at least (Linux's
/// MAXACKWINDOW floor).
const MIN_ACK_WINDOW: u32 = 66_000;

/// What the tracking reads from a TCP header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Segment {
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    pub payload_len: u16,
    /// The window scale option (SYNs only).
    pub wscale: Option<u8>,
}

impl Segment {
    /// The sequence number after this segment (SYN and FIN take one each).
    fn end(&self) -> u32 {
        let flags = u32::from(self.flags & SYN != 0) + u32::from(self.flags & FIN != 0);
        self.seq.wrapping_add(u32::from(self.payload_len)).wrapping_add(flags)
    }
}

/// Whether a flag combination is one TCP sends (PSH, ECE and CWR aside).
pub fn valid_flags(flags: u8) -> bool {
    // Linux's tcp_valid_flags.
    const VALID: [u8; 9] =
        [SYN, SYN | URG, SYN | ACK, RST, RST | ACK, FIN | ACK, FIN | ACK | URG, ACK, ACK | URG];
    VALID.contains(&(flags & (FIN | SYN | RST | ACK | URG)))
}

/// Why a segment of a tracked connection is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    BadFlags,
    OutOfWindow,
}

/// One direction's window (conntrack's `td_*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Window {
    /// The sequence number after the highest byte sent.
    end: u32,
    /// The highest sequence number the peer allows (its ACK plus its window).
    maxend: u32,
    /// The largest window this side advertised (scaled).
    maxwin: u32,
    scale: u8,
    /// A SYN of this side was seen (its window is known).
    seen: bool,
    /// Its SYN offered window scaling.
    scales: bool,
}

impl Window {
    fn from_syn(seg: &Segment) -> Window {
        let end = seg.end();
        Window {
            end,
            maxend: end,
            maxwin: u32::from(seg.window).max(1),
            scale: seg.wscale.unwrap_or(0).min(14),
            seen: true,
            scales: seg.wscale.is_some(),
        }
    }
}

/// `a` comes after `b` in sequence space.
fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// A connection as the session tracks it: its state and both directions' windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpTrack {
    pub state: TcpState,
    win: [Window; 2],
}

impl TcpTrack {
    /// The connection a SYN opens.
    pub fn open(syn: &Segment) -> TcpTrack {
        TcpTrack { state: TcpState::SynSent, win: [Window::from_syn(syn), Window::default()] }
    }

    /// A segment travelling in `dir`: its flags and window are checked, then the state
    /// and windows move on. A refused segment changes nothing.
    pub fn segment(&mut self, dir: Dir, seg: &Segment) -> Result<(), Refused> {
        if !valid_flags(seg.flags) {
            return Err(Refused::BadFlags);
        }
        let (d, syn, ack) = (dir.index(), seg.flags & SYN != 0, seg.flags & ACK != 0);
        let reopens = dir == Dir::Original && TcpState::opens(seg.flags);
        if reopens && matches!(self.state, TcpState::SynSent | TcpState::Closing | TcpState::Closed) {
            // A retransmitted SYN, or the client reusing the port after a close.
            *self = TcpTrack { state: self.state.next(dir, seg.flags), ..TcpTrack::open(seg) };
            return Ok(());
        }
        if dir == Dir::Reply && syn && ack && !self.win[1].seen {
            let mut reply = Window::from_syn(seg);
            if !(reply.scales && self.win[0].scales) {
                reply.scale = 0;
                self.win[0].scale = 0;
            }
            self.win[1] = reply;
        }
        if !self.win[1].seen {
            // Nothing from the server yet but SYN-ACK: only a reset that answers the SYN.
            let answers_syn = dir == Dir::Reply && ack && seg.ack == self.win[0].end;
            if !(seg.flags & RST != 0 && answers_syn) {
                return Err(Refused::OutOfWindow);
            }
            self.state = self.state.next(dir, seg.flags);
            return Ok(());
        }
        if !self.in_window(d, seg) {
            return Err(Refused::OutOfWindow);
        }
        self.advance(d, seg);
        self.state = self.state.next(dir, seg.flags);
        Ok(())
    }

    fn in_window(&self, d: usize, seg: &Segment) -> bool {
        let (s, r) = (&self.win[d], &self.win[1 - d]);
        let end = seg.end();
        let ack = if seg.flags & ACK != 0 { seg.ack } else { r.end };
        let ack_window = s.maxwin.max(MIN_ACK_WINDOW);
        !after(seg.seq, s.maxend)
            && after(end, s.end.wrapping_sub(r.maxwin).wrapping_sub(1))
            && !after(ack, r.end)
            && after(ack, r.end.wrapping_sub(ack_window).wrapping_sub(1))
    }

    fn advance(&mut self, d: usize, seg: &Segment) {
        let end = seg.end();
        let win = if seg.flags & SYN != 0 {
            u32::from(seg.window)
        } else {
            u32::from(seg.window) << self.win[d].scale
        };
        let ack = if seg.flags & ACK != 0 { seg.ack } else { self.win[1 - d].end };
        let s_maxend = self.win[d].maxend;
        let s = &mut self.win[d];
        s.maxwin = s.maxwin.max(win);
        if after(end, s.end) {
            s.end = end;
        }
        let r = &mut self.win[1 - d];
        if r.maxwin != 0 && after(end, s_maxend) {
            r.maxwin = r.maxwin.wrapping_add(end.wrapping_sub(s_maxend));
        }
        let allowed = ack.wrapping_add(win);
        if after(allowed, r.maxend.wrapping_sub(1)) {
            r.maxend = allowed.wrapping_add(u32::from(win == 0));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpState {
    SynSent,
    SynReceived,
    Established,
    /// One side sent FIN.
    FinWait(Dir),
    /// Both sides sent FIN.
    Closing,
    /// Reset by either side.
    Closed,
}

impl TcpState {
    /// Whether a first packet may open a session: a SYN without ACK.
    pub fn opens(flags: u8) -> bool {
        flags & (SYN | ACK | RST | FIN) == SYN
    }

    /// The state after a segment with `flags` travelling in `dir`.
    pub fn next(self, dir: Dir, flags: u8) -> TcpState {
        use TcpState::*;
        if flags & RST != 0 {
            return Closed;
        }
        match self {
            SynSent if dir == Dir::Reply && flags & (SYN | ACK) == SYN | ACK => SynReceived,
            SynReceived if dir == Dir::Original && flags & ACK != 0 && flags & SYN == 0 => Established,
            Established if flags & FIN != 0 => FinWait(dir),
            FinWait(first) if flags & FIN != 0 && dir != first => Closing,
            // A new SYN on a closed session reuses it (the client reopened the port).
            Closed | Closing if dir == Dir::Original && TcpState::opens(flags) => SynSent,
            s => s,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TcpState::SynSent => "syn-sent",
            TcpState::SynReceived => "syn-received",
            TcpState::Established => "established",
            TcpState::FinWait(_) => "fin-wait",
            TcpState::Closing => "closing",
            TcpState::Closed => "closed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Dir::*;

    #[test]
    fn handshake_data_and_close() {
        let s = TcpState::SynSent;
        let s = s.next(Reply, SYN | ACK);
        assert_eq!(s, TcpState::SynReceived);
        let s = s.next(Original, ACK);
        assert_eq!(s, TcpState::Established);
        let s = s.next(Reply, ACK);
        assert_eq!(s, TcpState::Established);
        let s = s.next(Original, FIN | ACK);
        assert_eq!(s, TcpState::FinWait(Original));
        assert_eq!(s.next(Original, FIN | ACK), TcpState::FinWait(Original), "a retransmitted FIN");
        let s = s.next(Reply, FIN | ACK);
        assert_eq!(s, TcpState::Closing);
        assert_eq!(s.next(Original, SYN), TcpState::SynSent);
    }

    fn seg(flags: u8, seq: u32, ack: u32, len: u16) -> Segment {
        Segment { flags, seq, ack, window: 1000, payload_len: len, wscale: None }
    }

    /// A connection: client ISN 100, server ISN 5000, after the handshake.
    fn established() -> TcpTrack {
        let mut t = TcpTrack::open(&seg(SYN, 100, 0, 0));
        t.segment(Reply, &seg(SYN | ACK, 5000, 101, 0)).unwrap();
        t.segment(Original, &seg(ACK, 101, 5001, 0)).unwrap();
        assert_eq!(t.state, TcpState::Established);
        t
    }

    #[test]
    fn in_window_data_and_acks_pass_and_move_the_window() {
        let mut t = established();
        t.segment(Original, &seg(ACK | PSH, 101, 5001, 500)).unwrap();
        t.segment(Reply, &seg(ACK, 5001, 601, 0)).unwrap();
        t.segment(Original, &seg(ACK | PSH, 101, 5001, 500)).unwrap();
        assert_eq!(t.segment(Original, &seg(ACK, 101, 5001, 0)), Ok(()), "a retransmission");
        t.segment(Reply, &seg(ACK | PSH, 5001, 601, 900)).unwrap();
    }

    /// The old tracking let any RST close any session.
    #[test]
    fn a_blind_reset_is_refused_and_changes_nothing() {
        let mut t = established();
        let before = t;
        for seq in [5001 + 70_000, 5001u32.wrapping_sub(200_000), 0x8000_0000] {
            assert_eq!(t.segment(Reply, &seg(RST, seq, 0, 0)), Err(Refused::OutOfWindow), "seq {seq}");
        }
        assert_eq!(t, before);
        assert_eq!(t.segment(Reply, &seg(RST, 5001, 0, 0)), Ok(()));
        assert_eq!(t.state, TcpState::Closed);
    }

    #[test]
    fn data_beyond_the_window_or_acking_unsent_data_is_refused() {
        let mut t = established();
        assert_eq!(t.segment(Original, &seg(ACK, 101 + 5000, 5001, 10)), Err(Refused::OutOfWindow));
        assert_eq!(t.segment(Original, &seg(ACK, 101, 5001 + 10, 0)), Err(Refused::OutOfWindow));
        assert_eq!(
            t.segment(Original, &seg(ACK, 101u32.wrapping_sub(300_000), 5001, 10)),
            Err(Refused::OutOfWindow)
        );
    }

    #[test]
    fn window_scaling_widens_the_window_only_if_both_sides_offer_it() {
        let syn = Segment { wscale: Some(7), ..seg(SYN, 100, 0, 0) };
        let mut t = TcpTrack::open(&syn);
        t.segment(Reply, &Segment { wscale: Some(7), ..seg(SYN | ACK, 5000, 101, 0) }).unwrap();
        t.segment(Original, &seg(ACK, 101, 5001, 0)).unwrap();
        t.segment(Reply, &seg(ACK, 5001, 101, 0)).unwrap();
        // The server's window is 1000 << 7: 100 kB of data in flight is fine.
        assert_eq!(t.segment(Original, &seg(ACK, 101 + 100_000, 5001, 1000)), Ok(()));
        let mut t = TcpTrack::open(&syn);
        t.segment(Reply, &seg(SYN | ACK, 5000, 101, 0)).unwrap();
        t.segment(Original, &seg(ACK, 101, 5001, 0)).unwrap();
        t.segment(Reply, &seg(ACK, 5001, 101, 0)).unwrap();
        assert_eq!(t.segment(Original, &seg(ACK, 101 + 100_000, 5001, 1000)), Err(Refused::OutOfWindow));
    }

    #[test]
    fn a_reset_answering_the_syn_closes_a_half_open_connection() {
        let mut t = TcpTrack::open(&seg(SYN, 100, 0, 0));
        assert_eq!(t.segment(Reply, &seg(RST | ACK, 0, 999, 0)), Err(Refused::OutOfWindow));
        assert_eq!(t.segment(Reply, &seg(ACK, 0, 101, 0)), Err(Refused::OutOfWindow));
        assert_eq!(t.segment(Reply, &seg(RST | ACK, 0, 101, 0)), Ok(()));
        assert_eq!(t.state, TcpState::Closed);
    }

    #[test]
    fn impossible_flag_sets_are_refused() {
        for flags in [0, SYN | FIN, SYN | RST, FIN, FIN | RST, SYN | FIN | RST | ACK, URG, FIN | PSH | URG] {
            assert!(!valid_flags(flags), "{flags:#x}");
            let mut t = established();
            assert_eq!(t.segment(Original, &seg(flags, 101, 5001, 0)), Err(Refused::BadFlags), "{flags:#x}");
        }
        for flags in
            [SYN, SYN | ACK, RST, RST | ACK, ACK, ACK | PSH, FIN | ACK, FIN | ACK | PSH, ACK | URG, SYN | URG]
        {
            assert!(valid_flags(flags), "{flags:#x}");
        }
    }

    #[test]
    fn reset_closes_from_any_state() {
        for s in [TcpState::SynSent, TcpState::Established, TcpState::FinWait(Reply)] {
            assert_eq!(s.next(Reply, RST), TcpState::Closed);
        }
        assert!(TcpState::opens(SYN));
        assert!(!TcpState::opens(SYN | ACK));
        assert!(!TcpState::opens(ACK));
    }
}
