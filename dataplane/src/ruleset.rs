//! What a reload may change, as one immutable value: zones and their guards, security
//! policy, NAT policy, ALG enablement and timeouts. Workers hold it behind an `Arc` and swap it between bursts.
use crate::nat::NatRules;
use crate::policy::{Guards, Policy, ZoneId, Zones};
use crate::session::Timeouts;

/// The zone pairs whose connections the ALGs inspect (the reference appliance's
/// `detect pptp` in an interzone). A pair covers connections opened in either direction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlgRules {
    pub pptp: Vec<(ZoneId, ZoneId)>,
}

impl AlgRules {
    pub fn pptp(&self, from: ZoneId, to: ZoneId) -> bool {
        self.pptp.iter().any(|&(a, b)| (a, b) == (from, to) || (b, a) == (from, to))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ruleset {
    pub zones: Zones,
    /// Per-zone scrub and access to the appliance.
    pub guards: Guards,
    pub policy: Policy,
    pub nat: NatRules,
    pub alg: AlgRules,
    pub timeouts: Timeouts,
}
