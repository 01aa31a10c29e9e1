//! What a reload may change, as one immutable value: zones, security policy, NAT policy
//! and timeouts. Workers hold it behind an `Arc` and swap it between bursts.
use crate::nat::NatRules;
use crate::policy::{Policy, Zones};
use crate::session::Timeouts;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ruleset {
    pub zones: Zones,
    pub policy: Policy,
    pub nat: NatRules,
    pub timeouts: Timeouts,
}
