//! One client of `lotline serve`, from handshake to hang-up, held to the bounds of
//! [`super::limits`] (docs/server.md, "Bounds"):
//!
//! - the handshake is read first, at most [`wire::MAX_HELLO`] bytes within
//!   `Limits::handshake` of connecting, so a peer the plant refuses costs next to nothing;
//! - every later frame must arrive whole within `Limits::stall` of its first byte, and its
//!   body is read only once its user (and, for a large one, the server) has room for it;
//! - replies and notices are encoded when made and queued as bytes, counted per connection
//!   and per user; past `Limits::queued` the connection's next request is not read, and a
//!   queue that does not drain within `Limits::stall` closes the connection;
//! - commands wait for the writer thread, at most `Limits::in_flight` per connection;
//! - one writer thread per connection sends its frames, each within `Limits::stall`
//!   (`SO_SNDTIMEO`), so a client that stops reading is dropped, not waited for;
//! - a connection quiet for `Limits::ping` is pinged, and one that answers nothing for
//!   `Limits::silence` while the server waits for it is dropped ([`Conn::beat`]), so a
//!   frozen terminal leaves the stations list.

use super::limits::{AnswerSlot, RequestRoom, UserMeter, closing, closing_or_late};
use super::{Client, Shared, WriteJob, lock};
use crate::identity::Identity;
use crate::wire::{
    self, ClientMsg, Deadlines, FrameError, Hello, MAX_FRAME, MAX_HELLO, PROTOCOL, ServerMsg,
    Welcome,
};
use crate::{Caller, ErrorKind, Reply, Request, StationError, StationInfo};
use chrono::Utc;
use lotline_domain::text::escape;
use std::collections::VecDeque;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What a queued frame costs besides its bytes: its allocation and its slot in the queue.
/// Counted so that a flood of tiny notices is bounded as surely as a few large replies.
const OVERHEAD: usize = 64;

fn cost(frame: &[u8]) -> usize {
    frame.len() + OVERHEAD
}

/// A frame waiting to be sent: a reply of its own, or a notice shared by every subscriber.
enum Frame {
    Own(Vec<u8>),
    Shared(Arc<[u8]>),
}

impl Frame {
    fn bytes(&self) -> &[u8] {
        match self {
            Frame::Own(v) => v,
            Frame::Shared(a) => a,
        }
    }
}

struct Outbox {
    frames: VecDeque<(Frame, bool)>,
    /// Bytes of notices among `frames` (the `true` ones).
    notice_bytes: usize,
    /// The session read its last request: send what is here and the answers still to
    /// come, then end.
    ended: bool,
    /// Why the server closed the connection, once it did.
    closed: Option<String>,
    /// The writer thread is writing a frame (outside the lock): nothing else may write to
    /// the stream meanwhile.
    writing: bool,
}

/// What the heartbeat does about a connection now ([`Conn::beat`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Beat {
    /// Heard from lately, or busy (a request being served, a frame being read or sent).
    Fine,
    /// Quiet for the ping time: ask it.
    Ping,
    /// Nothing from it for the drop time while the server waited: drop it.
    Drop,
}

/// A connection as its session, its writer thread and the rest of the server share it.
pub(super) struct Conn {
    pub id: u64,
    pub stream: UnixStream,
    pub user: Arc<UserMeter>,
    out: Mutex<Outbox>,
    ready: Condvar,
    /// Bytes waiting in `out` or being written (also in the user's meter): read without
    /// the lock by waits.
    queued: AtomicUsize,
    /// Commands sent to the writer thread and not yet answered.
    in_flight: AtomicUsize,
    closed: AtomicBool,
    /// The clock of the heartbeat: milliseconds since `born` of the last sign of life
    /// (a frame read, or the session starting to wait for the next), and of the last ping.
    born: Instant,
    heard: AtomicU64,
    pinged: AtomicU64,
    /// The session waits for the client's next frame (not serving a request, not waiting
    /// for room to read one): only then can silence be the client's doing.
    listening: AtomicBool,
}

impl Conn {
    pub fn new(id: u64, stream: UnixStream, user: Arc<UserMeter>) -> Conn {
        Conn {
            id,
            stream,
            user,
            out: Mutex::new(Outbox {
                frames: VecDeque::new(),
                notice_bytes: 0,
                ended: false,
                closed: None,
                writing: false,
            }),
            ready: Condvar::new(),
            queued: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            born: Instant::now(),
            heard: AtomicU64::new(0),
            pinged: AtomicU64::new(0),
            listening: AtomicBool::new(false),
        }
    }

