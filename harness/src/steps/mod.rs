//! Step kinds carried out against a cluster: one file per kind, sharing a [`StepContext`].
//!
//! Each kind's file implements [`dispatch::Execute`] for the kind's marker type from
//! `petset_scenario::kinds`, where the kind's name, schema, checks, summary, targets and time
//! limit live; the dispatch is generated from the same registry of kinds.

mod apply;
mod assert;
mod capture;
mod command;
mod context;
mod cordon;
mod delete;
mod dispatch;
mod dns;
mod dns_answer;
pub mod dns_probe;
mod drain;
mod eventually;
mod exec;
mod http;
mod http_wire;
mod kubeconfig_file;
mod local_process;
pub mod manifest;
mod mark;
mod observe;
mod patch;
mod pods;
mod rollout;
mod scale;
mod sql;
mod timeline;
mod wait;

pub use apply::FIELD_MANAGER;
pub(crate) use command::run_collector_command;
pub use context::{
    CordonedNodes, DEFAULT_CLUSTER_DOMAIN, StepContext, StepReport, StepResult, Variables,
};
pub use dispatch::run_step;
pub use patch::CHANGE_CAUSE;
pub use sql::{DEFAULT_FIGURE, build_plan, execute_sql_step, run_sql_step, step_label};
