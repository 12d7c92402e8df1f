//! What one client may make `lotline serve` hold, and the meters that hold it to that
//! (docs/server.md, "Bounds"). Every connection of a Unix user shares that user's meters,
//! so opening more connections buys an abuser nothing but refusals; a connection that
//! waits for room holds no memory meanwhile (it simply is not read).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The bounds of one server. Defaults suit a plant; `--max-connections`,
/// `--max-connections-per-user`, `--ping-secs`, `--drop-after-secs` and (for tests)
/// `--stall-secs` change some.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections at once, in all; more are refused with a message. Lowered at start to
    /// what the process's open-file limit allows.
    pub connections: usize,
    /// Connections one Unix user may hold at once.
    pub per_user: usize,
    /// Bytes of replies and notices waiting to be sent to one connection: past this, its
    /// next request is not read until they drain, and if they do not within `stall`, it is
    /// closed.
    pub queued: usize,
    /// The same across all of one user's connections (none is read while past it).
    pub user_queued: usize,
    /// Bytes of notices waiting for one subscriber: past this it is closed; the app
    /// reconnects and refreshes.
    pub notices: usize,
    /// Commands of one connection waiting for the writer; its next request is read when
    /// one is answered.
    pub in_flight: usize,
    /// Queries of one user answered at once (each may build a reply of up to 64 MiB).
    pub answering: usize,
    /// Bytes of requests held for one user: frames being read and requests being served.
    /// One frame of any allowed size always fits when the user holds nothing else.
    pub user_requests: usize,
    /// The same for all users together, counting frames of `small_frame` bytes or more.
    pub total_requests: usize,
    /// Frames below this size wait only for their own user's room, never for others'.
    pub small_frame: usize,
    /// From connecting to the whole handshake read.
    pub handshake: Duration,
    /// How long a frame may take to arrive once begun, a reply to be taken by its client,
    /// and a full queue to drain, before the connection is closed.
    pub stall: Duration,
    /// A connection quiet this long (nothing read from it, and none of its requests being
    /// served) is sent a ping; a live client answers at once, even when idle.
    pub ping: Duration,
    /// A connection that sent nothing, not even the answer to a ping, for this long is
    /// dropped and leaves the stations list: a terminal frozen or stopped, a link gone
    /// half-open. Longer than `ping`, so a live client is asked more than once first.
    pub silence: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            connections: 512,
            per_user: 64,
            queued: 4 << 20,
            user_queued: 16 << 20,
            notices: 1 << 20,
            in_flight: 32,
            answering: 2,
            // Decoding can take many times a request's bytes: a user's requests in hand are
            // held to 8 MiB (one frame of any allowed size, an admin's import, fits alone).
            user_requests: 8 << 20,
            total_requests: 4 * crate::wire::MAX_FRAME as usize,
            small_frame: 64 << 10,
            handshake: Duration::from_secs(5),
            stall: Duration::from_secs(20),
            ping: Duration::from_secs(10),
            silence: Duration::from_secs(30),
        }
    }
}

/// Open files the server keeps for itself besides connections: standard streams, the
/// listener, the database, a backup being written, the roles file, the user database
/// (each handshake looks the user up, which opens /etc/passwd and /etc/group briefly).
const OWN_FILES: u64 = 16;

impl Limits {
    /// Raise the process's soft open-file limit to its hard one (as most servers do: the
    /// default 1,024 is a relic of select(2), which this server does not use), and lower
    /// `connections` to what it allows: two descriptors each, one for the connection and
    /// one for the user lookups its handshake makes. Returns the limit in force.
    pub fn fit_open_files(&mut self) -> u64 {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit only read and write `lim`.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return 0;
            }
            if lim.rlim_cur < lim.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: lim.rlim_max,
                    rlim_max: lim.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    lim.rlim_cur = lim.rlim_max;
                }
            }
        }
        let files = lim.rlim_cur;
        let fit = usize::try_from(files.saturating_sub(OWN_FILES) / 2).unwrap_or(usize::MAX);
        self.connections = self.connections.min(fit).max(1);
        files
    }
}

/// Give memory back to the system when a large buffer is freed. glibc otherwise raises its
/// mmap threshold to the largest block freed so far (up to 32 MiB) and keeps later blocks of
/// that size in per-thread arenas: after a few large answers built on different session
/// threads, the server would stay hundreds of MB big with nothing in use. With a fixed
/// threshold, buffers of 256 KiB or more are mapped and unmapped; with few arenas, what one
/// session thread frees serves the next.
pub fn return_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; it is called before the server's
    // threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 10);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}