    fn clock(&self) -> u64 {
        u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The session begins waiting for the client's next frame: silence counts from now.
    fn listen(&self) {
        self.heard.store(self.clock(), Ordering::SeqCst);
        self.listening.store(true, Ordering::SeqCst);
    }

    /// A frame began or arrived: the client is alive, and the session is busy with it.
    fn heard_from(&self) {
        self.listening.store(false, Ordering::SeqCst);
        self.heard.store(self.clock(), Ordering::SeqCst);
    }

    /// The heartbeat's look at this connection, every half second at most: ping it once it
    /// has been quiet for `ping` (and was not pinged within `ping`), drop it once it has
    /// been silent for `silence` while the session waited for it. Never while a request is
    /// being served or a frame written: those are bounded by `Limits::stall` already.
    pub fn beat(&self, ping: Duration, silence: Duration) -> Beat {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        if !self.listening.load(Ordering::SeqCst)
            || self.closed.load(Ordering::SeqCst)
            || lock(&self.out).writing
        {
            return Beat::Fine;
        }
        let now = self.clock();
        let quiet = now.saturating_sub(self.heard.load(Ordering::SeqCst));
        if quiet >= ms(silence) {
            return Beat::Drop;
        }
        if quiet >= ms(ping) && now.saturating_sub(self.pinged.load(Ordering::SeqCst)) >= ms(ping) {
            self.pinged.store(now, Ordering::SeqCst);
            return Beat::Ping;
        }
        Beat::Fine
    }

    fn push(&self, out: &mut Outbox, frame: Frame, notice: bool) {
        let c = cost(frame.bytes());
        if notice {
            out.notice_bytes += c;
        }
        out.frames.push_back((frame, notice));
        self.queued.fetch_add(c, Ordering::SeqCst);
        self.user.queue(c);
        self.ready.notify_all();
    }

    /// Queue a reply (already a frame). Dropped when the connection is closed.
    pub fn push_reply(&self, frame: Vec<u8>) {
        if frame.is_empty() {
            return;
        }
        let mut out = lock(&self.out);
        if out.closed.is_none() {
            self.push(&mut out, Frame::Own(frame), false);
        }
    }

    /// Queue a notice; a subscriber whose notices pile up past `most` bytes is closed
    /// instead (its app reconnects and refreshes everything). One always fits.
    pub fn push_notice(&self, frame: &Arc<[u8]>, most: usize) {
        let mut out = lock(&self.out);
        if out.closed.is_some() {
            return;
        }
        let c = cost(frame);
        if out.notice_bytes > 0 && out.notice_bytes + c > most {
            let waiting = out.frames.iter().filter(|(_, n)| *n).count();
            drop(out);
            self.close(format!(
                "it did not read its notices ({waiting} waiting, over {} KB)",
                most >> 10
            ));
            return;
        }
        self.push(&mut out, Frame::Shared(frame.clone()), true);
    }

    /// Close the connection now: what is queued is dropped, the session's read and the
    /// writer's write are woken. The first reason given is the one logged. True when this
    /// call closed it.
    pub fn close(&self, why: String) -> bool {
        self.close_saying(why, None)
    }

    /// Close the connection as [`Conn::close`] does, telling the client `last` (a frame)
    /// first when the writer is between frames and the client's socket takes it at once:
    /// the word a frozen terminal finds when it wakes. What was queued is dropped.
    pub fn hang_up(&self, last: &[u8], why: String) -> bool {
        self.close_saying(why, Some(last))
    }

    fn close_saying(&self, why: String, last: Option<&[u8]>) -> bool {
        if self.closed.swap(true, Ordering::SeqCst) {
            return false;
        }
        let dropped: usize = {
            let mut out = lock(&self.out);
            out.closed = Some(why);
            out.notice_bytes = 0;
            let n = out.frames.drain(..).map(|(f, _)| cost(f.bytes())).sum();
            // Under the lock and with the writer between frames (it sends nothing once
            // `closed` is set), so this frame cannot land inside another. One send that
            // never waits: a client whose socket is full gets no last word (it finds the
            // connection closed), and the heartbeat, which drops many at once after an
            // outage, is never held up by one.
            if let Some(last) = last
                && !out.writing
            {
                use std::os::fd::AsRawFd;
                // SAFETY: send(2) on this connection's descriptor from a live buffer.
                unsafe {
                    libc::send(
                        self.stream.as_raw_fd(),
                        last.as_ptr().cast(),
                        last.len(),
                        libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                    )
                };
            }
            self.ready.notify_all();
            n
        };
        self.queued.fetch_sub(dropped, Ordering::SeqCst);
        self.user.unqueue(dropped);
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        true
    }

    #[cfg(test)]
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    fn reason(&self) -> Option<String> {
        lock(&self.out).closed.clone()
    }

    /// Stop reading requests (the server is stopping); what is queued is still sent.
    pub fn stop_reading(&self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Read);
    }

