//! Field kinds: the only text↔value paths (`parse` and `format`), so every command,
//! import and export agree byte for byte.

use crate::schema::Value;

mod dates;
pub mod phones;

pub use dates::{
    DateOrder, format_datetime, parse_date, parse_date_in, parse_datetime, parse_datetime_in,
};

/// A choice: its stored value and its Chinese label (also accepted as input).
pub type Choice = (&'static str, &'static str);

/// What a field holds, how it is stored, parsed and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Free text, trimmed of surrounding spaces (ASCII and full-width); inner text verbatim.
    Text,
    Email,
    /// A phone as people write it, read in a region (see [`phones`]); stored as typed.
    Phone,
    /// A whole number within an inclusive range.
    Integer {
        min: i64,
        max: i64,
    },
    /// Exact money with two decimals, stored as integer minor units (fen, cents).
    Money {
        min_zero: bool,
    },
    /// `YYYY-MM-DD`, stored as text (sorts and compares as a date).
    Date,
    /// A moment, stored as Unix seconds, shown as RFC 3339 with the local offset.
    DateTime,
    Bool,
    Choice(&'static [Choice]),
    /// A `;`-separated list, stored `;`-joined, shown as a JSON array.
    Tags,
    /// The id of a record of the named entity (entered by id or by its unique key).
    Ref(&'static str),
    /// A user name.
    User,
    /// China unified social credit code (GB 32100-2015), checksum verified.
    CreditCode,
    /// An ISO 4217 currency code, stored upper-case; common Chinese names are accepted.
    Currency,
}

impl Kind {
    /// The short name `crm schema` shows.
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Integer { .. } => "integer",
            Kind::Money { .. } => "money",
            Kind::Date => "date",
            Kind::DateTime => "datetime",
            Kind::Bool => "bool",
            Kind::Choice(_) => "choice",
            Kind::Tags => "tags",
            Kind::Ref(_) => "reference",
            Kind::User => "user",
            Kind::CreditCode => "credit_code",
            Kind::Currency => "currency",
        }
    }

    /// The `SQLite` column type.
    pub fn sql_type(self) -> &'static str {
        match self {
            Kind::Integer { .. }
            | Kind::Money { .. }
            | Kind::DateTime
            | Kind::Bool
            | Kind::Ref(_) => "INTEGER",
            _ => "TEXT",
        }
    }

    /// Whether `find TEXT` searches this field.
    pub fn is_searchable(self) -> bool {
        matches!(
            self,
            Kind::Text | Kind::Email | Kind::Phone | Kind::Tags | Kind::CreditCode
        )
    }

    /// Parses user text into the stored value. References and users are resolved by the
    /// database layer; here they only pass through as text or id.
    pub fn parse(self, input: &str) -> Result<Value, String> {
        self.parse_in(input, &DateOrder::Auto)
    }

    /// Parses user text, reading dates and date-times in `order`. This is the one place
    /// values are trimmed (ASCII and full-width spaces, for flags, prompts and imports
    /// alike): a value blank after trimming is no value (`Null`), so a required field left
    /// blank is missing.
    pub fn parse_in(self, input: &str, order: &DateOrder) -> Result<Value, String> {
        self.parse_with(input, order, phones::Region::current())
    }

    /// Parses user text, reading dates in `order` and phones without a country code in
    /// `region` (`crm import --phone-region`).
    pub fn parse_with(
        self,
        input: &str,
        order: &DateOrder,
        region: phones::Region,
    ) -> Result<Value, String> {
        if input.contains('\0') {
            return Err("contains a NUL byte".into());
        }
        let s = trim(input);
        if s.is_empty() {
            return Ok(Value::Null);
        }
        match self {
            Kind::Email => parse_email(s),
            Kind::Phone => phones::parse(s, region).map(|_| Value::Text(s.to_string())),
            Kind::Integer { min, max } => {
                let n: i64 = s
                    .parse()
                    .map_err(|_| format!("'{s}' is not a whole number"))?;
                if n < min || n > max {
                    return Err(format!("{n} is outside {min}..{max}"));
                }
                Ok(Value::Integer(n))
            }
            Kind::Money { min_zero } => {
                let cents = parse_money(s)?;
                if min_zero && cents < 0 {
                    return Err(format!("'{s}' is negative; the amount must be 0 or more"));
                }
                Ok(Value::Integer(cents))
            }
            Kind::Date => {
                parse_date_in(s, order).map(|d| Value::Text(d.format("%Y-%m-%d").to_string()))
            }
            Kind::DateTime => parse_datetime_in(s, order).map(Value::Integer),
            Kind::Bool => parse_bool(s).map(|b| Value::Integer(i64::from(b))),
            Kind::Choice(choices) => parse_choice(choices, s).map(|c| Value::Text(c.to_string())),
            Kind::Tags => {
                let tags = split_tags(s);
                if tags.is_empty() {
                    Ok(Value::Null)
                } else {
                    Ok(Value::Text(tags.join(";")))
                }
            }
            Kind::Text | Kind::Ref(_) | Kind::User => Ok(Value::Text(s.to_string())),
            Kind::CreditCode => parse_credit_code(s).map(Value::Text),
            Kind::Currency => parse_currency(s).map(|c| Value::Text(c.to_string())),
        }
    }

    /// Formats a stored value as text (table, CSV, prompts). Null is the empty string.
    pub fn format(self, v: &Value) -> String {
        match (self, v) {
            (_, Value::Null) => String::new(),
            (Kind::Money { .. }, Value::Integer(c)) => format_money(*c),
            (Kind::DateTime, Value::Integer(t)) => format_datetime(*t),
            (Kind::Bool, Value::Integer(b)) => if *b != 0 { "true" } else { "false" }.to_string(),
            (_, Value::Integer(i)) => i.to_string(),
            (_, Value::Real(r)) => r.to_string(),
            (_, Value::Text(t)) => t.clone(),
            (_, Value::Blob(_)) => String::from("<blob>"),
        }
    }

    /// The JSON form of a stored value: numbers stay numbers, money is an exact string,
    /// tags an array, booleans `true`/`false`.
    pub fn to_json(self, v: &Value) -> serde_json::Value {
        use serde_json::Value as J;
        match (self, v) {
            (_, Value::Null) => J::Null,
            (Kind::Bool, Value::Integer(b)) => J::Bool(*b != 0),
            (Kind::Tags, Value::Text(t)) => {
                J::Array(split_tags(t).into_iter().map(J::String).collect())
            }
            (Kind::Money { .. } | Kind::DateTime, _) => J::String(self.format(v)),
            (_, Value::Integer(i)) => J::from(*i),
            (_, Value::Real(r)) => J::from(*r),
            _ => J::String(self.format(v)),
        }
    }
}

