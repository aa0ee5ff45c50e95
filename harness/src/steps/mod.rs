//! Step kinds carried out against a cluster: one file per kind, sharing a [`StepContext`].

mod apply;
mod capture;
mod context;
mod cordon;
mod delete;
mod dispatch;
mod drain;
pub mod manifest;
mod patch;
mod rollout;
mod scale;
mod wait;

pub use apply::FIELD_MANAGER;
pub use context::{CordonedNodes, StepContext, StepReport, StepResult, Variables};
pub use dispatch::run_step;
pub use patch::CHANGE_CAUSE;
pub use wait::describe as describe_wait;