    fn end(&self) {
        lock(&self.out).ended = true;
        self.ready.notify_all();
    }

    /// A command was answered (its reply queued first).
    fn answered(&self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        // Under the lock, so a writer deciding whether to end cannot miss it.
        drop(lock(&self.out));
        self.ready.notify_all();
        self.user.poke();
    }
}

/// The writer of one connection: frames in order, each within `stall`, until the session
/// ended and every answer went out, or the connection was closed.
pub(super) fn send_out(conn: &Conn, stall: Duration) {
    loop {
        let frame = {
            let mut out = lock(&conn.out);
            loop {
                if out.closed.is_some() {
                    return;
                }
                if let Some((frame, notice)) = out.frames.pop_front() {
                    if notice {
                        out.notice_bytes = out.notice_bytes.saturating_sub(cost(frame.bytes()));
                    }
                    out.writing = true;
                    break frame;
                }
                if out.ended && conn.in_flight.load(Ordering::SeqCst) == 0 {
                    drop(out);
                    let _ = conn.stream.shutdown(std::net::Shutdown::Write);
                    return;
                }
                out = conn.ready.wait(out).unwrap_or_else(|p| p.into_inner());
            }
        };
        let sent = write_within(&conn.stream, frame.bytes(), stall);
        lock(&conn.out).writing = false;
        let c = cost(frame.bytes());
        drop(frame);
        conn.queued.fetch_sub(c, Ordering::SeqCst);
        conn.user.unqueue(c);
        if let Err(why) = sent {
            conn.close(why);
            return;
        }
    }
}

/// Write all of `bytes` within `stall`; a client that takes less in that time is not
/// reading (or reading a byte now and then to hold the server's memory).
fn write_within(stream: &UnixStream, bytes: &[u8], stall: Duration) -> Result<(), String> {
    let due = Instant::now() + stall;
    let mut done = 0;
    while done < bytes.len() {
        let Some(left) = due
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
        else {
            return Err(format!(
                "it did not read: {} of {} KB of an answer were still unsent after {} s",
                (bytes.len() - done) >> 10,
                bytes.len() >> 10,
                stall.as_secs()
            ));
        };
        let _ = stream.set_write_timeout(Some(left.max(Duration::from_millis(1))));
        match (&mut &*stream).write(&bytes[done..]) {
            Ok(0) => return Err("disconnected".into()),
            Ok(n) => done += n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::Interrupted
                        | std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(format!("disconnected ({e})")),
        }
    }
    Ok(())
}

