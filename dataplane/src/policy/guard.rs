//! What each zone checks of the packets it brings, and what it may ask of the appliance
//! itself: the per-zone scrub (as pf's `scrub` and a commercial firewall's screens).
//!
//! The defaults are strict, since a zone usually faces hosts no one vouches for: a new
//! flow's source must route back out of the port it came in by, source-routed packets
//! are dropped, and the appliance answers a ping only for the address of the interface
//! the ping came in on (so the inside addressing is not disclosed to the Internet).
use super::ZoneId;

/// How a new flow's source address is checked against the routes (RFC 3704).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReversePath {
    /// The route back to the source leaves by the port the packet came in by.
    #[default]
    Strict,
    /// There is some route back to the source.
    Loose,
    Off,
}

/// Which of the appliance's addresses answer pings from a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PingAccess {
    /// Only the address of the interface the ping arrives on.
    #[default]
    Interface,
    /// Any of the appliance's addresses.
    Any,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ZoneGuard {
    pub reverse_path: ReversePath,
    /// Forward packets carrying loose or strict source routes (IPv4 options 131, 137).
    pub source_route: bool,
    pub ping: PingAccess,
}

/// The guards of all zones, by zone id; a zone without one gets the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guards(pub Vec<ZoneGuard>);

impl Guards {
    #[inline]
    pub fn of(&self, zone: ZoneId) -> ZoneGuard {
        self.0.get(usize::from(zone)).copied().unwrap_or_default()
    }
}
