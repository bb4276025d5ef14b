//! The `PostgreSQL` edge of crm's [`Value`]: a parameter takes the type the server inferred
//! for it (so one `Value::Integer` binds as `bigint`, `integer` or `text` as the statement
//! needs, as `SQLite`'s affinity would), and a cell of any type crm stores reads back as the
//! value `SQLite` would give.

use std::error::Error as StdError;

use bytes::BytesMut;
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use crate::schema::{Value, ValueRef};

type BoxError = Box<dyn StdError + Sync + Send>;

/// A borrowed [`Value`] bound as a parameter.
#[derive(Debug)]
pub struct Param<'a>(pub &'a Value);

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match (self.0, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Integer(i), &Type::INT8) => i.to_sql(ty, out),
            (Value::Integer(i), &Type::INT4) => i32::try_from(*i)?.to_sql(ty, out),
            (Value::Integer(i), &Type::INT2) => i16::try_from(*i)?.to_sql(ty, out),
            (Value::Integer(i), &Type::BOOL) => (*i != 0).to_sql(ty, out),
            #[allow(clippy::cast_precision_loss)]
            (Value::Integer(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            (Value::Integer(i), _) => i.to_string().to_sql(&Type::TEXT, out),
            (Value::Real(r), &Type::FLOAT8) => r.to_sql(ty, out),
            (Value::Real(r), _) => r.to_string().to_sql(&Type::TEXT, out),
            (Value::Text(t), &Type::INT8) => t.trim().parse::<i64>()?.to_sql(ty, out),
            (Value::Text(t), &Type::INT4) => t.trim().parse::<i32>()?.to_sql(ty, out),
            (Value::Text(t), &Type::BYTEA) => t.as_bytes().to_sql(ty, out),
            (Value::Text(t), _) => t.as_str().to_sql(&Type::TEXT, out),
            (Value::Blob(b), &Type::BYTEA) => b.as_slice().to_sql(ty, out),
            (Value::Blob(b), _) => String::from_utf8_lossy(b).as_ref().to_sql(&Type::TEXT, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A cell read as crm's [`Value`].
pub struct Cell(pub Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Cell, BoxError> {
        let v = match *ty {
            Type::INT8 => Value::Integer(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Integer(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Value::Integer(i16::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Integer(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
            Type::BYTEA => Value::Blob(raw.to_vec()),
            Type::NUMERIC => numeric(raw)?,
            _ => Value::Text(String::from_utf8(raw.to_vec())?),
        };
        Ok(Cell(v))
    }

    fn from_sql_null(_: &Type) -> Result<Cell, BoxError> {
        Ok(Cell(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A cell read in place, for scans over a million rows: text and bytes borrowed from the
/// row, not copied (text is as stored, UTF-8 on a UTF-8 database, as `SQLite` hands it out);
/// only a `numeric` is made into an owned [`Value`].
pub enum CellRef<'a> {
    Borrowed(ValueRef<'a>),
    Owned(Value),
}

impl<'a> FromSql<'a> for CellRef<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<CellRef<'a>, BoxError> {
        Ok(CellRef::Borrowed(match *ty {
            Type::INT8 => ValueRef::Integer(i64::from_sql(ty, raw)?),
            Type::INT4 => ValueRef::Integer(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => ValueRef::Integer(i16::from_sql(ty, raw)?.into()),
            Type::BOOL => ValueRef::Integer(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => ValueRef::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => ValueRef::Real(f32::from_sql(ty, raw)?.into()),
            Type::BYTEA => ValueRef::Blob(raw),
            Type::NUMERIC => return Ok(CellRef::Owned(numeric(raw)?)),
            _ => ValueRef::Text(raw),
        }))
    }

    fn from_sql_null(_: &Type) -> Result<CellRef<'a>, BoxError> {
        Ok(CellRef::Borrowed(ValueRef::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

impl CellRef<'_> {
    /// The cell as a borrowed value.
    pub fn get(&self) -> ValueRef<'_> {
        match self {
            CellRef::Borrowed(v) => *v,
            CellRef::Owned(v) => match v {
                Value::Null => ValueRef::Null,
                Value::Integer(i) => ValueRef::Integer(*i),
                Value::Real(r) => ValueRef::Real(*r),
                Value::Text(t) => ValueRef::Text(t.as_bytes()),
                Value::Blob(b) => ValueRef::Blob(b),
            },
        }
    }
}

/// A `numeric` (what `SUM(bigint)` returns) as an integer when it is a whole number that
/// fits, else as its exact decimal text: never rounded through a float.
fn numeric(raw: &[u8]) -> Result<Value, BoxError> {
    let word = |i: usize| -> Result<u16, BoxError> {
        raw.get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "short numeric".into())
    };
    let ndigits = usize::from(word(0)?);
    let weight = i32::from(word(2)?.cast_signed());
    let sign = word(4)?;
    let dscale = usize::from(word(6)?);
    if sign == 0xC000 {
        return Ok(Value::Text("NaN".into()));
    }
    let digits: Vec<u16> = (0..ndigits)
        .map(|k| word(8 + 2 * k))
        .collect::<Result<_, _>>()?;
    // Integer part: base-10000 digits at weights weight..=0.
    let mut int = String::new();
    for w in (0..=weight).rev() {
        let idx = usize::try_from(weight - w).unwrap_or(usize::MAX);
        let d = digits.get(idx).copied().unwrap_or(0);
        if int.is_empty() {
            if d != 0 {
                int = d.to_string();
            }
        } else {
            int.push_str(&format!("{d:04}"));
        }
    }
    if int.is_empty() {
        int.push('0');
    }
    let mut frac = String::new();
    let mut w = -1;
    while frac.len() < dscale {
        let idx = usize::try_from(weight - w).ok();
        let d = idx.and_then(|i| digits.get(i)).copied().unwrap_or(0);
        frac.push_str(&format!("{d:04}"));
        w -= 1;
    }
    frac.truncate(dscale);
    let neg = sign == 0x4000 && (int != "0" || frac.chars().any(|c| c != '0'));
    if frac.chars().all(|c| c == '0') {
        let text = if neg { format!("-{int}") } else { int };
        return Ok(match text.parse::<i64>() {
            Ok(i) => Value::Integer(i),
            Err(_) => Value::Text(text),
        });
    }
    Ok(Value::Text(format!(
        "{}{int}.{frac}",
        if neg { "-" } else { "" }
    )))
}

#[cfg(test)]
mod tests {
    use super::numeric;
    use crate::schema::Value;

    fn raw(ndigits: u16, weight: i16, sign: u16, dscale: u16, d: &[u16]) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [ndigits, weight.cast_unsigned(), sign, dscale] {
            v.extend_from_slice(&w.to_be_bytes());
        }
        for x in d {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v
    }

    #[test]
    fn whole_numbers_fit_or_stay_exact_text() {
        // 123456789 = 1|2345|6789
        assert_eq!(
            numeric(&raw(3, 2, 0, 0, &[1, 2345, 6789])).unwrap(),
            Value::Integer(123_456_789)
        );
        assert_eq!(
            numeric(&raw(1, 0, 0x4000, 0, &[42])).unwrap(),
            Value::Integer(-42)
        );
        assert_eq!(numeric(&raw(0, 0, 0, 0, &[])).unwrap(), Value::Integer(0));
        // 10^20 = 1 followed by five 0000 groups: weight 5
        assert_eq!(
            numeric(&raw(1, 5, 0, 0, &[1])).unwrap(),
            Value::Text("100000000000000000000".into())
        );
        // 1.5 with scale 1
        assert_eq!(
            numeric(&raw(2, 0, 0, 1, &[1, 5000])).unwrap(),
            Value::Text("1.5".into())
        );
    }
}
