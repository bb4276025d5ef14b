//! JSON and JSONL import input, as `export --format json|jsonl` writes it: records are cut
//! out of the stream one at a time (an array is never held whole, so memory stays flat), each
//! with the physical line it starts on and, in an array, its index; values become the text
//! cells the CSV path parses, so both read a field the same way.

use std::io::{BufRead, BufReader, Read};

use serde_json::{Map, Value as J};

use crate::error::{Error, Result};
use crate::schema::Kind;

/// The largest record import accepts; bigger ends the import instead of exhausting memory.
const MAX_RECORD: usize = 64 << 20;

/// One record cut from the input: its text and where it starts.
pub struct JsonRec {
    /// The physical line the record starts on (1-based).
    pub line: u64,
    /// The position in the array (0-based); None for JSONL.
    pub index: Option<u64>,
    pub text: Vec<u8>,
}

impl JsonRec {
    /// Where the record is, for messages: `line 3`, or `index 1 (line 3)` in an array.
    pub fn at(&self) -> String {
        match self.index {
            Some(i) => format!("index {i} (line {})", self.line),
            None => format!("line {}", self.line),
        }
    }

    /// The record as an object, or the row error saying why it is not one.
    pub fn object(&self) -> std::result::Result<Map<String, J>, String> {
        match serde_json::from_slice::<J>(&self.text) {
            Ok(J::Object(m)) => Ok(m),
            Ok(other) => Err(format!(
                "a record must be a JSON object {{…}}, not {}",
                kind_name(&other)
            )),
            Err(e) => {
                // serde counts lines within the record; name the file's line instead.
                let text = e.to_string();
                let what = text.rsplit_once(" at line ").map_or(&*text, |(w, _)| w);
                Err(format!(
                    "not valid JSON: {what} (line {}, column {})",
                    self.line + e.line().saturating_sub(1) as u64,
                    e.column()
                ))
            }
        }
    }
}

fn kind_name(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "a boolean",
        J::Number(_) => "a number",
        J::String(_) => "a string",
        J::Array(_) => "an array",
        J::Object(_) => "an object",
    }
}

/// The records of a JSON array (`[{…}, {…}]`) or of JSONL (one object per line).
#[allow(clippy::struct_excessive_bools)] // the scanner's state, each flag independent
pub struct JsonRecords<R: Read> {
    r: BufReader<R>,
    array: bool,
    /// The current physical line.
    line: u64,
    last_cr: bool,
    started: bool,
    done: bool,
    index: u64,
}

impl<R: Read> JsonRecords<R> {
    pub fn new(r: R, array: bool) -> Self {
        JsonRecords {
            r: BufReader::with_capacity(1 << 16, r),
            array,
            line: 1,
            last_cr: false,
            started: false,
            done: false,
            index: 0,
        }
    }

    fn peek(&mut self) -> Result<Option<u8>> {
        Ok(self.r.fill_buf()?.first().copied())
    }

    /// Takes one byte, counting line breaks as an editor does (CRLF once, CR or LF alone once).
    fn take(&mut self) -> Result<Option<u8>> {
        let b = self.peek()?;
        if let Some(c) = b {
            self.r.consume(1);
            match c {
                b'\n' if self.last_cr => self.last_cr = false,
                b'\n' => self.line += 1,
                b'\r' => {
                    self.line += 1;
                    self.last_cr = true;
                }
                _ => self.last_cr = false,
            }
        }
        Ok(b)
    }

    fn skip_ws(&mut self) -> Result<Option<u8>> {
        while let Some(b) = self.peek()? {
            if !b.is_ascii_whitespace() {
                return Ok(Some(b));
            }
            self.take()?;
        }
        Ok(None)
    }

    fn structure(&self, what: &str) -> Error {
        Error::invalid(format!("line {}: {what}", self.line))
            .hint("nothing was written; the file must be a JSON array of objects as `crm export --format json` writes")
    }

