//! Names and labels the engine gives scenario namespaces.

use crate::events::ScenarioId;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// Label on everything petset creates.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "petset";
/// Label carrying the run id.
pub const RUN_LABEL: &str = "petset.dev/run";
/// Annotation with the Unix time (seconds) the owning run last showed it is alive.
pub const HEARTBEAT_ANNOTATION: &str = "petset.dev/heartbeat";
/// Annotation naming the scenario (`area::name`) a namespace belongs to.
pub const SCENARIO_ANNOTATION: &str = "petset.dev/scenario";
/// Annotation on a namespace kept for inspection (`PETSET_KEEP=on-failure`); the stale sweep
/// leaves such namespaces alone.
pub const KEPT_ANNOTATION: &str = "petset.dev/kept";

const MAX_NAME: usize = 63;
const SUFFIX_LEN: usize = 5;

/// `petset-<area>-<name>-<suffix>`: lowercase, only `[a-z0-9-]`, at most 63 characters, with a
/// random 5-character suffix so reruns and concurrent runs never collide.
pub fn namespace_name(id: &ScenarioId) -> String {
    namespace_name_with(id, &random_suffix())
}

pub(crate) fn namespace_name_with(id: &ScenarioId, suffix: &str) -> String {
    let stem = dns_label(&format!("petset-{}-{}", id.area, id.name));
    let room = MAX_NAME - suffix.len() - 1;
    let stem = stem[..stem.len().min(room)].trim_end_matches('-');
    format!("{stem}-{suffix}")
}

/// Lowercases and replaces anything outside `[a-z0-9-]` with `-`, collapsing runs of dashes.
fn dns_label(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else {
            '-'
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out.trim_matches('-').to_owned()
}

/// A label value: at most 63 of `[A-Za-z0-9-_.]`, starting and ending alphanumeric.
pub fn label_value(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(MAX_NAME)
        .collect();
    cleaned
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

/// The labels of a scenario's namespace and of every object it creates.
pub fn scenario_labels(run_id: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY_LABEL.to_owned(), MANAGED_BY_VALUE.to_owned()),
        (RUN_LABEL.to_owned(), label_value(run_id)),
    ])
}

/// Five random characters from `[a-z0-9]`. Uses the standard library's per-process random hash
/// keys mixed with a counter and the clock, which is plenty for avoiding name collisions.
fn random_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    let mut bits = hasher.finish();
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..SUFFIX_LEN)
        .map(|_| {
            let c = ALPHABET[(bits % ALPHABET.len() as u64) as usize];
            bits /= ALPHABET.len() as u64;
            c as char
        })
        .collect()
}

/// Seconds since the Unix epoch, for heartbeats.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(area: &str, name: &str) -> ScenarioId {
        ScenarioId {
            area: area.into(),
            name: name.into(),
        }
    }

    #[test]
    fn names_namespaces_after_the_scenario() {
        assert_eq!(
            namespace_name_with(&id("statefulset", "ordered-scale-up"), "ab12c"),
            "petset-statefulset-ordered-scale-up-ab12c"
        );
        assert_eq!(
            namespace_name_with(&id("DNS", "pod_names.v2"), "zzzzz"),
            "petset-dns-pod-names-v2-zzzzz"
        );
    }

    #[test]
    fn long_names_are_cut_to_63_characters_without_a_dangling_dash() {
        let long = "a-very-long-scenario-name-that-goes-on-and-on-and-on-beyond-any-limit";
        let name = namespace_name_with(&id("statefulset", long), "x1y2z");
        assert!(name.len() <= 63, "{name} is {} long", name.len());
        assert!(name.ends_with("-x1y2z"));
        assert!(!name.contains("--"));
    }

    #[test]
    fn suffixes_differ_and_fit_the_alphabet() {
        let a = namespace_name(&id("a", "b"));
        let b = namespace_name(&id("a", "b"));
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
    }

    #[test]
    fn label_values_are_valid() {
        assert_eq!(label_value("run 2024:01/x"), "run-2024-01-x");
        assert_eq!(label_value("-abc-"), "abc");
        assert_eq!(label_value(&"x".repeat(80)).len(), 63);
    }
}
