//! Test support for the detection run: what sits behind the emulated pods, the switch table and
//! the report.

mod backend_checks;
pub mod mariadb_backend;
mod pod_env;
mod pod_network;
mod pod_processes;
mod pod_scripts;
pub mod report;
pub mod switches;
