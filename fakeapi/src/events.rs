//! Write events: what tests, reactions and controllers see of every change to the store.

use std::fmt;

use serde_json::Value;

/// A Kubernetes API verb, as counted per request and carried by write events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    DeleteCollection,
    /// Websocket upgrades (exec, port-forward) and other non-CRUD requests.
    Connect,
}

impl Verb {
    /// The lowercase name the API uses (`deletecollection`, `watch`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::DeleteCollection => "deletecollection",
            Verb::Connect => "connect",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who made a write: a client over HTTP, or the test through the [`crate::Handle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Api,
    Handle,
}

/// One committed change to one object.
#[derive(Debug, Clone)]
pub struct WriteEvent {
    pub verb: Verb,
    pub origin: Origin,
    /// `status`, `scale` or `eviction` for subresource writes.
    pub subresource: Option<&'static str>,
    /// `v1`, `apps/v1`, ...
    pub api_version: String,
    /// `Pod`, `StatefulSet`, ...
    pub kind: &'static str,
    /// The plural resource name: `pods`, `statefulsets`, ...
    pub resource: &'static str,
    /// `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    pub name: String,
    /// The object after the write; for a removal, its last state.
    pub object: Value,
    /// Whether the object is gone from the store (not merely marked for deletion).
    pub removed: bool,
    /// The resourceVersion this write was given: an opaque string, as clients see it.
    pub resource_version: String,
    /// The write's place in the store's order (1, 2, 3, ...): compare these, never
    /// resourceVersions.
    pub sequence: u64,
}

impl WriteEvent {
    /// Whether this event is about `kind` (case-insensitive kind or plural resource name).
    pub fn is(&self, kind: &str) -> bool {
        self.kind.eq_ignore_ascii_case(kind) || self.resource.eq_ignore_ascii_case(kind)
    }
}
