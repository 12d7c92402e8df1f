//! The wire between a client and `lotline serve`: frames of a 4-byte little-endian length
//! and a postcard body, capped in size, read as the bytes arrive (an announced length is
//! never allocated up front). The first frame each way is a handshake whose layout never
//! changes, so a client of another protocol version gets a clear refusal instead of a
//! misread. Replies carry the id of their call; pushed notices travel on the same stream,
//! written by one writer per client so frames never interleave. A server reads with
//! [`read_frame_within`]: a frame, once begun, must arrive whole within a deadline, and its
//! body is taken in only once the server has room for it (docs/server.md, "Bounds").

use super::{Actor, Notice, Reply, Request, StationError};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// Bumped whenever any message below changes shape. postcard enums are positional: the
/// golden-bytes tests catch a change that a round trip cannot.
/// 2: units beside the lots a history names, customer returns in exports, answers too
/// large for a frame refused in their place, a food's event ids for exports.
/// 3: a version mismatch as its own error kind, refusals on reconnect told to the app,
/// backups streamed to QA, and an audit with master data, settings and refused attempts.
/// 4: a receipt from a scanned label with the label's other GS1 elements
/// (`Command::ReceiveScanned`, `EventKind::LabelData`).
/// 5: heartbeats (`ServerMsg::Ping`, `ClientMsg::Pong`) and `Notice::Dropped`, the server's
/// word to a client it dropped for not answering.
/// 6: recipes, allergens, changeovers and yields (commands, queries and replies appended).
/// 7: drafts (`Command::SaveDraft`, `DropDraft`, `Query::Resume`) and the plant's draft
/// hours.
/// 8: the plant's settings carry the label size.
/// 9: lots known only by a partner's identifier (a lot origin, two event kinds, how an
/// import names the lots it uses, and what it reports of them).
/// 10: receipts, batches and shipments with a second reference document or the reason for
/// none, and FDA records that carry them.
/// 11: EPCIS export pages with the events' further documents, and imported events that
/// carry a second reference document or the reason for none (`ImportEvent::documents`).
/// 12: an imported receipt carries the scanned label's elements lotline kept with it
/// (`ImportKind::Receive::label`, from `lotline:gs1Label`).
pub const PROTOCOL: u32 = 12;

/// The largest frame either side accepts: a request or reply larger than this is refused
/// without reading it.
pub const MAX_FRAME: u32 = 64 << 20;

/// The largest request a client may send the server, but for an EPCIS import (a partner's
/// whole document, the admin's, which the client keeps within [`MAX_FRAME`]). Decoding can
/// take many times a frame's bytes (a list of one-letter codes: about 28 bytes a byte), so
/// every other request — a form, a filter, a page of ids is a few KB — is held to this
/// before it is decoded. See docs/server.md, "Bounds".
pub const MAX_REQUEST: u32 = 1 << 20;

/// postcard's tags for `ClientMsg::Call` and `Request::Command` and `Command::ImportEpcis`:
/// the variants' positions, pinned by `an_import_is_the_one_large_request` below.
const CALL_TAG: u64 = 0;
const COMMAND_TAG: u64 = 0;
const IMPORT_TAG: u64 = 11;

/// Whether a client's frame of this body may be decoded: any within [`MAX_REQUEST`], and
/// larger only when it is an EPCIS import (read from the tags at its start, before any of
/// it is decoded) from a caller who `may_import` (the admin: everyone else would be refused
/// it after decoding, which is what must not be paid for).
pub fn vet_request(body: &[u8], may_import: bool) -> Result<(), FrameError> {
    if body.len() <= MAX_REQUEST as usize {
        return Ok(());
    }
    let mut at = body;
    let mut tag = || -> Option<u64> {
        // A postcard varint: 7 bits a byte, low first, at most 10 bytes.
        let mut v = 0u64;
        for (i, b) in at.iter().take(10).enumerate() {
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                at = &at[i + 1..];
                return Some(v);
            }
        }
        None
    };
    let call = tag();
    let id = tag();
    let (request, command) = (tag(), tag());
    if may_import
        && call == Some(CALL_TAG)
        && request == Some(COMMAND_TAG)
        && command == Some(IMPORT_TAG)
    {
        return Ok(());
    }
    Err(FrameError::Oversized {
        id: id.filter(|_| call == Some(CALL_TAG)),
        len: u32::try_from(body.len()).unwrap_or(u32::MAX),
        max: MAX_REQUEST,
    })
}

