//! Does a live object contain a partial object?
//!
//! - Maps: every expected key matches the live value under that key; other live keys are ignored.
//!   A missing parent is treated as empty, so `{status: {x: {$exists: false}}}` holds when there
//!   is no `status` at all.
//! - Lists: each expected element matches a distinct live element, in any order (a maximum
//!   bipartite matching decides). An empty expected list means the live list is empty or absent.
//! - Scalars: equal, with numbers, numeric strings and boolean spellings compared by value.
//!   An expected `null` means null or absent.
//! - Operator maps (`{$gt: 0}`, see [`super::operators`]) test the live value in place.

use super::matching::maximum_matching;
use super::mismatch::{Mismatch, index_path, key_path, naming};
use super::operators;
use super::scalar::{scalars_equal, show, type_name};
use serde_json::Value;

/// `Ok` when `actual` contains everything `expected` names; otherwise every field that differs.
pub fn contains(actual: &Value, expected: &Value) -> Result<(), Mismatch> {
    let mut mismatch = Mismatch::default();
    compare(Some(actual), expected, "", &mut mismatch);
    mismatch.into_result()
}

/// Whether `actual` contains `expected` (the yes/no form of [`contains`]).
pub fn matches(actual: &Value, expected: &Value) -> bool {
    contains(actual, expected).is_ok()
}

fn compare(actual: Option<&Value>, expected: &Value, path: &str, out: &mut Mismatch) {
    let actual = actual.filter(|value| !value.is_null());
    match expected {
        Value::Object(map) => match operators::parse(map) {
            Some(Ok(operators)) => out.extend(operators::check(&operators, actual, path)),
            Some(Err(problem)) => out.push(path, "valid operators", problem),
            None => match actual {
                Some(Value::Object(live)) => {
                    for (key, item) in map {
                        compare(live.get(key), item, &key_path(path, key), out);
                    }
                }
                None if map.is_empty() => out.push(path, "an object", "nothing"),
                None => {
                    for (key, item) in map {
                        compare(None, item, &key_path(path, key), out);
                    }
                }
                Some(other) => out.push(path, "an object", describe(other)),
            },
        },
        Value::Array(wanted) => match actual {
            Some(Value::Array(live)) => compare_lists(live, wanted, path, out),
            None if wanted.is_empty() => {}
            None => out.push(path, naming("a list containing", expected), "nothing"),
            Some(other) => out.push(path, "a list", describe(other)),
        },
        Value::Null => {
            if let Some(value) = actual {
                out.push(path, "null or nothing", naming("", value));
            }
        }
        scalar => match actual {
            None => out.push(path, show(scalar), "nothing"),
            Some(value) if scalars_equal(value, scalar) => {}
            Some(value) => out.push(path, show(scalar), show(value)),
        },
    }
}

fn describe(value: &Value) -> super::mismatch::Side {
    naming(type_name(value), value)
}

fn compare_lists(live: &[Value], wanted: &[Value], path: &str, out: &mut Mismatch) {
    if wanted.is_empty() {
        if !live.is_empty() {
            out.push(
                path,
                "an empty list",
                naming("", &Value::Array(live.to_vec())),
            );
        }
        return;
    }
    let compatible: Vec<Vec<bool>> = wanted
        .iter()
        .map(|expected| live.iter().map(|item| matches(item, expected)).collect())
        .collect();
    let assignment = maximum_matching(&compatible, live.len());
    let taken: Vec<bool> = (0..live.len())
        .map(|index| assignment.contains(&Some(index)))
        .collect();
    for (index, expected) in wanted.iter().enumerate() {
        if assignment[index].is_some() {
            continue;
        }
        let fitting: Vec<usize> = (0..live.len())
            .filter(|&live_index| compatible[index][live_index])
            .collect();
        if !fitting.is_empty() {
            let shown: Vec<String> = fitting.iter().map(|i| format!("[{i}]")).collect();
            out.push(
                path,
                naming(
                    &format!(
                        "a distinct element for each expected one; expected element [{index}]"
                    ),
                    expected,
                ),
                format!(
                    "it matches only {}, which the other expected elements need",
                    shown.join(", ")
                ),
            );
            continue;
        }
        report_nearest(live, &taken, expected, index, path, out);
    }
}

