//! Comparing single values the way a scenario author means them: `replicas: 3` equals `3` and
//! `"3"`, `status: True` equals `"True"`; and showing values compactly in messages.

use serde_json::Value;
use std::cmp::Ordering;

/// A number read from JSON or from a numeric string; integers stay exact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    Int(i128),
    Float(f64),
}

impl Num {
    pub(crate) fn of(value: &Value) -> Option<Num> {
        match value {
            Value::Number(number) => number
                .as_i64()
                .map(|n| Num::Int(n.into()))
                .or_else(|| number.as_u64().map(|n| Num::Int(n.into())))
                .or_else(|| number.as_f64().map(Num::Float)),
            Value::String(text) => Num::parse(text),
            _ => None,
        }
    }

    /// Only plain decimal notation counts: `inf`, `NaN` or `0x10` are text, not numbers.
    fn parse(text: &str) -> Option<Num> {
        let text = text.trim();
        let numeric = !text.is_empty()
            && text.chars().any(|c| c.is_ascii_digit())
            && text
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'));
        if !numeric {
            return None;
        }
        text.parse::<i128>()
            .map(Num::Int)
            .ok()
            .or_else(|| text.parse::<f64>().ok().map(Num::Float))
    }

    pub(crate) fn cmp(self, other: Num) -> Option<Ordering> {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            // Precision loss only matters beyond 2^53, far past any count or size we compare.
            Num::Int(n) => n as f64,
            Num::Float(f) => f,
        }
    }
}

/// Whether a live scalar equals an expected one, with numbers and booleans compared by value
/// whether they arrive as JSON numbers/booleans or as strings.
pub(crate) fn scalars_equal(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Null, Value::Null) => true,
        (Value::Bool(flag), Value::String(text)) | (Value::String(text), Value::Bool(flag)) => {
            text.eq_ignore_ascii_case(if *flag { "true" } else { "false" })
        }
        (Value::Number(_), _) | (_, Value::Number(_)) => match (Num::of(actual), Num::of(expected))
        {
            (Some(a), Some(b)) => a.cmp(b) == Some(Ordering::Equal),
            _ => false,
        },
        _ => false,
    }
}

/// The text of a scalar for regular expressions: strings as they are, other scalars as JSON.
pub(crate) fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// What kind of value this is, for "expected an object, got a list" messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A value as one short line for messages: a scalar as JSON (`"Running"`, `3`), an object or a
/// list as compact YAML; long values are cut with `...`.
pub(crate) fn show(value: &Value) -> String {
    const LIMIT: usize = 160;
    if value.is_object() || value.is_array() {
        return super::diff::yaml_flow(value);
    }
    let text = value.to_string();
    if text.chars().count() <= LIMIT {
        return text;
    }
    let cut: String = text.chars().take(LIMIT).collect();
    format!("{cut}...")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_compare_by_value_across_types() {
        assert!(scalars_equal(&json!(3), &json!(3)));
        assert!(scalars_equal(&json!("3"), &json!(3)));
        assert!(scalars_equal(&json!(3), &json!("3")));
        assert!(scalars_equal(&json!(3.0), &json!(3)));
        assert!(scalars_equal(&json!(" 3 "), &json!(3)));
        assert!(
            !scalars_equal(&json!("3"), &json!("3.0")),
            "two strings compare as text"
        );
        assert!(!scalars_equal(&json!(4), &json!(3)));
        assert!(!scalars_equal(&json!("three"), &json!(3)));
        assert!(!scalars_equal(&json!("inf"), &json!(f64::MAX)));
        assert!(scalars_equal(
            &json!(u64::MAX),
            &json!(u64::MAX.to_string())
        ));
    }

    #[test]
    fn booleans_match_their_spellings() {
        assert!(scalars_equal(&json!("True"), &json!(true)));
        assert!(scalars_equal(&json!(false), &json!("false")));
        assert!(!scalars_equal(&json!("False"), &json!(true)));
        assert!(!scalars_equal(&json!("yes"), &json!(true)));
    }

    #[test]
    fn null_only_equals_null() {
        assert!(scalars_equal(&Value::Null, &Value::Null));
        assert!(!scalars_equal(&json!(0), &Value::Null));
        assert!(!scalars_equal(&json!(""), &Value::Null));
    }

    #[test]
    fn ordering_of_mixed_numbers() {
        let a = Num::of(&json!("10")).expect("numeric");
        let b = Num::of(&json!(9.5)).expect("numeric");
        assert_eq!(a.cmp(b), Some(Ordering::Greater));
        assert_eq!(Num::of(&json!("1e3")), Some(Num::Float(1000.0)));
        assert_eq!(Num::of(&json!("web-0")), None);
    }

    #[test]
    fn long_values_are_cut() {
        let long = json!("x".repeat(500));
        let shown = show(&long);
        assert!(shown.ends_with("...") && shown.len() < 200, "{shown}");
        assert_eq!(
            show(&json!({"a": 1, "b": ["x", "y, z"]})),
            r#"{a: 1, b: [x, "y, z"]}"#
        );
    }
}