/// The largest handshake the server reads. A `Hello` is under 100 bytes; a peer the plant
/// has not yet let in holds no more of the server's memory than this.
pub const MAX_HELLO: u32 = 4 << 10;

/// The client's first frame. Its layout is frozen: fields are only ever appended to new
/// frames, never to this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Always `b"lotline"`: tells a lotline client from anything else on the socket.
    pub magic: [u8; 7],
    pub protocol: u32,
    /// The station the client names (terminal, SSH client); the user comes from the kernel.
    pub station: String,
}

impl Hello {
    pub fn new(station: impl Into<String>) -> Hello {
        Hello {
            magic: *b"lotline",
            protocol: PROTOCOL,
            station: station.into(),
        }
    }
}

/// The server's answer to [`Hello`]; also frozen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Welcome {
    /// Connected: who the server says you are, and its process id.
    Accepted { actor: Actor, server_pid: u32 },
    /// Not connected, and why (another protocol version, a bad station name, no role).
    Refused { protocol: u32, message: String },
    /// Not connected now: the server, or this user, holds as many connections as it takes.
    /// The same request works once some close (a client's "try again", not "not allowed").
    /// Appended, so the variants before it keep their bytes.
    Busy { message: String },
}

/// After the handshake, what a client sends. One message is built and moved per call, so
/// boxing the large variant would buy nothing (as for `Request`).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientMsg {
    /// A request; the reply carries the same id.
    Call { id: u64, request: Request },
    /// Send me [`Notice`]s from now on.
    Subscribe,
    /// The answer to [`ServerMsg::Ping`]: this client is alive, even when idle.
    /// (Appended: the variants before it keep their bytes.)
    Pong,
}

/// After the handshake, what a server sends.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerMsg {
    Reply {
        id: u64,
        result: Result<Reply, StationError>,
    },
    Notice(Notice),
    /// The client sent something the server could not read; the connection is closed.
    Garbled {
        message: String,
    },
    /// Are you there? Sent to a connection that has been quiet for the server's ping time;
    /// one that sends nothing, not even [`ClientMsg::Pong`], for its drop time is closed
    /// (docs/server.md, "Heartbeats"). (Appended: the variants before it keep their bytes.)
    Ping,
}

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("a frame of {len} bytes is larger than the {max}-byte limit")]
    TooLarge { len: u32, max: u32 },
    #[error("the connection closed in the middle of a frame")]
    Truncated,
    #[error("a frame could not be decoded: {0}")]
    Garbled(String),
    /// Nothing arrived before the first byte was due (a handshake never sent).
    #[error("nothing arrived within {0} s")]
    Silent(u64),
    /// A frame began and did not finish in time: a peer stalling, or sending a byte now
    /// and then, to hold the reader's memory.
    #[error("a frame of {len} bytes did not arrive within {secs} s ({got} bytes came)")]
    Stalled { len: u32, got: usize, secs: u64 },
    /// The reader gave up waiting to take the frame in (its connection is being closed).
    #[error("{0}")]
    Refused(String),
    /// A whole request larger than a request may be ([`MAX_REQUEST`]): read, not decoded.
    /// The stream is still in step, so the call (`id`, when its start names one) is
    /// answered in its place and the connection goes on.
    #[error("the request is {len} bytes, more than the {max} a request may be")]
    Oversized { id: Option<u64>, len: u32, max: u32 },
}

/// One message as a frame: its length, then its postcard body. A message that would pass
/// [`MAX_FRAME`] is `TooLarge`, so the caller can send something smaller in its place.
pub fn encode_frame<T: Serialize>(msg: &T) -> Result<Vec<u8>, FrameError> {
    // The length goes first: encode behind four placeholder bytes, no second copy.
    let frame =
        postcard::to_extend(msg, vec![0u8; 4]).map_err(|e| FrameError::Garbled(e.to_string()))?;
    let len = u32::try_from(frame.len() - 4).unwrap_or(u32::MAX);
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge {
            len,
            max: MAX_FRAME,
        });
    }
    let mut frame = frame;
    frame[..4].copy_from_slice(&len.to_le_bytes());
    Ok(frame)
}

/// Write one frame and flush it.
pub fn write_frame<T: Serialize>(w: &mut impl Write, msg: &T) -> Result<(), FrameError> {
    let frame = encode_frame(msg)?;
    w.write_all(&frame)?;
    w.flush()?;
    Ok(())
}

