//! The app in a pseudo-terminal, as a person meets it: the real binary on a pty
//! (portable-pty), typed at one key at a time, its screen read back with a terminal
//! emulator (vt100). Waits poll the screen with generous limits; nothing here depends on
//! how fast the machine is.

use super::{Plant, bin, hermetic_env};
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long to wait for something to show before failing: long, for slow CI machines.
pub const PATIENCE: Duration = Duration::from_secs(60);
/// The least time between two keys the harness sends: well above the decoder's 30 ms
/// `max_key_gap_ms`, so typing is never read as an unframed scan.
pub const KEY_GAP: Duration = Duration::from_millis(60);
/// After typing a ']' (which may start an AIM identifier), the decoder's quiet period:
/// above its 150 ms `framed_key_gap_ms`.
pub const FRAMED_QUIET: Duration = Duration::from_millis(200);

pub const ENTER: &str = "\r";

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("a terminal has at least one row and column")
}

/// The app running in a pseudo-terminal.
pub struct Term {
    pub parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    master: Box<dyn MasterPty + Send>,
    child: Box<dyn Child + Send + Sync>,
    /// Every write to the terminal and when it went: the test of the pacing reads it.
    pub sent: Vec<(Instant, String)>,
}

impl Term {
    pub fn start(plant: &Plant, args: &[&str], env: &[(&str, &str)], cols: u16, rows: u16) -> Term {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(bin());
        cmd.env_clear();
        for (k, v) in hermetic_env(Some(plant.home())) {
            cmd.env(k, v);
        }
        cmd.arg("--db");
        cmd.arg(&plant.db);
        for a in args {
            cmd.arg(a);
        }
        cmd.env("TERM", "xterm-256color");
        // Files the app writes by default (exports) go to the current folder: the plant's
        // temporary home, never the repository.
        cmd.cwd(plant.home());
        cmd.env("XDG_CONFIG_HOME", plant.home().join("config"));
        cmd.env("LOTLINE_STATION", plant.station);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(nz(rows), nz(cols), 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let mut reader = pair.master.try_clone_reader().unwrap();
        let (p, r) = (parser.clone(), raw.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        p.lock().unwrap().process(&buf[..n]);
                        r.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                }
            }
        });
        let writer = pair.master.take_writer().unwrap();
        Term {
            parser,
            raw,
            writer,
            master: pair.master,
            child,
            sent: Vec::new(),
        }
    }

    pub fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Wait until the screen satisfies `ok`; fail showing the screen if it never does.
    pub fn wait(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            if start.elapsed() > PATIENCE {
                panic!("waited {PATIENCE:?} for {what}; the screen shows:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn wait_for(&self, text: &str) -> String {
        self.wait(&format!("{text:?}"), |s| s.contains(text))
    }

    /// The status line (the last row).
    pub fn status(&self) -> String {
        self.screen()
            .lines()
            .last()
            .unwrap_or("")
            .trim()
            .to_string()
    }

    /// Write `keys` (one key, or a scanner's whole burst) to the terminal, at least
    /// `KEY_GAP` after the last write: a person's pace, never a scanner's.
    pub fn send(&mut self, keys: &str) {
        if let Some((last, _)) = self.sent.last() {
            let due = *last + KEY_GAP;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        self.sent.push((Instant::now(), keys.to_string()));
    }

    /// Type like a person: one key at a time, `KEY_GAP` apart (`send` paces them), then
    /// wait until the text shows, which it does once the decoder has let the keys go as
    /// typing, and for the decoder's quiet period after the last key.
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.send(&c.to_string());
        }
        self.wait_for(text);
        // A ']' may begin a scanner's AIM identifier: the decoder holds such keys for the
        // longer framed gap before it lets them go.
        let quiet = if text.contains(']') {
            FRAMED_QUIET
        } else {
            KEY_GAP
        };
        if let Some((last, _)) = self.sent.last() {
            let due = *last + quiet;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
    }

    /// Type into the focused field and press Enter (after the decoder's quiet period, so
    /// the text and its Enter are never taken for a scan).
    pub fn field(&mut self, text: &str) {
        if !text.is_empty() {
            self.type_text(text);
        }
        self.send(ENTER);
    }

    /// Press a key and wait for its effect.
    pub fn press(&mut self, key: &str, then: &str) -> String {
        self.send(key);
        self.wait_for(then)
    }

    pub fn resize(&mut self, cols: u16, rows: u16) {
        self.parser
            .lock()
            .unwrap()
            .screen_mut()
            .set_size(nz(rows), nz(cols));
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
    }

    /// Wait for the program to end; its exit code.
    pub fn exit(&mut self) -> u32 {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.exit_code();
            }
            if start.elapsed() > PATIENCE {
                panic!("lotline did not exit; the screen shows:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The app's process id, for a test that signals it (SIGSTOP: a frozen terminal).
    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("the app runs")
    }

    /// Hang up on the app, as sshd does when a session drops: SIGHUP. The terminal is
    /// left open: the reader thread holds a copy of it, so closing ours would not hang it
    /// up, and portable-pty's writer types "Enter, C-d" into the app when dropped, which
    /// no dropped Wi-Fi does.
    pub fn hang_up(&mut self) {
        let pid = self.child.process_id().expect("the app runs") as i32;
        // SAFETY: plain kill(2) of our own child.
        unsafe { libc::kill(pid, libc::SIGHUP) };
    }

    /// SIGKILL the app: nothing it holds is sent anywhere.
    pub fn kill9(&mut self) {
        let pid = self.child.process_id().expect("the app runs") as i32;
        // SAFETY: plain kill(2) of our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }

    pub fn raw_output(&self) -> Vec<u8> {
        self.raw.lock().unwrap().clone()
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
    }
}
