//! The `SQLite` engine's edge: how crm's own types cross into rusqlite and back.

pub mod value;
