//! The accounts a MariaDB pod's server gets, as the image's entrypoint makes them, and the
//! statements the fault switches run as root.

use super::super::support::mariadb::MariaDb;
use super::pod_env::lookup;

/// `text` as a single-quoted SQL string.
fn sql_quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// What the image's entrypoint does on an empty data directory: the accounts from the
/// container's environment (kept out of the binlog; replicas get them with their clone).
pub(super) fn entrypoint(server: &MariaDb, env: &[(String, String)]) -> Result<(), String> {
    let get = |name: &str| lookup(env, name).unwrap_or_default();
    let (database, user) = (get("MARIADB_DATABASE"), get("MARIADB_USER"));
    let root = sql_quote(get("MARIADB_ROOT_PASSWORD"));
    let mut sql = format!(
        "SET sql_log_bin=0; \
         CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY {root}; \
         GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION; "
    );
    if !database.is_empty() {
        sql += &format!("CREATE DATABASE IF NOT EXISTS `{database}`; ");
    }
    if !user.is_empty() {
        let password = sql_quote(get("MARIADB_PASSWORD"));
        sql += &format!("CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY {password}; ");
        if !database.is_empty() {
            sql += &format!("GRANT ALL PRIVILEGES ON `{database}`.* TO '{user}'@'%'; ");
        }
    }
    let repl = get("MARIADB_REPLICATION_USER");
    if !repl.is_empty() {
        let password = sql_quote(get("MARIADB_REPLICATION_PASSWORD"));
        sql += &format!(
            "CREATE USER IF NOT EXISTS '{repl}'@'%' IDENTIFIED BY {password}; \
             GRANT REPLICATION SLAVE ON *.* TO '{repl}'@'%'; "
        );
    }
    sql += &format!(
        "ALTER USER IF EXISTS 'root'@'127.0.0.1' IDENTIFIED BY {root}; \
         ALTER USER IF EXISTS 'root'@'::1' IDENTIFIED BY {root}; \
         ALTER USER 'root'@'localhost' IDENTIFIED BY {root};"
    );
    server
        .sql(&sql)
        .map(drop)
        .map_err(|e| format!("the entrypoint's accounts: {e}"))
}

/// One statement as root.
pub(super) fn admin(server: &MariaDb, root_password: &str, sql: &str) -> Result<(), String> {
    server
        .sql_as("root", root_password, sql)
        .map(drop)
        .map_err(|e| e.to_string())
}