    /// The next JSONL record: the next line that is not blank.
    fn next_line(&mut self) -> Result<Option<JsonRec>> {
        loop {
            let line = self.line;
            let mut text = Vec::new();
            let n = (&mut self.r)
                .take(MAX_RECORD as u64 + 1)
                .read_until(b'\n', &mut text)?;
            if n == 0 {
                return Ok(None);
            }
            if text.len() > MAX_RECORD {
                return Err(Error::invalid(format!(
                    "line {line}: a record over the 64 MiB limit"
                )));
            }
            self.line += 1;
            while text.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
                text.pop();
            }
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some(JsonRec {
                line,
                index: None,
                text,
            }));
        }
    }

    /// The next element of the array, cut at its end by tracking strings and nesting.
    fn next_element(&mut self) -> Result<Option<JsonRec>> {
        if self.done {
            return Ok(None);
        }
        if self.started {
            match self.skip_ws()? {
                Some(b',') => {
                    self.take()?;
                }
                Some(b']') => {
                    self.take()?;
                    return self.end();
                }
                _ => return Err(self.structure("expected ',' or ']' after a record")),
            }
        } else {
            self.started = true;
            match self.skip_ws()? {
                Some(b'[') => {
                    self.take()?;
                }
                None => {
                    self.done = true;
                    return Ok(None);
                }
                Some(_) => {
                    return Err(self.structure(
                        "a .json import is an array of objects ([{…}, …]); for one object per line use .jsonl or --format jsonl",
                    ));
                }
            }
            if self.skip_ws()? == Some(b']') {
                self.take()?;
                return self.end();
            }
        }
        if self.skip_ws()?.is_none() {
            return Err(self.structure("the array is not closed with ']'"));
        }
        let line = self.line;
        let mut text = Vec::new();
        let (mut depth, mut in_str, mut esc) = (0usize, false, false);
        while let Some(b) = self.peek()? {
            if !in_str && depth == 0 && !text.is_empty() && matches!(b, b',' | b']') {
                break;
            }
            self.take()?;
            text.push(b);
            if text.len() > MAX_RECORD {
                return Err(Error::invalid(format!(
                    "index {} (line {line}): a record over the 64 MiB limit",
                    self.index
                )));
            }
            if in_str {
                match (esc, b) {
                    (true, _) => esc = false,
                    (false, b'\\') => esc = true,
                    (false, b'"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_str = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break; // the record is complete; what follows is the separator
                    }
                }
                _ => {}
            }
        }
        if in_str || depth > 0 {
            return Err(self.structure("the file ends inside a record"));
        }
        let index = self.index;
        self.index += 1;
        Ok(Some(JsonRec {
            line,
            index: Some(index),
            text,
        }))
    }

    fn end(&mut self) -> Result<Option<JsonRec>> {
        self.done = true;
        if self.skip_ws()?.is_some() {
            return Err(self.structure("text after the closing ']'"));
        }
        Ok(None)
    }
}

impl<R: Read> Iterator for JsonRecords<R> {
    type Item = Result<JsonRec>;
    fn next(&mut self) -> Option<Self::Item> {
        let r = if self.array {
            self.next_element()
        } else {
            self.next_line()
        };
        r.transpose()
    }
}

/// A JSON value as the text cell the CSV path would have read for a field of that kind:
/// a string verbatim (never un-apostrophed: JSON is written without the spreadsheet guard),
/// numbers and booleans as written, null as empty, a tags array joined by `;`.
pub fn cell(kind: Kind, v: &J) -> std::result::Result<String, String> {
    Ok(match v {
        J::Null => String::new(),
        J::Bool(b) => b.to_string(),
        J::Number(n) => n.to_string(),
        // `parse_cell` removes an apostrophe before formula-like text (the CSV guard); an
        // extra one in front keeps a JSON string exactly as written.
        J::String(s) if super::unguard(s) != s => format!("'{s}"),
        J::String(s) => s.clone(),
        J::Array(items) if kind == Kind::Tags => {
            let mut tags = Vec::with_capacity(items.len());
            for t in items {
                match t {
                    J::String(s) => tags.push(s.clone()),
                    J::Number(n) => tags.push(n.to_string()),
                    other => return Err(format!("a tag is {}, not text", kind_name(other))),
                }
            }
            tags.join(";")
        }
        other => {
            return Err(format!(
                "{} is not a value for this field",
                kind_name(other)
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str, array: bool) -> Result<Vec<(u64, Option<u64>, String)>> {
        JsonRecords::new(text.as_bytes(), array)
            .map(|r| r.map(|r| (r.line, r.index, String::from_utf8(r.text).expect("utf-8"))))
            .collect()
    }

    #[test]
    fn arrays_are_cut_per_record_with_lines() {
        let recs = all(
            "[\r\n  {\"a\": \"x,]}\\\"\"},\r\n  {\"b\": [1, {\"c\": 2}]}\r\n]\r\n",
            true,
        )
        .expect("ok");
        assert_eq!(
            recs,
            [
                (2, Some(0), "{\"a\": \"x,]}\\\"\"}".to_string()),
                (3, Some(1), "{\"b\": [1, {\"c\": 2}]}".to_string()),
            ]
        );
        assert!(all("[]", true).expect("empty").is_empty());
        assert!(all("", true).expect("empty").is_empty());
        assert!(all("{\"a\":1}", true).is_err());
        assert!(all("[{\"a\":1}", true).is_err());
        assert!(all("[{\"a\":1}] x", true).is_err());
        assert!(all("[{\"a\":\"1}]", true).is_err());
    }

    #[test]
    fn jsonl_skips_blank_lines() {
        let recs = all("{\"a\":1}\r\n\r\n{\"b\":2}", false).expect("ok");
        assert_eq!(recs[0].0, 1);
        assert_eq!(recs[1], (3, None, "{\"b\":2}".to_string()));
    }

    #[test]
    fn cells_by_kind() {
        use serde_json::json;
        assert_eq!(cell(Kind::Tags, &json!(["a", "b"])), Ok("a;b".into()));
        assert_eq!(cell(Kind::Bool, &json!(true)), Ok("true".into()));
        assert_eq!(cell(Kind::Text, &json!(null)), Ok(String::new()));
        assert_eq!(cell(Kind::Text, &json!("'=x")), Ok("''=x".into()));
        assert_eq!(super::super::unguard("''=x"), "'=x");
        assert!(cell(Kind::Text, &json!({"a": 1})).is_err());
        assert!(cell(Kind::Text, &json!([1])).is_err());
    }
}
