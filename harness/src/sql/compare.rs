//! Comparing returned rows with expected ones: exact, unordered or contains, plus a minimum
//! number of distinct rows. Values compare as text; NULL equals only NULL.

use super::rows::{Row, Rows, format_row, format_rows};
pub use crate::scenario::model::RowsMatch;

/// What a query's rows must look like.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowCheck {
    /// The expected rows, compared as `mode` says; `None` checks no rows.
    pub rows: Option<Rows>,
    pub mode: RowsMatch,
    /// At least this many distinct rows must come back.
    pub distinct_at_least: Option<usize>,
}

impl RowCheck {
    /// Returns `Err` with a readable account (expected, got, missing, unexpected) on mismatch.
    pub fn check(&self, actual: &[Row]) -> Result<(), String> {
        if let Some(expected) = &self.rows {
            compare(expected, actual, self.mode)?;
        }
        if let Some(minimum) = self.distinct_at_least {
            let mut distinct: Vec<&Row> = actual.iter().collect();
            distinct.sort();
            distinct.dedup();
            if distinct.len() < minimum {
                return Err(format!(
                    "expected at least {minimum} distinct rows, got {}:\n{}",
                    distinct.len(),
                    format_rows(&distinct.into_iter().cloned().collect::<Vec<_>>())
                ));
            }
        }
        Ok(())
    }

    /// The expectation as text, for reports.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(rows) = &self.rows {
            parts.push(format!(
                "rows ({}):\n{}",
                mode_name(self.mode),
                format_rows(rows)
            ));
        }
        if let Some(minimum) = self.distinct_at_least {
            parts.push(format!("at least {minimum} distinct rows"));
        }
        if parts.is_empty() {
            "any rows".to_owned()
        } else {
            parts.join("\n")
        }
    }
}

/// Compares `actual` with `expected` as `mode` says.
pub fn compare(expected: &[Row], actual: &[Row], mode: RowsMatch) -> Result<(), String> {
    let matched = match mode {
        RowsMatch::Exact => expected == actual,
        RowsMatch::Unordered => {
            expected.len() == actual.len() && unmatched(expected, actual).is_empty()
        }
        RowsMatch::Contains => unmatched(expected, actual).is_empty(),
    };
    if matched {
        return Ok(());
    }
    let mut text = format!(
        "expected ({}):\n{}\ngot:\n{}",
        mode_name(mode),
        format_rows(expected),
        format_rows(actual)
    );
    let missing = unmatched(expected, actual);
    if !missing.is_empty() {
        text.push_str("\nmissing:\n");
        text.push_str(&lines(&missing));
    }
    if mode != RowsMatch::Contains {
        let extra = unmatched(actual, expected);
        if !extra.is_empty() {
            text.push_str("\nunexpected:\n");
            text.push_str(&lines(&extra));
        }
        if mode == RowsMatch::Exact && missing.is_empty() && extra.is_empty() {
            text.push_str("\n(the same rows in a different order; use `match: unordered`)");
        }
    }
    Err(text)
}

fn mode_name(mode: RowsMatch) -> &'static str {
    match mode {
        RowsMatch::Exact => "exact",
        RowsMatch::Unordered => "unordered",
        RowsMatch::Contains => "contains",
    }
}

fn lines(rows: &[&Row]) -> String {
    rows.iter()
        .map(|r| format_row(r))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The rows of `wanted` (as a multiset) that `pool` cannot supply.
fn unmatched<'a>(wanted: &'a [Row], pool: &[Row]) -> Vec<&'a Row> {
    let mut used = vec![false; pool.len()];
    wanted
        .iter()
        .filter(|row| {
            let found = pool
                .iter()
                .enumerate()
                .find(|(i, candidate)| !used[*i] && candidate == row);
            match found {
                Some((i, _)) => {
                    used[i] = true;
                    false
                }
                None => true,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::rows::row;

    fn rows(values: &[&[Option<&str>]]) -> Rows {
        values
            .iter()
            .map(|r| r.iter().map(|c| c.map(str::to_owned)).collect())
            .collect()
    }

    #[test]
    fn exact_needs_the_same_order() {
        let a = rows(&[&[Some("1")], &[Some("2")]]);
        let b = rows(&[&[Some("2")], &[Some("1")]]);
        assert!(compare(&a, &a, RowsMatch::Exact).is_ok());
        let err = compare(&a, &b, RowsMatch::Exact).err().unwrap_or_default();
        assert!(err.contains("different order"), "{err}");
        assert!(compare(&a, &b, RowsMatch::Unordered).is_ok());
    }

    #[test]
    fn unordered_counts_duplicates() {
        let a = rows(&[&[Some("1")], &[Some("1")]]);
        let b = rows(&[&[Some("1")], &[Some("2")]]);
        let err = compare(&a, &b, RowsMatch::Unordered)
            .err()
            .unwrap_or_default();
        assert!(
            err.contains("missing:\n[\"1\"]") && err.contains("unexpected:\n[\"2\"]"),
            "{err}"
        );
    }

    #[test]
    fn contains_allows_extra_rows_but_not_missing_ones() {
        let got = rows(&[&[Some("a"), None], &[Some("b"), Some("x")]]);
        assert!(compare(&rows(&[&[Some("b"), Some("x")]]), &got, RowsMatch::Contains).is_ok());
        let err = compare(&rows(&[&[Some("c"), None]]), &got, RowsMatch::Contains)
            .err()
            .unwrap_or_default();
        assert!(err.contains("missing:\n[\"c\", NULL]"), "{err}");
        assert!(!err.contains("unexpected"), "{err}");
    }

    #[test]
    fn null_is_not_the_string_null() {
        let null = vec![row([None])];
        let text = vec![row([Some("NULL")])];
        assert!(compare(&null, &text, RowsMatch::Exact).is_err());
        assert!(compare(&null, &null, RowsMatch::Exact).is_ok());
    }

    #[test]
    fn distinct_minimum() {
        let check = RowCheck {
            distinct_at_least: Some(2),
            ..RowCheck::default()
        };
        let same = rows(&[&[Some("101")], &[Some("101")], &[Some("101")]]);
        let err = check.check(&same).err().unwrap_or_default();
        assert!(err.contains("at least 2 distinct rows, got 1"), "{err}");
        let mixed = rows(&[&[Some("101")], &[Some("102")], &[Some("101")]]);
        assert!(check.check(&mixed).is_ok());
    }
}
