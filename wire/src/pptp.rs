//! PPTP control messages (RFC 2637 section 2): the header, the size table, where each
//! message carries a Call ID, and a [`ControlRepr`] that reads and writes those fields.
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
/// The TCP port of the control connection.
pub const PORT: u16 = 1723;

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
pub enum CallIdField {
    Own,
    Peer,
}

impl MsgType {
    #[inline]
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
    #[inline]
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
    #[inline]
    pub fn call_id_fields(self) -> &'static [(usize, CallIdField)] {
        use MsgType::*;
        match self {
            Ocrq | Icrq | Ccrq | Cdn => &[(12, CallIdField::Own)],
            Ocrp | Icrp => &[(12, CallIdField::Own), (14, CallIdField::Peer)],
            Iccn | Wen | Sli => &[(12, CallIdField::Peer)],
            _ => &[],
        }
    }

    /// The bytes of the message the ALG needs to see to act on it (Call IDs, result
    /// codes); the rest of the message passes unread.
    #[inline]
    pub fn needed(self) -> usize {
        use MsgType::*;
        match self {
            Ocrp | Icrp => 17,
            Cdn | Sccrp => 15,
            Ocrq | Icrq | Ccrq | Iccn | Wen | Sli => 14,
            _ => HEADER_LEN,
        }
    }

    #[inline]
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

/// Why a message header is not one of RFC 2637's control messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderError {
    /// PPTP Message Type other than 1 (control); management messages are not used.
    NotControl,
    BadCookie,
    UnknownType,
    /// Length field not the RFC's length for the type.
    BadLength,
}

/// Checks a message header (the first 12 bytes of a message) and returns its type.
#[inline]
pub fn check_header(h: &[u8; HEADER_LEN]) -> Result<MsgType, HeaderError> {
    let be16 = |at: usize| u16::from_be_bytes([h[at], h[at + 1]]);
    if u32::from_be_bytes([h[4], h[5], h[6], h[7]]) != MAGIC_COOKIE {
        return Err(HeaderError::BadCookie);
    }
    if be16(2) != CONTROL_MESSAGE {
        return Err(HeaderError::NotControl);
    }
    let t = MsgType::from_u16(be16(8)).ok_or(HeaderError::UnknownType)?;
    if usize::from(be16(0)) != t.length() {
        return Err(HeaderError::BadLength);
    }
    Ok(t)
}

/// The fields of a control message the firewall reads and writes: its type, the Call IDs
/// at offsets 12 and 14 where the type has them, and the result code where it has one.
/// Other bytes are zero when emitted and ignored when parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlRepr {
    pub kind: MsgType,
    /// The 16 bits at offset 12 (a Call ID in call messages, the version in SCCRQ/SCCRP);
    /// zero where the result code is there (Stop-CCRP).
    pub id12: u16,
    /// The 16 bits at offset 14 (the peer's Call ID in OCRP/ICRP, a serial in OCRQ/ICRQ);
    /// zero where the result code is there (SCCRP, CDN).
    pub id14: u16,
    /// The result code, for the types that carry one ([`MsgType::result_offset`]).
    pub result: u8,
}

impl MsgType {
    /// Where the type's result code is: OCRP and ICRP at 16, CDN and SCCRP at 14,
    /// Stop-CCRP at 12.
    #[inline]
    pub fn result_offset(self) -> Option<usize> {
        use MsgType::*;
        match self {
            Ocrp | Icrp => Some(16),
            Cdn | Sccrp => Some(14),
            StopCcrp => Some(12),
            _ => None,
        }
    }

    /// Whether the 16 bits at `at` (12 or 14) are a field of their own rather than the
    /// result and error codes.
    #[inline]
    fn id_at(self, at: usize) -> bool {
        self.length() >= at + 2 && self.result_offset() != Some(at)
    }
}

