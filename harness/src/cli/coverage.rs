//! `petset coverage [DIR]`: which scenarios of the suite at DIR cover each behaviour of its
//! catalogue, and which behaviours nothing covers. A suite without a catalogue gets one row
//! per id its scenarios name.

use petset::error_chain::ErrorChain;
use petset::scenario::catalogue::CATALOGUE_PATH;
use petset::scenario::discover::repo_root;
use petset::scenario::suite::{Suite, load_suite};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The suite directory, holding scenarios/, fixtures/ and an optional catalogue.yaml
    /// (default: found from the working directory).
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The same as DIR (kept for scripts that pass it by name).
    #[arg(long, value_name = "DIR", conflicts_with = "dir")]
    pub root: Option<PathBuf>,
    /// Print JSON: `{"behaviours": [{"id", "group", "summary", "scenarios"}], "uncovered": [...]}`.
    #[arg(long)]
    pub json: bool,
}

/// Behaviour id -> the scenarios (`area::name`) that cover it, in catalogue order.
pub fn coverage(suite: &Suite) -> Vec<(String, String, String, Vec<String>)> {
    let mut by_id: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for loaded in &suite.scenarios {
        for id in &loaded.scenario.covers {
            by_id
                .entry(id.value.as_str())
                .or_default()
                .push(loaded.id.to_string());
        }
    }
    let Some(catalogue) = &suite.catalogue else {
        // No catalogue: every declared id is a row of its own, in id order.
        return by_id
            .into_iter()
            .map(|(id, scenarios)| (id.to_string(), String::new(), String::new(), scenarios))
            .collect();
    };
    catalogue
        .groups
        .iter()
        .flat_map(|group| group.behaviours.iter().map(move |b| (group, b)))
        .map(|(group, behaviour)| {
            let scenarios = by_id.remove(behaviour.id.as_str()).unwrap_or_default();
            (
                behaviour.id.clone(),
                group.name.clone(),
                behaviour.summary.clone(),
                scenarios,
            )
        })
        .collect()
}

/// Runs `petset coverage`.
pub fn run(args: Args) -> ExitCode {
    let Some(root) = args.dir.or(args.root).or_else(repo_root) else {
        eprintln!(
            "error: failed to find the suite (a directory holding scenarios/ and fixtures/); pass it: petset coverage DIR"
        );
        return ExitCode::from(2);
    };
    let suite = match load_suite(&root) {
        Ok(suite) => suite,
        Err(error) => {
            // The cause (the I/O error) is a `#[source]`, not part of the message.
            eprintln!("error: {}", ErrorChain(&error));
            return ExitCode::from(2);
        }
    };
    let rows = coverage(&suite);
    let uncovered: Vec<&str> = rows
        .iter()
        .filter(|row| row.3.is_empty())
        .map(|row| row.0.as_str())
        .collect();
    if args.json {
        let behaviours: Vec<_> = rows
            .iter()
            .map(|(id, group, summary, scenarios)| {
                json!({"id": id, "group": group, "summary": summary, "scenarios": scenarios})
            })
            .collect();
        let mut report = json!({"behaviours": behaviours, "uncovered": uncovered});
        if suite.catalogue.is_none() {
            report["noCatalogue"] = json!(true);
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        if suite.catalogue.is_none() {
            println!(
                "This suite has no catalogue ({}): the rows are the ids its scenarios name in \
                 `covers`.",
                root.join(CATALOGUE_PATH).display()
            );
        }
        let width = rows.iter().map(|row| row.0.len()).max().unwrap_or(0);
        let mut group = "";
        for (id, group_name, _, scenarios) in &rows {
            if group_name != group {
                println!("{group_name}");
                group = group_name;
            }
            let covered = if scenarios.is_empty() {
                "-".to_owned()
            } else {
                scenarios.join(", ")
            };
            println!("  {id:width$}  {covered}");
        }
        println!();
        println!(
            "{} of {} behaviours covered",
            rows.len() - uncovered.len(),
            rows.len()
        );
        if !uncovered.is_empty() {
            println!("not covered: {}", uncovered.join(", "));
        }
    }
    if suite.has_errors() {
        eprintln!(
            "note: {} file(s) with errors are not counted; run `petset lint`",
            suite.problems.len()
        );
    }
    ExitCode::SUCCESS
}
