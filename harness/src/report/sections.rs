//! The parts of a failure body, each under a budget of its own: one huge part (the "last
//! observed" copy of a big object, a long `actual`) cannot crowd the others out of the body, and
//! the onFailure collectors' output, written last, always reaches it.

/// The most one part keeps: `expected`, `actual`, and each `== ... ==` section of the
/// diagnostics (an object as last observed, the events, the pods that are not ready).
pub(crate) const SECTION_CAP: usize = 8 * 1024;
/// The most the onFailure collectors' sections keep together; the rest of the body has what is
/// left of the body's cap.
pub(crate) const COLLECTED_CAP: usize = 16 * 1024;
/// How the engine heads the output of each `onFailure` collector, and so where the body's
/// collected part starts.
pub(crate) const COLLECTOR_HEADER: &str = "== onFailure: ";

/// Where the whole of what a cut leaves out is.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Whole<'a> {
    /// The whole failure, uncut (`reports/failures/<area>--<name>.txt`).
    pub failure: Option<&'a str>,
    /// The whole timeline (`reports/timelines/<area>--<name>.txt`).
    pub timeline: Option<&'a str>,
}

impl Whole<'_> {
    /// `; the whole failure: ...; the whole timeline: ...`, for the notes of cuts.
    fn places(&self) -> String {
        let mut text = String::new();
        if let Some(failure) = self.failure {
            text.push_str(&format!("; the whole failure: {failure}"));
        }
        if let Some(timeline) = self.timeline {
            text.push_str(&format!("; the whole timeline: {timeline}"));
        }
        text
    }
}

/// `text` cut to at most `cap` bytes (on a character boundary), ending with a note saying how
/// many bytes were cut and where the whole is.
pub(crate) fn cut(text: &str, cap: usize, whole: Whole<'_>) -> String {
    if text.len() <= cap {
        return text.to_owned();
    }
    let note = |left_out: usize| {
        format!(
            "\n[{left_out} more bytes left out: reports keep at most {} KiB here{}]",
            cap / 1024,
            whole.places()
        )
    };
    // The note's own length depends on the count; a generous estimate keeps it under `cap`.
    let mut keep = cap.saturating_sub(note(text.len()).len());
    while !text.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}{}", &text[..keep], note(text.len() - keep))
}

/// The diagnostics split in two: what petset gathered (each `== ... ==` section cut to
/// [`SECTION_CAP`]) and what the onFailure collectors added (cut to [`COLLECTED_CAP`]).
pub(crate) fn diagnostics(text: &str, whole: Whole<'_>) -> (String, String) {
    let (gathered, collected) = match text.find(&format!("\n{COLLECTOR_HEADER}")) {
        Some(at) => text.split_at(at + 1),
        None if text.starts_with(COLLECTOR_HEADER) => ("", text),
        None => (text, ""),
    };
    let gathered: Vec<String> = sections(gathered)
        .into_iter()
        .map(|section| cut(section, SECTION_CAP, whole))
        .collect();
    (gathered.concat(), cut(collected, COLLECTED_CAP, whole))
}

/// `text` split before each line that starts a `== ... ==` section.
fn sections(text: &str) -> Vec<&str> {
    let mut starts: Vec<usize> = text.match_indices("\n== ").map(|(at, _)| at + 1).collect();
    starts.insert(0, 0);
    starts.push(text.len());
    starts
        .windows(2)
        .map(|pair| &text[pair[0]..pair[1]])
        .filter(|section| !section.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_gathered_section_is_cut_on_its_own_and_the_collected_part_is_kept() {
        let object = format!(
            "== configmap/big (last observed) ==\n{}\n",
            "é".repeat(50_000)
        );
        let events = "== events in ns ==\nScheduled pod/web-0\n";
        let collected = "\n== onFailure: command echo hi ==\nhi\n";
        let text = format!("{object}{events}{collected}");
        let whole = Whole {
            failure: Some("reports/failures/a--b.txt"),
            timeline: None,
        };
        let (gathered, kept) = diagnostics(&text, whole);
        assert!(
            gathered.len() <= SECTION_CAP + events.len() + 1,
            "{}",
            gathered.len()
        );
        assert!(gathered.contains(
            "more bytes left out: reports keep at most 8 KiB here; the whole failure: reports/failures/a--b.txt]"
        ));
        assert!(
            gathered.trim_end().ends_with(events.trim_end()),
            "{gathered}"
        );
        assert_eq!(kept, collected.trim_start_matches('\n'));
    }
}
