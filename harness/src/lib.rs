//! petset: a declarative test harness and conformance suite for Kubernetes stateful workloads.

pub mod api;
pub mod cli;
mod clock;
pub mod cluster;
pub mod diagnostics;
pub mod engine;
pub mod error_chain;
pub mod events;
pub mod expect;
pub mod net;
pub mod redact;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sql;
pub mod steps;
pub mod timeline;
pub mod wait;
