//! Opt-in controller emulation: just enough of the StatefulSet, Deployment/ReplicaSet, Service,
//! volume and kubelet behaviour for petset's shipped scenarios to run end to end against the
//! fake, with [`Fault`] switches that each break one catalogue behaviour.
//!
//! Nothing here runs unless a test calls [`Emulation::start`]. It is a model for testing the
//! harness, not a Kubernetes: level-triggered loops that look at the store every tick and make
//! one small change at a time, so each controller action takes about one tick.

mod config;
mod deployment;
mod dns;
mod exec;
mod exec_probe;
mod files;
mod http;
mod kubelet;
mod nodes;
mod objects;
mod probes;
mod replicaset;
mod runner;
mod service;
mod state;
mod statefulset;
mod volumes;

pub use config::{Backend, EmulationConfig, Fault, PodInfo};
pub use runner::Emulation;
