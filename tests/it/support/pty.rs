//! The app in a pseudo-terminal, as a person meets it: the real binary on a pty
//! (portable-pty), typed at one key at a time, its screen read back with a terminal
//! emulator (vt100). Waits poll the screen with generous limits; nothing here depends on
//! how fast the machine is.

use super::{Plant, bin, hermetic_env};
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// Our copies of the terminal's far end: `hang_up_terminal` closes all three, which is
    /// what hangs a terminal up. The writer is a plain copy, not portable-pty's, which
    /// types "Enter, C-d" into the app when dropped.
    writer: Option<File>,
    master: Option<Box<dyn MasterPty + Send>>,
    reader: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
    child: Box<dyn Child + Send + Sync>,
    /// Every write to the terminal and when it went: the test of the pacing reads it.
    pub sent: Vec<(Instant, String)>,
}

impl Term {
    pub fn start(plant: &Plant, args: &[&str], env: &[(&str, &str)], cols: u16, rows: u16) -> Term {
        let mut cmd = app_command(plant, CommandBuilder::new(bin()), args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Term::spawn(cmd, cols, rows)
    }

    /// `program args…` in the terminal under `sh -c`, as tmux, screen or a login script
    /// runs a program: the shell, not the program, leads the terminal's session, so when
    /// the terminal hangs up the kernel's SIGHUP goes to the shell alone.
    pub fn start_under_a_shell(plant: &Plant, args: &[&str], cols: u16, rows: u16) -> Term {
        let mut sh = CommandBuilder::new("/bin/sh");
        // More after the program, so the shell forks it instead of becoming it.
        sh.arg("-c");
        sh.arg("\"$0\" \"$@\"; exit $?");
        sh.arg(bin());
        Term::spawn(app_command(plant, sh, args), cols, rows)
    }

    fn spawn(cmd: CommandBuilder, cols: u16, rows: u16) -> Term {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(nz(rows), nz(cols), 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let copy = || -> File {
            let fd = pair
                .master
                .as_raw_fd()
                .expect("a Unix pty has a descriptor");
            // SAFETY: dup(2) of a descriptor the master keeps open; the copy is ours.
            let dup = unsafe { libc::dup(fd) };
            assert!(
                dup >= 0,
                "dup of the pty: {}",
                std::io::Error::last_os_error()
            );
            // SAFETY: `dup` is a fresh descriptor nobody else owns.
            File::from(unsafe { OwnedFd::from_raw_fd(dup) })
        };
        let mut reader = copy();
        let stop = Arc::new(AtomicBool::new(false));
        let (p, r, halt) = (parser.clone(), raw.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            use std::os::fd::AsRawFd;
            let mut buf = [0u8; 8192];
            // Waits a little at a time, so that `hang_up_terminal` can take this copy of
            // the terminal away.
            while !halt.load(Ordering::SeqCst) {
                let mut pfd = libc::pollfd {
                    fd: reader.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                if unsafe { libc::poll(&mut pfd, 1, 50) } <= 0 {
                    continue;
                }
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        p.lock().unwrap().process(&buf[..n]);
                        r.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                }
            }
        });
        Term {
            parser,
            raw,
            writer: Some(copy()),
            master: Some(pair.master),
            reader: Some((stop, thread)),
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
        let w = self.writer.as_mut().expect("the terminal is still there");
        w.write_all(keys.as_bytes()).unwrap();
        w.flush().unwrap();
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
            .as_ref()
            .expect("the terminal is still there")
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

    /// Hang the terminal up, as a dropped SSH session does: every copy of its far end
    /// closed. Reads of it then fail for the app, and only the session's leader (the app,
    /// or the shell over it) gets the kernel's SIGHUP.
    pub fn hang_up_terminal(&mut self) {
        if let Some((stop, thread)) = self.reader.take() {
            stop.store(true, Ordering::SeqCst);
            thread.join().unwrap();
        }
        self.writer = None;
        self.master = None;
    }

    /// The processes the app's own process started (under a shell: the app itself).
    pub fn children(&self) -> Vec<u32> {
        let me = self.pid();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        dir.flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| proc_stat(*pid).is_some_and(|(_, ppid)| ppid == me))
            .collect()
    }

    /// Wait until process `pid` has ended (gone, or a zombie nobody has reaped yet).
    pub fn wait_ended(&self, pid: u32) {
        let start = Instant::now();
        while proc_stat(pid).is_some_and(|(state, _)| state != 'Z') {
            if start.elapsed() > PATIENCE {
                panic!(
                    "process {pid} did not end; the screen shows:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Send SIGHUP to the app, as a shell does to its jobs when its session drops; the
    /// terminal itself stays (see `hang_up_terminal`).
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
        if let Some((stop, _)) = &self.reader {
            stop.store(true, Ordering::SeqCst);
        }
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
    }
}

/// `cmd` (the app, or a shell that runs it) set up to run the app on `plant` with `args`,
/// in a hermetic environment.
fn app_command(plant: &Plant, mut cmd: CommandBuilder, args: &[&str]) -> CommandBuilder {
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
    cmd
}

/// A process's state letter and parent, from /proc; `None` once it is gone.
fn proc_stat(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ppid …": the command may hold spaces and parentheses, so split after
    // its last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    Some((state, ppid))
}