/// Explains an expected element that matches nothing by the differences of the live element
/// closest to it.
fn report_nearest(
    live: &[Value],
    taken: &[bool],
    expected: &Value,
    index: usize,
    path: &str,
    out: &mut Mismatch,
) {
    let Some((live_index, differences)) = nearest(live, taken, expected) else {
        out.push(
            path,
            naming("an element matching", expected),
            "an empty list",
        );
        return;
    };
    if live.len() > 1 {
        out.push(
            path,
            naming(&format!("a match for expected element [{index}]"), expected),
            format!(
                "none of {} elements; the nearest is [{live_index}]",
                live.len()
            ),
        );
    }
    out.extend(differences.prefixed(&index_path(path, live_index)));
}

/// How far an element is from what was expected. A differing `name` (a container's, an
/// object's) outweighs other fields: the element named as expected is the one the author meant.
fn distance(differences: &Mismatch) -> usize {
    differences
        .differences
        .iter()
        .map(|d| {
            if d.path == "name" || d.path.ends_with(".name") {
                10
            } else {
                1
            }
        })
        .sum()
}

/// The live element with the fewest differences from `expected` (preferring ones not `taken` by
/// another expected element), with those differences; `None` for an empty list.
pub(crate) fn nearest(
    live: &[Value],
    taken: &[bool],
    expected: &Value,
) -> Option<(usize, Mismatch)> {
    live.iter()
        .enumerate()
        .map(|(index, item)| {
            let differences = contains(item, expected).err().unwrap_or_default();
            let is_taken = taken.get(index).copied().unwrap_or(false);
            (is_taken, distance(&differences), index, differences)
        })
        .min_by_key(|(is_taken, distance, index, _)| (*is_taken, *distance, *index))
        .map(|(_, _, index, differences)| (index, differences))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diff(actual: Value, expected: Value) -> String {
        contains(&actual, &expected)
            .err()
            .map(|m| m.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn maps_match_on_the_keys_they_name() {
        let live = json!({"spec": {"replicas": 3, "serviceName": "nginx"}, "status": {"phase": "Running"}});
        assert!(matches(&live, &json!({"spec": {"replicas": 3}})));
        assert!(matches(&live, &json!({})));
        assert_eq!(
            diff(
                live.clone(),
                json!({"spec": {"replicas": 5}, "status": {"phase": "Running"}})
            ),
            "spec.replicas: expected 5, got 3"
        );
        assert_eq!(
            diff(live, json!({"status": {"podIP": "10.0.0.1"}})),
            r#"status.podIP: expected "10.0.0.1", got nothing"#
        );
    }

    #[test]
    fn every_difference_is_listed() {
        let text = diff(
            json!({"a": 1, "b": {"c": "x"}, "d": [1]}),
            json!({"a": 2, "b": {"c": "y"}, "d": {"e": 1}}),
        );
        assert_eq!(
            text,
            "a: expected 2, got 1\nb.c: expected \"y\", got \"x\"\nd: expected an object, got a list [1]"
        );
    }

    #[test]
    fn numbers_and_strings_compare_sensibly() {
        assert!(matches(&json!({"replicas": 3}), &json!({"replicas": "3"})));
        assert!(matches(&json!({"replicas": "3"}), &json!({"replicas": 3})));
        assert!(matches(
            &json!({"status": "True"}),
            &json!({"status": true})
        ));
        assert!(!matches(&json!({"replicas": 4}), &json!({"replicas": 3})));
    }

    #[test]
    fn null_means_absent_or_null() {
        assert!(matches(&json!({}), &json!({"deletionTimestamp": null})));
        assert!(matches(&json!({"x": null}), &json!({"x": null})));
        assert_eq!(
            diff(json!({"x": "2024"}), json!({"x": null})),
            r#"x: expected null or nothing, got "2024""#
        );
    }

    #[test]
    fn missing_parents_still_allow_absence_checks() {
        assert!(matches(
            &json!({}),
            &json!({"status": {"x": {"$exists": false}}})
        ));
        assert_eq!(
            diff(
                json!({}),
                json!({"status": {"replicas": 1, "phase": "Bound"}})
            ),
            "status.phase: expected \"Bound\", got nothing\nstatus.replicas: expected 1, got nothing"
        );
        assert_eq!(
            diff(json!({}), json!({"status": {}})),
            "status: expected an object, got nothing"
        );
    }

    #[test]
    fn operators_apply_at_their_path() {
        let pod = json!({"status": {"containerStatuses": [{"name": "nginx", "restartCount": 0}]}});
        assert_eq!(
            diff(
                pod.clone(),
                json!({"status": {"containerStatuses": [{"restartCount": {"$gt": 0}}]}})
            ),
            "status.containerStatuses[0].restartCount: expected > 0, got 0"
        );
        assert!(matches(
            &pod,
            &json!({"status": {"containerStatuses": [{"name": {"$regex": "^ng"}, "restartCount": {"$gte": 0}}]}})
        ));
        assert_eq!(
            diff(pod, json!({"status": {"phase": {"$bogus": 1}}})),
            "status.phase: expected valid operators, got unknown operator `$bogus` (known: $ne, $gt, $gte, $lt, $lte, $regex, $exists, $in)"
        );
    }

    #[test]
    fn lists_are_unordered_subsets_of_distinct_elements() {
        let live = json!([{"name": "a", "port": 80}, {"name": "b", "port": 443}, {"name": "c"}]);
        assert!(matches(&live, &json!([{"name": "c"}, {"port": 80}])));
        assert!(matches(
            &live,
            &json!([{"port": {"$gt": 0}}, {"port": {"$gt": 0}}])
        ));
        assert!(!matches(
            &live,
            &json!([{"port": {"$gt": 0}}, {"port": {"$gt": 0}}, {"port": {"$gt": 0}}])
        ));
        assert!(matches(&json!([1, 2, 3]), &json!([3, 1])));
        assert!(!matches(&json!([1, 2, 3]), &json!([1, 1])));
    }

    #[test]
    fn list_matching_is_not_greedy() {
        // The first expected element fits both live elements; greedy would give it the first,
        // leaving the second expected element nothing.
        let live = json!([{"a": 1, "b": 2}, {"a": 1}]);
        assert!(matches(&live, &json!([{"a": 1}, {"a": 1, "b": 2}])));
        let conditions = json!([
            {"type": "Ready", "status": "True"},
            {"type": "ContainersReady", "status": "True"},
            {"type": "PodScheduled", "status": "True"},
        ]);
        assert!(matches(
            &conditions,
            &json!([{"status": "True"}, {"type": "Ready"}, {"type": "PodScheduled", "status": true}])
        ));
    }

    #[test]
    fn list_failures_point_at_the_nearest_element() {
        let live = json!({"items": [{"name": "a", "port": 80}, {"name": "b", "port": 443}]});
        let text = diff(live.clone(), json!({"items": [{"name": "b", "port": 444}]}));
        assert_eq!(
            text,
            "items: expected a match for expected element [0] {name: b, port: 444}, got none of 2 elements; the nearest is [1]\nitems[1].port: expected 444, got 443"
        );
        let text = diff(
            live,
            json!({"items": [{"name": "a"}, {"port": {"$lt": 100}}]}),
        );
        assert!(text.contains("expected element [1]"), "{text}");
        assert!(text.contains("it matches only [0]"), "{text}");
        assert_eq!(
            diff(json!({"l": []}), json!({"l": [1]})),
            "l: expected an element matching 1, got an empty list"
        );
    }

    #[test]
    fn nearest_prefers_the_element_with_the_expected_name() {
        let live = json!({"containers": [
            {"name": "init", "image": "nginx:1.27"},
            {"name": "web", "image": "nginx:1.26"},
        ]});
        let text = diff(
            live,
            json!({"containers": [{"name": "web", "image": "nginx:1.27"}]}),
        );
        assert!(
            text.ends_with("containers[1].image: expected \"nginx:1.27\", got \"nginx:1.26\""),
            "{text}"
        );
    }

    #[test]
    fn empty_expected_list_means_empty() {
        assert!(matches(&json!({"l": []}), &json!({"l": []})));
        assert!(matches(&json!({}), &json!({"l": []})));
        assert_eq!(
            diff(json!({"l": [1]}), json!({"l": []})),
            "l: expected an empty list, got [1]"
        );
        assert_eq!(
            diff(json!({}), json!({"l": [1]})),
            "l: expected a list containing [1], got nothing"
        );
    }

    #[test]
    fn nested_lists_and_keys_with_dots() {
        let live = json!({"metadata": {"labels": {"app.kubernetes.io/name": "web"}},
            "spec": {"containers": [{"name": "web", "ports": [{"containerPort": 80}]}]}});
        assert!(matches(
            &live,
            &json!({"spec": {"containers": [{"ports": [{"containerPort": "80"}]}]}})
        ));
        assert_eq!(
            diff(
                live,
                json!({"metadata": {"labels": {"app.kubernetes.io/name": "db"}}})
            ),
            r#"metadata.labels["app.kubernetes.io/name"]: expected "db", got "web""#
        );
    }
}
