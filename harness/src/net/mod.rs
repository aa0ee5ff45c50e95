//! Reaching pods from the test machine.

mod port_forward;

pub use port_forward::{ForwardDiagnostics, ForwardFailure, ForwardFailureKind, PortForward};
