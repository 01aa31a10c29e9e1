//! ferrowall's control plane: configuration, start-up of the dataplane, the management
//! API and its client's views, Prometheus metrics, reload, reporting.
pub mod api;
pub mod config;
pub mod control;
pub mod display;
pub mod fwctl;
pub mod health;
pub mod metrics;
pub mod notify;
pub mod render;
pub mod report;
pub mod run;
pub mod views;
