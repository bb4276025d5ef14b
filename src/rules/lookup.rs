//! What rules may read besides the draft and the stored record: a read-only view of the
//! store. The store implements it (`db/derive.rs`); a test can fake it. Rules never write:
//! they return the [`Change`]s a write implies, and the store applies and audits them.

use crate::error::Result;
use crate::schema::record::{Draft, Stored};
use crate::schema::{Entity, Value};

/// A read-only view of the records, inside the writer's transaction.
pub trait Lookup {
    /// One stored record; None when there is none.
    fn get(&self, e: &'static Entity, id: i64) -> Result<Option<Stored>>;
    /// One field of a record; None when the record does not exist.
    fn field(&self, e: &'static Entity, field: &str, id: i64) -> Result<Option<Value>>;
    /// How many records of `line` refer to `parent` through `via` (leaving out `except`),
    /// and the exact sum of their `amount`s.
    fn amounts(
        &self,
        line: &'static Entity,
        via: &str,
        parent: i64,
        except: Option<i64>,
    ) -> Result<(i64, i128)>;
    /// When the customer's latest done activity was done (null when none is).
    fn last_done_at(&self, customer: i64) -> Result<Value>;
    /// A user's role; None when there is no such user.
    fn role_of(&self, user: &str) -> Result<Option<String>>;
    /// The stage an opportunity entered last, if any.
    fn last_stage(&self, opportunity: i64) -> Result<Option<String>>;
}

/// The write a derived value follows from, for its audit row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cause {
    pub entity: &'static str,
    pub id: i64,
}

/// A value of another record that follows from a write (a parent's amount, a customer's
/// last contact).
#[derive(Debug, Clone)]
pub struct Derived {
    pub entity: &'static Entity,
    pub id: i64,
    pub field: &'static str,
    pub value: Value,
    pub cause: Cause,
}

/// What a write implies beyond the record itself, for the store to apply in its
/// transaction.
#[derive(Debug, Clone)]
pub enum Change {
    /// Set a derived field (audited, unless unchanged or the record is gone).
    Derive(Derived),
    /// An opportunity entered a stage (a history row for funnel and cycle-time reports).
    EnterStage {
        opportunity: i64,
        stage: String,
        at: i64,
    },
}

/// Checks and completes a draft before it is written (`old`: the stored record).
pub type Check = fn(&dyn Lookup, &mut Draft, Option<&Stored>) -> Result<()>;
/// What a written record implies (`old`: the record before an update).
pub type AfterWrite = fn(&dyn Lookup, &Draft, Option<&Draft>, i64) -> Result<Vec<Change>>;
/// What a deleted record implies.
pub type AfterDelete = fn(&dyn Lookup, &Draft, i64) -> Result<Vec<Change>>;

/// The rules of one entity, found through [`super::of`].
pub struct EntityRules {
    /// The entity they belong to (a test checks it is in the registry).
    pub entity: &'static str,
    /// Checks and completes a draft before it is written (`old`: the stored record).
    pub check: Option<Check>,
    /// What a written record implies (`old`: the record before an update).
    pub after_write: Option<AfterWrite>,
    /// What a deleted record implies.
    pub after_delete: Option<AfterDelete>,
    /// Every `(entity, field)` the rules read or set (a test checks each exists).
    pub uses: &'static [(&'static str, &'static str)],
}