/// Trims what counts as blank around a value: ASCII whitespace and the full-width space
/// U+3000 that Chinese input methods type (both are Unicode `White_Space`).
pub fn trim(s: &str) -> &str {
    s.trim()
}

/// An address as mail systems take it: a dot-atom local part (RFC 5322 `atext`, letters of
/// any script as RFC 6531 allows) and a domain of dot-separated labels (letters, digits,
/// inner hyphens; an internationalised domain as typed) ending in a top-level name that is
/// not all digits. Quoted local parts and address literals are refused: a CRM stores
/// mailboxes, and markup such as `x@y.com<script>` must not pass.
fn parse_email(s: &str) -> Result<Value, String> {
    let bad = || format!("'{s}' is not an email address");
    let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
    let atext = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(atext));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.chars().count() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| {
            tld.chars().count() >= 2 && !tld.chars().all(|c| c.is_ascii_digit())
        });
    if local_ok && domain_ok {
        Ok(Value::Text(s.to_string()))
    } else {
        Err(bad())
    }
}

/// Parses `1234`, `1234.5`, `-0.05` into minor units. Thousands separators are refused:
/// `1.234,56` and `1,234` mean different amounts in different countries.
pub fn parse_money(s: &str) -> Result<i64, String> {
    let bad = || format!("'{s}' is not an amount (write it like 1234.56)");
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, frac) = body.split_once('.').unwrap_or((body, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    if frac.len() > 2 {
        return Err(format!("'{s}' has more than two decimals"));
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    let cents = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(|| format!("'{s}' is too large"))?;
    Ok(if neg { -cents } else { cents })
}

/// Formats minor units as `1234.50`.
pub fn format_money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let a = cents.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "是" | "t" => Ok(true),
        "false" | "no" | "n" | "0" | "否" | "f" => Ok(false),
        _ => Err(format!(
            "'{s}' is not a yes/no value (true, false, yes, no, 1, 0, 是, 否)"
        )),
    }
}

