//! User names as rules, without storage: one canonical form (NFC), a visible alphabet (letters, digits, `.`, `_`, `-`),
//! no Latin mixed with Cyrillic or Greek (the look-alikes of another name), and the case folding
//! that makes them unique ignoring case (`auth::names` looks users up with it).

use unicode_normalization::UnicodeNormalization;
use unicode_script::{Script, UnicodeScript};

use crate::error::{Error, Result};

/// Longest user name, in characters.
pub const MAX_NAME: usize = 64;

/// Default-ignorable code points (Unicode's `Default_Ignorable_Code_Point`): shown as nothing,
/// so a name holding one looks like another. Most are format characters the alphabet refuses
/// anyway; the Hangul and Khmer fillers and the variation selectors are letters or marks and
/// must be named.
fn invisible(c: char) -> bool {
    matches!(u32::from(c),
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFF8 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF)
}

/// A name's letters may come from one of these scripts only: their look-alikes (Cyrillic `а`
/// for Latin `a`, Greek `ο` for `o`) are what an impostor name is made of.
const CONFUSABLE_SCRIPTS: [Script; 3] = [Script::Latin, Script::Cyrillic, Script::Greek];

/// Checks a new user name and returns its canonical (NFC) form; exit 4 when it breaks a rule.
pub fn canonical(name: &str) -> Result<String> {
    let nfc: String = name.nfc().collect();
    let bad = |why: &str| {
        Error::invalid(format!(
            "'{}' is not a valid user name: {why}",
            nfc.escape_debug()
        ))
        .hint("use letters, digits, '.', '_' and '-' (1 to 64 characters)")
    };
    if nfc.is_empty() {
        return Err(bad("it is empty"));
    }
    if nfc.chars().count() > MAX_NAME {
        return Err(bad("it is longer than 64 characters"));
    }
    if let Some(c) = nfc
        .chars()
        .find(|&c| invisible(c) || !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(bad(&format!("it contains {}", describe(c))));
    }
    let scripts: Vec<&str> = CONFUSABLE_SCRIPTS
        .iter()
        .filter(|s| nfc.chars().any(|c| c.script() == **s))
        .map(|s| s.full_name())
        .collect();
    if scripts.len() > 1 {
        return Err(bad(&format!(
            "it mixes {} letters, which makes look-alikes of other names",
            scripts.join(" and ")
        ))
        .hint("write the name in one of these scripts"));
    }
    Ok(nfc)
}

/// A character named for an error message: ASCII as itself, the rest by code point (an
/// invisible character printed as itself would show nothing).
fn describe(c: char) -> String {
    if c.is_ascii_graphic() {
        format!("'{c}'")
    } else {
        format!("U+{:04X}", u32::from(c))
    }
}

/// The form two names are compared in: NFKC, then lower case (Unicode, not only ASCII).
/// Compatibility forms fold too, so full-width `ａｄｍｉｎ` or mathematical bold `𝐚𝐝𝐦𝐢𝐧`
/// cannot sit beside `admin` as its look-alike.
pub fn fold(name: &str) -> String {
    name.nfkc()
        .collect::<String>()
        .to_lowercase()
        .nfkc()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{canonical, fold};

    #[test]
    fn names_are_canonical_and_visible() {
        for ok in [
            "admin",
            "li.lei",
            "li_lei-2",
            "李雷",
            "Zoë",
            "иван",
            "ελένη",
            "ann3",
        ] {
            assert!(canonical(ok).is_ok(), "{ok}");
        }
        // decomposed ë becomes the composed one
        assert_eq!(canonical("Zoe\u{308}").unwrap(), "Zo\u{eb}");
        for bad in [
            "",
            "adm\u{200b}in",
            "ad\u{200d}min",
            "admin\u{feff}",
            "a\u{3164}b",
            "bob smith",
            "bob\t",
            "bob\u{7}",
            "x@y",
            "a/b",
            "\u{430}dmin",    // Cyrillic а + Latin
            "p\u{3bf}st",     // Greek ο inside Latin
            "\u{43f}\u{3b1}", // Cyrillic with Greek
            &"a".repeat(65),
        ] {
            let e = canonical(bad).expect_err(bad);
            assert_eq!(e.kind, crate::error::ErrorKind::Invalid, "{bad}");
        }
    }

    #[test]
    fn case_folds_beyond_ascii() {
        assert_eq!(fold("ADMIN"), fold("admin"));
        assert_eq!(fold("ИВАН"), fold("иван"));
        assert_eq!(fold("Zoe\u{308}"), fold("ZO\u{cb}"));
        assert_ne!(fold("\u{430}dmin"), fold("admin"));
    }
}
