//! Catching the signals that end a process, so it can finish what it holds first: the
//! server closes its database cleanly on SIGTERM, the app sends its drafts on SIGHUP.

/// Run `handler` on each of `signals` instead of their default action. No `SA_RESTART`:
/// a blocking poll returns at once (EINTR), so a loop that checks what the handler set
/// sees it without waiting for its next timeout.
///
/// # Safety
/// `handler` runs in signal context: it may only do what is async-signal-safe, such as
/// storing to an atomic.
pub unsafe fn catch(signals: &[libc::c_int], handler: extern "C" fn(libc::c_int)) {
    // SAFETY: a zeroed sigaction is a valid one to fill in; the handler is the caller's
    // promise (above).
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        sa.sa_flags = 0;
        for s in signals {
            libc::sigaction(*s, &sa, std::ptr::null_mut());
        }
    }
}
