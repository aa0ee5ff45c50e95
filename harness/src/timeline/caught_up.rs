//! The barrier before any verdict read from the recorded timeline: the recorder's watch of the
//! subjects' kind must have delivered everything a fresh list of the API server shows (see
//! [`super::delivered`]), so that a change the server committed before the check cannot be
//! missing from the history the verdict is read from.

use super::delivered::{Listed, wait_until_delivered};
use super::{RECORDED_KINDS, Timeline};
use crate::api::{dynamic_api, with_retry};
use crate::scenario::model::Kind;
use kube::api::ListParams;
use tokio::time::Instant;

/// Why no verdict can be read from the recorded timeline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoEvidence {
    /// The scenario asks about a kind the recorder does not follow.
    #[error("{0}")]
    NotRecorded(String),
    /// The recorder could not be shown to have caught up in time: petset could not ask, the
    /// cluster is not shown to be wrong.
    #[error("{0}")]
    NotConfirmed(String),
}

/// Waits until the recorder's watch of `kind` has caught up with the API server as of now, at
/// most until `deadline`. The error is one sentence saying why petset has no evidence to judge
/// by (never that the cluster is wrong).
pub async fn recorder_caught_up(
    client: &kube::Client,
    namespace: &str,
    timeline: &Timeline,
    kind: Kind,
    deadline: Instant,
) -> Result<(), NoEvidence> {
    if !recorded(kind) {
        let followed: Vec<&str> = RECORDED_KINDS.iter().map(|kind| kind.plural()).collect();
        return Err(NoEvidence::NotRecorded(format!(
            "the timeline records no {}; it follows {} and the namespace's persistentvolumes",
            kind.plural(),
            followed.join(", ")
        )));
    }
    // The whole kind in scope, not only the subjects: an object that left a selector is still
    // one the recorder holds.
    let api = dynamic_api(client, kind, namespace);
    let what = format!("list {} to check the recorder has caught up", kind.plural());
    let params = ListParams::default();
    let list = || async {
        let list = with_retry(&what, deadline, || api.list(&params)).await?;
        Ok(list.items.iter().map(Listed::of).collect())
    };
    wait_until_delivered(&timeline.delivered(kind), list, deadline)
        .await
        .map_err(|not_confirmed| {
            NoEvidence::NotConfirmed(
                not_confirmed.describe(&format!("the recorder's watch of {}", kind.plural())),
            )
        })
}

fn recorded(kind: Kind) -> bool {
    kind == Kind::PersistentVolume || RECORDED_KINDS.contains(&kind)
}
