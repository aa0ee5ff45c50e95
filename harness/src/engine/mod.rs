//! The engine: runs whole scenarios against a cluster, each in its own namespace, with cleanup
//! that always happens, and sweeps namespaces left behind by runs that were killed.

mod cleanup;
mod collect;
mod config;
mod forward;
mod namespace;
mod naming;
mod run;
mod sweep;

pub use cleanup::delete_namespace;
pub use config::{EngineConfig, KEEP_ENV, KeepPolicy, ScenarioResult, ScenarioRun};
pub use namespace::{Heartbeat, create as create_namespace};
pub use naming::{
    HEARTBEAT_ANNOTATION, KEPT_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, RUN_LABEL,
    SCENARIO_ANNOTATION, namespace_name, scenario_labels,
};
pub use run::run_scenario;
pub use sweep::{STALE_AFTER, SweepReport, sweep_stale, sweep_stale_older_than};
