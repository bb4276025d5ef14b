//! How a table reads on a terminal: which columns fit its width (the least important go
//! first, by an explicit rank), text cut with `…` when even the kept ones are too wide (a
//! number is never cut and no cell is ever wrapped into slivers), and cells as people read
//! them (date-times to the minute, control characters escaped). `find`, `report` and
//! `agenda` all fit their tables here.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

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

/// The rank of a column that is never left out.
pub const KEEP: u8 = u8::MAX;
/// Fewest columns a narrow table keeps (the first is the id, key or name).
const MIN_KEPT: usize = 3;

/// The terminal's width: `COLUMNS`, else the terminal's size, else 80 (a pty may report
/// zero columns).
pub fn terminal_width() -> usize {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return n;
    }
    comfy_table::Table::new()
        .width()
        .map(usize::from)
        .filter(|&w| w > 0)
        .unwrap_or(80)
}

/// Each column's widest line plus a space either side and a border.
fn natural(header: &[String], cells: &[Vec<String>]) -> Vec<usize> {
    (0..header.len())
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
        .collect()
}

/// Which columns of a terminal table to show in `width` cells: all when they fit at their
/// natural width; else the lowest `rank` goes first (the rightmost among equals), never a
/// column ranked `KEEP`, keeping at least three.
pub fn fit_ranked(
    header: &[String],
    cells: &[Vec<String>],
    width: usize,
    rank: &[u8],
) -> Vec<usize> {
    let natural = natural(header, cells);
    let mut keep: Vec<usize> = (0..header.len()).collect();
    let total = |keep: &[usize]| 1 + keep.iter().map(|&i| natural[i]).sum::<usize>();
    while total(&keep) > width && keep.len() > MIN_KEPT {
        let low = keep
            .iter()
            .enumerate()
            .filter(|&(_, &i)| rank.get(i).copied().unwrap_or(0) < KEEP)
            .min_by_key(|&(p, &i)| (rank.get(i).copied().unwrap_or(0), std::cmp::Reverse(p)));
        let Some((p, _)) = low else { break };
        keep.remove(p);
    }
    keep
}

/// Which columns of a `find`-style table to show in `width` cells: all when they fit; else
/// first the columns empty in every row go, then secondary fields (`SECONDARY`), then yes/no
/// columns, then columns from the right, keeping at least three (the first: id, key, name)
/// — wrapping a dozen columns into slivers helps no one.
pub(super) fn fit_columns(
    keys: &[&str],
    header: &[String],
    cells: &[Vec<String>],
    width: usize,
) -> Vec<usize> {
    let empty = |i: usize| cells.iter().all(|r| r.get(i).is_none_or(String::is_empty));
    // Yes/no columns say least per cell (`schema`'s required/unique/read_only).
    let yes_no = |i: usize| {
        cells.iter().all(|r| {
            r.get(i)
                .is_none_or(|c| matches!(c.as_str(), "" | "true" | "false"))
        })
    };
    // Only the first column (the id or name) is never given up for saying little.
    let rank: Vec<u8> = (0..header.len())
        .map(|i| match i {
            0 => KEEP,
            _ if empty(i) => 0,
            _ if SECONDARY.contains(&keys[i]) => 1,
            _ if yes_no(i) => 2,
            _ => 3,
        })
        .collect();
    fit_ranked(header, cells, width, &rank)
}

/// Cuts text cells of the kept columns with `…`, widest column first, until the table fits
/// `width`. Columns of numbers, dates and amounts (no letter in any cell) are never cut, and
/// no column gets narrower than its header (or four cells).
pub fn shorten(header: &[String], cells: &mut [Vec<String>], keep: &[usize], width: usize) {
    let natural = natural(header, cells);
    let mut max: Vec<usize> = natural.iter().map(|w| w - 3).collect();
    let text = |i: usize| {
        cells
            .iter()
            .filter_map(|r| r.get(i))
            .any(|c| c.chars().any(char::is_alphabetic))
    };
    let floor: Vec<usize> = header.iter().map(|h| h.width().max(4)).collect();
    let cuttable: Vec<usize> = keep.iter().copied().filter(|&i| text(i)).collect();
    let total = |max: &[usize]| 1 + keep.iter().map(|&i| max[i] + 3).sum::<usize>();
    while total(&max) > width {
        let Some(&i) = cuttable
            .iter()
            .filter(|&&i| max[i] > floor[i])
            .max_by_key(|&&i| max[i])
        else {
            break;
        };
        max[i] -= 1;
    }
    for &i in &cuttable {
        if max[i] + 3 < natural[i] {
            for r in cells.iter_mut() {
                if let Some(c) = r.get_mut(i) {
                    *c = c
                        .lines()
                        .map(|l| cut(l, max[i]))
                        .collect::<Vec<_>>()
                        .join("\n");
                }
            }
        }
    }
}

/// Cuts text to at most `max` display columns, marking the cut with `…`.
pub fn cut(s: &str, max: usize) -> String {
    if s.width() <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw + 1 > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::{KEEP, cut, fit_columns, fit_ranked, shorten};

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

    #[test]
    fn ranks_decide_what_goes_first() {
        let h = strings(&[
            "id", "subject", "customer", "why", "when", "owner", "status",
        ]);
        let rows = vec![strings(&[
            "12",
            "回访",
            "深圳前海微众科技有限公司",
            "overdue by 3 days",
            "2026-11-25 10:00",
            "li.lei",
            "call",
        ])];
        let rank = [KEEP, 200, 120, 150, 250, 240, 80];
        // 1 + 5 + 10 + 27 + 20 + 19 + 9 + 9 = 100 cells: status, then customer go.
        assert_eq!(fit_ranked(&h, &rows, 100, &rank), [0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(fit_ranked(&h, &rows, 91, &rank), [0, 1, 2, 3, 4, 5]);
        assert_eq!(fit_ranked(&h, &rows, 90, &rank), [0, 1, 3, 4, 5]);
        assert_eq!(fit_ranked(&h, &rows, 70, &rank), [0, 1, 3, 4, 5]);
        // Never fewer than three, never a KEEP column.
        assert_eq!(fit_ranked(&h, &rows, 5, &rank), [0, 4, 5]);
    }

    #[test]
    fn text_is_cut_but_numbers_never_are() {
        use unicode_width::UnicodeWidthStr;
        let h = strings(&["name", "amount"]);
        let mut rows = vec![strings(&["深圳前海微众科技有限公司", "130000.00"])];
        shorten(&h, &mut rows, &[0, 1], 26);
        assert_eq!(rows[0][1], "130000.00");
        assert!(rows[0][0].ends_with('…'), "{}", rows[0][0]);
        assert!(1 + rows[0][0].width() + 3 + 9 + 3 <= 26);
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcdef", 4), "abc…");
    }
}
