//! Flows: the key a packet is looked up by, and which worker owns it.
pub mod key;
pub mod owner;
pub mod toeplitz;

pub use key::{FlowKey, L4Info};
pub use owner::{Owner, OwnerMap};
pub use toeplitz::{Toeplitz, SYMMETRIC_KEY};
