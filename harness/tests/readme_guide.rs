//! The README's authoring guide stays true: every YAML example in "Writing a scenario" reads
//! as the scenario model says (a whole scenario, a list of steps, or targets).

use petset::scenario::model::{Step, Target};
use petset::scenario::{SourceFile, load_source};
use std::path::Path;

fn guide_blocks() -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    let start = readme
        .find("\n## Writing a scenario")
        .expect("the guide section");
    let rest = &readme[start + 1..];
    let end = rest.find("\n## ").map_or(rest.len(), |at| at + 1);
    let section = &rest[..end];
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