/// One client, from handshake to hang-up. `accepted` is when it connected: the whole
/// handshake is due within `Limits::handshake` of it.
pub(super) fn run(
    shared: &Arc<Shared>,
    stream: UnixStream,
    user: Arc<UserMeter>,
    gid: u32,
    accepted: Instant,
) {
    let id = shared.next_client.fetch_add(1, Ordering::SeqCst);
    let uid = user.uid;
    let limits = &shared.limits;
    let say = |msg: String| shared.logs.log(Some(uid), msg);
    let who = Identity::of(uid, gid);
    let name = escape(&who.user).into_owned();
    let _ = stream.set_write_timeout(Some(limits.handshake));
    let refuse = |message: String| {
        say(format!(
            "connection {id} from {name}: refused: {}",
            escape(&message)
        ));
        let _ = wire::write_frame(
            &mut &stream,
            &Welcome::Refused {
                protocol: PROTOCOL,
                message,
            },
        );
    };
    let handshake = Deadlines {
        by: Some(accepted + limits.handshake),
        within: Some(limits.handshake),
    };
    let hello: Hello =
        match wire::read_frame_within(&mut &stream, MAX_HELLO, &handshake, |_| Ok(())) {
            Ok(Some((h, ()))) => h,
            Ok(None) => return,
            Err(FrameError::Silent(_) | FrameError::Stalled { .. }) => {
                refuse(format!(
                    "no lotline handshake within {} s of connecting",
                    limits.handshake.as_secs()
                ));
                return;
            }
            Err(e) => {
                refuse(format!(
                    "the first message was not a lotline handshake ({e})"
                ));
                return;
            }
        };
    if &hello.magic != b"lotline" {
        refuse("the first message was not a lotline handshake".into());
        return;
    }
    if hello.protocol != PROTOCOL {
        refuse(format!(
            "this server speaks protocol {PROTOCOL} and the client {}: run the same lotline version on both sides",
            hello.protocol
        ));
        return;
    }
    let station = match lotline_domain::text::station_name(&hello.station, "station") {
        Ok(s) => s,
        Err(e) => {
            refuse(e.to_string());
            return;
        }
    };
    let caller = Caller::new(who.user.clone(), who.groups.clone(), station);
    let actor = match shared.core.actor(&caller) {
        Ok(a) => a,
        Err(e) => {
            refuse(e.message);
            return;
        }
    };
    if wire::write_frame(
        &mut &stream,
        &Welcome::Accepted {
            actor: actor.clone(),
            server_pid: std::process::id(),
        },
    )
    .is_err()
    {
        return;
    }
    let conn = Arc::new(Conn::new(id, stream, user));
    let writer = {
        let conn = conn.clone();
        let stall = limits.stall;
        std::thread::Builder::new()
            .name("lotline-session-out".into())
            .stack_size(128 << 10)
            .spawn(move || send_out(&conn, stall))
    };
    let Ok(writer) = writer else {
        say(format!(
            "connection {id}: {name}: no thread to answer it; closed"
        ));
        return;
    };
    lock(&shared.clients).insert(
        id,
        Client {
            info: StationInfo {
                operator: actor.operator.clone(),
                station: actor.station.clone(),
                role: actor.role,
                since: Utc::now(),
                me: false,
            },
            conn: conn.clone(),
            caller: caller.clone(),
            subscribed: false,
        },
    );
    // Registered before looking, so a server that starts stopping now either sees this
    // connection or is seen here.
    if shared.stopping.load(Ordering::SeqCst) {
        conn.close("the server is stopping".into());
    }
    say(format!(
        "connection {id}: {} ({}) at {}",
        escape(&actor.operator),
        actor.role,
        escape(&actor.station)
    ));
    // Connected, for drafts: another session of this user does not write over the ones
    // this one keeps while it is here.
    let live = shared.core.live(&caller);
    let ended = serve_requests(shared, &conn, &caller);
    drop(live);
    conn.end();
    lock(&shared.clients).remove(&id);
    let _ = writer.join();
    let why = match conn.reason() {
        Some(r) => format!("closed: {r}"),
        None => ended,
    };
    say(format!("connection {id}: {name} {}", escape(&why)));
}

