//! Counters: every packet the dataplane drops is counted under one named reason.
//!
//! Cores count in plain integers they own, and publish a copy into [`SharedStats`]
//! (relaxed atomic stores) every few milliseconds, so the control plane reads them without
//! the per-packet path ever touching an atomic.
use std::sync::atomic::{AtomicU64, Ordering};
use wire::ParseError;

/// Session kinds counted (`session::Kind::ALL.len()`).
pub const KINDS: usize = crate::session::Kind::ALL.len();

macro_rules! drop_reasons {
    ($($variant:ident => $name:literal, $help:literal;)*) => {
        /// Why a packet was dropped. Names are stable: metrics and `display statistics
        /// drop` use them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum DropReason {
            /// A header failed its checks; the parse error names which.
            Malformed(ParseError),
            $($variant,)*
        }

        /// Dense positions of the non-parse reasons, so `index()` is a jump table.
        #[derive(Clone, Copy)]
        enum Slot { $($variant,)* }

        const OTHER_REASONS: &[DropReason] = &[$(DropReason::$variant,)*];

        impl DropReason {
            /// Dense index for counter arrays.
            #[inline]
            pub fn index(self) -> usize {
                match self {
                    DropReason::Malformed(e) => e.index(),
                    $(DropReason::$variant => ParseError::ALL.len() + Slot::$variant as usize,)*
                }
            }

            /// Stable snake_case name.
            pub fn name(self) -> &'static str {
                match self {
                    DropReason::Malformed(e) => e.as_str(),
                    $(DropReason::$variant => $name,)*
                }
            }

            /// One-line explanation for operators.
            pub fn help(self) -> &'static str {
                match self {
                    DropReason::Malformed(_) => "malformed header",
                    $(DropReason::$variant => $help,)*
                }
            }
        }
    };
}

