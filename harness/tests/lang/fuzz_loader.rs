//! No panic on any input: mutated scenario files fed through loading, checking and rendering.
//!
//! A small seeded PRNG mutates every file of the corpora (broken and clean, plus the shipped
//! suite) the ways people and editors break YAML: cut, duplicated and swapped lines, stray
//! indicators and quotes, re-indentation, truncation, look-alike words. `PETSET_FUZZ_CASES`
//! (default 100000) and `PETSET_FUZZ_SEED` change the run; a panicking input is written to
//! `fuzz-failure.yaml` in the temp dir and its case number printed, so it can be replayed.

use petset::scenario::{Checker, SourceFile, check_source, load_catalogue, render_plain};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// SplitMix64: tiny, seedable, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        if bound == 0 {
            0
        } else {
            (self.next() % bound as u64) as usize
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const SNIPPETS: &[&str] = &[
    ":",
    ": ",
    "- ",
    "-",
    "[",
    "]",
    "{",
    "}",
    ",",
    "'",
    "\"",
    "#",
    "&a ",
    "*a",
    "!",
    "!!str ",
    "|",
    ">",
    "\n",
    "\n  ",
    "    ",
    "\t",
    "%",
    "@",
    "`",
    "${",
    "${x}",
    "${pod}",
    "}",
    "~",
    "null",
    "0755",
    "08",
    "1e999",
    ".nan",
    "-1",
    "99999999999999999999",
    "é",
    "\u{feff}",
    "\u{0}",
    "<<: *a",
    "---\n",
    "...\n",
    "? ",
    "\\",
    "\r\n",
    "😀",
];

const WORDS: &[&str] = &[
    "apply",
    "delete",
    "scale",
    "patch",
    "rollout",
    "wait",
    "exec",
    "sql",
    "dns",
    "http",
    "assert",
    "timeline",
    "capture",
    "mark",
    "cordon",
    "uncordon",
    "drain",
    "observe",
    "target",
    "replicas",
    "files",
    "manifests",
    "selector",
    "kind",
    "name",
    "for",
    "timeout",
    "covers",
    "steps",
    "description",
    "matches",
    "items",
    "each",
    "count",
    "absent",
    "since",
    "expect",
    "pod/web-0",
    "sts/web",
    "pvc/www-web-0",
    "{kind: pod, selector: app=web}",
    "ready",
    "rolledOut",
    "apiVersion",
    "metadata",
    "spec",
    "StatefulSet",
    "v1",
    "apps/v1",
    "[]",
    "{}",
    "node",
    "nodeOf",
    "$regex",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut out = text.to_owned();
    for _ in 0..=rng.below(3) {
        out = mutate_once(rng, &out);
    }
    out
}

fn char_boundary(text: &str, rng: &mut Rng) -> usize {
    let mut at = rng.below(text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn mutate_once(rng: &mut Rng, text: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    match rng.below(9) {
        0 => {
            let at = char_boundary(text, rng);
            format!("{}{}{}", &text[..at], rng.pick(SNIPPETS), &text[at..])
        }
        1 => {
            let a = char_boundary(text, rng);
            let b = char_boundary(text, rng);
            let (a, b) = (a.min(b), a.max(b));
            format!("{}{}", &text[..a], &text[b..])
        }
        2 if !lines.is_empty() => {
            let mut lines = lines.clone();
            let i = rng.below(lines.len());
            let j = rng.below(lines.len());
            lines.swap(i, j);
            lines.concat()
        }
        3 if !lines.is_empty() => {
            let mut lines = lines.clone();
            let i = rng.below(lines.len());
            let line = lines[i];
            lines.insert(i, line);
            lines.concat()
        }
        4 if !lines.is_empty() => {
            let i = rng.below(lines.len());
            let mut owned: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
            owned[i] = match rng.below(3) {
                0 => format!("  {}", owned[i]),
                1 => owned[i].trim_start().to_owned(),
                _ => owned[i].replacen("  ", " ", 1),
            };
            owned.concat()
        }
        5 => {
            let at = char_boundary(text, rng);
            text[..at].to_owned()
        }
        6 => {
            // Replace a word with a look-alike or another field's name.
            let word = rng.pick(WORDS);
            match text.find(word) {
                Some(at) => {
                    let other = rng.pick(WORDS);
                    format!("{}{}{}", &text[..at], other, &text[at + word.len()..])
                }
                None => text.to_owned(),
            }
        }
        7 => {
            let at = char_boundary(text, rng);
            format!("{}{}{}", &text[..at], rng.pick(WORDS), &text[at..])
        }
        _ => {
            // A typo inside a word: drop or double one ASCII letter.
            let at = char_boundary(text, rng);
            match text[at..].chars().next() {
                Some(c) if c.is_ascii_alphabetic() && rng.below(2) == 0 => {
                    format!("{}{}", &text[..at], &text[at + 1..])
                }
                Some(c) if c.is_ascii_alphabetic() => {
                    format!("{}{c}{}", &text[..at], &text[at..])
                }
                _ => text.to_owned(),
            }
        }
    }
}

fn seeds() -> Vec<(PathBuf, String)> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![
        manifest.join("tests/corpus/broken"),
        manifest.join("tests/corpus/clean"),
    ];
    if let Some(root) = manifest.parent() {
        dirs.push(root.join("scenarios"));
    }
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&path).expect("read corpus file");
                files.push((path, text));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn mutated_scenarios_never_panic_the_loader() {
    let cases: usize = std::env::var("PETSET_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let seed: u64 = std::env::var("PETSET_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5EED_0F9E_75E7);
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let checker = Checker::new(&corpus, load_catalogue(&corpus).expect("catalogue"));
    let files = seeds();
    assert!(files.len() >= 20, "corpus too small: {}", files.len());

    let started = Instant::now();
    let mut rng = Rng(seed);
    let mut rejected = 0usize;
    for case in 0..cases {
        let (path, text) = &files[case % files.len()];
        let input = mutate(&mut rng, text);
        let result = catch_unwind(AssertUnwindSafe(|| {
            let checked = check_source(&checker, SourceFile::new("fuzz.yaml", input.as_str()));
            // Rendering walks the spans; exercise it on a sample to keep the run short.
            if case % 16 == 0 {
                let _ = render_plain(&checked.diagnostics);
            }
            checked.scenario.is_none()
        }));
        match result {
            Ok(true) => rejected += 1,
            Ok(false) => {}
            Err(_) => {
                let saved = std::env::temp_dir().join("fuzz-failure.yaml");
                let _ = std::fs::write(&saved, &input);
                panic!(
                    "case {case} (seed {seed}, from {}) panicked; input saved to {}",
                    path.display(),
                    saved.display()
                );
            }
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "fuzz: {cases} cases from {} files in {:.1?} ({:.0} cases/s), {rejected} rejected",
        files.len(),
        elapsed,
        cases as f64 / elapsed.as_secs_f64()
    );
    // The mutations must actually break files, or the test proves nothing.
    assert!(
        rejected > cases / 4,
        "only {rejected} of {cases} inputs were rejected"
    );
}
