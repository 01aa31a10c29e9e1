//! The TCP state a session tracks (RFC 9293 seen from the middle).
//!
//! Enough to pick the right timeout: a half-open connection (SYN seen, no ACK of the
//! SYN-ACK yet) ages fast, an established one slowly, one that both sides closed (or
//! that was reset) fast again. One side's FIN alone keeps the established timeout: a
//! half-closed connection may legitimately carry data for long (a client that shuts its
//! sending side while the server streams).
use super::Dir;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const ACK: u8 = 0x10;

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
