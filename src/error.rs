//! The one error type: its kind decides the exit status (SPEC "Exit status"), and it can carry a hint.

use std::fmt;
use std::sync::Arc;

/// What went wrong, as the contract's exit status table names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Internal,
    Usage,
    NotFound,
    Invalid,
    Conflict,
    Auth,
    Denied,
    Busy,
    Storage,
    Interrupted,
    /// Stopped by SIGTERM (exit 143, as a shell reports a process ended by that signal).
    Terminated,
}

impl ErrorKind {
    /// The process exit status for this kind.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Internal => 1,
            ErrorKind::Usage => 2,
            ErrorKind::NotFound => 3,
            ErrorKind::Invalid => 4,
            ErrorKind::Conflict => 5,
            ErrorKind::Auth => 6,
            ErrorKind::Denied => 7,
            ErrorKind::Busy => 8,
            ErrorKind::Storage => 9,
            ErrorKind::Interrupted => 130,
            ErrorKind::Terminated => 143,
        }
    }

    /// The `kind` string of the JSON error object.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Internal => "internal",
            ErrorKind::Usage => "usage",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Auth => "auth",
            ErrorKind::Denied => "denied",
            ErrorKind::Busy => "busy",
            ErrorKind::Storage => "storage",
            ErrorKind::Interrupted | ErrorKind::Terminated => "interrupted",
        }
    }
}

/// An error with its kind, a one-line message and any number of hint lines (what to do,
/// most useful first); the error it came from (a store engine's, say) is kept as its source.
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub hints: Vec<String>,
    pub source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: one_line(&message.into()),
            hints: Vec::new(),
            source: None,
        }
    }
    /// Adds a hint line (after those already there).
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
    /// The first hint, if any.
    pub fn first_hint(&self) -> Option<&str> {
        self.hints.first().map(String::as_str)
    }
    /// Keeps the error this one came from.
    #[must_use]
    pub fn with_source(mut self, source: Arc<dyn std::error::Error + Send + Sync>) -> Self {
        self.source = Some(source);
        self
    }
    pub fn usage(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, m)
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, m)
    }
    pub fn invalid(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, m)
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, m)
    }
    pub fn auth(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::Auth, m)
    }
    pub fn denied(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::Denied, m)
    }
    pub fn storage(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::Storage, m)
    }
    pub fn internal(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, m)
    }
}

/// Messages are one line: line breaks in user input must not forge extra lines (a space
/// instead); other control characters are escaped where the message is written.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '\n' | '\r' | '\t') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::NotFound => Error::not_found(e.to_string()),
            std::io::ErrorKind::PermissionDenied => Error::storage(e.to_string()),
            _ if e.raw_os_error() == Some(28) => Error::storage(format!("the disk is full: {e}")),
            _ => Error::storage(e.to_string()),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        if e.is_io() {
            return Error::from(std::io::Error::from(e));
        }
        Error::internal(e.to_string())
    }
}

impl From<csv::Error> for Error {
    fn from(e: csv::Error) -> Self {
        if e.is_io_error() {
            if let csv::ErrorKind::Io(io) = e.into_kind() {
                return Error::from(io);
            }
            return Error::storage("I/O error");
        }
        Error::invalid(format!("malformed CSV: {e}"))
    }
}

#[cfg(test)]
mod hint_tests {
    use super::Error;

    #[test]
    fn hints_add_up_in_order() {
        let e = Error::usage("bad").hint("first").hint("second");
        assert_eq!(e.hints, ["first", "second"]);
        assert_eq!(e.first_hint(), Some("first"));
        assert_eq!(Error::usage("bad").first_hint(), None);
    }
}
