//! Dynamic access to the Kubernetes API by [`Kind`](crate::scenario::model::Kind), with one retry
//! policy for transient errors inside a deadline.

pub(crate) mod claims;
mod error;
mod objects;
mod render;
mod resource;
mod retried;
mod retry;
mod watch_error;

pub use error::{ApiError, describe_kube_error, kube_error_kind};
pub use objects::{get_opt, list_target, object_ref};
pub use render::{render_objects, render_value, to_value};
pub use resource::{api_resource, dynamic_api};
pub(crate) use retried::note_retry;
pub use retried::{Retried, RetryCause, counting};
pub use retry::{
    Backoff, OnConflict, is_transient, retry_call, retry_cause, server_pause, with_retry,
    with_retry_on_conflict,
};
pub use watch_error::{WatchTrouble, describe_watch_error, watch_trouble};
