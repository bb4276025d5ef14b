//! Money in reports: exact totals (i128 minor units, wide enough for any number of stored
//! i64 amounts) kept apart per currency — a report never adds EUR to CNY.

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::{Col, Section, col};

/// An exact total in minor units.
pub type Total = i128;

/// Money in minor units as the exact decimal text JSON carries (`"1234.50"`), however large.
pub fn money(fen: impl Into<Total>) -> J {
    J::from(format_total(fen.into()))
}

/// `-1234.50` for -123450; the same text as `kinds::format_money` for any i64.
pub fn format_total(fen: Total) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// `a × b ÷ 100` rounded half away from zero, in exact integers (weighted amounts).
pub fn percent_of(total_times_percent: Total) -> Total {
    let q = total_times_percent / 100;
    let r = total_times_percent % 100;
    if r.abs() >= 50 {
        q + total_times_percent.signum()
    } else {
        q
    }
}

/// The currency a record without one has: the registry's default (what `add` would give).
pub fn default_currency() -> String {
    crate::schema::Entity::get("opportunity")
        .ok()
        .and_then(|e| e.field("currency").ok())
        .and_then(|f| match f.default {
            crate::schema::Default::Value(v) => Some(v.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| "CNY".to_string())
}

/// A record's currency from a result cell (NULL or blank: the default currency), upper-case:
/// a database written before currencies were checked may hold `eur` beside `EUR`.
pub fn currency_of(v: &crate::schema::Value) -> String {
    crate::db::report::text(v)
        .map(|s| s.trim().to_uppercase())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(default_currency)
}

/// The `currency` column every per-currency row carries.
pub const CURRENCY: Col = col("currency", "currency", "币种");

/// A report's `amounts` section: the money of its summary, one row per currency (the
/// currency column first, then `cols`).
pub fn amounts_section(cols: impl IntoIterator<Item = Col>) -> Section {
    let mut all = vec![CURRENCY];
    all.extend(cols);
    Section::table("amounts", "Amounts by currency", "各币种金额", all)
}

/// Exact money figures per currency: `N` figures (won, booked, paid …) for each currency.
#[derive(Debug, Clone)]
pub struct Purse<const N: usize>(BTreeMap<String, [Total; N]>);

impl<const N: usize> Default for Purse<N> {
    fn default() -> Self {
        Purse(BTreeMap::new())
    }
}

impl<const N: usize> Purse<N> {
    /// Adds to figure `i` in `currency` (and makes the currency known even when `v` is 0).
    pub fn add(&mut self, currency: &str, i: usize, v: Total) {
        // Found without allocating: reports add once per row, in few currencies.
        if let Some(f) = self.0.get_mut(currency) {
            f[i] += v;
        } else {
            let mut f = [0; N];
            f[i] = v;
            self.0.insert(currency.to_string(), f);
        }
    }
    /// The figures of a currency (zeros when it has none).
    pub fn get(&self, currency: &str) -> [Total; N] {
        self.0.get(currency).copied().unwrap_or([0; N])
    }
    /// The currencies seen, in order.
    pub fn currencies(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
    /// The currencies seen, or the default currency when there are none, so that a table
    /// of fixed groups (every stage, every period) still shows its zeros in a currency.
    pub fn currencies_or_default(&self) -> Vec<String> {
        let c = self.currencies();
        if c.is_empty() {
            vec![default_currency()]
        } else {
            c
        }
    }
    /// Merges another purse's currencies (with zero figures) so both list the same ones.
    pub fn know(&mut self, currencies: &[String]) {
        for c in currencies {
            self.0.entry(c.clone()).or_insert([0; N]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_beyond_i64_stay_exact() {
        let max = Total::from(i64::MAX);
        assert_eq!(format_total(2 * max + 300), "184467440737095519.14");
        assert_eq!(format_total(-5), "-0.05");
        assert_eq!(
            format_total(Total::from(i64::MIN)),
            crate::schema::kinds::format_money(i64::MIN)
        );
    }

    #[test]
    fn weighted_amounts_round_half_away_from_zero() {
        assert_eq!(percent_of(12_345 * 50), 6_173); // 61.725 -> 61.73
        assert_eq!(percent_of(101 * 10), 10); // 10.1 fen -> 10
        assert_eq!(percent_of(-12_345 * 50), -6_173);
        assert_eq!(percent_of(0), 0);
    }

    #[test]
    fn a_purse_keeps_currencies_apart() {
        let mut p: Purse<2> = Purse::default();
        p.add("EUR", 0, 120_000_000);
        p.add("CNY", 0, 35_000_000);
        p.add("CNY", 1, 5);
        assert_eq!(p.get("CNY"), [35_000_000, 5]);
        assert_eq!(p.get("EUR"), [120_000_000, 0]);
        assert_eq!(p.get("USD"), [0, 0]);
        assert_eq!(p.currencies(), ["CNY", "EUR"]);
        assert_eq!(Purse::<1>::default().currencies_or_default(), ["CNY"]);
    }
}
