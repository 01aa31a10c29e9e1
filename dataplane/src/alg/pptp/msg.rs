//! PPTP control messages (RFC 2637 section 2): the header, the size table, and where each
//! message carries a Call ID.
//!
//! ```text
//!  0                   1                   2                   3
//!  |        Length                 |     PPTP Message Type (1)     |
//!  |                    Magic Cookie 0x1A2B3C4D                    |
//!  |     Control Message Type      |          Reserved0            |
//!  |  Call ID / Peer's Call ID (12)| Call ID / Peer's Call ID (14) |  (per message)
//! ```
//!
//! A Call ID is always either the sender's own ("Call ID") or the receiver's ("Peer's
//! Call ID", which a peer learned from the other's own). Which side's ID a field holds is
//! therefore a function of the field kind and the direction:
//!
//! | type | message | sent by | offset 12        | offset 14        | decision field   |
//! |------|---------|---------|------------------|------------------|------------------|
//! | 1    | SCCRQ   | either  |                  |                  |                  |
//! | 2    | SCCRP   | either  | (version)        | result code @14  | result code @14  |
//! | 3    | StopCCRQ| either  |                  |                  |                  |
//! | 4    | StopCCRP| either  |                  |                  |                  |
//! | 5    | EchoRQ  | either  |                  |                  |                  |
//! | 6    | EchoRP  | either  |                  |                  |                  |
//! | 7    | OCRQ    | PNS     | own Call ID      | (call serial)    |                  |
//! | 8    | OCRP    | PAC     | own Call ID      | peer's Call ID   | result code @16  |
//! | 9    | ICRQ    | PAC     | own Call ID      | (call serial)    |                  |
//! | 10   | ICRP    | PNS     | own Call ID      | peer's Call ID   | result code @16  |
//! | 11   | ICCN    | PAC     | peer's Call ID   |                  |                  |
//! | 12   | CCRQ    | PNS     | own Call ID      |                  |                  |
//! | 13   | CDN     | PAC (3) | own Call ID (1)  |                  | result code @14  |
//! | 14   | WEN     | PAC     | peer's Call ID   |                  |                  |
//! | 15   | SLI     | PNS (2) | peer's Call ID   |                  |                  |
//!
//! (1) RFC 2637 2.13: the PAC's Call ID, "used instead of the Peer's Call ID because the
//! latter may not be known to the PAC if the call must be aborted". Real servers
//! (Microsoft's, accel-ppp) put the PNS's there, and Linux's nf_nat_pptp reads it so;
//! ferrowall takes either: the PAC's own passes, the PNS's translated one is put back.
//! (2) Microsoft PACs also send SLI to the PNS; the rule above (peer's = receiver's)
//! covers both directions.
//! (3) Some PNSs send CDN to abort a call; its Call ID is then the PNS's own, and the
//! ALG translates it like any PNS->PAC own field.
//!
//! Behind NAT the PNS (the VPN client) is inside. Its own Call ID is translated in
//! PNS->PAC messages (own fields), and translated back in PAC->PNS messages (peer's
//! fields); the PAC's IDs pass untouched.

pub const MAGIC_COOKIE: u32 = 0x1A2B_3C4D;
pub const HEADER_LEN: usize = 12;
const CONTROL_MESSAGE: u16 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgType {
    Sccrq = 1,
    Sccrp = 2,
    StopCcrq = 3,
    StopCcrp = 4,
    EchoRq = 5,
    EchoRp = 6,
    Ocrq = 7,
    Ocrp = 8,
    Icrq = 9,
    Icrp = 10,
    Iccn = 11,
    Ccrq = 12,
    Cdn = 13,
    Wen = 14,
    Sli = 15,
}

/// Whose Call ID a field holds, relative to the message's sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Own,
    Peer,
}

impl MsgType {
    pub fn from_u16(v: u16) -> Option<MsgType> {
        use MsgType::*;
        Some(match v {
            1 => Sccrq,
            2 => Sccrp,
            3 => StopCcrq,
            4 => StopCcrp,
            5 => EchoRq,
            6 => EchoRp,
            7 => Ocrq,
            8 => Ocrp,
            9 => Icrq,
            10 => Icrp,
            11 => Iccn,
            12 => Ccrq,
            13 => Cdn,
            14 => Wen,
            15 => Sli,
            _ => return None,
        })
    }

