//! petset: a declarative test harness and conformance suite for Kubernetes stateful workloads.
//!
//! The scenario language (model, loading, validation, schema, matching) is the
//! `petset-scenario` crate, re-exported here as [`scenario`] and [`expect`]; this crate runs
//! scenarios against a cluster.

pub mod api;
mod clock;
pub mod cluster;
pub mod diagnostics;
pub mod engine;
pub mod error_chain;
pub mod events;
pub mod net;
pub mod redact;
pub mod report;
pub mod runner;
pub mod sql;
pub mod steps;
pub mod timeline;
pub mod wait;

pub use petset_scenario as scenario;
pub use petset_scenario::expect;
