//! Reaching pods from the test machine: port-forwards, and commands run in a pod through exec.

pub(crate) mod pod_exec;
mod port_forward;
mod upgrade;

pub use port_forward::{ForwardDiagnostics, ForwardFailure, ForwardFailureKind, PortForward};
pub(crate) use upgrade::subprotocol_refusal;
