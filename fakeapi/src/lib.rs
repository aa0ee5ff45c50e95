//! A small in-process stand-in for the Kubernetes API server, used by petset's own tests.
//!
//! It speaks the real wire protocol over plain HTTP on 127.0.0.1, so kube-rs clients and
//! `kubectl` use it unchanged: discovery, CRUD with resourceVersion, selectors, merge/JSON/
//! strategic patches and (approximate) server-side apply, watches with resume and 410 Gone,
//! `/status`, `/scale`, eviction, logs, and exec and port-forward over websockets.
//!
//! Tests drive it through [`Handle`] (via [`FakeApiServer`]'s `Deref`): read and write objects
//! as a controller would, react to writes, and inject faults.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use petset_fakeapi::FakeApiServer;
//! let server = FakeApiServer::start().await?;
//! server.write_kubeconfig("/tmp/kubeconfig")?;
//! server.set_pod_ready("default", "web-0", true, Some("10.244.0.5")).ok();
//! # Ok(()) }
//! ```

mod apply;
mod defaults;
mod discovery;
mod events;
mod exec;
mod faults;
mod handle;
mod meta;
mod openapi;
mod patch;
mod path;
mod portforward;
mod resources;
mod rest;
mod selectors;
mod server;
mod status;
mod store;
mod subresources;
mod watch;

pub use events::{Origin, Verb, WriteEvent};
pub use exec::{ExecOutput, ExecRequest};
pub use faults::{Lasting, RequestFilter};
pub use handle::{Controller, Handle};
pub use server::{Error, FakeApiServer};
pub use status::ApiError;
