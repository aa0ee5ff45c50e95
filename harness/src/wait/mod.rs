//! The wait primitive: watch-driven condition waits under a deadline, and the conditions
//! `wait` steps use.

pub mod conditions;
mod watch;

pub use conditions::{WaitVerdict, evaluate};
pub use watch::{Observation, WaitError, Watched, wait_for};
