//! A record as the generic machinery holds it: a draft of the entity's own field values
//! (what commands, imports and rules build) and a stored record (a draft with its id and
//! timestamps). Neutral ground between the store (`db/`) and the rules (`rules/`).

use super::{Entity, Value};

/// A record's values for the entity's own fields (not id or timestamps), in registry order.
#[derive(Debug, Clone)]
pub struct Draft {
    pub entity: &'static Entity,
    pub values: Vec<Value>,
}

impl PartialEq for Draft {
    fn eq(&self, other: &Draft) -> bool {
        self.entity.name == other.entity.name && self.values == other.values
    }
}

impl Draft {
    pub fn empty(entity: &'static Entity) -> Draft {
        Draft {
            entity,
            values: vec![Value::Null; entity.fields.len()],
        }
    }
    fn index(&self, name: &str) -> usize {
        self.entity
            .fields
            .iter()
            .position(|f| f.name == name)
            .unwrap_or_else(|| panic!("registry has no field {name}"))
    }
    /// The value of a field (panics on a name not in the registry: a programming error).
    pub fn get(&self, name: &str) -> &Value {
        &self.values[self.index(name)]
    }
    pub fn set(&mut self, name: &str, v: Value) {
        let i = self.index(name);
        self.values[i] = v;
    }
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }
    pub fn int(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }
}

/// A stored record: id, raw field values (references as ids), timestamps.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: i64,
    pub draft: Draft,
    pub created_at: i64,
    pub updated_at: i64,
}