    /// The fixed length RFC 2637 gives each message.
    pub fn length(self) -> usize {
        use MsgType::*;
        match self {
            Sccrq | Sccrp => 156,
            StopCcrq | StopCcrp | EchoRq | Ccrq => 16,
            EchoRp => 20,
            Ocrq => 168,
            Ocrp => 32,
            Icrq => 220,
            Icrp => 24,
            Iccn => 28,
            Cdn => 148,
            Wen => 40,
            Sli => 24,
        }
    }

    /// The Call ID fields: (offset, kind).
    pub fn call_id_fields(self) -> &'static [(usize, Field)] {
        use MsgType::*;
        match self {
            Ocrq | Icrq | Ccrq | Cdn => &[(12, Field::Own)],
            Ocrp | Icrp => &[(12, Field::Own), (14, Field::Peer)],
            Iccn | Wen | Sli => &[(12, Field::Peer)],
            _ => &[],
        }
    }

    /// The bytes of the message the ALG needs to see to act on it (Call IDs, result
    /// codes); the rest of the message passes unread.
    pub fn needed(self) -> usize {
        use MsgType::*;
        match self {
            Ocrp | Icrp => 17,
            Cdn | Sccrp => 15,
            Ocrq | Icrq | Ccrq | Iccn | Wen | Sli => 14,
            _ => HEADER_LEN,
        }
    }

    pub fn name(self) -> &'static str {
        use MsgType::*;
        match self {
            Sccrq => "sccrq",
            Sccrp => "sccrp",
            StopCcrq => "stop-ccrq",
            StopCcrp => "stop-ccrp",
            EchoRq => "echo-request",
            EchoRp => "echo-reply",
            Ocrq => "ocrq",
            Ocrp => "ocrp",
            Icrq => "icrq",
            Icrp => "icrp",
            Iccn => "iccn",
            Ccrq => "ccrq",
            Cdn => "cdn",
            Wen => "wen",
            Sli => "sli",
        }
    }

    pub const ALL: [MsgType; 15] = [
        MsgType::Sccrq,
        MsgType::Sccrp,
        MsgType::StopCcrq,
        MsgType::StopCcrp,
        MsgType::EchoRq,
        MsgType::EchoRp,
        MsgType::Ocrq,
        MsgType::Ocrp,
        MsgType::Icrq,
        MsgType::Icrp,
        MsgType::Iccn,
        MsgType::Ccrq,
        MsgType::Cdn,
        MsgType::Wen,
        MsgType::Sli,
    ];
}

/// Why a message (and the segment from it on) was refused. Each maps to a drop reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PptpError {
    /// PPTP Message Type other than 1 (control); management messages are not used.
    NotControl,
    BadCookie,
    UnknownType,
    /// Length field not the RFC's length for the type.
    BadLength,
    /// A new control connection beyond the configured number (not a parse error).
    ConnectionLimit,
    /// A segment after a gap in the stream: it is read when the gap is filled.
    OutOfOrder,
    /// A retransmission of bytes older than the reader remembers.
    StaleRetransmission,
    /// A retransmission whose message head differs from the first copy.
    RetransmissionMismatch,
    /// A message the connection's state does not allow (RFC 2637's state machines).
    WrongState,
    /// A message from the side that never sends it.
    WrongDirection,
    /// A new call beyond `calls_per_connection`.
    CallLimit,
    /// No translated Call ID left for a new call.
    CallIdsExhausted,
    /// A new call with a Call ID the sender already uses on this connection.
    CallIdInUse,
    /// A client's message about a call that does not exist (its ID cannot be translated).
    UnknownCall,
    /// A message that would change an established call (a second reply).
    CallChange,
}

impl PptpError {
    pub const ALL: [PptpError; 15] = [
        PptpError::NotControl,
        PptpError::BadCookie,
        PptpError::UnknownType,
        PptpError::BadLength,
        PptpError::ConnectionLimit,
        PptpError::OutOfOrder,
        PptpError::StaleRetransmission,
        PptpError::RetransmissionMismatch,
        PptpError::WrongState,
        PptpError::WrongDirection,
        PptpError::CallLimit,
        PptpError::CallIdsExhausted,
        PptpError::CallIdInUse,
        PptpError::UnknownCall,
        PptpError::CallChange,
    ];

    /// The drop reason's name.
    pub fn name(self) -> &'static str {
        crate::stats::DropReason::from(self).name()
    }
}

