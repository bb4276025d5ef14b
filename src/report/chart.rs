//! Horizontal bar charts in Unicode block characters for terminals: labels padded by display
//! width (a Chinese character takes two columns), bars in eighths of a cell.

use std::fmt::Write as _;

use unicode_width::UnicodeWidthStr;

/// Widest label shown; longer ones are cut with `…`.
const MAX_LABEL: usize = 24;
const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/// Cuts text to at most `max` display columns, marking the cut with `…` (the tables' rule).
pub use crate::output::table::cut as fit;

/// Pads text with spaces to `width` display columns.
pub fn pad(s: &str, width: usize) -> String {
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(s.width())));
    out
}

/// One line per bar: `label │████▌ value`, scaled so the largest value fills the width.
pub fn bars(rows: &[(String, f64, String)], width: usize) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let labels: Vec<String> = rows
        .iter()
        .map(|(l, _, _)| fit(if l.is_empty() { "-" } else { l }, MAX_LABEL))
        .collect();
    let label_w = labels.iter().map(|l| l.width()).max().unwrap_or(1);
    let value_w = rows.iter().map(|(_, _, v)| v.width()).max().unwrap_or(1);
    let area = width.saturating_sub(label_w + value_w + 4).max(10);
    let max = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max);
    let mut out = String::new();
    for ((_, value, shown), label) in rows.iter().zip(&labels) {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let eighths = if max > 0.0 && *value > 0.0 {
            ((value / max) * (area * 8) as f64).round().max(1.0) as usize
        } else {
            0
        };
        let mut bar: String = std::iter::repeat_n('█', eighths / 8).collect();
        if eighths % 8 > 0 {
            bar.push(EIGHTHS[eighths % 8]);
        }
        let _ = writeln!(
            out,
            "{} │{} {}",
            pad(label, label_w),
            pad(&bar, area),
            shown
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_labels_line_up() {
        let rows = vec![
            ("重要价值客户".to_string(), 8.0, "8".to_string()),
            ("A".to_string(), 4.0, "4".to_string()),
        ];
        let text = bars(&rows, 40);
        let bar_cols: Vec<usize> = text
            .lines()
            .map(|l| l[..l.find('│').expect("bar")].width())
            .collect();
        assert_eq!(bar_cols[0], bar_cols[1]);
        assert!(text.lines().next().expect("line").contains('█'));
    }

    #[test]
    fn the_largest_bar_fills_the_area_and_half_is_half() {
        let rows = vec![
            ("a".to_string(), 10.0, "10".to_string()),
            ("b".to_string(), 5.0, "5".to_string()),
        ];
        let text = bars(&rows, 30); // area = 30 - (1 + 2 + 4) = 23 cells
        let count = |l: &str| l.chars().filter(|&c| c == '█').count();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(count(lines[0]), 23);
        assert_eq!(count(lines[1]), 11);
        assert!(lines[1].contains('▌'));
    }

    #[test]
    fn long_labels_are_cut_by_display_width() {
        let s = fit(&"客".repeat(30), 10);
        assert!(s.width() <= 10);
        assert!(s.ends_with('…'));
    }
}
