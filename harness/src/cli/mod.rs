//! The `petset` command line's subcommands; each module has its clap `Args` and a `run`.

pub mod images;
