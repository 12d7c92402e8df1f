//! The wire between a client and `lotline serve`: frames of a 4-byte little-endian length
//! and a postcard body, capped in size, read as the bytes arrive (an announced length is
//! never allocated up front). The first frame each way is a handshake whose layout never
//! changes, so a client of another protocol version gets a clear refusal instead of a
//! misread. Replies carry the id of their call; pushed notices travel on the same stream,
//! written by one writer per client so frames never interleave.

use super::{Actor, Notice, Reply, Request, StationError};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::io::{self, Read, Write};

/// Bumped whenever any message below changes shape. postcard enums are positional: the
/// golden-bytes tests catch a change that a round trip cannot.
/// 2: units beside the lots a history names, customer returns in exports, answers too
/// large for a frame refused in their place, a food's event ids for exports.
/// 3: a version mismatch as its own error kind, refusals on reconnect told to the app,
/// backups streamed to QA, and an audit with master data, settings and refused attempts.
pub const PROTOCOL: u32 = 3;

/// The largest frame either side accepts: a request or reply larger than this is refused
/// without reading it.
pub const MAX_FRAME: u32 = 64 << 20;

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
}

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("a frame of {0} bytes is larger than the {MAX_FRAME}-byte limit")]
    TooLarge(u32),
    #[error("the connection closed in the middle of a frame")]
    Truncated,
    #[error("a frame could not be decoded: {0}")]
    Garbled(String),
}

/// Write one frame and flush it.
pub fn write_frame<T: Serialize>(w: &mut impl Write, msg: &T) -> Result<(), FrameError> {
    let body = postcard::to_stdvec(msg).map_err(|e| FrameError::Garbled(e.to_string()))?;
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&len.to_le_bytes());
    frame.extend_from_slice(&body);
    w.write_all(&frame)?;
    w.flush()?;
    Ok(())
}

/// Read one frame: `Ok(None)` when the peer closed cleanly between frames.
pub fn read_frame<T: DeserializeOwned>(r: &mut impl Read) -> Result<Option<T>, FrameError> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(FrameError::Truncated),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let len = u32::from_le_bytes(len);
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    // Grows only as bytes arrive: a peer announcing 64 MiB and sending 10 costs 10.
    let mut body = Vec::new();
    r.take(u64::from(len)).read_to_end(&mut body)?;
    if body.len() != len as usize {
        return Err(FrameError::Truncated);
    }
    postcard::from_bytes(&body)
        .map(Some)
        .map_err(|e| FrameError::Garbled(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::LotCode;
    use crate::station::{ErrorKind, Query, Role};
    use crate::store::Direction;

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
            b"\x0f\0\0\0lotline\x03\x06dock-1"
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
        assert_eq!(round(&ClientMsg::Subscribe), b"\x01\0\0\0\x01");
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
        // TLC source references, shipments' references).
        assert_eq!(
            round(&ServerMsg::Reply {
                id: 7,
                result: Ok(Reply::KdeRecords(crate::domain::KdeRecords::default())),
            }),
            b"\x0a\0\0\0\x00\x07\x00\x1a\x00\x00\x00\x00\x00\x00"
        );
    }

    #[test]
    fn every_request_and_reply_kind_round_trips() {
        use crate::station::Reply;
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
            Reply::BackupOffer(crate::station::copies::BackupOffer {
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

    #[test]
    fn bad_frames_are_errors_not_allocations_or_panics() {
        // An announced length over the cap is refused before reading.
        let huge = (MAX_FRAME + 1).to_le_bytes();
        assert!(matches!(
            read_frame::<ClientMsg>(&mut huge.as_slice()),
            Err(FrameError::TooLarge(_))
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

    proptest::proptest! {
        #![proptest_config(crate::fuzz::config(2000))]
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = read_frame::<ClientMsg>(&mut bytes.as_slice());
            let _ = read_frame::<Hello>(&mut bytes.as_slice());
            let _ = read_frame::<ServerMsg>(&mut bytes.as_slice());
        }
    }
}
