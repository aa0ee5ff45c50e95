//! The run-level setup failure: when the run could not get its cluster, every cluster scenario
//! fails with the same `setup` failure, and the reports state it once rather than per scenario.

use super::record::{RunRecord, TrialVerdict};
use crate::events::{Failure, FailureKind};

/// The setup failure of the run, if its scenarios were not run for one, and how many.
pub(crate) fn setup_failure(record: &RunRecord) -> Option<(&Failure, usize)> {
    let mut found: Option<(&Failure, usize)> = None;
    for scenario in record.scenarios.values() {
        if let TrialVerdict::Failed(failure) = scenario.verdict()
            && failure.kind == FailureKind::Setup
        {
            found = Some(match found {
                Some((first, count)) => (first, count + 1),
                None => (failure, 1),
            });
        }
    }
    found
}
