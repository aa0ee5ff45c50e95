//! The README's examples stay true: every YAML example in "Writing a scenario" reads as the
//! scenario model says (a whole scenario, a list of steps, or targets), and every scenario or
//! step list anywhere in the README lints clean against the shipped fixtures.

use petset::scenario::model::{Step, Target};
use petset::scenario::{
    Checker, SourceFile, check_source, load_catalogue, load_source, render_plain,
};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn readme() -> String {
    std::fs::read_to_string(repo().join("README.md")).expect("README.md")
}

fn guide_blocks() -> Vec<String> {
    let readme = readme();
    let start = readme
        .find("\n## Writing a scenario")
        .expect("the guide section");
    let rest = &readme[start + 1..];
    let end = rest.find("\n## ").map_or(rest.len(), |at| at + 1);
    yaml_blocks(&rest[..end])
}

/// The bodies of the ```yaml blocks of `section`.
fn yaml_blocks(section: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "```yaml" {
            let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            blocks.push(block.join("\n") + "\n");
        }
    }
    blocks
}

#[test]
fn every_example_in_the_guide_parses() {
    let blocks = guide_blocks();
    assert!(blocks.len() >= 6, "found {} yaml blocks", blocks.len());
    let mut steps_seen = std::collections::BTreeSet::new();
    for block in &blocks {
        let content: Vec<&str> = block
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .collect();
        if content.is_empty() {
            continue;
        }
        if block.contains("\ndescription:") || block.starts_with("description:") {
            if let Err(problems) = load_source(&SourceFile::new("README.md", block.as_str())) {
                panic!("{}", petset::scenario::render_plain(&problems));
            }
        } else if content.iter().all(|l| l.starts_with("target:")) {
            for line in content {
                #[derive(serde::Deserialize)]
                #[allow(dead_code)]
                struct One {
                    target: Target,
                }
                serde_saphyr::from_str::<One>(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            }
        } else if content[0].starts_with("- ") {
            let steps: Vec<Step> = serde_saphyr::from_str(block)
                .unwrap_or_else(|e| panic!("README example does not parse:\n{block}\n{e}"));
            steps_seen.extend(steps.iter().map(Step::kind_name));
        } else {
            panic!("unrecognised README example:\n{block}");
        }
    }
    let missing: Vec<&&str> = Step::KIND_NAMES
        .iter()
        .filter(|kind| !steps_seen.contains(**kind))
        .collect();
    assert!(
        missing.is_empty(),
        "the guide shows no example of {missing:?}"
    );
}

/// Every shipped fixture file that holds manifests (the cluster configurations do not).
fn shipped_fixtures() -> Vec<String> {
    let base = repo().join("fixtures");
    let mut found = Vec::new();
    let mut pending = vec![base.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixtures folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                if !path.ends_with("clusters") {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "yaml") {
                let relative = path.strip_prefix(&base).expect("under fixtures");
                found.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_readme_scenario_and_step_list_lints_clean_against_the_shipped_fixtures() {
    let root = repo();
    let checker = Checker::new(&root, load_catalogue(&root).expect("catalogue"));
    let fixtures = shipped_fixtures();
    assert!(fixtures.len() >= 5, "{fixtures:?}");
    let mut linted = 0;
    let mut failures = Vec::new();
    for (index, block) in yaml_blocks(&readme()).iter().enumerate() {
        let scenario = if block.starts_with("description:") {
            block.clone()
        } else if block.lines().any(|l| l.starts_with("- ")) && !block.contains("\nservices:") {
            // A list of steps: linted after every shipped fixture is applied, so it may name
            // any object, Secret and key they hold.
            let steps: String = block.lines().map(|line| format!("  {line}\n")).collect();
            format!(
                "description: README example\ncovers: [STS-NAME-1]\nsteps:\n  - apply: {{files: [{}]}}\n{steps}",
                fixtures.join(", ")
            )
        } else {
            continue;
        };
        linted += 1;
        let checked = check_source(
            &checker,
            SourceFile::new(format!("README.md yaml block {}", index + 1), scenario),
        );
        let errors: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        if !errors.is_empty() {
            failures.push(render_plain(&errors));
        }
    }
    assert!(linted >= 6, "only {linted} examples linted");
    let fixture_problems = checker.fixture_problems();
    assert!(fixture_problems.is_empty(), "{fixture_problems:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
