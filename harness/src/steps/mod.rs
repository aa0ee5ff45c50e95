//! Step kinds carried out against a cluster: one file per kind, sharing a [`StepContext`].
//!
//! Each kind's file implements [`dispatch::Execute`] for the kind's marker type from
//! `petset_scenario::kinds`, where the kind's name, schema, checks, summary, targets and time
//! limit live; the `mod` line of each kind and the dispatch are generated from the same registry
//! of kinds.

mod context;
mod dispatch;
mod dns_answer;
pub mod dns_probe;
mod eventually;
mod http_wire;
mod kubeconfig_file;
mod local_process;
pub mod manifest;
mod pods;

/// Each step kind's file, named by the registry of kinds.
macro_rules! kind_modules {
    ($( $(#[$doc:meta])* $module:ident: $variant:ident($body:ident), )*) => {
        $( mod $module; )*
    };
}

petset_scenario::step_kinds!(kind_modules);

pub use apply::FIELD_MANAGER;
pub(crate) use command::run_collector_command;
pub use context::{
    CordonedNodes, DEFAULT_CLUSTER_DOMAIN, StepContext, StepReport, StepResult, Variables,
};
pub use dispatch::run_step;
pub use patch::CHANGE_CAUSE;
pub use sql::{DEFAULT_FIGURE, build_plan, execute_sql_step, run_sql_step, step_label};
