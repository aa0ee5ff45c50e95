//! Reaching pods from the test machine.

mod port_forward;
mod upgrade;

pub use port_forward::{ForwardDiagnostics, ForwardFailure, ForwardFailureKind, PortForward};
pub(crate) use upgrade::subprotocol_refusal;