/// Read and answer requests until the client leaves or the connection is closed; says how
/// it ended.
fn serve_requests(shared: &Arc<Shared>, conn: &Arc<Conn>, caller: &Caller) -> String {
    let limits = &shared.limits;
    let frames = Deadlines {
        by: None,
        within: Some(limits.stall),
    };
    loop {
        if !room_to_read(shared, conn) {
            return "closed".into();
        }
        let give_up = closing(&conn.closed);
        conn.listen();
        let read = wire::read_frame_vetted::<ClientMsg, _>(
            &mut &conn.stream,
            MAX_FRAME,
            &frames,
            |len| {
                // A frame's length came: alive, and what follows is bounded by `stall`.
                conn.heard_from();
                conn.user
                    .request_room(len as usize, &shared.requests, limits, &give_up)
                    .ok_or_else(|| FrameError::Refused("closed while waiting for room".into()))
            },
            |body| {
                // Roles may change while connected: the role now, as the server holds it.
                let admin = lock(&shared.clients)
                    .get(&conn.id)
                    .is_some_and(|c| c.info.role == crate::Role::Admin);
                wire::vet_request(body, admin)
            },
        );
        conn.heard_from();
        match read {
            // Closed while it was read (its user's access withdrawn, say): not answered.
            Ok(Some(_)) if conn.closed.load(Ordering::SeqCst) => return "closed".into(),
            // Alive: hearing it was the point.
            Ok(Some((ClientMsg::Pong, _room))) => {}
            Ok(Some((ClientMsg::Subscribe, _room))) => {
                if let Some(c) = lock(&shared.clients).get_mut(&conn.id) {
                    c.subscribed = true;
                }
            }
            Ok(Some((ClientMsg::Call { id: call, request }, room))) => {
                handle(shared, conn, caller, call, request, room);
            }
            Ok(None) => return "disconnected".into(),
            Err(FrameError::Io(e)) => return format!("disconnected ({e})"),
            Err(FrameError::Refused(m)) => return m,
            // Read whole but not decoded: the stream is in step, so the call is answered
            // in its place and the connection goes on.
            Err(FrameError::Oversized {
                id: Some(call),
                len,
                max,
            }) => {
                let e = crate::StationError {
                    kind: crate::ErrorKind::TooLarge,
                    field: None,
                    message: format!(
                        "the request is {} KB, more than the {} KB a request may be (only the admin's EPCIS import may be larger); nothing was done",
                        len >> 10,
                        max >> 10
                    ),
                };
                if let Ok(f) = wire::encode_frame(&ServerMsg::Reply {
                    id: call,
                    result: Err(e),
                }) {
                    conn.push_reply(f);
                }
            }
            Err(e @ FrameError::Stalled { .. }) => {
                // Nothing more is read from it: it is closed, not answered.
                conn.close(e.to_string());
                return e.to_string();
            }
            Err(e) => {
                let message = format!("{e}; closing the connection");
                if let Ok(f) = wire::encode_frame(&ServerMsg::Garbled {
                    message: message.clone(),
                }) {
                    conn.push_reply(f);
                }
                return format!("garbled frame: {message}");
            }
        }
    }
}

/// Wait until the connection may read another request: its own replies drained below
/// `Limits::queued` (within `Limits::stall`, else it is closed), its user's below
/// `Limits::user_queued`, and fewer than `Limits::in_flight` commands unanswered. False
/// when it was closed meanwhile.
fn room_to_read(shared: &Shared, conn: &Conn) -> bool {
    let limits = &shared.limits;
    // A closed connection may still have requests in its socket buffer: none is read.
    if conn.closed.load(Ordering::SeqCst) {
        return false;
    }
    let mine = || conn.queued.load(Ordering::SeqCst);
    if mine() > limits.queued {
        let due = Instant::now() + limits.stall;
        if !conn.user.wait(
            |_| mine() <= limits.queued,
            &closing_or_late(&conn.closed, due),
        ) {
            conn.close(format!(
                "it did not read its replies: {} KB still waited after {} s",
                mine() >> 10,
                limits.stall.as_secs()
            ));
            return false;
        }
    }
    // The user's other connections and this one's commands: these wait as long as it
    // takes; the connections that hold the room are closed in their own time, and
    // commands are answered.
    conn.user.wait(
        |held| {
            held.queued <= limits.user_queued
                && conn.in_flight.load(Ordering::SeqCst) < limits.in_flight
        },
        &closing(&conn.closed),
    ) && !conn.closed.load(Ordering::SeqCst)
}

fn handle(
    shared: &Arc<Shared>,
    conn: &Arc<Conn>,
    caller: &Caller,
    call: u64,
    request: Request,
    room: RequestRoom,
) {
    match request {
        Request::Query(q) => {
            let give_up = closing(&conn.closed);
            let Some(turn): Option<AnswerSlot> = conn.user.answer_slot(&shared.limits, &give_up)
            else {
                return;
            };
            let result = shared
                .core
                .call(caller, Request::Query(q), || shared.stations(conn.id));
            drop(room);
            if let Err(e) = &result {
                log_refusal(shared, conn, caller, e);
            }
            conn.push_reply(reply_frame(call, result));
            drop(turn);
        }
        Request::Command(command) => {
            let Some(writes) = lock(&shared.writes).clone() else {
                let e = super::stopping();
                log_refusal(shared, conn, caller, &e);
                conn.push_reply(reply_frame(call, Err(e)));
                return;
            };
            conn.in_flight.fetch_add(1, Ordering::SeqCst);
            let answer = conn.clone();
            let who = caller.clone();
            let job = WriteJob {
                caller: caller.clone(),
                command,
                at: shared.core.now(),
                reply: Box::new(move |shared: &Shared, result| {
                    // The request's room is held until it is answered.
                    drop(room);
                    if let Err(e) = &result {
                        log_refusal(shared, &answer, &who, e);
                    }
                    answer.push_reply(reply_frame(call, result));
                    answer.answered();
                }),
            };
            // A full queue to the writer holds this connection (and no other) until the
            // writer takes one.
            if let Err(mpsc::SendError(job)) = writes.send(job) {
                (job.reply)(shared, Err(super::stopping()));
            }
        }
    }
}