impl From<PptpError> for crate::stats::DropReason {
    fn from(e: PptpError) -> Self {
        use crate::stats::DropReason as R;
        match e {
            PptpError::NotControl => R::PptpNotControl,
            PptpError::BadCookie => R::PptpBadCookie,
            PptpError::UnknownType => R::PptpUnknownType,
            PptpError::BadLength => R::PptpBadLength,
            PptpError::ConnectionLimit => R::PptpConnectionLimit,
            PptpError::OutOfOrder => R::PptpOutOfOrder,
            PptpError::StaleRetransmission => R::PptpStaleRetransmission,
            PptpError::RetransmissionMismatch => R::PptpRetransmissionMismatch,
            PptpError::WrongState => R::PptpWrongState,
            PptpError::WrongDirection => R::PptpWrongDirection,
            PptpError::CallLimit => R::PptpCallLimit,
            PptpError::CallIdsExhausted => R::PptpCallIdsExhausted,
            PptpError::CallIdInUse => R::PptpCallIdInUse,
            PptpError::UnknownCall => R::PptpUnknownCall,
            PptpError::CallChange => R::PptpCallChange,
        }
    }
}

/// Checks a message header (the first 12 bytes of a message) and returns its type.
pub fn check_header(h: &[u8; HEADER_LEN]) -> Result<MsgType, PptpError> {
    let be16 = |at: usize| u16::from_be_bytes([h[at], h[at + 1]]);
    if u32::from_be_bytes([h[4], h[5], h[6], h[7]]) != MAGIC_COOKIE {
        return Err(PptpError::BadCookie);
    }
    if be16(2) != CONTROL_MESSAGE {
        return Err(PptpError::NotControl);
    }
    let t = MsgType::from_u16(be16(8)).ok_or(PptpError::UnknownType)?;
    if usize::from(be16(0)) != t.length() {
        return Err(PptpError::BadLength);
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const OCRQ_HEADER: [u8; 12] = [
        0x00, 0xa8,             // length 168
        0x00, 0x01,             // control message
        0x1a, 0x2b, 0x3c, 0x4d, // magic cookie
        0x00, 0x07,             // OCRQ
        0x00, 0x00,             // reserved
    ];

    #[test]
    fn header_checks() {
        assert_eq!(check_header(&OCRQ_HEADER), Ok(MsgType::Ocrq));
        let mut h = OCRQ_HEADER;
        h[7] = 0x4e;
        assert_eq!(check_header(&h), Err(PptpError::BadCookie));
        let mut h = OCRQ_HEADER;
        h[1] = 0xa7;
        assert_eq!(check_header(&h), Err(PptpError::BadLength));
        let mut h = OCRQ_HEADER;
        h[9] = 16;
        assert_eq!(check_header(&h), Err(PptpError::UnknownType));
        let mut h = OCRQ_HEADER;
        h[3] = 2;
        assert_eq!(check_header(&h), Err(PptpError::NotControl));
    }

    /// RFC 2637 section 2, message by message, written out here rather than taken from
    /// the table under test: type, length, and where the Call IDs are.
    #[test]
    fn the_table_is_rfc_2637s() {
        type Row = (u16, usize, &'static [(usize, Field)]);
        #[rustfmt::skip]
        let rfc: [Row; 15] = [
            (1, 156, &[]), (2, 156, &[]), (3, 16, &[]), (4, 16, &[]), (5, 16, &[]), (6, 20, &[]),
            (7, 168, &[(12, Field::Own)]),
            (8, 32, &[(12, Field::Own), (14, Field::Peer)]),
            (9, 220, &[(12, Field::Own)]),
            (10, 24, &[(12, Field::Own), (14, Field::Peer)]),
            (11, 28, &[(12, Field::Peer)]),
            (12, 16, &[(12, Field::Own)]),
            (13, 148, &[(12, Field::Own)]),
            (14, 40, &[(12, Field::Peer)]),
            (15, 24, &[(12, Field::Peer)]),
        ];
        for (code, len, fields) in rfc {
            let t = MsgType::from_u16(code).expect("every RFC type is known");
            assert_eq!((t.length(), t.call_id_fields()), (len, fields), "{t:?}");
        }
    }

    #[test]
    fn table_is_consistent() {
        for t in MsgType::ALL {
            assert_eq!(MsgType::from_u16(t as u16), Some(t));
            assert!(t.length() >= t.needed(), "{t:?}");
            for (at, _) in t.call_id_fields() {
                assert!(at + 2 <= t.needed(), "{t:?} field at {at} is within what is read");
            }
        }
        assert_eq!(MsgType::ALL.iter().map(|t| t.length()).max(), Some(220), "ICRQ is the longest");
    }
}