/// Read one frame: `Ok(None)` when the peer closed cleanly between frames.
pub fn read_frame<T: DeserializeOwned>(r: &mut impl Read) -> Result<Option<T>, FrameError> {
    read_frame_within(&mut Untimed(r), MAX_FRAME, &Deadlines::NONE, |_| Ok(()))
        .map(|f| f.map(|(msg, ())| msg))
}

/// How long a frame may take, for a reader that does not trust its peer (the server).
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// The whole frame, first byte to last, by then (a handshake: so long after connecting).
    pub by: Option<Instant>,
    /// Once a frame began, the rest within this long (`None`: as long as it takes). Time
    /// spent waiting for `admit` does not count: nothing of the body is held meanwhile.
    pub within: Option<Duration>,
}

impl Deadlines {
    pub const NONE: Deadlines = Deadlines {
        by: None,
        within: None,
    };
}

/// A stream whose reads can be bounded in time: a socket (`SO_RCVTIMEO`).
pub trait TimedRead: Read {
    /// Let the following reads wait at most this long (`None`: as long as it takes).
    fn wait_at_most(&mut self, t: Option<Duration>) -> io::Result<()>;
}

impl TimedRead for &UnixStream {
    fn wait_at_most(&mut self, t: Option<Duration>) -> io::Result<()> {
        // Zero means "no timeout" to the kernel: the least wait is a millisecond.
        self.set_read_timeout(t.map(|t| t.max(Duration::from_millis(1))))
    }
}

/// Any reader, with no deadlines (a client reading its server, tests reading bytes).
struct Untimed<'a, R>(&'a mut R);

impl<R: Read> Read for Untimed<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read> TimedRead for Untimed<'_, R> {
    fn wait_at_most(&mut self, _: Option<Duration>) -> io::Result<()> {
        Ok(())
    }
}

/// How much of a frame's body is taken in at a time: the body grows by this as bytes
/// arrive, never to the announced length up front.
const STEP: usize = 256 << 10;

/// Read one frame of at most `max` bytes within `deadlines`. Once its length is known,
/// `admit(len)` is asked before any of the body is read: it may wait (for room in a
/// budget) and its token is handed back with the message, so the caller holds the room
/// for as long as it holds the request. `Ok(None)`: the peer closed between frames.
pub fn read_frame_within<T: DeserializeOwned, G>(
    r: &mut impl TimedRead,
    max: u32,
    deadlines: &Deadlines,
    admit: impl FnOnce(u32) -> Result<G, FrameError>,
) -> Result<Option<(T, G)>, FrameError> {
    read_frame_vetted(r, max, deadlines, admit, |_| Ok(()))
}

/// As [`read_frame_within`], with `vet` shown the whole body before it is decoded (the
/// server holds requests other than an import to [`MAX_REQUEST`] there: [`vet_request`]).
pub fn read_frame_vetted<T: DeserializeOwned, G>(
    r: &mut impl TimedRead,
    max: u32,
    deadlines: &Deadlines,
    admit: impl FnOnce(u32) -> Result<G, FrameError>,
    vet: impl FnOnce(&[u8]) -> Result<(), FrameError>,
) -> Result<Option<(T, G)>, FrameError> {
    let started = Instant::now();
    let mut len = [0u8; 4];
    let mut got = 0;
    // Until the first byte only `by` counts; after it, the rest of the length is due
    // within `within` too.
    let mut due = deadlines.by;
    while got < 4 {
        match read_by(r, &mut len[got..], due)? {
            Got::Data(n) => {
                if got == 0 {
                    due = earliest(deadlines.by, deadlines.within.map(|w| Instant::now() + w));
                }
                got += n;
            }
            Got::End if got == 0 => return Ok(None),
            Got::End => return Err(FrameError::Truncated),
            Got::Late if got == 0 => {
                return Err(FrameError::Silent(started.elapsed().as_secs()));
            }
            Got::Late => return Err(stalled(0, 0, deadlines, started)),
        }
    }
    let len = u32::from_le_bytes(len);
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    let token = admit(len)?;
    let begun = Instant::now();
    let due = earliest(deadlines.by, deadlines.within.map(|w| begun + w));
    let len_usize = len as usize;
    // Grows only as bytes arrive: a peer announcing 64 MiB and sending 10 costs 10 (and
    // one step of zeroes).
    let mut body: Vec<u8> = Vec::new();
    let mut filled = 0;
    while filled < len_usize {
        if filled == body.len() {
            body.resize(filled + (len_usize - filled).min(STEP), 0);
        }
        match read_by(r, &mut body[filled..], due)? {
            Got::Data(n) => filled += n,
            Got::End => return Err(FrameError::Truncated),
            Got::Late => return Err(stalled(len, filled, deadlines, begun)),
        }
    }
    vet(&body)?;
    postcard::from_bytes(&body)
        .map(|msg| Some((msg, token)))
        .map_err(|e| FrameError::Garbled(e.to_string()))
}

