//! Operator maps inside partial objects: `{$gt: 0}`, `{$regex: "^web-"}`, `{$exists: false}` ...
//!
//! A map whose keys start with `$` is a set of operators that must all hold for the live value
//! at that place; mixing operators with plain keys, or naming an unknown operator, is an error in
//! the expectation (reported by [`validate`] before a run, and as a difference during one).

use super::mismatch::Mismatch;
use super::partial;
use super::scalar::{Num, as_text, show};
use regex::Regex;
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// The operators a partial object may use, for messages and hints.
pub const OPERATORS: &[&str] = &[
    "$ne", "$gt", "$gte", "$lt", "$lte", "$regex", "$exists", "$in",
];

#[derive(Debug, Clone)]
pub(crate) enum Operator {
    Ne(Value),
    Compare {
        op: &'static str,
        bound: Num,
        shown: Value,
        holds: fn(Ordering) -> bool,
    },
    Regex(Regex),
    Exists(bool),
    In(Vec<Value>),
}

/// `None` when `map` is a plain partial object; otherwise its operators, or why they are wrong.
pub(crate) fn parse(map: &Map<String, Value>) -> Option<Result<Vec<Operator>, String>> {
    parse_with(map, false)
}

/// As [`parse`]; with `templates`, a `$regex` holding `${...}` variables is accepted unchecked
/// (it can only be compiled once they are filled in).
fn parse_with(map: &Map<String, Value>, templates: bool) -> Option<Result<Vec<Operator>, String>> {
    if !map.keys().any(|key| key.starts_with('$')) {
        return None;
    }
    Some(
        map.iter()
            .filter(|(key, argument)| {
                !(templates
                    && key.as_str() == "$regex"
                    && argument.as_str().is_some_and(|p| p.contains("${")))
            })
            .map(|(key, argument)| parse_one(key, argument))
            .collect(),
    )
}

fn parse_one(key: &str, argument: &Value) -> Result<Operator, String> {
    let bound = |op: &'static str, holds: fn(Ordering) -> bool| {
        Num::of(argument)
            .map(|bound| Operator::Compare {
                op,
                bound,
                shown: argument.clone(),
                holds,
            })
            .ok_or_else(|| format!("`{key}` needs a number, got {}", show(argument)))
    };
    match key {
        "$ne" => Ok(Operator::Ne(argument.clone())),
        "$gt" => bound(">", Ordering::is_gt),
        "$gte" => bound(">=", Ordering::is_ge),
        "$lt" => bound("<", Ordering::is_lt),
        "$lte" => bound("<=", Ordering::is_le),
        "$regex" => {
            let Value::String(pattern) = argument else {
                return Err(format!("`$regex` needs a string, got {}", show(argument)));
            };
            Regex::new(pattern)
                .map(Operator::Regex)
                .map_err(|error| format!("`$regex` pattern {pattern:?} is invalid: {error}"))
        }
        "$exists" => match argument {
            Value::Bool(flag) => Ok(Operator::Exists(*flag)),
            other => Err(format!(
                "`$exists` needs true or false, got {}",
                show(other)
            )),
        },
        "$in" => match argument {
            Value::Array(choices) => Ok(Operator::In(choices.clone())),
            other => Err(format!("`$in` needs a list, got {}", show(other))),
        },
        key if !key.starts_with('$') => Err(format!(
            "`{key}` is a plain key inside an operator map; put operators ({}) alone in their map",
            OPERATORS.join(", ")
        )),
        unknown => Err(format!(
            "unknown operator `{unknown}` (known: {})",
            OPERATORS.join(", ")
        )),
    }
}

/// Checks every operator against the live value at `path` (`None` when the field is absent).
pub(crate) fn check(operators: &[Operator], actual: Option<&Value>, path: &str) -> Mismatch {
    let mut mismatch = Mismatch::default();
    let got = || actual.map_or_else(|| "nothing".to_owned(), show);
    for operator in operators {
        if let Some(expected) = failed(operator, actual) {
            mismatch.push(path, expected, got());
        }
    }
    mismatch
}

/// `Some(description of what was expected)` when the operator does not hold.
fn failed(operator: &Operator, actual: Option<&Value>) -> Option<String> {
    let present = actual.filter(|value| !value.is_null());
    let holds = match operator {
        // Like MongoDB: a missing field is "not equal" to anything but null.
        Operator::Ne(unwanted) => match present {
            None => !unwanted.is_null(),
            Some(value) => !partial::matches(value, unwanted),
        },
        Operator::Compare {
            bound, holds: ok, ..
        } => present
            .and_then(Num::of)
            .and_then(|number| number.cmp(*bound))
            .is_some_and(ok),
        Operator::Regex(regex) => present
            .and_then(as_text)
            .is_some_and(|text| regex.is_match(&text)),
        Operator::Exists(wanted) => present.is_some() == *wanted,
        Operator::In(choices) => choices.iter().any(|choice| match present {
            None => choice.is_null(),
            Some(value) => partial::matches(value, choice),
        }),
    };
    (!holds).then(|| describe(operator))
}

