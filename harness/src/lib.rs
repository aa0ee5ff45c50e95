//! petset: a declarative test harness and conformance suite for Kubernetes stateful workloads.

pub mod cluster;
pub mod events;
pub mod scenario;
pub mod steps;
pub mod timeline;
