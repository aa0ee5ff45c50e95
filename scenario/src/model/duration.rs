//! Human durations in scenario files: `500ms`, `30s`, `5m`, `1h30m`, at most [`Duration::MAX`].

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
#[error("invalid duration `{input}`: {reason} ({hint})")]
pub struct DurationError {
    pub input: String,
    pub reason: &'static str,
    pub hint: &'static str,
}

const HOW_TO_WRITE: &str = "write it like `30s`, `5m`, `1h30m` or `500ms`";
const WITHIN_LIMIT: &str = "no timeout, wait or window may be longer than 24h; write `24h` or less";

impl Duration {
    /// The longest duration a scenario may write: 24 hours. No conformance check needs longer,
    /// and a bound here keeps every deadline computed from it far inside the clock's range.
    pub const MAX: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

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
            hint: HOW_TO_WRITE,
        };
        let too_long = || DurationError {
            input: input.to_owned(),
            reason: "it is longer than the limit of 24h",
            hint: WITHIN_LIMIT,
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
            // A number too large for 64 bits is far past the limit, whatever its unit.
            let value: u64 = rest[..digits].parse().map_err(|_| too_long())?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let millis_per_unit: u64 = match &rest[..unit_len] {
                "ms" => 1,
                "s" => 1000,
                "m" => 60_000,
                "h" => 3_600_000,
                "" => return Err(fail("a unit is missing")),
                _ => return Err(fail("unknown unit (use ms, s, m or h)")),
            };
            let part = value.checked_mul(millis_per_unit).ok_or_else(too_long)?;
            total = total
                .checked_add(std::time::Duration::from_millis(part))
                .filter(|total| *total <= Self::MAX)
                .ok_or_else(too_long)?;
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
            // Digits per unit bounded so that no one part passes a day by far (the exact 24h
            // limit is the loader's to check).
            "pattern": "^([0-9]{1,8}ms|[0-9]{1,5}s|[0-9]{1,4}m|[0-9]{1,2}h)+$",
            "description": "A duration such as `500ms`, `30s`, `5m` or `1h30m`; at most `24h`."
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

    #[test]
    fn durations_past_a_day_are_rejected_not_saturated() {
        assert_eq!(
            "24h".parse::<Duration>().map(|d| d.as_std()),
            Ok(Duration::MAX)
        );
        for input in [
            "24h1ms",
            "1441m",
            "99999999999999999h",
            "99999999999999999999999s",
            "18446744073709551615ms",
            "23h3600s1ms",
        ] {
            let error = input.parse::<Duration>().map(|d| d.as_std());
            assert_eq!(
                error.map_err(|e| e.reason),
                Err("it is longer than the limit of 24h"),
                "{input}"
            );
        }
    }
}
