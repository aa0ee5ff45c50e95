//! Problems found in files people wrote: where (file:line:column), what, and what to do about it.
//!
//! A [`Diagnostic`] is a miette diagnostic carrying the file's text, so it renders with the
//! offending snippet underlined. [`render_plain`] gives a colour-free ASCII rendering that is
//! stable enough for snapshot tests and CI logs; [`render_fancy`] is for terminals.

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode, SourceSpan,
};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How bad a problem is. Errors fail `petset lint` and keep a scenario from running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem at one place in one file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable identifier of the kind of problem, e.g. `shape::unknown-field`.
    pub code: &'static str,
    /// One sentence saying what is wrong.
    pub message: String,
    /// The file the problem is in (a scenario or a fixture manifest).
    pub path: PathBuf,
    /// 1-based line and column of the problem.
    pub line: usize,
    pub column: usize,
    /// Short text under the underlined snippet.
    pub label: String,
    /// What to do about it, e.g. "did you mean `replicas`?".
    pub help: Option<String>,
    span: Range<usize>,
    source: NamedSource<Arc<str>>,
}

/// A file's text and the name diagnostics show for it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: Arc<str>,
    /// The byte offset where each line starts, so positions convert in logarithmic time: a file
    /// with thousands of problems must not be rescanned from its start for each one.
    line_starts: Arc<[usize]>,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Self {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// The 1-based line and character column of a byte offset.
    pub fn line_column(&self, byte: usize) -> (usize, usize) {
        let mut byte = byte.min(self.text.len());
        while !self.text.is_char_boundary(byte) {
            byte -= 1;
        }
        let line = self.line_starts.partition_point(|start| *start <= byte);
        let line_start = self.line_starts[line.saturating_sub(1)];
        (line, self.text[line_start..byte].chars().count() + 1)
    }

    /// The byte offset of a 1-based line and character column, clamped to the text.
    pub fn byte_offset(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.max(1) - 1) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        let line_text = rest.find('\n').map_or(rest, |at| &rest[..at]);
        start
            + line_text
                .char_indices()
                .nth(column.saturating_sub(1))
                .map_or(line_text.len(), |(at, _)| at)
    }

    /// An error diagnostic over `span` (byte offsets) of this file.
    pub fn error(
        &self,
        code: &'static str,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Diagnostic {
        let start = span.start.min(self.text.len());
        let end = span.end.clamp(start, self.text.len());
        let (line, column) = self.line_column(start);
        Diagnostic {
            severity: Severity::Error,
            code,
            message: one_line(message.into()),
            path: self.path.clone(),
            line,
            column,
            label: String::new(),
            help: None,
            span: start..end,
            source: NamedSource::new(self.path.display().to_string(), self.text.clone()),
        }
    }
}

/// Messages are one line, so `path:line:col: message` stays greppable.
fn one_line(message: String) -> String {
    if message.contains('\n') {
        message
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        message
    }
}

impl Diagnostic {
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The offending text: the underlined part of the source.
    pub fn snippet(&self) -> &str {
        self.source
            .inner()
            .get(self.span.clone())
            .unwrap_or_default()
    }

    /// `path:line:column`.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.path.display(), self.line, self.column)
    }

    /// One line: `path:line:column: error: message (help)`, for logs and reports.
    pub fn one_line(&self) -> String {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match &self.help {
            Some(help) => format!("{}: {severity}: {} ({help})", self.location(), self.message),
            None => format!("{}: {severity}: {}", self.location(), self.message),
        }
    }

    /// The file's path as shown.
    pub fn location_path(&self) -> String {
        self.path.display().to_string()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = (!self.label.is_empty()).then(|| self.label.clone());
        let span = SourceSpan::new(self.span.start.into(), self.span.len());
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(label, span),
        )))
    }
}

/// Renders diagnostics without colour or Unicode, one after another, each headed by
/// `path:line:column`.
pub fn render_plain(diagnostics: &[Diagnostic]) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::none())
        .with_width(100)
        .with_links(false)
        .with_context_lines(1);
    render_with(&handler, diagnostics)
}

/// Renders diagnostics for a terminal, with colour and Unicode box drawing.
pub fn render_fancy(diagnostics: &[Diagnostic]) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode())
        .with_width(100)
        .with_links(false)
        .with_context_lines(1);
    render_with(&handler, diagnostics)
}

fn render_with(handler: &GraphicalReportHandler, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        out.push_str(&diagnostic.one_line());
        out.push('\n');
        if handler.render_report(&mut out, diagnostic).is_err() {
            out.push_str("  (the snippet could not be rendered)\n");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_between_offsets_and_columns() {
        let file = SourceFile::new("t", "ab\ncé d\n");
        let offset = file.byte_offset(2, 4);
        assert_eq!(&file.text[offset..offset + 1], "d");
        assert_eq!(file.line_column(offset), (2, 4));
        assert_eq!(file.line_column(0), (1, 1));
        assert_eq!(file.line_column(3), (2, 1));
        assert_eq!(file.byte_offset(9, 1), file.text.len());
    }
}
