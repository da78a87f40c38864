//! Plain-text output for people: tables with left-aligned columns separated by two spaces, and
//! the cell texts the commands share.

/// Renders `rows` under `headers`, padding each column to its widest cell.
pub(crate) fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header_cells: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header_cells).chain(rows) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}", width = *width))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Renders label/value pairs as two aligned columns.
pub(crate) fn pairs(rows: &[(&str, String)]) -> String {
    let width = rows
        .iter()
        .map(|(label, _)| label.chars().count())
        .max()
        .unwrap_or(0);
    rows.iter()
        .map(|(label, value)| format!("{label:<width$}  {value}\n"))
        .collect()
}

/// `yes` or `no`.
pub(crate) fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

/// `None` for an empty string (proto3 sends absent text as empty).
pub(crate) fn non_empty(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

/// Unix seconds as an RFC 3339 time.
pub(crate) fn time_text(unix_seconds: u64) -> String {
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix_seconds),
    )
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_to_the_widest_cell() {
        let rows = vec![
            vec!["store".to_owned(), "ready".to_owned(), String::new()],
            vec![
                "beacon".to_owned(),
                "degraded".to_owned(),
                "fallback only".to_owned(),
            ],
        ];
        assert_eq!(
            render(&["COMPONENT", "STATE", "MESSAGE"], &rows),
            "COMPONENT  STATE     MESSAGE\nstore      ready\nbeacon     degraded  fallback only\n"
        );
    }

    #[test]
    fn pairs_align_labels() {
        assert_eq!(
            pairs(&[("Node", "a".to_owned()), ("Data dir", "b".to_owned())]),
            "Node      a\nData dir  b\n"
        );
    }
}
