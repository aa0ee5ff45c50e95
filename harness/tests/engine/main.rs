//! The engine side against the fake API server and stand-ins: step execution, checks, the
//! timeline recorder, the runner and its reports, and cluster selection and providers.

#[path = "../support/mod.rs"]
mod support;

mod checks_support;
mod cluster_support;
mod runner_support;

mod checks_commands;
mod checks_local_commands;
mod checks_objects;
mod checks_templates;
mod checks_timeline;
mod cluster_images;
mod cluster_probe;
mod cluster_providers;
mod cluster_select;
mod exec_changes;
mod exec_engine;
mod exec_finally;
mod exec_nodes;
mod exec_objects;
mod exec_retries;
mod exec_timeline;
mod exec_waits;
mod report_bounded;
mod report_engine;
mod report_golden;
mod report_junit;
mod report_no_cluster;
mod report_secrets;
mod report_sections;
mod runner_behaviour;
mod runner_matrix;
mod runner_nextest;
mod runner_selection;
mod suite_dir;
