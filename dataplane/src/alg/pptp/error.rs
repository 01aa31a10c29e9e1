//! Why the ALG refuses a control message: the header errors of [`wire::pptp`] and the
//! ALG's own (stream order, RFC 2637's state machines, limits).
use wire::pptp::HeaderError;

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

impl From<HeaderError> for PptpError {
    fn from(e: HeaderError) -> Self {
        match e {
            HeaderError::NotControl => PptpError::NotControl,
            HeaderError::BadCookie => PptpError::BadCookie,
            HeaderError::UnknownType => PptpError::UnknownType,
            HeaderError::BadLength => PptpError::BadLength,
        }
    }
}
