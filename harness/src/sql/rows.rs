//! Query results as text rows, whichever way they were fetched: from the wire protocol or
//! parsed from the `mariadb`/`mysql` client's batch output.

use mysql_async::Value;
use std::fmt::Write as _;

/// One value as the server rendered it in text, or `None` for SQL NULL.
pub type Cell = Option<String>;
/// One row of a result.
pub type Row = Vec<Cell>;
/// The rows of a result.
pub type Rows = Vec<Row>;

/// Builds a row from string literals; `None` is NULL. Handy for expectations in code.
pub fn row<const N: usize>(cells: [Option<&str>; N]) -> Row {
    cells.iter().map(|c| c.map(str::to_owned)).collect()
}

/// Converts a row from the driver. Queries go over the text protocol, so values arrive as the
/// server's text; the other variants only appear for binary-protocol results.
pub fn from_driver(row: &mysql_async::Row) -> Row {
    (0..row.len())
        .map(|i| row.as_ref(i).and_then(cell_from_value))
        .collect()
}

fn cell_from_value(value: &Value) -> Cell {
    Some(match value {
        Value::NULL => return None,
        Value::Bytes(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Value::Int(n) => n.to_string(),
        Value::UInt(n) => n.to_string(),
        Value::Float(n) => n.to_string(),
        Value::Double(n) => n.to_string(),
        Value::Date(y, mo, d, h, mi, s, us) => {
            let mut text = format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
            if *us > 0 {
                let _ = write!(text, ".{us:06}");
            }
            text
        }
        Value::Time(negative, days, h, mi, s, us) => {
            let hours = u32::from(*h) + days * 24;
            let sign = if *negative { "-" } else { "" };
            let mut text = format!("{sign}{hours:02}:{mi:02}:{s:02}");
            if *us > 0 {
                let _ = write!(text, ".{us:06}");
            }
            text
        }
    })
}

/// Parses what `mariadb -N -B` (or `mysql -N -B`) prints: one line per row, tab-separated,
/// with `\t`, `\n`, `\\` and `\0` escaped, and NULL printed as the bare word `NULL`.
///
/// Batch output cannot tell NULL from the string `'NULL'`; both become NULL here. Queries that
/// need the difference should go through a port-forward, or select `col IS NULL` alongside.
pub fn parse_batch_output(output: &str) -> Rows {
    if output.is_empty() {
        return Vec::new();
    }
    let body = output.strip_suffix('\n').unwrap_or(output);
    body.split('\n')
        .map(|line| line.split('\t').map(parse_batch_cell).collect())
        .collect()
}

fn parse_batch_cell(field: &str) -> Cell {
    if field == "NULL" {
        return None;
    }
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Some(out)
}

/// Renders rows for messages: `[1, 'a', NULL]`, one row per line.
pub fn format_rows(rows: &[Row]) -> String {
    if rows.is_empty() {
        return "(no rows)".to_owned();
    }
    rows.iter()
        .map(|r| format_row(r))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Renders one row: `[1, 'a', NULL]` (values quoted so `'NULL'` and NULL differ).
pub fn format_row(row: &[Cell]) -> String {
    let cells: Vec<String> = row
        .iter()
        .map(|c| match c {
            None => "NULL".to_owned(),
            Some(text) => format!("{text:?}"),
        })
        .collect();
    format!("[{}]", cells.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_nulls_and_escapes() {
        let rows = parse_batch_output("1\ta\\tb\tNULL\n2\tx\\ny\\\\z\t\n");
        assert_eq!(
            rows,
            vec![
                row([Some("1"), Some("a\tb"), None]),
                row([Some("2"), Some("x\ny\\z"), Some("")]),
            ]
        );
    }

    #[test]
    fn tells_no_rows_from_one_empty_value() {
        assert_eq!(parse_batch_output(""), Vec::<Row>::new());
        assert_eq!(parse_batch_output("\n"), vec![row([Some("")])]);
    }

    #[test]
    fn formats_null_apart_from_the_string_null() {
        assert_eq!(
            format_row(&row([None, Some("NULL"), Some("1")])),
            "[NULL, \"NULL\", \"1\"]"
        );
    }

    #[test]
    fn converts_binary_values() {
        assert_eq!(cell_from_value(&Value::NULL), None);
        assert_eq!(
            cell_from_value(&Value::Date(2024, 1, 2, 3, 4, 5, 0)),
            Some("2024-01-02 03:04:05".into())
        );
        assert_eq!(
            cell_from_value(&Value::Time(true, 1, 2, 3, 4, 5)),
            Some("-26:03:04.000005".into())
        );
        assert_eq!(cell_from_value(&Value::Int(-3)), Some("-3".into()));
    }
}