/// What an operator expects, as a reader would say it: `> 0`, `not "Pending"`.
pub(crate) fn describe(operator: &Operator) -> String {
    match operator {
        Operator::Ne(value) => format!("not {}", show(value)),
        Operator::Compare { op, shown, .. } => format!("{op} {}", show(shown)),
        Operator::Regex(regex) => format!("a value matching /{}/", regex.as_str()),
        Operator::Exists(true) => "the field to be present".to_owned(),
        Operator::Exists(false) => "the field to be absent".to_owned(),
        Operator::In(choices) => format!(
            "one of [{}]",
            choices.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Finds every mistake in the operator maps of a partial object (unknown operators, arguments of
/// the wrong type, invalid regular expressions), with the path of each, so scenarios can be
/// checked before they run.
pub fn validate(expected: &Value) -> Result<(), Mismatch> {
    let mut problems = Mismatch::default();
    walk(expected, "", &mut problems);
    problems.into_result()
}

fn walk(value: &Value, path: &str, problems: &mut Mismatch) {
    match value {
        Value::Object(map) => match parse_with(map, true) {
            Some(Ok(operators)) => {
                for operator in operators {
                    if let Operator::Ne(inner) = &operator {
                        walk(inner, path, problems);
                    } else if let Operator::In(choices) = &operator {
                        for choice in choices {
                            walk(choice, path, problems);
                        }
                    }
                }
            }
            Some(Err(problem)) => problems.push(path, "valid operators", problem),
            None => {
                for (key, item) in map {
                    walk(item, &super::mismatch::key_path(path, key), problems);
                }
            }
        },
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                walk(item, &super::mismatch::index_path(path, index), problems);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ops(value: Value) -> Vec<Operator> {
        let Value::Object(map) = value else {
            panic!("test operators must be a map")
        };
        parse(&map).expect("operator map").expect("valid operators")
    }

    fn holds(value: Value, actual: Option<Value>) -> bool {
        check(&ops(value), actual.as_ref(), "f").is_empty()
    }

    #[test]
    fn comparisons_accept_numbers_and_numeric_strings() {
        assert!(holds(json!({"$gt": 0}), Some(json!(1))));
        assert!(!holds(json!({"$gt": 0}), Some(json!(0))));
        assert!(holds(json!({"$gte": 0}), Some(json!(0))));
        assert!(holds(json!({"$lt": "10"}), Some(json!("9"))));
        assert!(holds(json!({"$lte": 2.5}), Some(json!(2))));
        assert!(!holds(json!({"$lte": 2.5}), Some(json!(3))));
        assert!(holds(json!({"$gte": 1, "$lte": 3}), Some(json!(2))));
        assert!(!holds(json!({"$gte": 1, "$lte": 3}), Some(json!(4))));
        assert!(!holds(json!({"$gt": 0}), Some(json!("many"))));
        assert!(!holds(json!({"$gt": 0}), None));
    }

    #[test]
    fn ne_in_regex_and_exists() {
        assert!(holds(json!({"$ne": "Pending"}), Some(json!("Running"))));
        assert!(!holds(json!({"$ne": "Pending"}), Some(json!("Pending"))));
        assert!(
            holds(json!({"$ne": "Pending"}), None),
            "absent is not Pending"
        );
        assert!(!holds(json!({"$ne": 3}), Some(json!("3"))));
        assert!(holds(json!({"$in": ["a", "b"]}), Some(json!("b"))));
        assert!(!holds(json!({"$in": ["a", "b"]}), Some(json!("c"))));
        assert!(holds(json!({"$in": [1, 2]}), Some(json!("2"))));
        assert!(holds(json!({"$in": [null, "x"]}), None));
        assert!(holds(
            json!({"$regex": "^web-[0-9]+$"}),
            Some(json!("web-12"))
        ));
        assert!(!holds(
            json!({"$regex": "^web-[0-9]+$"}),
            Some(json!("db-1"))
        ));
        assert!(holds(json!({"$regex": "^1"}), Some(json!(10))));
        assert!(holds(json!({"$exists": true}), Some(json!(""))));
        assert!(!holds(json!({"$exists": true}), Some(Value::Null)));
        assert!(holds(json!({"$exists": false}), None));
        assert!(!holds(json!({"$exists": false}), Some(json!(0))));
    }

    #[test]
    fn failures_say_what_was_expected_and_what_was_there() {
        let mismatch = check(&ops(json!({"$gt": 0})), Some(&json!(0)), "restartCount");
        assert_eq!(mismatch.to_string(), "restartCount: expected > 0, got 0");
        let mismatch = check(&ops(json!({"$exists": true})), None, "spec.x");
        assert_eq!(
            mismatch.to_string(),
            "spec.x: expected the field to be present, got nothing"
        );
        let mismatch = check(&ops(json!({"$in": ["a", 1]})), Some(&json!("z")), "k");
        assert_eq!(
            mismatch.to_string(),
            r#"k: expected one of ["a", 1], got "z""#
        );
    }

    #[test]
    fn plain_maps_are_not_operator_maps() {
        let Value::Object(map) = json!({"phase": "Running"}) else {
            unreachable!()
        };
        assert!(parse(&map).is_none());
    }

    #[test]
    fn validate_reports_bad_operators_with_paths() {
        let problems = validate(&json!({
            "status": {
                "replicas": {"$gt": "many"},
                "phase": {"$foo": 1},
                "conditions": [{"type": {"$regex": "("}}],
                "mixed": {"$gt": 1, "plain": 2},
            },
            "spec": {"replicas": {"$gte": 1, "$lte": 5}},
        }))
        .expect_err("four problems");
        let text = problems.to_string();
        assert_eq!(problems.differences.len(), 4, "{text}");
        assert!(
            text.contains("status.replicas: expected valid operators, got `$gt` needs a number")
        );
        assert!(
            text.contains("status.phase: expected valid operators, got unknown operator `$foo`")
        );
        assert!(text.contains("status.conditions[0].type"));
        assert!(text.contains("`plain` is a plain key"));
        assert!(validate(&json!({"a": [{"$in": [1, 2]}], "b": {"$ne": {"c": 1}}})).is_ok());
        assert!(
            validate(&json!({"name": {"$regex": "^${pod}-[0-9]+$"}})).is_ok(),
            "variables are filled in before the pattern is compiled"
        );
    }
}
