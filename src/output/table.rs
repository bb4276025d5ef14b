//! How a table reads on a terminal: which columns fit its width, and cells as people read
//! them (date-times to the minute, control characters escaped).

use serde_json::Value as J;

use super::{cell_text, escape_controls};

/// Text of a table cell: control characters escaped, and a date-time (RFC 3339 in the
/// local offset, as every date-time value is given) shortened to `YYYY-MM-DD HH:MM` — a table
/// is for reading; JSON and CSV keep the exact value.
pub(super) fn table_cell(v: &J) -> String {
    if let J::String(s) = v {
        let b = s.as_bytes();
        let shape = b.len() == 25
            && b.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                10 => *c == b'T',
                13 | 16 | 22 => *c == b':',
                19 => matches!(c, b'+' | b'-'),
                _ => c.is_ascii_digit(),
            });
        if shape {
            return format!("{} {}", &s[..10], &s[11..16]);
        }
    }
    escape_controls(&cell_text(v))
}

/// Fields a narrow table gives up before the others: they describe rather than identify or
/// need action (a customer's kind and industry before its status and owner).
const SECONDARY: &[&str] = &[
    "kind",
    "industry",
    "source",
    "tags",
    "currency",
    "wechat",
    "campaign",
    "discount",
    "probability",
];

/// Which columns of a terminal table to show in `width` cells: all when they fit at their
/// natural width; else first the columns empty in every row go, then secondary fields
/// (`SECONDARY`), then yes/no columns, then columns from the right, keeping at least three
/// (the first: id, key, name) — wrapping a dozen columns into slivers helps no one.
pub(super) fn fit_columns(
    keys: &[&str],
    header: &[String],
    cells: &[Vec<String>],
    width: usize,
) -> Vec<usize> {
    use unicode_width::UnicodeWidthStr;
    const MIN_KEPT: usize = 3;
    // Each column takes its widest line plus a space either side and a border.
    let natural: Vec<usize> = (0..header.len())
        .map(|i| {
            cells
                .iter()
                .filter_map(|r| r.get(i))
                .chain(std::iter::once(&header[i]))
                .flat_map(|c| c.lines())
                .map(UnicodeWidthStr::width)
                .max()
                .unwrap_or(0)
                + 3
        })
        .collect();
    let mut keep: Vec<usize> = (0..header.len()).collect();
    let total = |keep: &[usize]| 1 + keep.iter().map(|&i| natural[i]).sum::<usize>();
    let empty = |i: usize| cells.iter().all(|r| r.get(i).is_none_or(String::is_empty));
    let secondary = |i: usize| SECONDARY.contains(&keys[i]);
    // Yes/no columns say least per cell (`schema`'s required/unique/read_only).
    let yes_no = |i: usize| {
        cells.iter().all(|r| {
            r.get(i)
                .is_none_or(|c| matches!(c.as_str(), "" | "true" | "false"))
        })
    };
    while total(&keep) > width && keep.len() > MIN_KEPT {
        // Only the first column (the id or name) is never given up for saying little.
        let last =
            |test: &dyn Fn(usize) -> bool| keep.iter().rposition(|&i| test(i)).filter(|p| *p > 0);
        let p = last(&empty)
            .or_else(|| last(&secondary))
            .or_else(|| last(&yes_no))
            .unwrap_or(keep.len() - 1);
        keep.remove(p);
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::fit_columns;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn tables_show_date_times_to_the_minute() {
        use serde_json::json;
        assert_eq!(
            super::table_cell(&json!("2026-11-25T22:43:46+08:00")),
            "2026-11-25 22:43"
        );
        assert_eq!(super::table_cell(&json!("2026-11-25")), "2026-11-25");
        assert_eq!(
            super::table_cell(&json!("see 2026-11-25T22:43:46+08")),
            "see 2026-11-25T22:43:46+08"
        );
    }

    #[test]
    fn columns_that_fit_all_stay() {
        let h = strings(&["id", "name", "city"]);
        let rows = vec![strings(&["1", "深圳市腾达科技有限公司", "深圳"])];
        assert_eq!(
            fit_columns(&["id", "name", "city"], &h, &rows, 80),
            [0, 1, 2]
        );
    }

    #[test]
    fn empty_columns_go_first_then_from_the_right() {
        let h = strings(&["id", "code", "name", "industry", "status", "email"]);
        let rows = vec![strings(&[
            "1",
            "C000001",
            "深圳市腾达科技有限公司",
            "",
            "active",
            "someone@example.com",
        ])];
        let keys = ["id", "code", "name", "industry", "status", "email"];
        // 1 + 5 + 10 + 27 + 11 + 9 + 22 = 85 cells: dropping the empty industry fits 74.
        assert_eq!(fit_columns(&keys, &h, &rows, 80), [0, 1, 2, 4, 5]);
        assert_eq!(fit_columns(&keys, &h, &rows, 85), [0, 1, 2, 3, 4, 5]);
        assert_eq!(fit_columns(&keys, &h, &rows, 52), [0, 1, 2, 4]);
        // Never fewer than three columns, however narrow.
        assert_eq!(fit_columns(&keys, &h, &rows, 10), [0, 1, 2]);
        // A secondary field goes before the ones right of it.
        let full = vec![strings(&["1", "C1", "n", "金融科技", "active", "a@b.cn"])];
        assert_eq!(fit_columns(&keys, &h, &full, 38), [0, 1, 2, 4, 5]);
        // Yes/no columns go before the columns right of them.
        let keys = ["name", "type", "required", "unique", "label_en", "label_zh"];
        let h = strings(&keys);
        let rows = vec![strings(&[
            "customer",
            "reference",
            "true",
            "false",
            "Customer",
            "所属客户",
        ])];
        assert_eq!(fit_columns(&keys, &h, &rows, 50), [0, 1, 4, 5]);
    }
}
