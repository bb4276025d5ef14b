//! Phones as people write them, read with libphonenumber's metadata (the `phonenumber`
//! crate): the typed text is what a record keeps and shows; [`Phone::key`] is its E.164
//! form (+ extension), the one spelling search, matching and dedupe compare.

use std::str::FromStr;

use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;
use phonenumber::{Metadata, PhoneNumber};

/// The region set for this process (see [`Region::use_for_process`]).
static CURRENT: std::sync::OnceLock<Region> = std::sync::OnceLock::new();

/// The region a number without a country code is read in (ISO 3166 alpha-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(Id);

impl Region {
    /// Mainland China: the default of the setting `phone.region`.
    pub const DEFAULT: Region = Region(Id::CN);

    /// The region a number is read in when no `--phone-region` is given: the setting
    /// `phone.region` of the database this process opened ([`Region::use_for_process`]),
    /// else its default.
    pub fn current() -> Region {
        CURRENT.get().copied().unwrap_or(Region::DEFAULT)
    }

    /// Makes `self` the region of this process's phones (the database's `phone.region`, read
    /// when it is opened). A process opens one database, so the first call wins.
    pub fn use_for_process(self) {
        let _ = CURRENT.set(self);
    }

    /// `US`, `cn`, `GB` …: an ISO 3166 alpha-2 code that libphonenumber has metadata for.
    pub fn parse(s: &str) -> Result<Region, String> {
        let code = s.trim().to_ascii_uppercase();
        Id::from_str(&code)
            .ok()
            .filter(|id| DATABASE.by_id(id.as_ref()).is_some())
            .map(Region)
            .ok_or_else(|| {
                format!("'{s}' is not a region code (use a two-letter code such as CN or US)")
            })
    }

    /// A code [`Region::parse`] accepted before (the stored setting `phone.region`): read
    /// without loading libphonenumber's metadata, which costs every command ~0.5 s in debug
    /// builds and is needed only once a phone is read.
    pub fn stored(s: &str) -> Option<Region> {
        Id::from_str(&s.trim().to_ascii_uppercase())
            .ok()
            .map(Region)
    }

    /// The two-letter code (`CN`).
    pub fn code(self) -> String {
        self.0.as_ref().to_string()
    }
}

/// A phone read in a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    /// `+8613800138000`; a short service number (`95588`) is its digits alone.
    pub e164: String,
    pub ext: Option<String>,
}

impl Phone {
    /// The match key: E.164, then `;ext=N` when there is an extension (RFC 3966's spelling).
    pub fn key(&self) -> String {
        match &self.ext {
            Some(x) => format!("{};ext={x}", self.e164),
            None => self.e164.clone(),
        }
    }
}

/// Reads `s` in `region`. Refused only when it is no phone at all or not a possible number
/// (by length) for the region its country code names.
pub fn parse(s: &str, region: Region) -> Result<Phone, String> {
    let bad = |why: &str| format!("'{s}' is not a phone number ({why})");
    let text = prepare(s)
        .ok_or_else(|| bad("only digits, spaces, . - ( ) /, a leading + and an extension"))?;
    let body = text.split(" ext. ").next().unwrap_or_default();
    let digits: String = body.chars().filter(char::is_ascii_digit).collect();
    // A short service number (95588, 12345): libphonenumber keeps these in separate
    // short-number metadata the crate does not ship, so they are taken as typed.
    if !text.starts_with('+') && (5..=6).contains(&digits.len()) && digits == text {
        return Ok(Phone {
            e164: digits,
            ext: None,
        });
    }
    // E.164 numbers have at most 15 digits, after an international prefix (00, 011) if any.
    let idd = ["011", "00"]
        .iter()
        .find(|p| digits.starts_with(*p))
        .map_or(0, |p| p.len());
    if digits.len() > 15 + idd {
        return Err(bad("more than 15 digits"));
    }
    let international = text.starts_with('+') || idd > 0;
    let home = DATABASE
        .by_id(region.0.as_ref())
        .ok_or_else(|| bad("no such region"))?;
    let (code, national, ext) = match phonenumber::parse(Some(region.0), &text) {
        Ok(n) if international || faithful(home, &n, &digits) => (
            n.code().value(),
            n.national().to_string(),
            n.extension().map(ToString::to_string),
        ),
        _ if international => return Err(bad("no number")),
        // Read as typed in the region, its trunk prefix (China's 0, the US' 1) dropped: the
        // parser would also strip carrier codes, taking China's 179xx mobiles for a 17951
        // IP-call prefix and what follows for another number.
        _ => {
            let national = home
                .national_prefix()
                .and_then(|p| digits.strip_prefix(p))
                .unwrap_or(&digits);
            let ext = text.split_once(" ext. ").map(|(_, x)| x.to_string());
            (home.country_code(), national.to_string(), ext)
        }
    };
    let meta = main_region(code).ok_or_else(|| bad("no such country code"))?;
    if !possible(meta, national.len()) {
        return Err(bad(&format!("not a possible number for {}", meta.id())));
    }
    Ok(Phone {
        e164: format!("+{code}{national}"),
        ext,
    })
}