/// The frame of a reply; an answer too big for one frame is replaced by an error saying
/// so, and the connection goes on.
pub(super) fn reply_frame(call: u64, result: Result<Reply, StationError>) -> Vec<u8> {
    let error = match wire::encode_frame(&ServerMsg::Reply { id: call, result }) {
        Ok(frame) => return frame,
        Err(FrameError::TooLarge { len, .. }) => too_large(len),
        Err(e) => StationError {
            kind: ErrorKind::Database,
            field: None,
            message: format!("the answer could not be sent: {e}"),
        },
    };
    wire::encode_frame(&ServerMsg::Reply {
        id: call,
        result: Err(error),
    })
    .unwrap_or_default()
}

/// The answer to a request whose reply would not fit in one frame.
fn too_large(len: u32) -> StationError {
    StationError {
        kind: ErrorKind::TooLarge,
        field: None,
        message: format!(
            "the answer is {} MB or more, more than one reply carries ({} MB); ask for less at a time (fewer dates, one item)",
            len >> 20,
            MAX_FRAME >> 20
        ),
    }
}

fn log_refusal(shared: &Shared, conn: &Conn, caller: &Caller, e: &StationError) {
    let what = match e.kind {
        ErrorKind::Invalid => "refused",
        ErrorKind::Forbidden => "not allowed",
        _ => "error",
    };
    shared.logs.log(
        Some(conn.user.uid),
        format_args!(
            "{what}: {}@{}: {}",
            escape(&caller.user),
            escape(&caller.station),
            escape(&e.to_string())
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::super::limits::Limits;
    use super::*;
    use crate::Notice;

    /// A server's shared state on a new database in `dir`, and the writer's end of its
    /// command queue (nothing takes from it unless the test does).
    fn shared(dir: &std::path::Path) -> (Arc<Shared>, mpsc::Receiver<WriteJob>) {
        shared_with(dir, Limits::default())
    }

    fn shared_with(
        dir: &std::path::Path,
        limits: Limits,
    ) -> (Arc<Shared>, mpsc::Receiver<WriteJob>) {
        let store = lotline_store::Store::open_cached(&dir.join("p.redb"), true, 4 << 20).unwrap();
        let core = crate::Core::new(store, crate::Roles::from_plant());
        let (tx, rx) = mpsc::sync_channel(1024);
        let shared = Arc::new(Shared {
            core,
            clients: Mutex::new(Default::default()),
            writes: Mutex::new(Some(tx)),
            connected: AtomicUsize::new(0),
            next_client: std::sync::atomic::AtomicU64::new(1),
            requests: Arc::new(super::super::limits::Pool::new(limits.total_requests)),
            limits,
            users: Mutex::new(Default::default()),
            logs: super::super::logs::Limiter::new(10, Duration::from_secs(60)),
            roles_file: None,
            stopping: AtomicBool::new(false),
        });
        (shared, rx)
    }

    /// Commands of one connection wait for the writer at most `Limits::in_flight` at a
    /// time: its next request is read only when one is answered, however many it sent.
    #[test]
    fn a_connection_has_at_most_its_share_of_commands_waiting_for_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let (shared, jobs) = shared(dir.path());
        let most = shared.limits.in_flight;
        let plant = shared.core.store().plant().unwrap();
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let c = Arc::new(Conn::new(
            1,
            ours,
            Arc::new(UserMeter::new(0, &shared.limits)),
        ));
        let caller = Caller::new("eve", vec![], "s");
        let session = {
            let (shared, c) = (shared.clone(), c.clone());
            std::thread::spawn(move || serve_requests(&shared, &c, &caller))
        };
        let sender = std::thread::spawn(move || {
            for id in 0..(3 * most as u64) {
                let call = ClientMsg::Call {
                    id,
                    request: Request::Command(crate::Command::SetPlant(plant.clone())),
                };
                if wire::write_frame(&mut theirs, &call).is_err() {
                    break;
                }
            }
            theirs
        });
        let mut waiting = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while waiting.len() < most && Instant::now() < deadline {
            if let Ok(j) = jobs.recv_timeout(Duration::from_millis(100)) {
                waiting.push(j);
            }
        }
        assert_eq!(waiting.len(), most);
        // None answered: no more is read.
        assert!(jobs.recv_timeout(Duration::from_millis(500)).is_err());
        // One answered: one more.
        let j = waiting.pop().unwrap();
        (j.reply)(&shared, Ok(Reply::Done));
        waiting.push(jobs.recv_timeout(Duration::from_secs(30)).unwrap());
        assert!(jobs.recv_timeout(Duration::from_millis(300)).is_err());
        c.close("test over".into());
        for j in waiting {
            (j.reply)(&shared, Ok(Reply::Done));
        }
        session.join().unwrap();
        drop(sender.join().unwrap());
    }

    fn conn(stream: UnixStream) -> Arc<Conn> {
        Arc::new(Conn::new(
            1,
            stream,
            Arc::new(UserMeter::new(0, &Limits::default())),
        ))
    }

    /// A reply too big for one frame reaches the client as an error saying so, and the
    /// connection goes on: the next reply arrives as usual.
    #[test]
    fn an_answer_too_big_for_a_frame_is_refused_in_its_place() {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let c = conn(ours);
        let writer = {
            let c = c.clone();
            std::thread::spawn(move || send_out(&c, Duration::from_secs(60)))
        };
        // About 70 MB once encoded: ids of ten bytes each.
        let huge: Vec<u64> = (0..7_000_000u64).map(|i| u64::MAX - i).collect();
        let reader = std::thread::spawn(move || {
            let first = wire::read_frame::<ServerMsg>(&mut theirs).unwrap();
            let second = wire::read_frame::<ServerMsg>(&mut theirs).unwrap();
            (first, second)
        });
        c.push_reply(reply_frame(7, Ok(Reply::EventIds(huge))));
        c.push_reply(reply_frame(8, Ok(Reply::Done)));
        c.end();
        let (first, second) = reader.join().unwrap();
        writer.join().unwrap();
        match first {
            Some(ServerMsg::Reply {
                id: 7,
                result: Err(e),
            }) => {
                assert_eq!(e.kind, ErrorKind::TooLarge);
                assert!(e.message.contains("ask for less at a time"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            second,
            Some(ServerMsg::Reply {
                id: 8,
                result: Ok(Reply::Done)
            })
        );
    }

    /// A client that reads nothing: the writer gives up on the frame after the stall
    /// time, closes the connection, and what was queued is freed and uncounted.
    #[test]
    fn a_client_that_does_not_read_is_closed_and_its_queue_freed() {
        let (ours, _theirs) = UnixStream::pair().unwrap();
        let c = conn(ours);
        for i in 0..64 {
            c.push_reply(reply_frame(i, Ok(Reply::EventIds(vec![u64::MAX; 20_000]))));
        }
        assert!(c.user.held().queued > 8 << 20);
        send_out(&c, Duration::from_millis(300));
        assert!(c.is_closed());
        assert!(
            c.reason().unwrap().contains("did not read"),
            "{:?}",
            c.reason()
        );
        assert_eq!(c.user.held().queued, 0);
        assert_eq!(c.queued.load(Ordering::SeqCst), 0);
    }

    /// Notices to a subscriber that does not read: past the bound it is closed rather
    /// than queued for; one notice always fits.
    #[test]
    fn a_subscriber_whose_notices_pile_up_is_closed() {
        let (ours, _theirs) = UnixStream::pair().unwrap();
        let c = conn(ours);
        let big: Arc<[u8]> = vec![0u8; 5000].into();
        c.push_notice(&big, 1000);
        assert!(!c.is_closed());
        let small: Arc<[u8]> = vec![0u8; 10].into();
        c.push_notice(&small, 1000);
        assert!(c.is_closed());
        assert!(c.reason().unwrap().contains("notices"));
        assert_eq!(c.user.held().queued, 0);
    }

    /// A connected client of `shared` on one end of a socket pair, its session reading
    /// requests on a thread, listed as a station: the other end, the connection, the thread.
    fn connected(
        shared: &Arc<Shared>,
        id: u64,
    ) -> (UnixStream, Arc<Conn>, std::thread::JoinHandle<String>) {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let c = Arc::new(Conn::new(
            id,
            ours,
            Arc::new(UserMeter::new(0, &shared.limits)),
        ));
        let caller = Caller::new("eve", vec![], format!("hh-{id}"));
        let writer = {
            let (c, stall) = (c.clone(), shared.limits.stall);
            std::thread::spawn(move || send_out(&c, stall))
        };
        lock(&shared.clients).insert(
            id,
            Client {
                info: StationInfo {
                    operator: "eve".into(),
                    station: caller.station.clone(),
                    role: crate::Role::Operator,
                    since: Utc::now(),
                    me: false,
                },
                conn: c.clone(),
                caller: caller.clone(),
                subscribed: false,
            },
        );
        let session = {
            let (shared, c) = (shared.clone(), c.clone());
            std::thread::spawn(move || {
                let ended = serve_requests(&shared, &c, &caller);
                c.end();
                lock(&shared.clients).remove(&c.id);
                let _ = writer.join();
                ended
            })
        };
        (theirs, c, session)
    }

    fn listed(shared: &Shared) -> Vec<String> {
        shared.stations(0).into_iter().map(|s| s.station).collect()
    }

    /// A client that stops answering (a frozen terminal: its socket open, nothing read or
    /// sent) is pinged, then dropped once the drop time passes with no answer: it leaves
    /// the stations list, and the last frame it finds on waking says why. A client that
    /// answers its pings stays however long it is idle.
    #[test]
    fn a_client_that_stops_answering_is_dropped_and_one_that_answers_stays() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            ping: Duration::from_millis(200),
            silence: Duration::from_secs(1),
            ..Limits::default()
        };
        let (shared, _jobs) = shared_with(dir.path(), limits);
        let (mut frozen, frozen_conn, frozen_session) = connected(&shared, 1);
        let (alive, _alive_conn, alive_session) = connected(&shared, 2);
        // The live one answers every ping, on its own thread, as the client's reader does.
        let answering = std::thread::spawn(move || {
            let mut pings = 0;
            let mut stream = alive;
            while let Ok(Some(msg)) = wire::read_frame::<ServerMsg>(&mut stream) {
                if msg == ServerMsg::Ping {
                    pings += 1;
                    wire::write_frame(&mut stream, &ClientMsg::Pong).unwrap();
                }
            }
            pings
        });
        assert_eq!(listed(&shared), ["hh-1", "hh-2"]);
        let deadline = Instant::now() + Duration::from_secs(60);
        while listed(&shared).contains(&"hh-1".to_string()) {
            assert!(
                Instant::now() < deadline,
                "the frozen client is still listed"
            );
            super::super::heartbeats(&shared);
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(listed(&shared), ["hh-2"]);
        assert!(
            frozen_conn.reason().unwrap().contains("answered nothing"),
            "{:?}",
            frozen_conn.reason()
        );
        frozen_session.join().unwrap();
        // What the frozen client finds when it wakes: the pings it slept through, then the
        // server's word, then the end.
        let mut got = Vec::new();
        while let Ok(Some(msg)) = wire::read_frame::<ServerMsg>(&mut frozen) {
            got.push(msg);
        }
        let (last, pings) = got.split_last().expect("frames were sent");
        assert_eq!(*last, ServerMsg::Notice(Notice::Dropped { silent_secs: 1 }));
        assert!(
            !pings.is_empty() && pings.iter().all(|m| *m == ServerMsg::Ping),
            "{got:?}"
        );
        // The live one, idle all along but answering, is still there three drop times on.
        let later = Instant::now() + 3 * shared.limits.silence;
        while Instant::now() < later {
            super::super::heartbeats(&shared);
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(listed(&shared), ["hh-2"]);
        lock(&shared.clients)
            .get(&2)
            .unwrap()
            .conn
            .close("test over".into());
        alive_session.join().unwrap();
        assert!(answering.join().unwrap() >= 3);
    }
}
