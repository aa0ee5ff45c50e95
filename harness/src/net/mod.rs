//! Reaching pods from the test machine.

mod port_forward;
mod upgrade;

pub use port_forward::{ForwardDiagnostics, ForwardFailure, ForwardFailureKind, PortForward};
pub use upgrade::{OFFERED_SUBPROTOCOLS, subprotocol_refusal};
