//! Where labels go: a file, a command or a raw TCP printer port, each within a time limit.

use lotline_domain::Invalid;
use std::io::Write;
use std::time::Duration;

/// Where labels go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Printer {
    /// Append to a file (a spool folder, or a test).
    File(std::path::PathBuf),
    /// Pipe to a command run by `sh -c`, e.g. `lp -d zebra -o raw`.
    Command(String),
    /// A raw TCP printer port, e.g. `192.168.1.50:9100`.
    Tcp(String),
}

impl Printer {
    /// Parse `file:PATH`, `cmd:COMMAND` or `tcp:HOST:PORT`.
    pub fn parse(text: &str, field: &str) -> Result<Printer, Invalid> {
        let usage = "use file:PATH, cmd:COMMAND (such as cmd:lp -d zebra -o raw) or tcp:HOST:PORT (such as tcp:10.0.0.50:9100)";
        let t = text.trim();
        let (kind, rest) = t.split_once(':').ok_or_else(|| {
            Invalid::new(
                field,
                format!(
                    "{} is not a printer; {usage}",
                    lotline_domain::text::excerpt(t)
                ),
            )
        })?;
        let rest = rest.trim();
        if rest.is_empty() {
            return Err(Invalid::new(
                field,
                format!(
                    "{} names no destination; {usage}",
                    lotline_domain::text::excerpt(t)
                ),
            ));
        }
        match kind {
            "file" => Ok(Printer::File(rest.into())),
            "cmd" => Ok(Printer::Command(rest.into())),
            "tcp" => {
                let ok = rest
                    .rsplit_once(':')
                    .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
                if ok {
                    Ok(Printer::Tcp(rest.into()))
                } else {
                    Err(Invalid::new(
                        field,
                        format!(
                            "{} needs HOST:PORT; {usage}",
                            lotline_domain::text::excerpt(rest)
                        ),
                    ))
                }
            }
            _ => Err(Invalid::new(
                field,
                format!(
                    "{} is not a kind of printer; {usage}",
                    lotline_domain::text::excerpt(kind)
                ),
            )),
        }
    }

    /// Send the ZPL, giving the printer [`send_timeout`] to take it; the error says which
    /// printer failed and why.
    pub fn send(&self, zpl: &str) -> Result<(), String> {
        self.send_within(zpl, send_timeout())
    }

    /// Send the ZPL, giving up after `limit`: a command still running is stopped (its
    /// whole process group), a printer that stops reading is reported as such. Nothing
    /// here waits longer than `limit` (plus a moment to stop a command).
    pub fn send_within(&self, zpl: &str, limit: Duration) -> Result<(), String> {
        let secs = limit.as_secs_f64();
        match self {
            Printer::File(p) => {
                use std::os::unix::fs::OpenOptionsExt;
                // Non-blocking open: a FIFO nobody reads fails at once (ENXIO) instead of
                // hanging. On a regular file the flag changes nothing.
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(p)
                    .and_then(|mut f| f.write_all(zpl.as_bytes()))
                    .map_err(|e| {
                        let why = match e.raw_os_error() {
                            Some(libc::ENXIO) => "it is a pipe that nobody is reading".into(),
                            Some(libc::EAGAIN) => "it is a pipe that stopped reading".into(),
                            _ => e.to_string(),
                        };
                        format!("cannot write label to {}: {why}", p.display())
                    })
            }
            Printer::Command(cmd) => run_command(cmd, zpl, limit),
            Printer::Tcp(addr) => {
                use std::net::ToSocketAddrs;
                let target = addr
                    .to_socket_addrs()
                    .map_err(|e| format!("cannot find printer {addr}: {e}"))?
                    .next()
                    .ok_or_else(|| format!("cannot find printer {addr}"))?;
                let started = std::time::Instant::now();
                let mut s = std::net::TcpStream::connect_timeout(&target, limit.min(CONNECT))
                    .map_err(|e| {
                        format!("cannot reach printer {addr}: {e}; is it on and on the network?")
                    })?;
                let left = limit
                    .saturating_sub(started.elapsed())
                    .max(Duration::from_millis(100));
                s.set_write_timeout(Some(left)).ok();
                s.write_all(zpl.as_bytes()).map_err(|e| match e.kind() {
                    // A write timeout shows as EAGAIN ("Resource temporarily unavailable"),
                    // which tells a clerk nothing.
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => format!(
                        "printer {addr} stopped reading: it took no more of the label within {secs:.0} s; check that it is on, online, not paused and has labels"
                    ),
                    _ => format!("printer {addr} stopped taking the label: {e}"),
                })
            }
        }
    }
}

