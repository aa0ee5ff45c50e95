//! Test support for the detection run: what sits behind the emulated pods, the switch table and
//! the report.

mod backend_checks;
mod mariadb_accounts;
pub mod mariadb_backend;
mod mariadb_client;
mod mariadb_pods;
mod pod_env;
mod pod_network;
mod pod_processes;
mod pod_scripts;
pub mod report;
pub mod switches;
