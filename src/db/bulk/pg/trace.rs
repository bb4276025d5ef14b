//! Where a `PostgreSQL` import's time goes, for whoever tunes it: with `CRM_IMPORT_TRACE`
//! set, each phase's total is printed to stderr when the import ends. Off, it costs one
//! check of a flag per phase.

use std::cell::RefCell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn on() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("CRM_IMPORT_TRACE").is_some())
}

thread_local! {
    static TOTALS: RefCell<Vec<(&'static str, Duration)>> = const { RefCell::new(Vec::new()) };
}

/// The start of a phase (`None` when not tracing).
pub fn start() -> Option<Instant> {
    on().then(Instant::now)
}

/// Adds the time since `t0` to `label`'s total.
pub fn lap(label: &'static str, t0: Option<Instant>) {
    let Some(t0) = t0 else { return };
    let d = t0.elapsed();
    TOTALS.with(|t| {
        let mut t = t.borrow_mut();
        match t.iter_mut().find(|(l, _)| *l == label) {
            Some((_, total)) => *total += d,
            None => t.push((label, d)),
        }
    });
}

/// Prints the totals so far (and the time since `began`) and starts over.
#[allow(clippy::print_stderr)] // for whoever tunes the import, asked for by the variable
pub fn report(began: Option<Instant>) {
    if !on() {
        return;
    }
    if let Some(b) = began {
        eprintln!(
            "import trace: since begin: {:.3} s",
            b.elapsed().as_secs_f64()
        );
    }
    TOTALS.with(|t| {
        for (label, d) in t.borrow_mut().drain(..) {
            eprintln!("import trace: {label}: {:.3} s", d.as_secs_f64());
        }
    });
}
