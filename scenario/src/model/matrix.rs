//! `matrix:` parameters: one scenario file run once per combination of values, each run a trial
//! of its own named `<area>::<name>[image=mariadb:11.4]`, with the values as variables.

use super::Scenario;
use std::collections::BTreeMap;

/// The most trials one file's matrix may expand to; more is a lint error (split the file, or
/// drop values).
pub const MAX_COMBINATIONS: usize = 16;

/// The values of a matrix, by variable name: `{image: [mariadb:11.4, mariadb:10.11]}`.
pub type Matrix = BTreeMap<String, Vec<String>>;

/// One combination of a matrix: a value per variable, in the matrix's (alphabetical) order.
pub type Parameters = Vec<(String, String)>;

/// Every combination of `matrix`, the first variable varying slowest; none for an empty
/// matrix or a variable without values.
pub fn combinations(matrix: &Matrix) -> Vec<Parameters> {
    matrix
        .iter()
        .fold(vec![Vec::new()], |done, (name, values)| {
            done.iter()
                .flat_map(|partial| {
                    values.iter().map(move |value| {
                        let mut next = partial.clone();
                        next.push((name.clone(), value.clone()));
                        next
                    })
                })
                .collect()
        })
}

/// How many combinations `matrix` has, without building them (saturating).
pub fn combination_count(matrix: &Matrix) -> usize {
    matrix
        .values()
        .fold(1usize, |count, values| count.saturating_mul(values.len()))
}

/// `[image=mariadb:11.4,storageClass=fast]`: what a trial's name adds for its parameters.
pub fn label(parameters: &Parameters) -> String {
    let pairs: Vec<String> = parameters
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    format!("[{}]", pairs.join(","))
}

impl Scenario {
    /// The scenario once per combination of its matrix, each with its parameters set and the
    /// label its trial name carries; a scenario without a matrix is itself, with no label.
    pub fn expand(&self) -> Vec<(String, Scenario)> {
        let Some(matrix) = &self.matrix else {
            return vec![(String::new(), self.clone())];
        };
        combinations(matrix)
            .into_iter()
            .map(|parameters| {
                let mut one = self.clone();
                one.parameters.clone_from(&parameters);
                (label(&parameters), one)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_cover_every_pair_in_order() {
        let matrix = Matrix::from([
            (
                "image".to_owned(),
                vec!["mariadb:11.4".to_owned(), "mariadb:10.11".to_owned()],
            ),
            (
                "storageClass".to_owned(),
                vec!["fast".to_owned(), "slow".to_owned()],
            ),
        ]);
        let labels: Vec<String> = combinations(&matrix).iter().map(label).collect();
        assert_eq!(
            labels,
            [
                "[image=mariadb:11.4,storageClass=fast]",
                "[image=mariadb:11.4,storageClass=slow]",
                "[image=mariadb:10.11,storageClass=fast]",
                "[image=mariadb:10.11,storageClass=slow]",
            ]
        );
        assert_eq!(combination_count(&matrix), 4);
        let empty = Matrix::from([("image".to_owned(), Vec::new())]);
        assert!(combinations(&empty).is_empty());
        assert_eq!(combination_count(&empty), 0);
    }
}
