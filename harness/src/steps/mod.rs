//! Step kinds carried out against a cluster: one file per kind, sharing a [`StepContext`].

mod context;
mod dispatch;

pub use context::{StepContext, StepReport, StepResult, Variables};
pub use dispatch::run_step;