impl ControlRepr {
    /// Reads a whole message; `msg` must hold at least its RFC length.
    #[inline]
    pub fn parse(msg: &[u8]) -> Result<ControlRepr, HeaderError> {
        let head: &[u8; HEADER_LEN] =
            msg.get(..HEADER_LEN).and_then(|h| h.try_into().ok()).ok_or(HeaderError::BadLength)?;
        let kind = check_header(head)?;
        if msg.len() < kind.length() {
            return Err(HeaderError::BadLength);
        }
        let be16 = |at: usize| u16::from_be_bytes([msg[at], msg[at + 1]]);
        let id = |at: usize| if kind.id_at(at) { be16(at) } else { 0 };
        let result = kind.result_offset().map_or(0, |at| msg[at]);
        Ok(ControlRepr { kind, id12: id(12), id14: id(14), result })
    }

    /// The message's length on the wire.
    #[inline]
    pub fn buffer_len(&self) -> usize {
        self.kind.length()
    }

    /// Writes the message into `msg[..buffer_len()]`; `msg` must be at least that long.
    #[inline]
    pub fn emit(&self, msg: &mut [u8]) {
        let msg = &mut msg[..self.kind.length()];
        msg.fill(0);
        msg[0..2].copy_from_slice(&(self.kind.length() as u16).to_be_bytes());
        msg[2..4].copy_from_slice(&CONTROL_MESSAGE.to_be_bytes());
        msg[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
        msg[8..10].copy_from_slice(&(self.kind as u16).to_be_bytes());
        for (at, id) in [(12, self.id12), (14, self.id14)] {
            if self.kind.id_at(at) {
                msg[at..at + 2].copy_from_slice(&id.to_be_bytes());
            }
        }
        if let Some(at) = self.kind.result_offset() {
            msg[at] = self.result;
        }
    }
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
        assert_eq!(check_header(&h), Err(HeaderError::BadCookie));
        let mut h = OCRQ_HEADER;
        h[1] = 0xa7;
        assert_eq!(check_header(&h), Err(HeaderError::BadLength));
        let mut h = OCRQ_HEADER;
        h[9] = 16;
        assert_eq!(check_header(&h), Err(HeaderError::UnknownType));
        let mut h = OCRQ_HEADER;
        h[3] = 2;
        assert_eq!(check_header(&h), Err(HeaderError::NotControl));
    }

    /// RFC 2637 section 2, message by message, written out here rather than taken from
    /// the table under test: type, length, and where the Call IDs are.
    #[test]
    fn the_table_is_rfc_2637s() {
        type Row = (u16, usize, &'static [(usize, CallIdField)]);
        #[rustfmt::skip]
        let rfc: [Row; 15] = [
            (1, 156, &[]), (2, 156, &[]), (3, 16, &[]), (4, 16, &[]), (5, 16, &[]), (6, 20, &[]),
            (7, 168, &[(12, CallIdField::Own)]),
            (8, 32, &[(12, CallIdField::Own), (14, CallIdField::Peer)]),
            (9, 220, &[(12, CallIdField::Own)]),
            (10, 24, &[(12, CallIdField::Own), (14, CallIdField::Peer)]),
            (11, 28, &[(12, CallIdField::Peer)]),
            (12, 16, &[(12, CallIdField::Own)]),
            (13, 148, &[(12, CallIdField::Own)]),
            (14, 40, &[(12, CallIdField::Peer)]),
            (15, 24, &[(12, CallIdField::Peer)]),
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

    #[test]
    fn repr_round_trips_every_type() {
        for kind in MsgType::ALL {
            let has_result = kind.result_offset().is_some();
            let id = |at, v| if kind.id_at(at) { v } else { 0 };
            let repr = ControlRepr {
                kind,
                id12: id(12, 0x1234),
                id14: id(14, 0xbeef),
                result: if has_result { 3 } else { 0 },
            };
            let mut buf = vec![0xffu8; repr.buffer_len() + 4];
            repr.emit(&mut buf);
            assert_eq!(&buf[repr.buffer_len()..], &[0xff; 4], "{kind:?} writes only its length");
            assert_eq!(ControlRepr::parse(&buf), Ok(repr), "{kind:?}");
            assert!(ControlRepr::parse(&buf[..repr.buffer_len() - 1]).is_err(), "{kind:?} cut short");
        }
    }
}
