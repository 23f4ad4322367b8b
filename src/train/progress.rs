//! Progress of a long training step, in one line: what it is doing, how far it is, the time so
//! far and an ETA from the pace so far. On a terminal the line updates in place; in a log (CI,
//! a pipe) a line is written at most every [`LOG_EVERY`] and at the end, so a log stays short
//! and a slow step still shows it is alive. Off with `--quiet` (`progress: false`).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Least time between two lines in a log.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// The progress of one step of `total` units (iterations, epochs, blocks).
pub struct Progress {
    what: String,
    total: usize,
    started: Instant,
    last: Option<Instant>,
    /// Units done at the last line printed (steps reported out of order, from several
    /// threads, print nothing older).
    shown: usize,
    on: bool,
    tty: bool,
}

/// "1 h 02 min", "3 min 05 s", "12.3 s".
pub fn duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 3600.0 {
        format!("{} h {:02} min", (s / 3600.0) as u64, ((s % 3600.0) / 60.0) as u64)
    } else if s >= 60.0 {
        format!("{} min {:02} s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!("{s:.1} s")
    }
}

impl Progress {
    /// Starts a step; nothing is printed when `on` is false.
    pub fn new(what: impl Into<String>, total: usize, on: bool) -> Self {
        Self { what: what.into(), total, started: Instant::now(), last: None, shown: 0, on, tty: std::io::stderr().is_terminal() }
    }

    /// The line after `done` of the units, with `detail` (a loss, an RMSE) when it is printed.
    pub fn line(&self, done: usize, detail: &str) -> String {
        let elapsed = self.started.elapsed();
        let eta = if done == 0 || done >= self.total {
            String::new()
        } else {
            format!(", ETA {}", duration(elapsed.mul_f64((self.total - done) as f64 / done as f64)))
        };
        let detail = if detail.is_empty() { String::new() } else { format!(": {detail}") };
        format!("  {} {done}/{}{detail} ({}{eta})", self.what, self.total, duration(elapsed))
    }

    /// Reports that `done` units are finished; `detail` is computed only when a line is printed.
    pub fn step(&mut self, done: usize, detail: impl FnOnce() -> String) {
        if !self.on || done < self.shown || (done == self.shown && self.last.is_some()) {
            return;
        }
        let last = done >= self.total;
        let due = self.tty || last || self.last.is_none_or(|t| t.elapsed() >= LOG_EVERY);
        if !due {
            return;
        }
        self.last = Some(Instant::now());
        self.shown = done;
        let line = self.line(done, &detail());
        let mut err = std::io::stderr().lock();
        let _ = if self.tty { write!(err, "\r\x1b[2K{line}{}", if last { "\n" } else { "" }) } else { writeln!(err, "{line}") };
        let _ = err.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_how_far_and_how_long_is_left() {
        let p = Progress {
            what: "autoencoder epoch".into(),
            total: 120,
            started: Instant::now() - Duration::from_secs(60),
            last: None,
            shown: 0,
            on: true,
            tty: false,
        };
        let line = p.line(30, "loss 2.10 a user");
        assert!(line.starts_with("  autoencoder epoch 30/120: loss 2.10 a user (1 min 00 s, ETA 3 min 00 s)"), "{line}");
        assert!(!p.line(120, "").contains("ETA"), "no ETA once done");
        assert_eq!(duration(Duration::from_secs(3725)), "1 h 02 min");
        assert_eq!(duration(Duration::from_millis(12_340)), "12.3 s");
    }
}