enum Got {
    Data(usize),
    End,
    Late,
}

/// One read that returns by `due`: some bytes, the end of the stream, or "too late".
fn read_by(r: &mut impl TimedRead, buf: &mut [u8], due: Option<Instant>) -> io::Result<Got> {
    loop {
        let wait = match due {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(w) if !w.is_zero() => Some(w),
                _ => return Ok(Got::Late),
            },
            None => None,
        };
        r.wait_at_most(wait)?;
        match r.read(buf) {
            Ok(0) => return Ok(Got::End),
            Ok(n) => return Ok(Got::Data(n)),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // The socket's timeout: look at the clock again.
            Err(e)
                if due.is_some()
                    && matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
            Err(e) => return Err(e),
        }
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn stalled(len: u32, got: usize, deadlines: &Deadlines, since: Instant) -> FrameError {
    let secs = deadlines
        .within
        .map(|w| w.as_secs())
        .unwrap_or_else(|| since.elapsed().as_secs());
    FrameError::Stalled { len, got, secs }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, Query, Role};
    use lotline_domain::Direction;
    use lotline_domain::LotCode;

    fn round<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) -> Vec<u8> {
        let mut buf = Vec::new();
        write_frame(&mut buf, v).unwrap();
        let back: T = read_frame(&mut buf.as_slice()).unwrap().unwrap();
        assert_eq!(&back, v);
        buf
    }

    fn actor() -> Actor {
        Actor {
            operator: "ana".into(),
            station: "dock-1".into(),
            role: Role::Qa,
        }
    }

    /// Golden bytes: a change to any of these messages' shape shows here, and must come
    /// with a new PROTOCOL.
    #[test]
    fn handshake_and_messages_keep_their_bytes() {
        assert_eq!(
            round(&Hello::new("dock-1")),
            b"\x0f\0\0\0lotline\x0c\x06dock-1"
        );
        assert_eq!(
            round(&Welcome::Accepted {
                actor: actor(),
                server_pid: 300
            }),
            b"\x0f\0\0\0\x00\x03ana\x06dock-1\x01\xac\x02"
        );
        assert_eq!(
            round(&Welcome::Refused {
                protocol: 1,
                message: "no".into()
            }),
            b"\x05\0\0\0\x01\x01\x02no"
        );
        assert_eq!(
            round(&Welcome::Busy {
                message: "x".into()
            }),
            b"\x03\0\0\0\x02\x01x"
        );
        assert_eq!(round(&ClientMsg::Subscribe), b"\x01\0\0\0\x01");
        // Protocol 5's heartbeat, each way, and the word to a client dropped for silence.
        assert_eq!(round(&ClientMsg::Pong), b"\x01\0\0\0\x02");
        assert_eq!(round(&ServerMsg::Ping), b"\x01\0\0\0\x03");
        assert_eq!(
            round(&ServerMsg::Notice(Notice::Dropped { silent_secs: 30 })),
            b"\x03\0\0\0\x01\x05\x1e"
        );
        assert_eq!(
            round(&ClientMsg::Call {
                id: 7,
                request: Request::Query(Query::Trace {
                    lot: LotCode::parse("R1", "lot").unwrap(),
                    direction: Direction::Forward,
                }),
            }),
            b"\x08\0\0\0\x00\x07\x01\x09\x02R1\x01"
        );
        assert_eq!(
            round(&ServerMsg::Reply {
                id: 7,
                result: Err(StationError {
                    kind: ErrorKind::Forbidden,
                    field: None,
                    message: "x".into(),
                }),
            }),
            b"\x07\0\0\0\x00\x07\x01\x01\x00\x01x"
        );
        assert_eq!(
            round(&ServerMsg::Notice(Notice::Changed {
                station: "s".into(),
                events: vec![5]
            })),
            b"\x06\0\0\0\x01\x00\x01s\x01\x05"
        );
        assert_eq!(
            round(&ServerMsg::Notice(Notice::Stopping)),
            b"\x02\0\0\0\x01\x01"
        );
        // Protocol 3's last notice (client side only, but an enum's shape all the same).
        assert_eq!(
            round(&ServerMsg::Notice(Notice::Refused {
                message: "x".into(),
                retrying: false
            })),
            b"\x05\0\0\0\x01\x04\x01x\x00"
        );
        // An FDA export's answer, empty: its fields in order (events, lots, roots, voided,
        // TLC source references, shipments' references, events' further documents).
        assert_eq!(
            round(&ServerMsg::Reply {
                id: 7,
                result: Ok(Reply::KdeRecords(lotline_domain::KdeRecords::default())),
            }),
            b"\x0b\0\0\0\x00\x07\x00\x1a\x00\x00\x00\x00\x00\x00\x00"
        );
        // An EPCIS export's page, empty: its fields in order (events, lots, where the next
        // page starts, the events' further documents).
        assert_eq!(
            round(&ServerMsg::Reply {
                id: 7,
                result: Ok(Reply::EventPage(lotline_domain::EventPageRows::default())),
            }),
            b"\x08\0\0\0\x00\x07\x00\x19\x00\x00\x00\x00"
        );
    }

    #[test]
    fn every_request_and_reply_kind_round_trips() {
        use crate::Reply;
        for q in [
            Query::Plant,
            Query::Stats,
            Query::Today,
            Query::WhoAmI,
            Query::Stations,
            Query::BackupStart,
            Query::BackupPart {
                id: 9,
                offset: 1 << 20,
            },
            Query::BackupDone { id: 9 },
        ] {
            round(&ClientMsg::Call {
                id: 1,
                request: Request::Query(q),
            });
        }
        for r in [
            Reply::Done,
            Reply::Event(3),
            Reply::Actor(actor()),
            Reply::EventIds(vec![1, 2]),
            Reply::Stations(vec![]),
            Reply::Bytes(vec![0, 255, 7]),
            Reply::BackupOffer(crate::copies::BackupOffer {
                id: 1,
                bytes: 2,
                records: 3,
                sha256: [9; 32],
            }),
        ] {
            round(&ServerMsg::Reply {
                id: 1,
                result: Ok(r),
            });
        }
    }

    /// Only an EPCIS import may be larger than MAX_REQUEST: the tags `vet_request` reads
    /// are the ones postcard writes for it, and any other large request is refused before
    /// it is decoded.
    #[test]
    fn an_import_is_the_one_large_request() {
        use crate::Command;
        use lotline_domain::EpcisImport;
        let big = "x".repeat(MAX_REQUEST as usize + 10);
        let import = ClientMsg::Call {
            id: 300,
            request: Request::Command(Command::ImportEpcis(EpcisImport {
                source: big.clone(),
                skip_unmappable: false,
                items: Vec::new(),
                parties: Vec::new(),
                events: Vec::new(),
                unmapped: Vec::new(),
            })),
        };
        let body = postcard::to_stdvec(&import).unwrap();
        assert!(body.len() > MAX_REQUEST as usize);
        vet_request(&body, true).unwrap();
        // The same from someone who may not import: refused before it is decoded.
        assert!(vet_request(&body, false).is_err());
        // A query of a million one-letter items: refused unread.
        let items = (0..600_000)
            .map(|_| lotline_domain::ItemCode::parse("A", "item").unwrap())
            .collect();
        let query = ClientMsg::Call {
            id: 300,
            request: Request::Query(Query::ItemEventIds {
                items,
                from: None,
                to: None,
            }),
        };
        let body = postcard::to_stdvec(&query).unwrap();
        assert!(body.len() > MAX_REQUEST as usize);
        assert!(matches!(
            vet_request(&body, true),
            Err(FrameError::Oversized {
                id: Some(300),
                max: MAX_REQUEST,
                ..
            })
        ));
        // Small ones pass, whatever they are; garbage of any size past the limit does not.
        vet_request(&postcard::to_stdvec(&ClientMsg::Subscribe).unwrap(), false).unwrap();
        assert!(vet_request(&vec![0xff; MAX_REQUEST as usize + 1], true).is_err());
    }

    #[test]
    fn bad_frames_are_errors_not_allocations_or_panics() {
        // An announced length over the cap is refused before reading.
        let huge = (MAX_FRAME + 1).to_le_bytes();
        assert!(matches!(
            read_frame::<ClientMsg>(&mut huge.as_slice()),
            Err(FrameError::TooLarge { .. })
        ));
        // A 64 MiB announcement with 3 bytes behind it is truncated, not allocated.
        let mut lie = MAX_FRAME.to_le_bytes().to_vec();
        lie.extend_from_slice(b"abc");
        assert!(matches!(
            read_frame::<ClientMsg>(&mut lie.as_slice()),
            Err(FrameError::Truncated)
        ));
        // Half a length.
        assert!(matches!(
            read_frame::<ClientMsg>(&mut [1u8, 0].as_slice()),
            Err(FrameError::Truncated)
        ));
        // Garbage of the right length.
        let mut junk = 5u32.to_le_bytes().to_vec();
        junk.extend_from_slice(&[0xff; 5]);
        assert!(matches!(
            read_frame::<ClientMsg>(&mut junk.as_slice()),
            Err(FrameError::Garbled(_))
        ));
        // Clean end of stream.
        assert!(
            read_frame::<ClientMsg>(&mut [].as_slice())
                .unwrap()
                .is_none()
        );
    }

    /// A server's read: the handshake is small and due by a deadline; a frame once begun
    /// must arrive whole in time, however the bytes trickle; the body waits for `admit`.
    #[test]
    fn a_bounded_read_keeps_its_deadlines_and_asks_before_the_body() {
        use std::time::{Duration, Instant};
        let short = Deadlines {
            by: None,
            within: Some(Duration::from_millis(300)),
        };
        // A byte every 100 ms: each read is quick, the frame is not.
        let (mine, mut theirs) = UnixStream::pair().unwrap();
        let trickle = std::thread::spawn(move || {
            let _ = theirs.write_all(&100u32.to_le_bytes());
            for _ in 0..20 {
                if theirs.write_all(&[0]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        match read_frame_within::<ClientMsg, ()>(&mut &mine, MAX_FRAME, &short, |_| Ok(())) {
            Err(FrameError::Stalled { len: 100, got, .. }) => assert!(got < 100, "{got}"),
            other => panic!("{other:?}"),
        }
        drop(mine);
        trickle.join().unwrap();
        // Nothing at all before `by`.
        let (mine, _theirs) = UnixStream::pair().unwrap();
        let by = Deadlines {
            by: Some(Instant::now() + Duration::from_millis(200)),
            within: None,
        };
        assert!(matches!(
            read_frame_within::<Hello, ()>(&mut &mine, MAX_HELLO, &by, |_| Ok(())),
            Err(FrameError::Silent(_))
        ));
        // A handshake larger than a handshake is refused unread.
        let (mine, mut theirs) = UnixStream::pair().unwrap();
        theirs.write_all(&(MAX_HELLO + 1).to_le_bytes()).unwrap();
        assert!(matches!(
            read_frame_within::<Hello, ()>(&mut &mine, MAX_HELLO, &short, |_| Ok(())),
            Err(FrameError::TooLarge { .. })
        ));
        // `admit` hears the length first; refusing, nothing of the body is read.
        let (mine, mut theirs) = UnixStream::pair().unwrap();
        write_frame(&mut theirs, &ClientMsg::Subscribe).unwrap();
        let mut asked = None;
        let r = read_frame_within::<ClientMsg, ()>(&mut &mine, MAX_FRAME, &short, |len| {
            asked = Some(len);
            Err(FrameError::Refused("no room".into()))
        });
        assert!(matches!(r, Err(FrameError::Refused(_))));
        assert_eq!(asked, Some(1));
        let mut rest = [0u8; 1];
        mine.set_nonblocking(true).unwrap();
        assert_eq!(
            (&mine).read(&mut rest).unwrap(),
            1,
            "the body is still there"
        );
        // And a frame in time is read, with the token back.
        let (mine, mut theirs) = UnixStream::pair().unwrap();
        write_frame(&mut theirs, &ClientMsg::Subscribe).unwrap();
        assert_eq!(
            read_frame_within::<ClientMsg, u32>(&mut &mine, MAX_FRAME, &short, Ok).unwrap(),
            Some((ClientMsg::Subscribe, 1))
        );
    }

    lotline_domain::fuzz_tiers! {
        fast = 200, full = 2000, slow = full_count;
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = read_frame::<ClientMsg>(&mut bytes.as_slice());
            let _ = read_frame::<Hello>(&mut bytes.as_slice());
            let _ = read_frame::<ServerMsg>(&mut bytes.as_slice());
        }
    }
}