drop_reasons! {
    MultiSegment => "multi_segment", "chained mbuf; ports run without scatter";
    NotOurMac => "not_our_mac", "unicast frame for another MAC (promiscuous port)";
    UnsupportedEthertype => "unsupported_ethertype", "neither IPv4 nor ARP";
    Ipv4BadChecksum => "ipv4_bad_checksum", "IPv4 header checksum wrong";
    MartianAddress => "martian_address", "broadcast, multicast, loopback or zero address";
    SpoofedSource => "spoofed_source", "source is the appliance's own, a NAT, or a directed-broadcast address";
    ReversePath => "reverse_path", "source does not route back through the arrival port (strict) or at all (loose)";
    SourceRoute => "source_route", "IPv4 loose or strict source route option, not allowed in the zone";
    ToSelfDenied => "to_self_denied", "addressed to an appliance address the zone may not reach";
    NoRoute => "no_route", "no route to the destination";
    TtlExceeded => "ttl_exceeded", "TTL expired in transit";
    NeighbourUnresolved => "neighbour_unresolved", "next hop did not answer ARP, or the hold queue was full";
    SlowPathRingFull => "slow_path_ring_full", "ring to the slow-path core full";
    TxQueueFull => "tx_queue_full", "NIC TX queue full";
    ToSelfUnhandled => "to_self_unhandled", "addressed to the appliance, no service for it";
    ArpNotForUs => "arp_not_for_us", "ARP for an address that is not ours";
    ArpUnhandled => "arp_unhandled", "ARP operation other than request or reply";
    ArpAddressConflict => "arp_address_conflict", "ARP from another host claiming one of the appliance's addresses (not answered, not learned)";
    ArpUnsolicited => "arp_unsolicited", "ARP reply to the appliance from a host it neither asked nor knows (not learned)";
    ArpReplyConsumed => "arp_reply_consumed", "ARP reply taken in by the neighbour table (not forwarded; not an error)";
    IcmpUnhandled => "icmp_unhandled", "ICMP to the appliance other than echo request";
    NoBuffer => "no_buffer", "mbuf pool empty when a packet had to be built";
    Ipv4Fragment => "ipv4_fragment", "IPv4 fragment of a datagram whose flow has no session, or held until its time was up without its first fragment";
    FragmentHoldFull => "fragment_hold_full", "IPv4 fragment before its first, with no room left to hold it";
    Ipv4TinyFragment => "ipv4_tiny_fragment", "first IPv4 fragment too short to hold its transport header";
    Ipv4FragmentOverlap => "ipv4_fragment_overlap", "IPv4 fragment overlapping another of its datagram (or one too many)";
    Ipv4FragmentTooBig => "ipv4_fragment_too_big", "IPv4 fragment that would take its datagram past 65,535 bytes";
    FragmentTableFull => "fragment_table_full", "first fragment of a new datagram while the worker's fragment table is full";
    IcmpErrorFragmented => "icmp_error_fragmented", "ICMP error in fragments (its checksum covers what the firewall cannot see)";
    PptpFragment => "pptp_fragment", "PPTP control segment in IPv4 fragments (the ALG reads whole segments)";
    TcpNoSession => "tcp_no_session", "TCP segment without a session that is not a SYN";
    TcpBadFlags => "tcp_bad_flags", "TCP flag combination no TCP sends (SYN+FIN, none, FIN without ACK, ...)";
    TcpOutOfWindow => "tcp_out_of_window", "TCP segment outside its connection's window (blind reset, injection, stale)";
    IcmpWrongDirection => "icmp_wrong_direction", "ICMP echo request in a session's reply direction (or reply in its original)";
    IcmpNoSession => "icmp_no_session", "ICMP echo reply or error matching no session";
    PolicyDeny => "policy_deny", "new flow denied by the security policy";
    NatExhausted => "nat_exhausted", "no NAT port, identifier or Call ID left";
    SessionTableFull => "session_table_full", "new flow refused: the session table is full";
    TcpHalfOpenLimit => "tcp_half_open_limit", "SYN refused: the worker holds its maximum of half-open TCP sessions (a SYN flood?)";
    SessionWrongZone => "session_wrong_zone", "packet of a session arriving from a zone the session does not run between (spoofed)";
    SessionConflict => "session_conflict", "new flow collides with an existing session's tuple";
    HandoffRingFull => "handoff_ring_full", "ring to the owning worker full";
    HandoffMisdirected => "handoff_misdirected", "handed-off packet not owned by its receiver";
    GreNoSession => "gre_no_session", "PPTP GRE to a NAT address matching no session and no server-map entry";
    AlgRingFull => "alg_ring_full", "ring to the slow-path core's ALG full";
    AlgUnavailable => "alg_unavailable", "control segment for an ALG that is not running";
    PptpNotControl => "pptp_not_control", "PPTP message type other than control";
    PptpBadCookie => "pptp_bad_cookie", "PPTP magic cookie wrong";
    PptpUnknownType => "pptp_unknown_type", "PPTP control message type unknown";
    PptpBadLength => "pptp_bad_length", "PPTP length field not the RFC's for its type";
    PptpConnectionLimit => "pptp_connection_limit", "PPTP control connections at the configured limit";
    PptpOutOfOrder => "pptp_out_of_order", "PPTP control segment after a gap (read when the sender sends it again)";
    PptpStaleRetransmission => "pptp_stale_retransmission", "PPTP control retransmission older than the ALG remembers";
    PptpRetransmissionMismatch => "pptp_retransmission_mismatch", "PPTP control retransmission whose message head differs from the first copy";
    PptpWrongState => "pptp_wrong_state", "PPTP message the control connection's or call's state does not allow";
    PptpWrongDirection => "pptp_wrong_direction", "PPTP message from the side that never sends it";
    PptpCallLimit => "pptp_call_limit", "PPTP call refused: calls_per_connection reached";
    PptpCallIdsExhausted => "pptp_call_ids_exhausted", "PPTP call refused: no translated Call ID left";
    PptpCallIdInUse => "pptp_call_id_in_use", "PPTP call refused: its Call ID is already in use on the connection";
    PptpUnknownCall => "pptp_unknown_call", "PPTP client message about a call that does not exist";
    PptpCallChange => "pptp_call_change", "PPTP message that would change an established call";
}

impl DropReason {
    /// Number of distinct reasons (counter array size).
    pub const COUNT: usize = ParseError::ALL.len() + OTHER_REASONS.len();

    /// Every reason, in index order.
    pub fn all() -> impl Iterator<Item = DropReason> {
        ParseError::ALL.iter().map(|e| DropReason::Malformed(*e)).chain(OTHER_REASONS.iter().copied())
    }
}

impl From<ParseError> for DropReason {
    fn from(e: ParseError) -> Self {
        DropReason::Malformed(e)
    }
}

