//! Test support for the detection run: what sits behind the emulated pods.

pub mod mariadb_backend;
