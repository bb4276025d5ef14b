//! The `SQLite` engine's edge: how crm's own types and errors cross into rusqlite and back.

pub mod error;
pub mod value;
