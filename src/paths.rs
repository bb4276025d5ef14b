//! Where crm keeps its files: the XDG data directory for the database and the XDG state
//! directory for session tokens.

use std::path::PathBuf;

fn xdg(var: &str, fallback: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() && PathBuf::from(&v).is_absolute() => PathBuf::from(v),
        _ => home().join(fallback),
    }
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from)
}

/// `$XDG_DATA_HOME/crm/crm.db`, falling back to `~/.local/share/crm/crm.db`.
pub fn default_db() -> PathBuf {
    xdg("XDG_DATA_HOME", ".local/share")
        .join("crm")
        .join("crm.db")
}

/// `$XDG_STATE_HOME/crm`, falling back to `~/.local/state/crm`.
pub fn state_dir() -> PathBuf {
    xdg("XDG_STATE_HOME", ".local/state").join("crm")
}
