//! Test support for the detection run: what sits behind the emulated pods, the switch table and
//! the report.

pub mod mariadb_backend;
pub mod report;
pub mod switches;
