//! Choosing scenarios by their `labels`: `statefulset,!slow` runs the scenarios labelled
//! `statefulset` that are not labelled `slow`. Every term must hold, as in a Kubernetes label
//! selector.

use std::fmt;

/// The labels a scenario must have and must not have.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelFilter {
    pub required: Vec<String>,
    pub excluded: Vec<String>,
}

impl LabelFilter {
    /// Parses `a,!b,c`: comma-separated labels, each optionally negated with `!`. The error is
    /// what was expected instead.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let mut filter = Self::default();
        for term in text.split(',').map(str::trim) {
            let (list, label) = match term.strip_prefix('!') {
                Some(label) => (&mut filter.excluded, label.trim()),
                None => (&mut filter.required, term),
            };
            if label.is_empty() || !label.chars().all(is_label_char) {
                return Err(
                    "expected comma-separated labels, each optionally negated with `!`, \
                            e.g. statefulset,!slow",
                );
            }
            list.push(label.to_string());
        }
        Ok(filter)
    }

    /// Whether nothing is filtered.
    pub fn is_empty(&self) -> bool {
        self.required.is_empty() && self.excluded.is_empty()
    }

    /// Whether a scenario with `labels` is selected.
    pub fn selects(&self, labels: &[String]) -> bool {
        let has = |wanted: &String| labels.iter().any(|label| label == wanted);
        self.required.iter().all(has) && !self.excluded.iter().any(has)
    }
}

fn is_label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')
}

impl fmt::Display for LabelFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let terms: Vec<String> = self
            .required
            .iter()
            .cloned()
            .chain(self.excluded.iter().map(|label| format!("!{label}")))
            .collect();
        f.write_str(&terms.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(list: &[&str]) -> Vec<String> {
        list.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn every_term_must_hold() {
        let filter = LabelFilter::parse("statefulset, !slow").unwrap_or_default();
        assert_eq!(filter.to_string(), "statefulset,!slow");
        assert!(filter.selects(&labels(&["statefulset"])));
        assert!(filter.selects(&labels(&["statefulset", "dns"])));
        assert!(!filter.selects(&labels(&["statefulset", "slow"])));
        assert!(!filter.selects(&labels(&["mysql"])));
        assert!(!filter.selects(&[]));
        let only_not = LabelFilter::parse("!mysql").unwrap_or_default();
        assert!(only_not.selects(&[]));
        assert!(!only_not.selects(&labels(&["mysql"])));
    }

    #[test]
    fn empty_or_odd_terms_are_refused() {
        for bad in ["", "a,,b", "!", "a b", "a,!"] {
            assert!(LabelFilter::parse(bad).is_err(), "{bad:?}");
        }
    }
}
