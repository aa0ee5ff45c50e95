//! Stopping a run early: the first Ctrl-C cancels the running scenarios (their cleanup still
//! runs) and starts no new ones; a second one stops waiting for cleanup. Either way the run
//! returns normally, so the reports are written and the cluster is torn down.

use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

/// The run's stop switch, shared by every trial.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    cancel: CancellationToken,
    abandon: CancellationToken,
    reason: Arc<Mutex<Option<String>>>,
}

impl Interrupt {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops the run: the first call cancels running scenarios, the second abandons their
    /// cleanup. Returns whether this was the first call.
    pub fn trigger(&self, why: &str) -> bool {
        let mut reason = self
            .reason
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if reason.is_none() {
            *reason = Some(why.to_string());
            self.cancel.cancel();
            true
        } else {
            self.abandon.cancel();
            false
        }
    }

    /// Why the run was stopped, if it was.
    pub fn reason(&self) -> Option<String> {
        self.reason
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub fn is_triggered(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// A token cancelled when the run stops (and cancellable on its own, for a deadline).
    pub fn child_token(&self) -> CancellationToken {
        self.cancel.child_token()
    }

    pub async fn triggered(&self) {
        self.cancel.cancelled().await
    }

    pub async fn abandoned(&self) {
        self.abandon.cancelled().await
    }

    /// Whether cleanup waits have been abandoned (a second Ctrl-C).
    pub fn abandoned_now(&self) -> bool {
        self.abandon.is_cancelled()
    }

    /// Listens for Ctrl-C on `handle`'s runtime for the rest of the process.
    pub fn listen_for_ctrl_c(&self, handle: &tokio::runtime::Handle) {
        let interrupt = self.clone();
        handle.spawn(async move {
            loop {
                if let Err(err) = tokio::signal::ctrl_c().await {
                    eprintln!("petset: failed to listen for Ctrl-C: {err}");
                    return;
                }
                if interrupt.trigger("interrupted by Ctrl-C") {
                    eprintln!(
                        "\npetset: interrupted: cancelling running scenarios and cleaning up \
                         (Ctrl-C again to stop waiting for cleanup)"
                    );
                } else {
                    eprintln!("\npetset: interrupted again: no longer waiting for cleanup");
                    return;
                }
            }
        });
    }
}
