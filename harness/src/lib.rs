//! petset: a declarative test harness and conformance suite for Kubernetes stateful workloads.

pub mod events;
pub mod scenario;
