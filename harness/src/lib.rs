//! petset: a declarative test harness and conformance suite for Kubernetes stateful workloads.

pub mod cli;
pub mod cluster;
pub mod events;
pub mod net;
pub mod scenario;
pub mod sql;
pub mod steps;
pub mod timeline;
