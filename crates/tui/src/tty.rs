//! The terminal's input, read on a thread of its own, and whether the terminal is still
//! there.
//!
//! When a terminal hangs up (an SSH session dropped with the Wi-Fi, a tmux or screen
//! window killed), reading it fails at once and for ever. crossterm's reader takes such a
//! failure as "nothing yet" and reads again, in a loop that never returns: an app reading
//! on its own input loop would spin there, never to send its drafts or leave. A SIGHUP
//! does not help, as the loop that would see it never runs again, and it may never come:
//! the kernel sends it only to the leader of the terminal's session, which under a shell
//! (`sh -c`, tmux, screen, a login script) is the shell. So the reading is done here, on
//! a thread the input loop never waits on for long, and the input loop asks the terminal
//! itself whether it has hung up.

use ratatui::crossterm::event::{self, Event};
use std::io;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

/// The terminal's events as they arrive, each with the moment it was read (what the scan
/// decoder times keys by), and the terminal's descriptor to ask about a hang-up.
pub struct Tty {
    events: Receiver<io::Result<(Event, Instant)>>,
    /// The descriptor that is the terminal (standard input, else standard output),
    /// chosen while it is alive: once hung up, it no longer answers as a terminal.
    fd: Option<libc::c_int>,
}

/// What the input loop waits for next.
pub enum Next {
    Event(Event, Instant),
    /// Nothing within the wait.
    Quiet,
}

impl Tty {
    /// Start reading the terminal. The reader thread lives as long as the process: it
    /// blocks in a read nothing can interrupt, and ends with the process.
    pub fn start() -> io::Result<Tty> {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("lotline-keys".into())
            .spawn(move || {
                loop {
                    let read = event::read().map(|e| (e, Instant::now()));
                    let failed = read.is_err();
                    if tx.send(read).is_err() || failed {
                        return;
                    }
                }
            })?;
        // SAFETY: isatty(3) only inspects the descriptor.
        let fd = [libc::STDIN_FILENO, libc::STDOUT_FILENO]
            .into_iter()
            .find(|&fd| unsafe { libc::isatty(fd) } == 1);
        Ok(Tty { events: rx, fd })
    }

    /// The next event within `wait`; an error once the terminal is gone.
    pub fn next(&self, wait: Duration) -> io::Result<Next> {
        match self.events.recv_timeout(wait) {
            Ok(Ok((ev, at))) => Ok(Next::Event(ev, at)),
            Ok(Err(e)) => Err(e),
            Err(RecvTimeoutError::Timeout) => self.check().map(|()| Next::Quiet),
            Err(RecvTimeoutError::Disconnected) => Err(gone()),
        }
    }

    /// An event already read, without waiting.
    pub fn ready(&self) -> io::Result<Option<(Event, Instant)>> {
        match self.events.try_recv() {
            Ok(r) => r.map(Some),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(gone()),
        }
    }

    /// An error if the terminal has hung up.
    pub fn check(&self) -> io::Result<()> {
        match self.fd {
            Some(fd) if hung_up(fd) => Err(gone()),
            _ => Ok(()),
        }
    }
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the terminal hung up")
}

/// Whether the terminal on `fd` has hung up: poll(2) reports a hang-up, or an error, for
/// it whatever was asked, and without waiting.
fn hung_up(fd: libc::c_int) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no wait.
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    n == 1 && p.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pseudo-terminal whose far end closes reads as hung up; while it is open, not.
    #[test]
    fn a_terminal_whose_far_end_closed_has_hung_up() {
        // SAFETY: plain calls on descriptors this test opens and closes.
        unsafe {
            let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
            assert!(master >= 0);
            assert_eq!(libc::grantpt(master), 0);
            assert_eq!(libc::unlockpt(master), 0);
            let name = std::ffi::CStr::from_ptr(libc::ptsname(master)).to_owned();
            let slave = libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY);
            assert!(slave >= 0);
            assert!(!hung_up(slave));
            libc::close(master);
            assert!(hung_up(slave));
            libc::close(slave);
        }
    }
}
