//! YAML as kubectl reads it, and a span-carrying outline of a document for locating diagnostics.
//!
//! serde-saphyr deserializes the typed model; the outline built here from the same parser's
//! events records where every node starts and ends, so later passes can point at a key inside a
//! step or a manifest (`spec.replica`) and the loader can re-check one step at a time.

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};

/// The most YAML nodes (values, lists and mappings) one file may hold. A scenario of a few
/// hundred steps uses a few thousand; the limit keeps a runaway or hostile file from costing
/// more than a moment before it is turned away.
pub const MAX_NODES: usize = 250_000;

/// Parser options shared by scenario files and manifests: YAML 1.1 numbers and booleans, the way
/// kubectl's YAML reader resolves them (`0755` is 493, `yes` is true).
pub fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        legacy_octal_numbers: true,
        budget: serde_saphyr::budget! {
            max_nodes: MAX_NODES,
        },
    }
}

/// Reads the documents of a manifest file the way kubectl does: YAML 1.1 numbers (`0755` is 493)
/// and whole-number floats as integers (`08`, `1.0`), as kubectl's YAML-to-JSON step makes them.
/// Empty documents are skipped.
pub fn read_manifests(text: &str) -> Result<Vec<serde_json::Value>, serde_saphyr::Error> {
    let documents: Vec<serde_json::Value> =
        serde_saphyr::from_str_multiple_with_options(text, options())?;
    Ok(documents
        .into_iter()
        .filter(|document| !document.is_null())
        .map(|mut document| {
            kubectl_numbers(&mut document);
            document
        })
        .collect())
}

/// Turns whole-number floats into integers, as kubectl's YAML-to-JSON conversion does; the API
/// server rejects `8.0` in an integer field.
pub fn kubectl_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(number) if !number.is_i64() && !number.is_u64() => {
            if let Some(float) = number.as_f64()
                && float.fract() == 0.0
                && float.abs() < 9.0e15
            {
                *value = Value::from(float as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(kubectl_numbers),
        Value::Object(map) => map.values_mut().for_each(kubectl_numbers),
        _ => {}
    }
}

/// A position in a source text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// Byte offset into the source.
    pub byte: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// One node of a document outline: where it is and what it holds.
#[derive(Debug, Clone)]
pub struct Node {
    pub start: Pos,
    pub end: Pos,
    pub value: NodeValue,
}

#[derive(Debug, Clone)]
pub enum NodeValue {
    Scalar { text: String, plain: bool },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    Alias,
}

/// A path step into an outline: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPart {
    Key(String),
    Index(usize),
}

/// Where to point for a path: at the key naming the last part, or at the value it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    Key,
    Value,
}

impl Node {
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            NodeValue::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            NodeValue::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn scalar(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The entry of a mapping under `key`: (key node, value node).
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.scalar() == Some(key))
            .map(|(k, v)| (k, v))
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The node a path leads to, as far as it exists, and how many parts were followed.
    pub fn walk(&self, path: &[PathPart], point: Point) -> (&Node, usize) {
        let mut node = self;
        for (depth, part) in path.iter().enumerate() {
            let last = depth + 1 == path.len();
            let next = match part {
                PathPart::Key(key) => node
                    .entry(key)
                    .map(|(k, v)| if last && point == Point::Key { k } else { v }),
                PathPart::Index(index) => node.as_seq().and_then(|items| items.get(*index)),
            };
            match next {
                Some(next) => node = next,
                None => return (node, depth),
            }
        }
        (node, path.len())
    }

    /// The byte range of the node, trimmed to its first line when it spans several (a snippet
    /// label over a whole block would hide the point).
    pub fn label_range(&self, source: &str) -> std::ops::Range<usize> {
        let start = self.start.byte.min(source.len());
        let end = self.end.byte.clamp(start, source.len());
        let text = &source[start..end];
        let first_line = text.find('\n').map_or(text, |cut| &text[..cut]);
        let trimmed = first_line.trim_end();
        start..start + trimmed.len().max(if end > start { 1 } else { 0 })
    }
}

