//! Fuzz harnesses for ferrowall, with the invariants each must keep on any input, not
//! only "no panic":
//!
//! - [`packet_views`]: every view and key extraction on arbitrary bytes; a parsed
//!   representation emits to bytes that parse back to it.
//! - [`pptp_stream`]: a PPTP control connection (one or two clients) whose messages,
//!   chosen by the input, are cut, reordered and repeated as the input says, fed to the
//!   ALG; bytes that leave twice leave alike, no client Call ID reaches the server
//!   untranslated, and once the connections close nothing is left.
//! - [`pipeline`]: frames on both sides of the whole appliance (workers, slow path,
//!   ALG) through the EAL-less Sim, with a clock that moves; every frame is forwarded,
//!   answered or counted, and once every timeout has passed no session, server-map
//!   entry, call or NAT number is left.
//!
//! The harnesses run under libFuzzer (`scripts/fuzz.sh`), and the workspace's tests
//! replay every file of `fuzz/corpus/` and `fuzz/regressions/` through them, so a crash
//! once found stays a test.
#![forbid(unsafe_code)]

mod input;
mod pipeline;
mod pptp;
mod views;

pub use pipeline::pipeline;
pub use pptp::pptp_stream;
pub use views::packet_views;

#[cfg(test)]
mod tests;
