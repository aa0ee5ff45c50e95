//! Matching lists of live objects: `items` (subset, exact, ordered), `each` and `count`.
//!
//! Differences name the object they belong to (`web-1: status.phase: ...`) rather than a list
//! index, since the reader knows the objects by name.

use super::matching::maximum_matching;
use super::mismatch::{Mismatch, naming};
use super::partial::{contains, matches, nearest};
use crate::model::ItemsMatch;
use serde_json::Value;
use std::cmp::Ordering;

/// An object's name for messages: `metadata.name`, or its position when it has none.
pub fn object_name(object: &Value, index: usize) -> String {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .map_or_else(|| format!("[{index}]"), str::to_owned)
}

/// Orders names the way people count pods: `web-2` before `web-10`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let a_end = a.find(|c: char| !c.is_ascii_digit()).unwrap_or(a.len());
                let b_end = b.find(|c: char| !c.is_ascii_digit()).unwrap_or(b.len());
                let (a_digits, b_digits) = (
                    a[..a_end].trim_start_matches('0'),
                    b[..b_end].trim_start_matches('0'),
                );
                let order = a_digits
                    .len()
                    .cmp(&b_digits.len())
                    .then_with(|| a_digits.cmp(b_digits))
                    .then_with(|| a_end.cmp(&b_end));
                if order != Ordering::Equal {
                    return order;
                }
                (a, b) = (&a[a_end..], &b[b_end..]);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                (a, b) = (&a[x.len_utf8()..], &b[y.len_utf8()..]);
            }
        }
    }
}

/// Sorts objects by name in natural order (`web-0`, `web-1`, ..., `web-10`).
pub fn sort_by_name(objects: &mut [Value]) {
    objects.sort_by(|a, b| natural_cmp(&object_name(a, 0), &object_name(b, 0)));
}

/// Checks the expected partial objects against the live list as `mode` says.
pub fn match_items(live: &[Value], expected: &[Value], mode: ItemsMatch) -> Result<(), Mismatch> {
    match mode {
        ItemsMatch::Subset => unordered(live, expected, false),
        ItemsMatch::Exact => unordered(live, expected, true),
        ItemsMatch::Ordered => ordered(live, expected),
    }
}

fn unordered(live: &[Value], expected: &[Value], exact: bool) -> Result<(), Mismatch> {
    let compatible: Vec<Vec<bool>> = expected
        .iter()
        .map(|wanted| live.iter().map(|item| matches(item, wanted)).collect())
        .collect();
    let assignment = maximum_matching(&compatible, live.len());
    let taken: Vec<bool> = (0..live.len())
        .map(|index| assignment.contains(&Some(index)))
        .collect();
    let mut out = Mismatch::default();
    if exact && live.len() != expected.len() {
        out.push(
            "",
            format!("exactly {}", objects(expected.len())),
            format!("{}: {}", live.len(), names(live)),
        );
    }
    for (index, wanted) in expected.iter().enumerate() {
        if assignment[index].is_some() {
            continue;
        }
        let fitting: Vec<String> = (0..live.len())
            .filter(|&live_index| compatible[index][live_index])
            .map(|live_index| object_name(&live[live_index], live_index))
            .collect();
        if !fitting.is_empty() {
            out.push(
                &format!("item [{index}]"),
                naming("a distinct object matching", wanted),
                format!(
                    "it matches only {}, which other items need",
                    fitting.join(", ")
                ),
            );
            continue;
        }
        match nearest(live, &taken, wanted) {
            None => out.push(
                &format!("item [{index}]"),
                naming("an object matching", wanted),
                "no objects",
            ),
            Some((live_index, differences)) => {
                let name = object_name(&live[live_index], live_index);
                out.push(
                    &format!("item [{index}]"),
                    naming("an object matching", wanted),
                    format!("none of {} objects; the nearest is {name}", live.len()),
                );
                out.extend(differences.in_object(&name));
            }
        }
    }
    if exact && live.len() == expected.len() {
        for (live_index, used) in taken.iter().enumerate() {
            if !used {
                out.push(
                    &object_name(&live[live_index], live_index),
                    "no object beyond the expected items",
                    "an object no item matches",
                );
            }
        }
    }
    out.into_result()
}

fn ordered(live: &[Value], expected: &[Value]) -> Result<(), Mismatch> {
    let mut sorted = live.to_vec();
    sort_by_name(&mut sorted);
    let mut out = Mismatch::default();
    if sorted.len() != expected.len() {
        out.push(
            "",
            format!("exactly {}", objects(expected.len())),
            format!("{}: {}", sorted.len(), names(&sorted)),
        );
    }
    for (index, wanted) in expected.iter().enumerate() {
        match sorted.get(index) {
            Some(item) => {
                if let Err(differences) = contains(item, wanted) {
                    out.extend(differences.in_object(&object_name(item, index)));
                }
            }
            None => out.push(
                &format!("item [{index}]"),
                naming("an object matching", wanted),
                "nothing (the list is shorter)",
            ),
        }
    }
    out.into_result()
}

/// Every live object contains `expected`. No objects at all is a failure: a check over nothing
/// must not pass silently (use `count: 0` to require that nothing matches).
pub fn each(live: &[Value], expected: &Value) -> Result<(), Mismatch> {
    if live.is_empty() {
        return Err(Mismatch::one("", "at least one object", "none"));
    }
    let mut out = Mismatch::default();
    for (index, item) in live.iter().enumerate() {
        if let Err(differences) = contains(item, expected) {
            out.extend(differences.in_object(&object_name(item, index)));
        }
    }
    out.into_result()
}