/// Why a document could not be outlined: YAML syntax.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Outlines every document of a YAML stream. Fails on the first syntax error.
pub fn outline(source: &str) -> Result<Vec<Node>, SyntaxError> {
    let mut builder = Builder {
        stack: Vec::new(),
        documents: Vec::new(),
        source,
    };
    for item in Parser::new_from_str(source) {
        let (event, span) = item.map_err(|error| {
            let marker = error.marker();
            SyntaxError {
                pos: builder.pos(
                    marker.index(),
                    marker.line(),
                    marker.col(),
                    marker.byte_offset(),
                ),
                message: error.info(),
            }
        })?;
        let start = builder.pos(
            span.start.index(),
            span.start.line(),
            span.start.col(),
            span.start.byte_offset(),
        );
        let end = builder.pos(
            span.end.index(),
            span.end.line(),
            span.end.col(),
            span.end.byte_offset(),
        );
        builder.event(event, start, end);
    }
    Ok(builder.documents)
}

enum Open {
    Seq(Pos, Vec<Node>),
    Map(Pos, Vec<(Node, Node)>, Option<Node>),
}

struct Builder<'a> {
    stack: Vec<Open>,
    documents: Vec<Node>,
    source: &'a str,
}

impl Builder<'_> {
    fn pos(&self, index: usize, line: usize, col: usize, byte: Option<usize>) -> Pos {
        // String input always carries byte offsets; fall back to the character index, which is
        // the same for ASCII text.
        let byte = byte.unwrap_or(index).min(self.source.len());
        Pos {
            byte,
            line,
            column: col + 1,
        }
    }

    fn event(&mut self, event: Event<'_>, start: Pos, end: Pos) {
        match event {
            Event::Scalar(text, style, _, _) => {
                let plain = matches!(style, ScalarStyle::Plain);
                self.push(Node {
                    start,
                    end,
                    value: NodeValue::Scalar {
                        text: text.into_owned(),
                        plain,
                    },
                });
            }
            Event::Alias(_) => self.push(Node {
                start,
                end,
                value: NodeValue::Alias,
            }),
            Event::SequenceStart(..) => self.stack.push(Open::Seq(start, Vec::new())),
            Event::MappingStart(..) => self.stack.push(Open::Map(start, Vec::new(), None)),
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Open::Seq(open, items)) => Node {
                        start: open,
                        end,
                        value: NodeValue::Seq(items),
                    },
                    Some(Open::Map(open, entries, _)) => Node {
                        start: open,
                        end,
                        value: NodeValue::Map(entries),
                    },
                    None => return,
                };
                self.push(node);
            }
            _ => {}
        }
    }

    fn push(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Open::Seq(_, items)) => items.push(node),
            Some(Open::Map(_, entries, pending)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlines_nested_nodes_with_positions() {
        let source = "a: 1\nsteps:\n  - scale: {target: x, replica: 3}\n  - mark: b\n";
        let docs = outline(source).expect("valid yaml");
        assert_eq!(docs.len(), 1);
        let steps = docs[0].get("steps").and_then(Node::as_seq).expect("steps");
        assert_eq!(steps.len(), 2);
        let path = [
            PathPart::Index(0),
            PathPart::Key("scale".into()),
            PathPart::Key("replica".into()),
        ];
        let steps_node = docs[0].get("steps").expect("steps");
        let (key, depth) = steps_node.walk(&path, Point::Key);
        assert_eq!(depth, 3);
        assert_eq!((key.start.line, key.start.column), (3, 24));
        assert_eq!(&source[key.label_range(source)], "replica");
    }

    #[test]
    fn reports_syntax_errors_with_position() {
        let error = outline("a: [1, 2\nb: 3\n").expect_err("unclosed");
        assert!(error.pos.line >= 1);
        assert!(!error.message.is_empty());
    }

    #[test]
    fn reads_manifests_the_way_kubectl_does() {
        let documents =
            read_manifests("mode: 0755\nport: 08\nratio: 1.5\n---\n---\nkind: b\n").expect("yaml");
        assert_eq!(documents.len(), 2);
        assert_eq!(documents[0]["mode"], 493);
        assert!(documents[0]["port"].is_i64());
        assert_eq!(documents[0]["port"], 8);
        assert_eq!(documents[0]["ratio"], 1.5);
    }

    #[test]
    fn reads_numbers_the_way_kubectl_does() {
        let value: serde_json::Value =
            serde_saphyr::from_str_with_options("mode: 0755\non: yes\nq: '0755'\n", options())
                .expect("parses");
        assert_eq!(value["mode"], 493);
        assert_eq!(value["q"], "0755");
    }
}
