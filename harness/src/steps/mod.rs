//! Step kinds carried out against a cluster: one file per kind, sharing a [`StepContext`].

mod apply;
mod context;
mod delete;
mod dispatch;
pub mod manifest;
mod scale;
mod wait;

pub use apply::FIELD_MANAGER;
pub use context::{CordonedNodes, StepContext, StepReport, StepResult, Variables};
pub use dispatch::run_step;
pub use wait::describe as describe_wait;
