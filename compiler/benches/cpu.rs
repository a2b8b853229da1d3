//! The process's CPU clock, shared by the benches that report CPU time
//! (steadier than wall time on a machine shared with other builds).

/// CPU seconds (user + system) this process has used.
pub fn cpu_seconds() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec the call writes into.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "the process CPU clock exists on every Unix");
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}