macro_rules! core_counters {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// Counters one core owns and increments without atomics.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct CoreStats {
            $($(#[$doc])* pub $name: u64,)*
            pub drops: [u64; DropReason::COUNT],
            /// Live sessions by kind (`session::Kind::ALL` order): a gauge, summed over workers.
            pub sessions_live: [u64; KINDS],
        }

        impl Default for CoreStats {
            fn default() -> Self {
                CoreStats { $($name: 0,)* drops: [0; DropReason::COUNT], sessions_live: [0; KINDS] }
            }
        }

        impl CoreStats {
            /// Adds another core's counters (for totals).
            pub fn accumulate(&mut self, other: &CoreStats) {
                $(self.$name += other.$name;)*
                for (a, b) in self.drops.iter_mut().zip(other.drops.iter()) {
                    *a += b;
                }
                for (a, b) in self.sessions_live.iter_mut().zip(other.sessions_live.iter()) {
                    *a += b;
                }
            }
        }

        /// The published copy of one core's counters.
        pub struct SharedStats {
            $($name: AtomicU64,)*
            drops: [AtomicU64; DropReason::COUNT],
            sessions_live: [AtomicU64; KINDS],
        }

        impl Default for SharedStats {
            fn default() -> Self {
                SharedStats {
                    $($name: AtomicU64::new(0),)*
                    drops: std::array::from_fn(|_| AtomicU64::new(0)),
                    sessions_live: std::array::from_fn(|_| AtomicU64::new(0)),
                }
            }
        }

        impl SharedStats {
            /// Called by the owning core, off the per-packet path.
            pub fn publish(&self, s: &CoreStats) {
                let r = Ordering::Relaxed;
                $(self.$name.store(s.$name, r);)*
                for (a, v) in self.drops.iter().zip(s.drops.iter()) {
                    a.store(*v, r);
                }
                for (a, v) in self.sessions_live.iter().zip(s.sessions_live.iter()) {
                    a.store(*v, r);
                }
            }

            /// Called by the control plane.
            pub fn snapshot(&self) -> CoreStats {
                let r = Ordering::Relaxed;
                CoreStats {
                    $($name: self.$name.load(r),)*
                    drops: std::array::from_fn(|i| self.drops[i].load(r)),
                    sessions_live: std::array::from_fn(|i| self.sessions_live[i].load(r)),
                }
            }
        }
    };
}

// Every per-core counter, once: the struct the core writes, its published atomic copy,
// the totals and the copies between them all follow from this list.
core_counters! {
    rx_packets,
    tx_packets,
    to_slow_path,
    /// Control segments passed to the slow path's ALG.
    to_alg,
    /// Messages to another core's full inbox, lost (their effect is repaired later).
    commands_lost,
    forwarded,
    local_replies,
    handoffs_out,
    handoffs_in,
    sessions_created,
    sessions_removed,
    /// TSC cycles of loop iterations that found work, and of all iterations: the busy ratio.
    busy_cycles,
    cycles,
    /// Poll iterations that found work, and all iterations.
    busy_polls,
    polls,
}

impl CoreStats {
    #[inline]
    pub fn drop(&mut self, reason: DropReason) {
        self.count_drops(reason, 1);
    }

    #[inline]
    pub fn count_drops(&mut self, reason: DropReason, n: u64) {
        // index() is < COUNT by construction; get_mut keeps the no-panic promise anyway.
        if let Some(c) = self.drops.get_mut(reason.index()) {
            *c += n;
        }
    }

    pub fn total_drops(&self) -> u64 {
        self.drops.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_indices_are_dense_and_names_unique() {
        let all: Vec<_> = DropReason::all().collect();
        assert_eq!(all.len(), DropReason::COUNT);
        for (i, r) in all.iter().enumerate() {
            assert_eq!(r.index(), i, "{r:?}");
        }
        let mut names: Vec<_> = all.iter().map(|r| r.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), DropReason::COUNT);
    }

    #[test]
    fn publish_round_trips() {
        let mut s = CoreStats { rx_packets: 7, polls: 9, ..CoreStats::default() };
        s.drop(DropReason::NoRoute);
        s.sessions_live[0] = 3;
        let shared = SharedStats::default();
        shared.publish(&s);
        assert_eq!(shared.snapshot(), s);
        let mut total = s.clone();
        total.accumulate(&s);
        assert_eq!(
            (total.rx_packets, total.polls, total.sessions_live[0], total.total_drops()),
            (14, 18, 6, 2)
        );
    }
}
