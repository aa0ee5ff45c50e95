//! The control loop that finishes deletions as the cluster's own controllers would: the end of
//! pods' grace periods (the kubelet's last delete), the pvc- and pv-protection controllers and
//! the namespace controller. It runs after every write and when a timer is due; the rules are
//! in [`crate::deletion`], the store's side in `store_deletion.rs`.

use tokio::time::{Instant, sleep_until};

use crate::handle::Handle;

/// Runs until the server stops (the task is aborted with the others).
pub(crate) async fn run(handle: Handle) {
    loop {
        let next = handle.write(|s| s.reconcile_deletions(Instant::now()));
        let woken = handle.shared.deletions.notified();
        match next {
            Some(due) => {
                tokio::select! {
                    _ = woken => {}
                    _ = sleep_until(due) => {}
                }
            }
            None => woken.await,
        }
    }
}
