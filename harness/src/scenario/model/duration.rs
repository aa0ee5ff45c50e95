//! Human durations in scenario files: `500ms`, `30s`, `5m`, `1h30m`.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// A duration written the way kubectl's `--timeout` takes it (`90s`, `5m`, `1h30m`, `250ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub std::time::Duration);

/// Why a duration string did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration `{input}`: {reason} (write it like `30s`, `5m`, `1h30m` or `500ms`)")]
pub struct DurationError {
    pub input: String,
    pub reason: &'static str,
}

impl Duration {
    pub fn from_secs(secs: u64) -> Self {
        Self(std::time::Duration::from_secs(secs))
    }

    pub fn as_std(self) -> std::time::Duration {
        self.0
    }
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = |reason| DurationError {
            input: input.to_owned(),
            reason,
        };
        let mut rest = input.trim();
        if rest.is_empty() {
            return Err(fail("it is empty"));
        }
        let mut total = std::time::Duration::ZERO;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(fail("expected a number"));
            }
            let value: u64 = rest[..digits]
                .parse()
                .map_err(|_| fail("number too large"))?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = match &rest[..unit_len] {
                "ms" => std::time::Duration::from_millis(value),
                "s" => std::time::Duration::from_secs(value),
                "m" => std::time::Duration::from_secs(value.saturating_mul(60)),
                "h" => std::time::Duration::from_secs(value.saturating_mul(3600)),
                "" => return Err(fail("a unit is missing")),
                _ => return Err(fail("unknown unit (use ms, s, m or h)")),
            };
            total = total.saturating_add(unit);
            rest = &rest[unit_len..];
        }
        Ok(Self(total))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if !ms.is_multiple_of(1000) {
            write!(f, "{ms}ms")
        } else if !ms.is_multiple_of(60_000) || ms == 0 {
            write!(f, "{}s", ms / 1000)
        } else {
            write!(f, "{}m", ms / 60_000)
        }
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^([0-9]+(ms|s|m|h))+$",
            "description": "A duration such as `500ms`, `30s`, `5m` or `1h30m`."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compound_durations() {
        assert_eq!("1h30m".parse::<Duration>().map(|d| d.0.as_secs()), Ok(5400));
        assert_eq!(
            "250ms".parse::<Duration>().map(|d| d.0.as_millis()),
            Ok(250)
        );
        assert_eq!(
            "2m".parse::<Duration>().map(|d| d.to_string()),
            Ok("2m".into())
        );
    }

    #[test]
    fn rejects_missing_or_unknown_units() {
        assert_eq!(
            "30".parse::<Duration>().map_err(|e| e.reason),
            Err("a unit is missing")
        );
        assert!("5 minutes".parse::<Duration>().is_err());
        assert!("".parse::<Duration>().is_err());
    }
}
