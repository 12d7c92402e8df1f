//! Our lot labels as ZPL for Zebra printers, and where to send them.
//!
//! A label carries the item, our lot code, its dates and a barcode: GS1-128 with (01) GTIN,
//! (10) our lot code and (17) expiry when the item has a GTIN, else Code 128 of the lot code.
//! Either way a scan of it opens the lot in lotline.

use lotline_domain::{Invalid, Item, Lot, Origin, Plant};
use std::io::Write;
use std::time::Duration;

/// Label size in dots at 203 dpi: 4 x 2 inches, the common shipping-label stock.
const WIDTH: u32 = 812;

/// ZPL field data may not contain `^` or `~` (command prefixes) raw; `^FH` lets us write
/// them (and `_`, the escape itself) as `_XX`. The label is in UTF-8 (`^CI28`), so names in
/// any language go to the printer as they are ("Crème fraîche", "豆腐"); control,
/// bidi-override and zero-width characters, which a printer would act on or draw as
/// nothing, are printed as `?`.
fn field(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '^' | '~' | '_' => out.push_str(&format!("_{:02X}", c as u32)),
            c if c.is_control() || lotline_domain::text::is_unsafe(c) => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// The GS1 element string in human-readable form, which ZPL's Code 128 mode D (UCC/EAN)
/// encodes with FNC1 where needed.
/// `None` without a GTIN, or when our lot code is longer than AI (10)'s 20 characters.
pub fn gs1_data(item: &Item, lot: &Lot) -> Option<String> {
    let gtin = item.gtin.as_ref()?;
    if lot.code.as_str().len() > 20 {
        return None;
    }
    let mut s = format!("(01){}(10){}", gtin.as_str(), lot.code.as_str());
    if let Some(e) = lot.expiry {
        s.push_str(&format!("(17){}", e.format("%y%m%d")));
    }
    Some(s)
}

/// The allergen line of a lot's label, from the lot's own set (what its inputs carried,
/// not only what the item card declares): "Contains: Wheat, Egg, Milk"; `None` for a lot
/// carrying none. `label` is the set as `AllergenList::label` writes it.
pub fn contains_line(label: &str) -> Option<String> {
    let label = label.trim();
    (!label.is_empty()).then(|| format!("Contains: {label}"))
}

/// The label of lot `code` as the station has it: the lot, its item, the plant, and the
/// lot's own allergens.
pub fn lot_zpl<S: lotline_station::Station + ?Sized>(
    st: &S,
    code: &lotline_domain::LotCode,
) -> Result<String, lotline_station::StationError> {
    use lotline_station::StationExt;
    let lot = st.lot(code.clone())?;
    let item = st.item(lot.item.clone())?;
    let contains = contains_line(&st.lot_allergens(code.clone())?.label);
    Ok(zpl_with(&st.plant()?, &item, &lot, contains.as_deref()))
}

/// The ZPL for one lot label, with no allergen line.
pub fn zpl(plant: &Plant, item: &Item, lot: &Lot) -> String {
    zpl_with(plant, item, lot, None)
}

/// The ZPL for one lot label, with its allergen line (see [`contains_line`]) above the
/// barcode, which is then a little shorter.
pub fn zpl_with(plant: &Plant, item: &Item, lot: &Lot, contains: Option<&str>) -> String {
    let mut z = String::new();
    // ^CI28: field data is UTF-8. Accented Latin prints with the printer's built-in
    // scalable font; Chinese, Japanese and Korean need a Unicode font on the printer.
    z.push_str("^XA\n^CI28\n^PW812\n^LL406\n^LH0,0\n");
    let text = |z: &mut String, x: u32, y: u32, h: u32, s: &str| {
        z.push_str(&format!(
            "^FO{x},{y}^A0N,{h},{h}^FB{},1,0,L^FH^FD{}^FS\n",
            WIDTH - x - 20,
            field(s)
        ));
    };
    text(&mut z, 20, 16, 28, &plant.location.business_name);
    text(
        &mut z,
        20,
        52,
        40,
        &format!("{}  {}", item.code, item.description.name),
    );
    text(&mut z, 20, 100, 56, &format!("LOT {}", lot.code));
    let made = match &lot.origin {
        Origin::Received {
            supplier,
            supplier_lot,
        } => format!("Rcvd {}  from {} lot {}", lot.date, supplier, supplier_lot),
        Origin::Produced { .. } => format!("Made {}", lot.date),
        Origin::Returned { customer, .. } => format!("Returned {}  by {}", lot.date, customer),
        Origin::Partner { source, .. } => format!("Known only from {source}"),
    };
    text(&mut z, 20, 162, 26, &made);
    let exp = lot
        .expiry
        .map(|d| format!("Use by {d}"))
        .unwrap_or_default();
    text(
        &mut z,
        20,
        192,
        26,
        format!("{}  Qty {} {}", exp, lot.quantity, lot.unit).trim(),
    );
    let (bar_y, bar_h) = match contains {
        Some(line) => {
            text(&mut z, 20, 222, 24, line);
            (256, 96)
        }
        None => (230, 120),
    };
    // Barcode data is written raw: it is only digits and lot-code characters, which never
    // include ZPL's ^ or ~, and without ^FH an escape would be encoded literally.
    match gs1_data(item, lot) {
        // ^BC orientation N, height 120, interpretation line below, mode D = UCC/EAN (GS1-128).
        Some(data) => z.push_str(&format!(
            "^FO40,{bar_y}^BY2,3,{bar_h}^BCN,{bar_h},Y,N,N,D^FD{data}^FS\n"
        )),
        None => z.push_str(&format!(
            "^FO40,{bar_y}^BY3,3,{bar_h}^BCN,{bar_h},Y,N,N,N^FD{}^FS\n",
            lot.code.as_str()
        )),
    }
    z.push_str("^XZ\n");
    z
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, Utc};
    use lotline_domain::*;

    fn item(gtin: Option<&str>) -> Item {
        Item {
            code: ItemCode::parse("EGGS", "c").unwrap(),
            description: ProductDescription {
                name: "Shell eggs ^large~".into(),
                ..Default::default()
            },
            unit: Unit::Dozen,
            kind: ItemKind::Ingredient,
            gtin: gtin.map(|g| Gtin::parse(g, "g").unwrap()),
            shelf_life_days: None,
            ftl: true,
            created: Stamp {
                operator: "a".into(),
                station: "b".into(),
                at: Utc::now(),
            },
            receiving_temp: TempRange::default(),
            retired: None,
        }
    }

    fn lot() -> Lot {
        Lot {
            id: LotId(1),
            code: LotCode::parse("R26325-007", "l").unwrap(),
            item: ItemCode::parse("EGGS", "c").unwrap(),
            origin: Origin::Received {
                supplier: PartyId::parse("FARM", "s").unwrap(),
                supplier_lot: SupplierLot::parse("SR-1121", "s").unwrap(),
            },
            event: 1,
            quantity: Qty::from_units(60),
            unit: Unit::Dozen,
            date: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
            expiry: NaiveDate::from_ymd_opt(2026, 12, 21),
            status: LotStatus::Released,
            balance: Qty::from_units(60),
        }
    }

    #[test]
    fn gs1_128_when_the_item_has_a_gtin() {
        let z = zpl(&Plant::default(), &item(Some("00614141000036")), &lot());
        assert!(z.starts_with("^XA") && z.trim_end().ends_with("^XZ"));
        assert!(
            z.contains("^BCN,120,Y,N,N,D^FD(01)00614141000036(10)R26325-007(17)261221^FS"),
            "{z}"
        );
        assert!(z.contains("LOT R26325-007"));
        assert!(z.contains("from FARM lot SR-1121"));
        // the label's barcode scans back to the lot
        let scan = lotline_domain::scan::parse(
            "(01)00614141000036(10)R26325-007(17)261221",
            &Default::default(),
        )
        .unwrap();
        assert_eq!(scan.lot(), Some("R26325-007"));
    }

    #[test]
    fn names_in_any_language_reach_the_printer_as_utf8() {
        let mut i = item(None);
        i.description.name = "Crème fraîche 豆腐 \u{202e}x\u{7}".into();
        let mut plant = Plant::default();
        plant.location.business_name = "Boulangerie Étoile 東京".into();
        let z = zpl(&plant, &i, &lot());
        assert!(z.contains("^CI28"), "{z}");
        assert!(!z.contains("^CI0"), "{z}");
        let bytes = z.as_bytes();
        let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        // "è" is C3 A8, "î" C3 AE, "豆" E8 B1 86 in UTF-8.
        assert!(has("Crème fraîche 豆腐".as_bytes()), "{z}");
        assert!(has(&[0xC3, 0xA8]) && has(&[0xE8, 0xB1, 0x86]));
        assert!(has("Étoile 東京".as_bytes()), "{z}");
        // A bidi override and a bell are not sent to the printer.
        assert!(!z.contains('\u{202e}') && !z.contains('\u{7}'), "{z}");
        assert!(z.contains("豆腐 ?x?"), "{z}");
    }

    #[test]
    fn the_allergen_line_comes_from_the_lot_and_is_left_off_when_none() {
        let line = contains_line("Wheat, Egg, Milk");
        assert_eq!(line.as_deref(), Some("Contains: Wheat, Egg, Milk"));
        assert_eq!(contains_line(" "), None);
        let z = zpl_with(&Plant::default(), &item(None), &lot(), line.as_deref());
        assert!(z.contains("^FDContains: Wheat, Egg, Milk^FS"), "{z}");
        assert!(
            z.contains("^FO40,256^BY3,3,96^BCN,96,Y,N,N,N^FDR26325-007^FS"),
            "{z}"
        );
        let plain = zpl(&Plant::default(), &item(None), &lot());
        assert!(!plain.contains("Contains"), "{plain}");
    }

    #[test]
    fn code_128_of_the_lot_code_otherwise_and_text_is_escaped() {
        let z = zpl(&Plant::default(), &item(None), &lot());
        assert!(z.contains("^BCN,120,Y,N,N,N^FDR26325-007^FS"), "{z}");
        assert!(
            z.contains("Shell eggs _5Elarge_7E"),
            "^ and ~ must not reach the printer raw: {z}"
        );
        assert_eq!(z.matches("^XA").count(), 1);
    }

    #[test]
    fn printers_parse_with_clear_errors() {
        assert_eq!(
            Printer::parse("tcp:10.0.0.5:9100", "printer").unwrap(),
            Printer::Tcp("10.0.0.5:9100".into())
        );
        assert_eq!(
            Printer::parse("cmd:lp -d zebra -o raw", "printer").unwrap(),
            Printer::Command("lp -d zebra -o raw".into())
        );
        assert!(
            Printer::parse("tcp:zebra", "printer")
                .unwrap_err()
                .problem
                .contains("HOST:PORT")
        );
        assert!(
            Printer::parse("zebra", "printer")
                .unwrap_err()
                .problem
                .contains("file:PATH")
        );
        assert!(
            Printer::parse("usb:1", "printer")
                .unwrap_err()
                .problem
                .contains("not a kind")
        );
    }

    #[test]
    fn sends_to_a_file_a_command_and_a_tcp_port() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("labels.zpl");
        Printer::File(f.clone()).send("^XA^XZ\n").unwrap();
        Printer::File(f.clone()).send("^XA^XZ\n").unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "^XA^XZ\n^XA^XZ\n");
        let g = dir.path().join("cmd.zpl");
        Printer::Command(format!("cat > '{}'", g.display()))
            .send("^XA1^XZ")
            .unwrap();
        assert_eq!(std::fs::read_to_string(&g).unwrap(), "^XA1^XZ");
        let e = Printer::Command("echo jammed >&2; exit 3".into())
            .send("x")
            .unwrap_err();
        assert!(e.contains("failed") && e.contains("jammed"), "{e}");
        // A printer on loopback.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let got = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = String::new();
            std::io::Read::read_to_string(&mut s, &mut buf).unwrap();
            buf
        });
        Printer::Tcp(addr).send("^XA2^XZ").unwrap();
        assert_eq!(got.join().unwrap(), "^XA2^XZ");
    }

    #[test]
    fn a_printer_command_that_never_finishes_is_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("still-running");
        // `sleep` runs under `sh`: stopping only `sh` would leave it behind.
        let cmd = format!("sleep 30; touch '{}'", marker.display());
        let e = Printer::Command(cmd)
            .send_within("^XA^XZ", Duration::from_millis(300))
            .unwrap_err();
        assert!(e.contains("did not finish within"), "{e}");
        // A command that takes no input and exits 0 is fine; one that reads forever is not.
        let e = Printer::Command("cat > /dev/null; sleep 30".into())
            .send_within("^XA^XZ", Duration::from_millis(300))
            .unwrap_err();
        assert!(e.contains("was stopped"), "{e}");
        std::thread::sleep(Duration::from_millis(200));
        assert!(!marker.exists(), "the whole process group was stopped");
    }

    #[test]
    fn a_tcp_printer_that_stops_reading_times_out_clearly() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        // Accepts, then never reads: the socket buffers fill and the write stalls.
        let held = std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            std::thread::sleep(Duration::from_secs(3));
            drop(s);
        });
        let big = "^XA^FDxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx^FS^XZ".repeat(400_000);
        let e = Printer::Tcp(addr)
            .send_within(&big, Duration::from_millis(500))
            .unwrap_err();
        assert!(e.contains("stopped reading"), "{e}");
        assert!(!e.contains("os error"), "{e}");
        held.join().unwrap();
    }

    #[test]
    fn a_pipe_nobody_reads_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("printer.fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo reads the NUL-terminated path only.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = Printer::File(fifo).send("^XA^XZ").unwrap_err();
        assert!(e.contains("nobody is reading"), "{e}");
    }

    #[test]
    fn barcodes_carry_the_lot_code_exactly() {
        // Found in review: `_` was escaped as _5F inside the barcode itself.
        let mut l = lot();
        l.code = LotCode::parse("R_26325-007", "l").unwrap();
        let z = zpl(&Plant::default(), &item(Some("00614141000036")), &l);
        assert!(
            z.contains("^FD(01)00614141000036(10)R_26325-007(17)261221^FS"),
            "{z}"
        );
        // Longer than AI (10) allows: Code 128 of the lot code instead.
        l.code = LotCode::parse("PLANT2-LINE4-R26325-0007", "l").unwrap();
        let z = zpl(&Plant::default(), &item(Some("00614141000036")), &l);
        assert!(
            z.contains("^BCN,120,Y,N,N,N^FDPLANT2-LINE4-R26325-0007^FS"),
            "{z}"
        );
    }
}
