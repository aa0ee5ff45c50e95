//! A small in-process stand-in for the Kubernetes API server, used by petset's own tests.
//!
//! It speaks the real wire protocol over plain HTTP on 127.0.0.1, so kube-rs clients and
//! `kubectl` use it unchanged: discovery, CRUD with resourceVersion, selectors, merge/JSON/
//! strategic patches and (approximate) server-side apply, watches with resume and 410 Gone,
//! `/status`, `/scale`, eviction, logs, and exec and port-forward over websockets.
//!
//! Tests drive it through [`Handle`] (via [`FakeApiServer`]'s `Deref`): read and write objects
//! as a controller would, react to writes ([`Handle::on_write`], [`Handle::subscribe`],
//! [`Controller`]), register exec handlers and port-forward targets, and inject faults.
//!
//! What it approximates or leaves out, on purpose (it stays as small as the tests need):
//! - No workload controllers run unless a test adds them: nothing creates a StatefulSet's pods
//!   or binds claims by itself. What the cluster does on deletion does run: owner references are
//!   garbage-collected; pods on a node stay for their grace period (see [`Handle::set_grace_second`]);
//!   claims and volumes keep their protection finalizers while in use; namespaces stay
//!   Terminating while their controller empties them (see `deletion.rs`).
//! - resourceVersions are opaque strings, neither numeric nor ordered (see `version.rs`).
//! - Watches trail writes, as a real API server's watch cache trails etcd: each change reaches
//!   watches 5 to 25 ms after its write was answered, in order (see `lag.rs` and
//!   [`Handle::set_watch_lag`]). Gets and lists are current. A client that must see its own
//!   write in a watch waits for the write's resourceVersion.
//! - Schema validation is limited to what the k8s-openapi types and the table of allowed enum
//!   values can tell: unsupported values are refused (`422`) on API writes of objects, unknown
//!   fields on every server-side apply and on creates, replaces and patches with
//!   `fieldValidation=Strict` (`400`), worded as the API server words them; `dryRun=All`
//!   answers applies, creates, replaces and patches without storing. No
//!   other validation and no admission; a few defaults are filled on create (Service cluster
//!   IPs, `spec.replicas`, pod and claim phases), and status is dropped from API creates.
//! - Server-side apply merges strategically, prunes fields its manager stopped applying, and
//!   refuses (409) an unforced change to a field another manager owns; ordinary writes are
//!   recorded as `Update` managers. Field sets are approximated from the JSON, without schemas.
//! - Lists return every item in one page (`limit`/`continue` are ignored); a watch with a
//!   selector does not turn "stopped matching" into DELETED.
//! - No `Table` output: `kubectl get` prints NAME and AGE columns.
//! - Exec collects stdin up to its end before running the handler (no interactive sessions).
//! - Exec and port-forward negotiate websocket subprotocols as Kubernetes 1.28–1.35 does
//!   (`v5.channel.k8s.io` for exec from 1.30, `v4.channel.k8s.io` otherwise, `403` when none
//!   fits); the base64 and pre-v4 variants, the SPDY port-forward tunnel and SPDY upgrades (what
//!   kubectl falls back to) are answered `501`. A client that closes an exec session (under v4
//!   the only way to end stdin) gets no output and no status, as from the kubelet.
//! - kube's default client retries 429/503/504 (up to 15 times with growing delays), as it
//!   would against a real server: inject 500 to see a failure, or 503 to see a retry.
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
mod controllers;
mod defaults;
mod deletion;
mod discovery;
pub mod emulation;
mod events;
mod exec;
mod faults;
mod handle;
mod lag;
mod managed;
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
mod strict;
mod subprotocol;
mod subresources;
mod version;
mod watch;

pub use events::{Origin, Verb, WriteEvent};
pub use exec::{ExecOutput, ExecRequest, ExecStdin};
pub use faults::{Lasting, RequestFilter, Transient};
pub use handle::{Controller, Handle};
pub use server::{Error, FakeApiServer};
pub use status::ApiError;
pub use subprotocol::PortForwardRefusal;
