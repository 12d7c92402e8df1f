//! Log lines a client can cause, rate-limited per Unix user: a client that reconnects in a
//! loop, or sends refused requests by the thousand, must not fill the disk the log shares
//! with the database. Each user gets `per_window` lines a minute; the rest are counted and
//! the count is logged once the minute is over.

use super::log;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Whose lines: a user (uid), or the server's own (accept errors).
pub(super) type Source = Option<u32>;

pub(super) struct Limiter {
    windows: Mutex<HashMap<Source, Window>>,
    per_window: usize,
    window: Duration,
}

struct Window {
    start: Instant,
    lines: usize,
    dropped: usize,
}

impl Limiter {
    pub fn new(per_window: usize, window: Duration) -> Limiter {
        Limiter {
            windows: Mutex::new(HashMap::new()),
            per_window,
            window,
        }
    }

    /// Log `msg` unless `from` has had its lines for this window.
    pub fn log(&self, from: Source, msg: impl std::fmt::Display) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let w = windows.entry(from).or_insert(Window {
            start: now,
            lines: 0,
            dropped: 0,
        });
        if now.duration_since(w.start) >= self.window {
            report(from, w, self.window);
            *w = Window {
                start: now,
                lines: 0,
                dropped: 0,
            };
        }
        if w.lines < self.per_window {
            w.lines += 1;
            log(msg);
        } else {
            w.dropped += 1;
        }
    }

    /// Say how many lines were left out in windows that are over, and forget them.
    pub fn flush(&self) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        windows.retain(|from, w| {
            if now.duration_since(w.start) < self.window {
                return true;
            }
            report(*from, w, self.window);
            false
        });
    }
}

fn report(from: Source, w: &Window, window: Duration) {
    if w.dropped == 0 {
        return;
    }
    let whose = match from {
        Some(uid) => format!("about uid {uid}"),
        None => "of the server's".to_string(),
    };
    log(format_args!(
        "{} more lines {whose} were not logged in {} s (at most {} a window)",
        w.dropped,
        window.as_secs(),
        w.lines
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_past_its_lines_is_counted_not_logged() {
        let l = Limiter::new(3, Duration::from_secs(3600));
        for _ in 0..10 {
            l.log(Some(7), "x");
        }
        l.log(Some(8), "y");
        let w = l.windows.lock().unwrap();
        assert_eq!((w[&Some(7)].lines, w[&Some(7)].dropped), (3, 7));
        assert_eq!((w[&Some(8)].lines, w[&Some(8)].dropped), (1, 0));
    }

    #[test]
    fn windows_that_are_over_are_forgotten() {
        let l = Limiter::new(1, Duration::ZERO);
        l.log(Some(7), "x");
        l.log(Some(7), "x");
        l.flush();
        assert!(l.windows.lock().unwrap().is_empty());
    }
}