fn parse_choice(choices: &'static [Choice], s: &str) -> Result<&'static str, String> {
    choices
        .iter()
        .find(|(v, zh)| v.eq_ignore_ascii_case(s) || *zh == s)
        .map(|(v, _)| *v)
        .ok_or_else(|| {
            let list: Vec<&str> = choices.iter().map(|(v, _)| *v).collect();
            format!("'{s}' is not one of {}", list.join(", "))
        })
}

/// Splits a tags value on `;` (or the full-width `；`), trimming and dropping empties and repeats.
pub fn split_tags(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in s
        .split([';', '；'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    out
}

const CREDIT_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// The GB 32100-2015 check character for the first 17 characters, if they are valid.
pub fn credit_check_char(first17: &str) -> Option<char> {
    let mut sum = 0;
    for (i, c) in first17.chars().enumerate() {
        let v = u32::try_from(CREDIT_CHARS.find(c)?).ok()?;
        sum += v * CREDIT_WEIGHTS.get(i)?;
    }
    let check = (31 - sum % 31) % 31;
    CREDIT_CHARS.chars().nth(check as usize)
}

fn parse_credit_code(s: &str) -> Result<String, String> {
    let code = s.to_uppercase();
    if code.chars().count() != 18 || !code.chars().all(|c| CREDIT_CHARS.contains(c)) {
        return Err(format!(
            "'{s}' is not a unified social credit code (18 characters of 0-9 and A-Y without I, O, S, V, Z)"
        ));
    }
    let (body, check) = code.split_at(17);
    if credit_check_char(body).map(String::from).as_deref() != Some(check) {
        return Err(format!("'{s}' fails the credit code checksum"));
    }
    Ok(code)
}

/// The active ISO 4217 codes (no funds, metals or test codes: crm's money has two decimals).
const ISO_4217: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB \
    BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB \
    EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD \
    JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP \
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON \
    RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP \
    TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL";

/// Names people write instead of the code (Chinese, and the familiar `RMB`).
const CURRENCY_NAMES: &[(&str, &str)] = &[
    ("人民币", "CNY"),
    ("元", "CNY"),
    ("RMB", "CNY"),
    ("美元", "USD"),
    ("美金", "USD"),
    ("欧元", "EUR"),
    ("港币", "HKD"),
    ("港元", "HKD"),
    ("日元", "JPY"),
    ("英镑", "GBP"),
    ("澳元", "AUD"),
    ("加元", "CAD"),
    ("新加坡元", "SGD"),
    ("瑞士法郎", "CHF"),
    ("韩元", "KRW"),
    ("新台币", "TWD"),
    ("澳门元", "MOP"),
];

/// A currency as its ISO 4217 code: `eur` → `EUR`, `人民币` → `CNY`; anything else is refused,
/// so one currency never becomes several report rows.
pub fn parse_currency(s: &str) -> Result<&'static str, String> {
    let up = s.to_ascii_uppercase();
    if let Some((_, code)) = CURRENCY_NAMES.iter().find(|(n, _)| *n == up) {
        return Ok(code);
    }
    ISO_4217
        .split_ascii_whitespace()
        .find(|c| *c == up)
        .ok_or_else(|| {
            format!(
                "'{s}' is not a currency: give its ISO 4217 code (CNY, USD, EUR, HKD, JPY, GBP …) or 人民币, 美元, 欧元, 港币, 日元, 英镑"
            )
        })
}

#[cfg(test)]
mod tests;
