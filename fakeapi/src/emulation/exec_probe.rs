//! Readiness probes whose command is a process in the container (the database client asking its
//! server `SELECT 1`): run through the pod's exec path in the background, one at a time per pod,
//! while the kubelet reads the verdict of the last finished run. The command is answered by
//! whatever answers that exec (a test backend's real server), so readiness follows the server and
//! the client binary being where the probe expects it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::objects::{arr, int, name, s, uid};
use super::state::{Runtime, Shared};
use crate::exec::{ExecRequest, ExecStdin};
use crate::handle::lock;

/// A real process cannot keep the scaled clock's pace (a 2 s probe period is 200 ms here, its
/// 1 s timeout 100 ms), so it gets at least this period and this timeout.
const PROCESS_PERIOD: Duration = Duration::from_millis(500);
const PROCESS_TIMEOUT: Duration = Duration::from_secs(10);

/// One pod's probe runs.
#[derive(Debug, Default)]
pub(crate) struct ExecProbe {
    /// The last finished run's verdict; `None` before the first.
    verdict: Option<bool>,
    running: bool,
    last_start: Option<Instant>,
}

/// The verdict of the probe's last run (failing until one has passed), starting the next run
/// when one is due. `slot` is the pod's record, borrowed from the runtime the caller has locked;
/// `slot_of` finds it again for the run's verdict.
pub(crate) fn passes(
    shared: &Arc<Shared>,
    pod: &Value,
    probe: &Value,
    slot: &mut ExecProbe,
    slot_of: fn(&mut Runtime) -> &mut ExecProbe,
) -> bool {
    let period = scaled(shared, probe, "periodSeconds", 10).max(PROCESS_PERIOD);
    let timeout = scaled(shared, probe, "timeoutSeconds", 1).max(PROCESS_TIMEOUT);
    let pod_uid = uid(pod).to_string();
    let due = slot.last_start.is_none_or(|t| t.elapsed() >= period);
    let launch = !slot.running && due;
    if launch {
        slot.running = true;
        slot.last_start = Some(Instant::now());
    }
    let verdict = slot.verdict.unwrap_or(false);
    if launch {
        let request = ExecRequest {
            namespace: s(pod, "/metadata/namespace").to_string(),
            pod: name(pod).to_string(),
            container: arr(pod, "/spec/containers")
                .first()
                .map(|c| s(c, "/name").to_string()),
            command: arr(probe, "/exec/command")
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            stdin: Vec::new(),
            tty: false,
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let run = super::exec::run(shared.clone(), request, ExecStdin::empty());
            let passed = matches!(
                tokio::time::timeout(timeout, run).await,
                Ok(out) if out.exit_code == 0
            );
            if let Some(rt) = lock(&shared.pods).get_mut(&pod_uid) {
                let slot = slot_of(rt);
                slot.running = false;
                slot.verdict = Some(passed);
            }
        });
    }
    verdict
}

/// A probe's `field` seconds on the emulation's clock.
fn scaled(shared: &Shared, probe: &Value, field: &str, default: i64) -> Duration {
    shared
        .config
        .spec_seconds(int(probe, &format!("/{field}")).unwrap_or(default))
}
