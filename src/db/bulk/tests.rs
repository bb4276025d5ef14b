//! An entity wider than any fixed-width mask (200 fields) goes through the import's row
//! and the writer: which fields a row gave, the update over the stored record, and a
//! unique conflict on a field past the 128th.

use super::{Draft, Row, Stored};
use crate::db::Store;
use crate::db::write::{AuditPolicy, Refused, Writer};
use crate::schema::{Default, Entity, Field, Kind, Open, Rights, Value};

const WIDTH: usize = 200;
const UNIQUE: usize = 150;

fn wide() -> &'static Entity {
    let fields: Vec<Field> = (0..WIDTH)
        .map(|i| Field {
            name: Box::leak(format!("f{i}").into_boxed_str()),
            kind: Kind::Text,
            en: "f",
            zh: "f",
            required: false,
            unique: i == UNIQUE,
            default: Default::None,
            read_only: false,
            wide: false,
            search: false,
            custom: false,
        })
        .collect();
    Box::leak(Box::new(Entity {
        name: "wide",
        en: "wide",
        zh: "wide",
        key: None,
        owner: None,
        owner_via: None,
        title: "f0",
        open: Open::Always,
        related: &[],
        rights: Rights::SALES_SERVICE_READ,
        fields: Box::leak(fields.into_boxed_slice()),
    }))
}

fn store(e: &Entity) -> Store {
    let cols: Vec<String> = e
        .fields
        .iter()
        .map(|f| {
            format!(
                "\"{}\" TEXT{}",
                f.name,
                if f.unique { " UNIQUE" } else { "" }
            )
        })
        .collect();
    let c = rusqlite::Connection::open_in_memory().expect("a memory database");
    c.execute_batch(&format!(
        "CREATE TABLE \"wide\" (\"id\" INTEGER PRIMARY KEY AUTOINCREMENT, {}, \
         \"created_at\" INTEGER NOT NULL, \"updated_at\" INTEGER NOT NULL)",
        cols.join(", ")
    ))
    .expect("the wide table");
    c.execute_batch(
        "CREATE TABLE import_change (batch, record_id, before, after_updated_at, after)",
    )
    .expect("the batch's change table");
    Store::Sqlite(c)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

#[test]
fn a_row_marks_given_fields_past_the_128th() {
    let e = wide();
    let mut row = Row::new(WIDTH);
    row.values[199] = text("last");
    row.give(199);
    row.give(130);
    assert!(row.is_given(199) && row.is_given(130));
    assert!(!row.is_given(0) && !row.is_given(128) && !row.is_given(131));
    let mut old = Draft::empty(e);
    old.values[1] = text("kept");
    old.values[130] = text("cleared");
    old.values[199] = text("first");
    let new = row.over(&old);
    assert_eq!(new.values[1], text("kept"));
    assert_eq!(new.values[130], Value::Null, "given empty: cleared");
    assert_eq!(new.values[199], text("last"));
}

#[test]
fn the_writer_names_a_taken_value_past_the_128th_field() {
    let e = wide();
    let conn = store(e);
    let mut w = Writer::new(&conn, e, AuditPolicy::PerBatch(1), "admin").expect("a writer");
    let mut d = Draft::empty(e);
    d.values[0] = text("a");
    d.values[UNIQUE] = text("K1");
    let Ok((first, _)) = w.insert(d.clone()).expect("no failure") else {
        panic!("the first record is written");
    };
    d.values[0] = text("b");
    match w.insert(d).expect("no failure") {
        Err(Refused::Taken(Some(t))) => {
            assert_eq!((t.field.name, t.holder), ("f150", first));
            assert_eq!(
                t.reason(false, false),
                "f150: 'K1' is already taken by record 1"
            );
        }
        other => panic!("a taken value, not {other:?}"),
    }
    let mut other = Draft::empty(e);
    other.values[UNIQUE] = text("K2");
    let Ok((second, _)) = w.insert(other).expect("no failure") else {
        panic!("a second record with another key is written");
    };
    let old = Stored {
        id: first,
        draft: Draft {
            entity: e,
            values: {
                let mut v = vec![Value::Null; WIDTH];
                v[0] = text("a");
                v[UNIQUE] = text("K1");
                v
            },
        },
        created_at: 0,
        updated_at: 0,
    };
    let mut new = old.draft.clone();
    new.values[UNIQUE] = text("K2");
    match w.update(&old, new).expect("no failure") {
        Err(Refused::Taken(Some(t))) => assert_eq!(t.holder, second),
        other => panic!("a taken value, not {other:?}"),
    }
    let mut new = old.draft.clone();
    new.values[0] = text("a2");
    assert!(matches!(w.update(&old, new).expect("no failure"), Ok(true)));
    let (count, f0): (i64, String) = conn
        .sqlite()
        .expect("a SQLite store")
        .query_row("SELECT COUNT(*), MIN(\"f0\") FROM \"wide\"", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("a count");
    assert_eq!(
        (count, f0.as_str()),
        (2, "a2"),
        "the conflicts wrote nothing"
    );
}
