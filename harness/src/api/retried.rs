//! Counting the API retries a step needed, so its report says "retried 2 times: 429, 503".
//!
//! The retry loop notes each retry in a task-local count that the step dispatcher opens around
//! each step ([`counting`]); calls outside a step (cleanup, sweeps) are not counted.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;

/// Why a call was retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryCause {
    /// The server answered with this code (409, 429, 5xx, ...).
    Status(u16),
    /// The connection dropped or the request could not be sent.
    Disconnected,
}

impl fmt::Display for RetryCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetryCause::Status(code) => write!(f, "{code}"),
            RetryCause::Disconnected => f.write_str("connection lost"),
        }
    }
}

/// The retries of one step, by cause in the order first seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retried {
    causes: Vec<(RetryCause, u32)>,
}

impl Retried {
    /// How many retries in all.
    pub fn count(&self) -> u32 {
        self.causes.iter().map(|(_, n)| n).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.causes.is_empty()
    }

    fn note(&mut self, cause: RetryCause) {
        match self.causes.iter_mut().find(|(seen, _)| *seen == cause) {
            Some((_, n)) => *n += 1,
            None => self.causes.push((cause, 1)),
        }
    }
}

/// `retried 3 times: 429 ×2, 503`.
impl fmt::Display for Retried {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.count();
        write!(
            f,
            "retried {count} time{}: ",
            if count == 1 { "" } else { "s" }
        )?;
        for (i, (cause, n)) in self.causes.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{cause}")?;
            if *n > 1 {
                write!(f, " ×{n}")?;
            }
        }
        Ok(())
    }
}

tokio::task_local! {
    static STEP_RETRIES: RefCell<Retried>;
}

/// Runs `work`, counting the API retries made on its task.
pub async fn counting<F: Future>(work: F) -> (F::Output, Retried) {
    STEP_RETRIES
        .scope(RefCell::new(Retried::default()), async {
            let output = work.await;
            let retried = STEP_RETRIES.with(RefCell::take);
            (output, retried)
        })
        .await
}

/// Notes one retry in the count of the step running on this task, if any.
pub(crate) fn note_retry(cause: RetryCause) {
    // Outside a step (cleanup, sweeps) there is nothing to count into.
    let _ = STEP_RETRIES.try_with(|retried| retried.borrow_mut().note(cause));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_retries_by_cause_within_its_scope_only() {
        note_retry(RetryCause::Status(503));
        let ((), retried) = counting(async {
            note_retry(RetryCause::Status(429));
            note_retry(RetryCause::Disconnected);
            note_retry(RetryCause::Status(429));
        })
        .await;
        assert_eq!(retried.count(), 3);
        assert_eq!(
            retried.to_string(),
            "retried 3 times: 429 ×2, connection lost"
        );
        let ((), none) = counting(async {}).await;
        assert!(none.is_empty());
    }
}
