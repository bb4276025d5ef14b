//! The import progress bar: on stderr only when it is a terminal and not `--quiet` (indicatif
//! hides itself otherwise, as uv does): rows, rows per second, and an ETA from bytes read.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::context::Ctx;

/// A bar, or nothing when stderr is not a terminal.
pub struct Bar(Option<(ProgressBar, std::time::Instant)>);

impl Bar {
    pub fn new(ctx: &Ctx, len: Option<u64>) -> Bar {
        if !ctx.out.stderr_tty || ctx.out.quiet {
            return Bar(None);
        }
        let pb = match len {
            Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
        };
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% {msg} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        pb.set_style(style);
        Bar(Some((pb, std::time::Instant::now())))
    }

    /// Rows done and raw bytes read so far.
    pub fn tick(&self, rows: i64, bytes: u64) {
        if let Some((pb, t0)) = &self.0 {
            pb.set_position(bytes);
            let secs = t0.elapsed().as_secs_f64().max(0.001);
            #[allow(clippy::cast_precision_loss)]
            let rate = rows as f64 / secs;
            pb.set_message(format!("{rows} rows, {rate:.0} rows/s"));
        }
    }

    pub fn finish(&self) {
        if let Some((pb, _)) = &self.0 {
            pb.finish_and_clear();
        }
    }
}