/// How long a connection to a TCP printer may take.
const CONNECT: Duration = Duration::from_secs(5);

/// How long a printer gets to take a label unless told otherwise: long enough for `lp` on
/// a busy print server, short enough that a stuck printer command is noticed.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// How long a printer gets to take a label: `LOTLINE_PRINT_TIMEOUT` seconds (1–600), else
/// [`SEND_TIMEOUT`]. Read by the program's entry points; code below them is given it.
pub fn send_timeout() -> Duration {
    send_timeout_from(std::env::var("LOTLINE_PRINT_TIMEOUT").ok().as_deref())
}

/// The timeout a `LOTLINE_PRINT_TIMEOUT` value asks for (out of range or not a number: the
/// default).
pub fn send_timeout_from(value: Option<&str>) -> Duration {
    value
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| (1..=600).contains(s))
        .map(Duration::from_secs)
        .unwrap_or(SEND_TIMEOUT)
}

/// Run `sh -c cmd` with the ZPL on its input, in its own process group so that a timeout
/// stops everything it started (`sleep 30` under `sh`, `lp` under a wrapper).
fn run_command(cmd: &str, zpl: &str, limit: Duration) -> Result<(), String> {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    use std::sync::mpsc;
    let shown = lotline_domain::text::excerpt(cmd);
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .process_group(0)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run printer command {shown}: {e}"))?;
    let started = std::time::Instant::now();
    // Input and error output on their own threads: a command that reads nothing, or
    // writes much, must not block us past the deadline.
    let (wtx, wrx) = mpsc::channel();
    let stdin = child.stdin.take();
    let data = zpl.as_bytes().to_vec();
    std::thread::spawn(move || {
        let r = match stdin {
            Some(mut s) => s.write_all(&data),
            None => Ok(()),
        };
        let _ = wtx.send(r);
    });
    let (etx, erx) = mpsc::channel();
    let stderr = child.stderr.take();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(e) = stderr {
            let _ = e.take(64 * 1024).read_to_end(&mut buf);
        }
        let _ = etx.send(buf);
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Err(format!("printer command {shown}: {e}")),
        }
        if started.elapsed() >= limit {
            // SAFETY: kill(2) on the process group this function created (process_group(0)
            // makes the child its leader); it touches no memory.
            unsafe {
                libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
            }
            let _ = child.wait();
            return Err(format!(
                "printer command {shown} did not finish within {:.0} s and was stopped; check the printer and its queue, then print again",
                limit.as_secs_f64()
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // Whatever the command left running may hold its pipes open: wait only briefly.
    let grace = Duration::from_millis(500);
    let why = erx.recv_timeout(grace).unwrap_or_default();
    let written = wrx.recv_timeout(grace).unwrap_or(Ok(()));
    if !status.success() {
        // A command that fails may exit before reading its input; then the write hit a
        // closed pipe. Its exit status and message are the real news.
        let why = String::from_utf8_lossy(&why)
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        return Err(format!(
            "printer command {shown} failed ({status}){}",
            if why.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}",
                    lotline_domain::text::escape(&why.chars().take(200).collect::<String>())
                )
            }
        ));
    }
    written.map_err(|e| format!("printer command {shown} did not take the label: {e}"))
}
