//! Human durations in scenario files, in Go's syntax as kubectl takes them: `500ms`, `1.5s`,
//! `300us`, `5m`, `1h30m`, at most [`Duration::MAX`].

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// A duration written the way kubectl's `--timeout` takes it (`90s`, `5m`, `1h30m`, `250ms`,
/// `1.5s`, `300us`): Go's `time.ParseDuration` syntax, without a sign.
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

const HOW_TO_WRITE: &str = "write it like `30s`, `5m`, `1h30m`, `1.5s` or `500ms`";
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

    /// Go's `time.ParseDuration` syntax, as kubectl's `--timeout` takes it, through kube-core's
    /// parser. kube-core panics on a negative part and on overflow, so signs are refused first
    /// and every part is bounded before it is handed over.
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
        let text = input.trim();
        if text.is_empty() {
            return Err(fail("it is empty"));
        }
        if text.contains(char::is_whitespace) {
            return Err(fail(
                "a number and its unit are written together, without spaces",
            ));
        }
        if text.contains(['-', '+']) {
            return Err(fail("a duration has no sign"));
        }
        if parts_exceed_limit(text) {
            return Err(too_long());
        }
        let parsed: kube_core::Duration = text.parse().map_err(|error| {
            fail(match error {
                kube_core::duration::ParseError::NoUnit => "a unit is missing",
                kube_core::duration::ParseError::InvalidUnit => {
                    "unknown unit (use h, m, s, ms, us or ns)"
                }
                _ => "expected a number",
            })
        })?;
        let total = std::time::Duration::from(parsed);
        if total > Self::MAX {
            return Err(too_long());
        }
        Ok(Self(total))
    }
}

/// Whether any part of `text` (a number and a unit, split as kube-core splits them) is
/// longer than [`Duration::MAX`] on its own. Parts kube-core will refuse are left to it.
fn parts_exceed_limit(text: &str) -> bool {
    let mut rest = text;
    while !rest.is_empty() {
        let unit_start = rest.find(char::is_alphabetic).unwrap_or(rest.len());
        let (number, after) = rest.split_at(unit_start);
        let unit_len = after
            .find(|c: char| !c.is_alphabetic())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let seconds_per_unit = match unit {
            "ns" => 1e-9,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => 0.0,
        };
        if number
            .parse::<f64>()
            .is_ok_and(|value| value * seconds_per_unit > Duration::MAX.as_secs_f64())
        {
            return true;
        }
        rest = after;
    }
    false
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        let nanos = self.0.subsec_nanos();
        if !nanos.is_multiple_of(1000) {
            write!(f, "{}ns", self.0.as_nanos())
        } else if !nanos.is_multiple_of(1_000_000) {
            write!(f, "{}us", self.0.as_micros())
        } else if !ms.is_multiple_of(1000) {
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
            // Go's syntax, with the digits of each part bounded so that no one part passes a day
            // by far (the exact 24h limit is the loader's to check).
            "pattern": "^(0|(([0-9]{1,2}(\\.[0-9]*)?|\\.[0-9]+)h|([0-9]{1,4}(\\.[0-9]*)?|\\.[0-9]+)m|([0-9]{1,5}(\\.[0-9]*)?|\\.[0-9]+)s|([0-9]{1,8}(\\.[0-9]*)?|\\.[0-9]+)ms|([0-9]{1,11}(\\.[0-9]*)?|\\.[0-9]+)(us|\u{b5}s|\u{3bc}s)|([0-9]{1,14}(\\.[0-9]*)?|\\.[0-9]+)ns)+)$",
            "description": "A duration in Go's syntax, as kubectl takes it, such as `500ms`, `1.5s`, `30s`, `5m` or `1h30m`; at most `24h`."
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

    /// Go's syntax, as kubectl's `--timeout` takes it: fractions and units below a millisecond.
    #[test]
    fn parses_go_durations() {
        let parsed = |text: &str| text.parse::<Duration>().map(Duration::as_std);
        assert_eq!(parsed("1.5s"), Ok(std::time::Duration::from_millis(1500)));
        assert_eq!(parsed("300us"), Ok(std::time::Duration::from_micros(300)));
        assert_eq!(parsed("1h30m"), Ok(std::time::Duration::from_secs(5400)));
        assert_eq!(parsed(".5m"), Ok(std::time::Duration::from_secs(30)));
        assert_eq!(
            parsed("1m0.25s"),
            Ok(std::time::Duration::from_millis(60_250))
        );
        assert_eq!(parsed("0"), Ok(std::time::Duration::ZERO));
        let shown = |text: &str| text.parse::<Duration>().map(|d| d.to_string());
        assert_eq!(shown("1.5s"), Ok("1500ms".into()));
        assert_eq!(shown("300us"), Ok("300us".into()));
        assert_eq!(shown("10ns"), Ok("10ns".into()));
    }

    #[test]
    fn rejects_missing_or_unknown_units() {
        assert_eq!(
            "30".parse::<Duration>().map_err(|e| e.reason),
            Err("a unit is missing")
        );
        assert_eq!(
            "5d".parse::<Duration>().map_err(|e| e.reason),
            Err("unknown unit (use h, m, s, ms, us or ns)")
        );
        for signed in ["-5s", "+5s", "5s-3s"] {
            assert_eq!(
                signed.parse::<Duration>().map_err(|e| e.reason),
                Err("a duration has no sign"),
                "{signed}"
            );
        }
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
            "24.000001h",
            "100000000000000000000000000000000000000000000000000000000000000000000000h1x",
            "86400.000000001s",
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