/// Whether the parser read a number without a country code as typed: in the region's own
/// country code, dropping at most its trunk prefix.
fn faithful(home: &Metadata, n: &PhoneNumber, digits: &str) -> bool {
    let national = n.national().to_string();
    n.code().value() == home.country_code()
        && (digits == national
            || home
                .national_prefix()
                .is_some_and(|p| digits.strip_prefix(p) == Some(national.as_str())))
}

/// libphonenumber's `isPossibleNumber`: the national number's length is one its region's
/// numbers of some type have (local-only lengths included, as a landline typed without its
/// area code), read in the main region of its country code as libphonenumber does (the
/// sample `229.077.5154` fits no NANP area's pattern, yet is a possible US number). The crate's metadata keeps the lengths on each type's descriptor, the
/// general one often empty, so all of them are asked.
fn possible(meta: &Metadata, national_len: usize) -> bool {
    let Ok(len) = u16::try_from(national_len) else {
        return false;
    };
    let d = meta.descriptors();
    std::iter::once(d.general())
        .chain(
            [
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.shared_cost(),
                d.personal_number(),
                d.voip(),
                d.pager(),
                d.uan(),
                d.voicemail(),
            ]
            .into_iter()
            .flatten(),
        )
        .any(|t| t.possible_length().contains(&len) || t.possible_local_length().contains(&len))
}

/// The region whose metadata a country code's numbers are checked against: its main one
/// (`US` for +1), as libphonenumber's `getRegionCodeForCountryCode`.
fn main_region(code: u16) -> Option<&'static Metadata> {
    let metas = DATABASE.by_code(&code)?;
    metas
        .iter()
        .find(|m| m.is_main_country_for_code())
        .or(metas.first())
        .copied()
}

/// The text libphonenumber is given: only characters people write in phones pass (letters
/// would let `phone` or `abc` through as vanity numbers); the Chinese `转` and a `#` before
/// an extension become ` ext. `. `None` when something else is in it.
fn prepare(s: &str) -> Option<String> {
    // Full-width digits and signs (`１３８－００１３`, as Chinese input methods type them)
    // read as their ASCII forms; the typed text itself is kept as it was.
    let folded: String = s
        .trim()
        .chars()
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect();
    let s = folded.as_str();
    let (body, ext) = split_ext(s);
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}'))
    {
        // A `+` only in front.
        let rest = body.strip_prefix('+')?;
        if rest.contains('+')
            || !rest
                .chars()
                .all(|c| c.is_ascii_digit() || " -.()/\u{a0}".contains(c))
        {
            return None;
        }
    }
    if !body.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    // `+49 (0)30 …`: the bracketed trunk prefix is dropped when dialling from abroad.
    let body = if body.starts_with('+') {
        body.replacen("(0)", "", 1)
    } else {
        body.to_string()
    };
    Some(match ext {
        Some(x) if !x.is_empty() && x.chars().all(|c| c.is_ascii_digit()) => {
            format!("{body} ext. {x}")
        }
        Some(_) => return None,
        None => body,
    })
}

/// Splits `… x123`, `… ext. 123`, `…转123`, `…#123` into the number and its extension.
fn split_ext(s: &str) -> (&str, Option<&str>) {
    let lower = s.to_ascii_lowercase();
    for mark in ["extension", "ext.", "ext", "转", "#", "x"] {
        if let Some(at) = lower.rfind(mark) {
            let body = s[..at].trim_end_matches([' ', ',', ';', '.']).trim();
            let ext = s[at + mark.len()..]
                .trim_start_matches([' ', '.', ':'])
                .trim();
            return (body, Some(ext));
        }
    }
    (s, None)
}

#[cfg(test)]
mod tests;
