//! SQL against real MariaDB servers on loopback ports: the SQL engine, `sql` steps through the
//! port-forward listener and the fake API server, the MariaDB test support itself, and the
//! MariaDB fixture's own scripts run for real.

#[path = "../support/mod.rs"]
mod support;

mod fixtures_mysql_scripts;
mod sql_engine;
mod sql_forward;
mod sql_mariadb_support;
mod sql_port_forward;
