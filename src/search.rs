//! Text search, pure: what a record's searchable fields put in the search index
//! ([`tokens`], [`pinyin`]) and how a query text becomes an index query ([`plan`]).
//!
//! The index only narrows: `crm find ENTITY TEXT` keeps substring semantics (any
//! searchable field contains the text, case-insensitively, Chinese of any length), and a
//! final check in SQL confirms each candidate unless the plan says the index answer is
//! exact already. Two more ways to match, both decided by the index alone: digits match
//! phone fragments whatever the separators ([`tokens::phone_digits`]), and Latin letters
//! match a name by its pinyin ([`pinyin::keys`]).
//!
//! Nothing here touches a database: the engines store the tokens (`SQLite` in an FTS5
//! table, `PostgreSQL` in `tsvector` columns) and render a [`plan::Plan`] in their syntax.

pub mod pinyin;
pub mod plan;
pub mod tokens;

pub use plan::Plan;
