//! "Did you mean" suggestions: the closest known word by edit distance.

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
pub(crate) fn closest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|candidate| *candidate != word)
        .map(|candidate| (distance(&lower, &candidate.to_lowercase()), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// A "did you mean `x`?" sentence, or `None` when nothing is close.
pub(crate) fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    closest(word, candidates).map(|found| format!("did you mean `{found}`?"))
}

/// Optimal string alignment distance: Levenshtein plus adjacent transpositions, so `scael`
/// is one edit from `scale`.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Inputs are identifiers; keep the quadratic table small for hostile inputs.
    if a.len() > 64 || b.len() > 64 {
        return a.len().max(b.len());
    }
    let width = b.len() + 1;
    let mut table = vec![0usize; (a.len() + 1) * width];
    for (i, cell) in table.iter_mut().step_by(width).enumerate() {
        *cell = i;
    }
    for (j, cell) in table.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (table[(i - 1) * width + j] + 1)
                .min(table[i * width + j - 1] + 1)
                .min(table[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(table[(i - 2) * width + j - 2] + 1);
            }
            table[i * width + j] = best;
        }
    }
    table[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(closest("replica", ["target", "replicas"]), Some("replicas"));
        assert_eq!(closest("scael", ["scale", "sql", "exec"]), Some("scale"));
        assert_eq!(
            closest("STS-ORDR-1", ["STS-ORDER-1", "STS-ORDER-2"]),
            Some("STS-ORDER-1")
        );
        assert_eq!(closest("zzzzzz", ["scale", "sql"]), None);
        assert_eq!(distance("abc", "acb"), 1);
    }
}