/// Wait on `cv` until `ready`, re-checking `give_up` every quarter second (a connection
/// being closed, a deadline). True when ready.
fn wait_until<'a, T>(
    cv: &Condvar,
    mut guard: MutexGuard<'a, T>,
    mut ready: impl FnMut(&T) -> bool,
    give_up: &dyn Fn() -> bool,
) -> (MutexGuard<'a, T>, bool) {
    loop {
        if ready(&guard) {
            return (guard, true);
        }
        if give_up() {
            return (guard, false);
        }
        guard = cv
            .wait_timeout(guard, Duration::from_millis(250))
            .map(|(g, _)| g)
            .unwrap_or_else(|p| p.into_inner().0);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Bytes held from a pool with a cap; one taker always gets in when the pool is empty, so
/// a single frame of the largest allowed size is never refused for its size alone.
#[derive(Debug)]
pub(super) struct Pool {
    held: Mutex<usize>,
    changed: Condvar,
    cap: usize,
}

impl Pool {
    pub fn new(cap: usize) -> Pool {
        Pool {
            held: Mutex::new(0),
            changed: Condvar::new(),
            cap,
        }
    }

    /// Take `n` bytes, waiting for room; false when `give_up` said so first.
    fn take(&self, n: usize, give_up: &dyn Fn() -> bool) -> bool {
        let (mut held, ok) = wait_until(
            &self.changed,
            lock(&self.held),
            |h| *h == 0 || h.saturating_add(n) <= self.cap,
            give_up,
        );
        if ok {
            *held += n;
        }
        ok
    }

    fn give(&self, n: usize) {
        let mut held = lock(&self.held);
        *held = held.saturating_sub(n);
        self.changed.notify_all();
    }

    #[cfg(test)]
    pub fn held(&self) -> usize {
        *lock(&self.held)
    }
}

/// What one Unix user's connections hold together.
#[derive(Debug)]
pub(super) struct UserMeter {
    pub uid: u32,
    held: Mutex<Held>,
    changed: Condvar,
    requests: Pool,
}

#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Held {
    pub connections: usize,
    /// Bytes of replies and notices waiting to be sent.
    pub queued: usize,
    /// Queries being answered.
    pub answering: usize,
}

impl UserMeter {
    pub fn new(uid: u32, limits: &Limits) -> UserMeter {
        UserMeter {
            uid,
            held: Mutex::new(Held::default()),
            changed: Condvar::new(),
            requests: Pool::new(limits.user_requests),
        }
    }

    #[cfg(test)]
    pub fn held(&self) -> Held {
        *lock(&self.held)
    }

    /// Count one more connection unless the user holds `most` already.
    pub fn connect(&self, most: usize) -> Result<(), usize> {
        let mut h = lock(&self.held);
        if h.connections >= most {
            return Err(h.connections);
        }
        h.connections += 1;
        Ok(())
    }

    pub fn disconnect(&self) {
        let mut h = lock(&self.held);
        h.connections = h.connections.saturating_sub(1);
        self.changed.notify_all();
    }

    pub fn queue(&self, bytes: usize) {
        lock(&self.held).queued += bytes;
    }

    /// Bytes sent or dropped: wake whoever waits for room.
    pub fn unqueue(&self, bytes: usize) {
        let mut h = lock(&self.held);
        h.queued = h.queued.saturating_sub(bytes);
        self.changed.notify_all();
    }

    /// Something a waiter looks at changed outside this meter (a command answered).
    pub fn poke(&self) {
        let _h = lock(&self.held);
        self.changed.notify_all();
    }

    /// Wait until `ready` holds of the user's meter (and whatever else it looks at, which
    /// must `poke` or `unqueue` when it changes); false when `give_up` said so first.
    pub fn wait(&self, ready: impl FnMut(&Held) -> bool, give_up: &dyn Fn() -> bool) -> bool {
        wait_until(&self.changed, lock(&self.held), ready, give_up).1
    }

    /// A turn to answer a query, when fewer than `most` are being answered and the user's
    /// waiting replies are within `queued`: so at most `most` replies pass that bound.
    pub fn answer_slot(
        self: &Arc<Self>,
        limits: &Limits,
        give_up: &dyn Fn() -> bool,
    ) -> Option<AnswerSlot> {
        let (mut h, ok) = wait_until(
            &self.changed,
            lock(&self.held),
            |h| h.answering < limits.answering && h.queued <= limits.user_queued,
            give_up,
        );
        if !ok {
            return None;
        }
        h.answering += 1;
        Some(AnswerSlot(self.clone()))
    }

    /// Room for a request of `len` bytes: the user's, and the server's for a large one.
    pub fn request_room(
        self: &Arc<Self>,
        len: usize,
        total: &Arc<Pool>,
        limits: &Limits,
        give_up: &dyn Fn() -> bool,
    ) -> Option<RequestRoom> {
        if !self.requests.take(len, give_up) {
            return None;
        }
        let mut room = RequestRoom {
            bytes: len,
            user: self.clone(),
            total: None,
        };
        if len >= limits.small_frame {
            if !total.take(len, give_up) {
                return None;
            }
            room.total = Some(total.clone());
        }
        Some(room)
    }

    #[cfg(test)]
    pub fn requests_held(&self) -> usize {
        self.requests.held()
    }
}

/// A query being answered; the turn ends when this drops.
pub(super) struct AnswerSlot(Arc<UserMeter>);

impl Drop for AnswerSlot {
    fn drop(&mut self) {
        let mut h = lock(&self.0.held);
        h.answering = h.answering.saturating_sub(1);
        self.0.changed.notify_all();
    }
}

/// Room held for one request, from its first body byte until it is answered.
pub(super) struct RequestRoom {
    bytes: usize,
    user: Arc<UserMeter>,
    total: Option<Arc<Pool>>,
}

impl Drop for RequestRoom {
    fn drop(&mut self) {
        self.user.requests.give(self.bytes);
        if let Some(t) = &self.total {
            t.give(self.bytes);
        }
    }
}

/// A flag that a connection is being closed, for waits to give up on.
pub(super) fn closing(flag: &AtomicBool) -> impl Fn() -> bool + '_ {
    move || flag.load(Ordering::SeqCst)
}

