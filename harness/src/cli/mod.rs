//! The `petset` command line's subcommands, part of the binary only (clap stays out of the
//! library's API); each module has its clap `Args` and a `run`.

pub mod coverage;
pub mod images;
pub mod init;
pub mod lint;
mod lint_server;
pub mod schema;
pub mod test;
