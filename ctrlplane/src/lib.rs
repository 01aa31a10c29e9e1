//! ferrowall's control plane: configuration, start-up of the dataplane, reporting.
pub mod config;
pub mod report;
pub mod run;
