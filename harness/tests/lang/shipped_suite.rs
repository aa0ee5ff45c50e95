//! The shipped suite lints clean: every scenario under `scenarios/` loads and passes the checks,
//! and every fixture it applies fits its Kubernetes type.

use petset::scenario::load_suite;
use std::path::Path;

#[test]
fn every_shipped_scenario_and_fixture_is_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness crate lives in the repository");
    let suite = load_suite(root).expect("the suite can be read");
    assert!(
        !suite.has_errors(),
        "petset lint would fail:\n{}",
        suite.render_problems()
    );
    let catalogue = suite
        .catalogue
        .as_ref()
        .expect("the shipped suite has a catalogue");
    for scenario in &suite.scenarios {
        for id in &scenario.scenario.covers {
            assert!(catalogue.contains(&id.value), "{}", scenario.id);
        }
    }
    eprintln!("{} shipped scenarios are valid", suite.scenarios.len());
}