/// Exactly `expected` live objects.
pub fn count(live: &[Value], expected: usize) -> Result<(), Mismatch> {
    if live.len() == expected {
        return Ok(());
    }
    Err(Mismatch::one(
        "",
        objects(expected),
        format!("{}: {}", live.len(), names(live)),
    ))
}

fn objects(count: usize) -> String {
    if count == 1 {
        "1 object".to_owned()
    } else {
        format!("{count} objects")
    }
}

fn names(live: &[Value]) -> String {
    if live.is_empty() {
        return "none".to_owned();
    }
    live.iter()
        .enumerate()
        .map(|(index, item)| object_name(item, index))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, phase: &str, ready: bool) -> Value {
        json!({"metadata": {"name": name}, "status": {"phase": phase, "ready": ready}})
    }

    fn pods() -> Vec<Value> {
        vec![
            pod("web-1", "Running", true),
            pod("web-10", "Pending", false),
            pod("web-2", "Running", false),
        ]
    }

    fn text(result: Result<(), Mismatch>) -> String {
        result.err().map(|m| m.to_string()).unwrap_or_default()
    }

    #[test]
    fn natural_order_counts_numbers() {
        let mut names = vec!["web-10", "web-2", "web-1", "db-0", "web-02"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(names, vec!["db-0", "web-1", "web-2", "web-02", "web-10"]);
    }

    #[test]
    fn subset_needs_distinct_objects() {
        let live = pods();
        let running = json!({"status": {"phase": "Running"}});
        assert!(
            match_items(
                &live,
                &[running.clone(), running.clone()],
                ItemsMatch::Subset
            )
            .is_ok()
        );
        let failure = text(match_items(
            &live,
            &[running.clone(), running.clone(), running],
            ItemsMatch::Subset,
        ));
        assert!(
            failure.starts_with("item [2]: expected a distinct object"),
            "{failure}"
        );
        assert!(
            failure.contains("it matches only web-1, web-2"),
            "{failure}"
        );
    }

    #[test]
    fn subset_failure_shows_the_nearest_object() {
        let failure = text(match_items(
            &pods(),
            &[json!({"metadata": {"name": "web-10"}, "status": {"phase": "Running"}})],
            ItemsMatch::Subset,
        ));
        assert_eq!(
            failure,
            "item [0]: expected an object matching {metadata: {name: web-10}, status: {phase: Running}}, got none of 3 objects; the nearest is web-10\n\
             web-10: status.phase: expected \"Running\", got \"Pending\""
        );
    }

    #[test]
    fn a_report_shows_the_unmatched_item_as_yaml_with_its_field_differences() {
        let Err(mismatch) = match_items(
            &pods(),
            &[json!({"metadata": {"name": "web-10"}, "status": {"phase": "Running"}})],
            ItemsMatch::Subset,
        ) else {
            panic!("web-10 is Pending");
        };
        let mut text = String::new();
        crate::expect::append_differences(&mut text, &mismatch);
        assert_eq!(
            text,
            "differences:
  - item [0]:
    expected an object matching:
      metadata:
        name: web-10
      status:
        phase: Running
    got none of 3 objects; the nearest is web-10
  - web-10: status.phase: expected \"Running\", got \"Pending\"
"
        );
    }

    #[test]
    fn exact_rejects_extra_objects() {
        let live = pods();
        let expected = vec![
            json!({"status": {"phase": "Pending"}}),
            json!({"status": {"ready": true}}),
        ];
        assert!(match_items(&live, &expected, ItemsMatch::Subset).is_ok());
        let failure = text(match_items(&live, &expected, ItemsMatch::Exact));
        assert!(
            failure.starts_with("expected exactly 2 objects, got 3: web-1, web-10, web-2"),
            "{failure}"
        );
        let mut all = expected;
        all.push(json!({"status": {"phase": "Running"}}));
        assert!(match_items(&live, &all, ItemsMatch::Exact).is_ok());
        // Right length, but one live object is matched by nothing.
        let failure = text(match_items(
            &live[..2],
            &[json!({}), json!({"status": {"ready": true}})],
            ItemsMatch::Exact,
        ));
        assert!(failure.is_empty(), "{failure}");
    }

    #[test]
    fn ordered_sorts_by_name_naturally() {
        let expected = vec![
            json!({"metadata": {"name": "web-1"}}),
            json!({"metadata": {"name": "web-2"}, "status": {"ready": false}}),
            json!({"metadata": {"name": "web-10"}}),
        ];
        assert!(match_items(&pods(), &expected, ItemsMatch::Ordered).is_ok());
        let swapped = vec![
            expected[0].clone(),
            expected[2].clone(),
            expected[1].clone(),
        ];
        let failure = text(match_items(&pods(), &swapped, ItemsMatch::Ordered));
        assert!(
            failure.contains(r#"web-2: metadata.name: expected "web-10", got "web-2""#),
            "{failure}"
        );
        let failure = text(match_items(
            &pods()[..1],
            &expected[..2],
            ItemsMatch::Ordered,
        ));
        assert!(
            failure.contains("item [1]: expected an object matching"),
            "{failure}"
        );
    }

    #[test]
    fn each_and_count() {
        let live = pods();
        assert!(each(&live, &json!({"metadata": {"name": {"$regex": "^web-"}}})).is_ok());
        assert_eq!(
            text(each(&live, &json!({"status": {"phase": "Running"}}))),
            "web-10: status.phase: expected \"Running\", got \"Pending\""
        );
        assert_eq!(
            text(each(&[], &json!({}))),
            "expected at least one object, got none"
        );
        assert!(count(&live, 3).is_ok());
        assert_eq!(
            text(count(&live, 2)),
            "expected 2 objects, got 3: web-1, web-10, web-2"
        );
        assert_eq!(text(count(&[], 1)), "expected 1 object, got 0: none");
    }
}
