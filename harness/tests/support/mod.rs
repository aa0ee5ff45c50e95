//! Test support shared by the harness's integration tests.

pub mod manifests;
pub mod mariadb;
pub mod test_cluster;
