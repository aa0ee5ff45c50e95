//! Maximum bipartite matching between expected and live list elements.
//!
//! Greedy matching is wrong for unordered subsets: expected `[{a: 1}, {a: 1, b: 2}]` against live
//! `[{a: 1, b: 2}, {a: 1}]` fails if the first expected element takes the first live one. Kuhn's
//! augmenting paths find a matching of maximum size, so a list fails only when no assignment of
//! distinct live elements exists.

/// For each expected element (row of `compatible`), the live element (column) it is matched
/// with in one maximum matching, or `None` when it is left out.
pub(crate) fn maximum_matching(compatible: &[Vec<bool>], live_len: usize) -> Vec<Option<usize>> {
    let mut live_owner: Vec<Option<usize>> = vec![None; live_len];
    for expected in 0..compatible.len() {
        let mut visited = vec![false; live_len];
        augment(expected, compatible, &mut visited, &mut live_owner);
    }
    let mut assignment = vec![None; compatible.len()];
    for (live, owner) in live_owner.iter().enumerate() {
        if let Some(expected) = owner {
            assignment[*expected] = Some(live);
        }
    }
    assignment
}

/// Tries to give `expected` a live element, moving earlier assignments along an augmenting path.
fn augment(
    expected: usize,
    compatible: &[Vec<bool>],
    visited: &mut [bool],
    live_owner: &mut [Option<usize>],
) -> bool {
    for live in 0..live_owner.len() {
        if !compatible[expected].get(live).copied().unwrap_or(false) || visited[live] {
            continue;
        }
        visited[live] = true;
        let free = match live_owner[live] {
            None => true,
            Some(other) => augment(other, compatible, visited, live_owner),
        };
        if free {
            live_owner[live] = Some(expected);
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(assignment: &[Option<usize>]) -> usize {
        assignment.iter().flatten().count()
    }

    #[test]
    fn finds_the_assignment_greedy_would_miss() {
        // Expected 0 fits both live elements, expected 1 only the first.
        let compatible = vec![vec![true, true], vec![true, false]];
        let assignment = maximum_matching(&compatible, 2);
        assert_eq!(assignment, vec![Some(1), Some(0)]);
    }

    #[test]
    fn distinct_live_elements_only() {
        let compatible = vec![vec![true, false], vec![true, false]];
        let assignment = maximum_matching(&compatible, 2);
        assert_eq!(size(&assignment), 1);
    }

    #[test]
    fn long_augmenting_chain() {
        // Each expected i fits live i and i+1; filling in order forces every earlier choice to
        // shift when the last one only fits live 0.
        let n = 6;
        let mut compatible: Vec<Vec<bool>> = (0..n)
            .map(|i| (0..n).map(|j| j == i || j == i + 1).collect())
            .collect();
        compatible[n - 1] = (0..n).map(|j| j == 0).collect();
        let assignment = maximum_matching(&compatible, n);
        assert_eq!(size(&assignment), n);
        let mut used: Vec<usize> = assignment.iter().flatten().copied().collect();
        used.sort_unstable();
        used.dedup();
        assert_eq!(used.len(), n);
    }

    #[test]
    fn empty_sides() {
        assert!(maximum_matching(&[], 3).is_empty());
        assert_eq!(maximum_matching(&[vec![]], 0), vec![None]);
    }
}