/// A deadline, or a flag, whichever comes first.
pub(super) fn closing_or_late(flag: &AtomicBool, at: Instant) -> impl Fn() -> bool + '_ {
    move || flag.load(Ordering::SeqCst) || Instant::now() >= at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            user_requests: 100,
            total_requests: 150,
            small_frame: 10,
            answering: 1,
            user_queued: 50,
            ..Limits::default()
        }
    }

    /// A user's requests share one pool: a second large one waits for the first, however
    /// many connections ask; one frame alone is always let in.
    #[test]
    fn request_room_is_per_user_and_one_frame_always_fits() {
        let l = limits();
        let total = Arc::new(Pool::new(l.total_requests));
        let eve = Arc::new(UserMeter::new(1, &l));
        let no = || false;
        let first = eve.request_room(80, &total, &l, &no).unwrap();
        // A second 80 would pass 100: it waits, and here gives up.
        let soon = Instant::now() + Duration::from_millis(300);
        let never = AtomicBool::new(false);
        assert!(
            eve.request_room(80, &total, &l, &closing_or_late(&never, soon))
                .is_none()
        );
        assert_eq!(eve.requests_held(), 80);
        drop(first);
        assert_eq!(eve.requests_held(), 0);
        assert_eq!(total.held(), 0);
        // Larger than the user's whole pool, alone: let in.
        let big = eve.request_room(1000, &total, &l, &no).unwrap();
        // Another user's small frame is not held back by eve's big one.
        let ann = Arc::new(UserMeter::new(2, &l));
        let small = ann.request_room(5, &total, &l, &no).unwrap();
        assert_eq!(total.held(), 1000);
        drop((big, small));
        assert_eq!(total.held(), 0);
    }

    #[test]
    fn answers_wait_for_their_turn_and_for_queued_replies_to_drain() {
        let l = limits();
        let eve = Arc::new(UserMeter::new(1, &l));
        let no = || false;
        let never = AtomicBool::new(false);
        let soon = || Instant::now() + Duration::from_millis(300);
        let slot = eve.answer_slot(&l, &no).unwrap();
        assert!(
            eve.answer_slot(&l, &closing_or_late(&never, soon()))
                .is_none()
        );
        drop(slot);
        eve.queue(60);
        assert!(
            eve.answer_slot(&l, &closing_or_late(&never, soon()))
                .is_none()
        );
        eve.unqueue(60);
        assert!(eve.answer_slot(&l, &no).is_some());
    }

    #[test]
    fn connections_per_user_are_counted() {
        let eve = UserMeter::new(1, &Limits::default());
        assert!(eve.connect(2).is_ok());
        assert!(eve.connect(2).is_ok());
        assert_eq!(eve.connect(2), Err(2));
        eve.disconnect();
        assert!(eve.connect(2).is_ok());
    }
}
