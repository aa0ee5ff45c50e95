//! Checking text (stdout, stderr, an HTTP body, a DNS answer) against a [`TextMatch`].

use super::mismatch::Mismatch;
use crate::model::TextMatch;
use regex::{Regex, RegexBuilder};

/// `Ok` when every part of `expected` holds for `text`; otherwise one difference per failed part,
/// each under `label` (e.g. `stdout`).
pub fn match_text(label: &str, text: &str, expected: &TextMatch) -> Result<(), Mismatch> {
    let mut out = Mismatch::default();
    let shown = || quote(text);
    if let Some(equals) = &expected.equals
        && strip_newline(text) != strip_newline(equals)
    {
        out.push(label, quote(equals), shown());
    }
    for needle in &expected.contains {
        if !text.contains(needle.as_str()) {
            out.push(label, format!("text containing {}", quote(needle)), shown());
        }
    }
    for needle in &expected.not_contains {
        if text.contains(needle.as_str()) {
            out.push(label, format!("text without {}", quote(needle)), shown());
        }
    }
    if let Some(pattern) = &expected.regex {
        match compile(pattern) {
            Ok(regex) if regex.is_match(text) => {}
            Ok(_) => out.push(label, format!("text matching /{pattern}/"), shown()),
            Err(error) => out.push(
                label,
                "a valid regular expression",
                format!("/{pattern}/ does not compile: {error}"),
            ),
        }
    }
    if let Some(lines) = expected.line_count {
        let actual = text.lines().filter(|line| !line.trim().is_empty()).count();
        if actual != lines {
            out.push(
                label,
                format!("{lines} non-empty lines"),
                format!("{actual}: {}", shown()),
            );
        }
    }
    out.into_result()
}

/// The same expectation with `substitute` applied to every piece of text in it (for `${pod}`).
pub fn substitute_text(
    expected: &TextMatch,
    substitute: impl Fn(&str) -> Result<String, String>,
) -> Result<TextMatch, String> {
    let all = |items: &[String]| {
        items
            .iter()
            .map(|item| substitute(item))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(TextMatch {
        equals: expected.equals.as_deref().map(&substitute).transpose()?,
        contains: all(&expected.contains)?,
        not_contains: all(&expected.not_contains)?,
        regex: expected.regex.as_deref().map(&substitute).transpose()?,
        line_count: expected.line_count,
    })
}

/// Checks the parts of a [`TextMatch`] that can be wrong before anything runs (the regex).
///
/// A pattern holding `${...}` variables is left for the run, when they are filled in.
pub fn validate_text(expected: &TextMatch) -> Result<(), String> {
    match &expected.regex {
        Some(pattern) if pattern.contains("${") => Ok(()),
        Some(pattern) => compile(pattern)
            .map(drop)
            .map_err(|error| format!("regex /{pattern}/ is invalid: {error}")),
        None => Ok(()),
    }
}

/// Command output is read line by line, as grep reads it: `^` and `$` match at the start and end
/// of every line, so `^web-[0-9]+$` matches `web-0\n`.
fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).multi_line(true).build()
}

fn strip_newline(text: &str) -> &str {
    text.strip_suffix('\n')
        .map(|rest| rest.strip_suffix('\r').unwrap_or(rest))
        .unwrap_or(text)
}

/// Text as a quoted, escaped one-liner, cut when long, so reports stay readable.
fn quote(text: &str) -> String {
    const LIMIT: usize = 400;
    let quoted = format!("{text:?}");
    if quoted.chars().count() <= LIMIT {
        return quoted;
    }
    let cut: String = quoted.chars().take(LIMIT).collect();
    format!("{cut}... ({} bytes in all)", text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect() -> TextMatch {
        TextMatch::default()
    }

    #[test]
    fn equals_ignores_one_trailing_newline() {
        let m = TextMatch {
            equals: Some("web-0".into()),
            ..expect()
        };
        assert!(match_text("stdout", "web-0\n", &m).is_ok());
        assert!(match_text("stdout", "web-0\r\n", &m).is_ok());
        assert_eq!(
            match_text("stdout", "web-0\n\n", &m).map_err(|e| e.to_string()),
            Err(r#"stdout: expected "web-0", got "web-0\n\n""#.to_owned())
        );
    }

    #[test]
    fn contains_not_contains_regex_and_lines() {
        let m = TextMatch {
            contains: vec!["Address".into(), "10.0.0.5".into()],
            not_contains: vec!["NXDOMAIN".into()],
            regex: Some(r"^Server:\s+\S+".into()),
            line_count: Some(3),
            ..expect()
        };
        let good = "Server: 10.96.0.10\n\nName: web-0\nAddress 10.0.0.5\n";
        assert!(match_text("stdout", good, &m).is_ok());
        let bad = "** server can't find web-9: NXDOMAIN\n";
        let differences = match_text("stdout", bad, &m)
            .expect_err("fails")
            .differences;
        let expected: Vec<&str> = differences.iter().map(|d| d.expected.as_str()).collect();
        assert_eq!(
            expected,
            vec![
                "text containing \"Address\"",
                "text containing \"10.0.0.5\"",
                "text without \"NXDOMAIN\"",
                "text matching /^Server:\\s+\\S+/",
                "3 non-empty lines",
            ]
        );
        assert!(differences.iter().all(|d| d.path == "stdout"));
    }

    #[test]
    fn regex_anchors_match_at_line_ends() {
        let m = TextMatch {
            regex: Some("^web-[0-9]+$".into()),
            ..expect()
        };
        assert!(match_text("stdout", "web-0\n", &m).is_ok());
        assert!(match_text("stdout", "Server: x\nweb-12\n", &m).is_ok());
        assert!(match_text("stdout", "web-0 up\n", &m).is_err());
    }

    #[test]
    fn bad_regex_is_a_difference_and_a_validation_error() {
        let m = TextMatch {
            regex: Some("(".into()),
            ..expect()
        };
        let error = match_text("body", "x", &m).expect_err("bad regex");
        assert!(error.to_string().contains("does not compile"), "{error}");
        assert!(validate_text(&m).is_err());
        assert!(validate_text(&expect()).is_ok());
        let templated = TextMatch {
            regex: Some("^${pod}$".into()),
            ..expect()
        };
        assert!(validate_text(&templated).is_ok());
    }

    #[test]
    fn an_empty_expectation_holds_for_anything() {
        assert!(match_text("stderr", "whatever", &expect()).is_ok());
    }

    #[test]
    fn long_text_is_cut() {
        let m = TextMatch {
            equals: Some("short".into()),
            ..expect()
        };
        let error = match_text("body", &"y".repeat(10_000), &m).expect_err("differs");
        let actual = &error.differences[0].actual;
        assert!(
            actual.len() < 500 && actual.ends_with("(10000 bytes in all)"),
            "{actual}"
        );
    }
}
